"""``alignkit pid FILE``: the Partial Information Decomposition of a data set."""

import sys
import warnings
from pathlib import Path

import numpy as np

from . import CLIError, comma_list, flag_names
from ._files import add_layout_arguments, load_modalities, save_plot

NAME = "pid"
HELP = ("Partial Information Decomposition (redundancy, uniqueness, synergy) of two "
        "modalities about the target, from a .npz or .csv data set.")
FLAGS = {"n_clusters": "--n-clusters", "n_permutations": "--permutations",
         "n_bins_y": "--n-bins-y", "y_threshold": "--y-threshold",
         "random_state": "--random-state", "modality_dims": "--modality-dims"}
_REGIMES = {
    "redundancy": ("redundant", "cross-modal alignment is expected to help: try λ > 0"),
    "uniqueness": ("unique", "alignment is expected to hurt: keep λ = 0"),
    "synergy": ("synergistic", "tune λ: the best is expected inside the sweep"),
    "mixed": ("mixed", "no part holds half: tune λ"),
}


def add_arguments(parser):
    parser.add_argument("file", metavar="FILE",
                        help=".npz with arrays 'X', 'y' (and 'modality_dims'), or .csv "
                             "with a header row")
    add_layout_arguments(parser, "the target column of a .csv file")
    parser.add_argument("--pair", metavar="I,J", type=parse_pair, default=(0, 1),
                        help="the two modalities to decompose when there are more "
                             "(default: 0,1)")
    parser.add_argument("--units", choices=["bits", "nats"], default="bits",
                        help="information units (default: bits)")
    parser.add_argument("--estimator", choices=["plugin", "batch"], default="plugin",
                        help="plugin: discretise each modality, then decompose exactly "
                             "(PIDEstimator); batch: the neural batch estimator, no "
                             "discretisation (BatchPIDEstimator) "
                             "(default: plugin)")
    parser.add_argument("--discretizer", choices=["posterior", "kmeans", "quantile"],
                        default="posterior",
                        help="how --estimator plugin codes each modality: posterior (its "
                             "cross-fitted class posterior, grouped to lose the least "
                             "information about y), kmeans (PCA + k-means, no label) or "
                             "quantile (default: posterior)")
    parser.add_argument("--n-clusters", type=_n_clusters, default="auto", metavar="K",
                        help="codes per modality when discretising continuous features, or "
                             "auto (default: auto: up to 64 posterior codes, as many as keep "
                             "the plug-in bias small; 20 k-means clusters)")
    target = parser.add_mutually_exclusive_group()
    target.add_argument("--n-bins-y", type=int, metavar="K",
                        help="cut a continuous target into K quantile bins")
    target.add_argument("--y-threshold", type=float, metavar="T",
                        help="binarise a continuous target: class 1 where y >= T")
    parser.add_argument("--permutations", type=int, default=0, metavar="N",
                        help="shuffled-label draws for the bias-corrected column "
                             "(default: 0, the Miller-Madow correction)")
    parser.add_argument("--random-state", type=int, default=0, metavar="SEED",
                        help="seed of the discretisation or of the batch estimator (default: 0)")
    parser.add_argument("--plot", metavar="PNG", help="also write a stacked-bar plot")


_pair_list = comma_list(int, lambda v: len(v) == 2 and min(v) >= 0 and v[0] != v[1],
                        "two different modality indices such as 0,1")


def _n_clusters(text):
    """``"auto"`` or an int (an argparse ``type``; its range is the estimator's check)."""
    return text if text == "auto" else int(text)


def parse_pair(text):
    """``"0,2"`` -> ``(0, 2)`` (an argparse ``type``)."""
    return tuple(_pair_list(text))


def run(args):
    from ..pid import BatchPIDEstimator, PIDEstimator, PIDSolverError

    blocks, names, y = load_modalities(
        args.file, target=args.target, drop=args.drop, modality_dims=args.modality_dims,
        need_target=True,
    )
    i, j = args.pair
    if max(i, j) >= len(blocks):
        raise CLIError(f"--pair {i},{j}: the file has {len(blocks)} modalities "
                       f"(indices 0..{len(blocks) - 1})")
    if args.estimator == "batch" and args.permutations:
        raise CLIError("--permutations is for --estimator plugin; the batch estimator has "
                       "no plug-in bias to measure")
    X = np.hstack([blocks[i], blocks[j]])
    common = dict(modality_dims=[blocks[i].shape[1], blocks[j].shape[1]], units=args.units,
                  n_bins_y=args.n_bins_y, y_threshold=args.y_threshold,
                  random_state=args.random_state)
    if args.estimator == "batch":
        pid = BatchPIDEstimator(**common)
    else:
        pid = PIDEstimator(discretizer=args.discretizer, n_clusters=args.n_clusters,
                           n_permutations=args.permutations, reference="logistic", **common)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            pid.fit(X, y)
        except PIDSolverError as exc:  # refused, not an uncertified number: exit 2
            raise CLIError(str(exc)) from exc
    labels = ["redundancy R", f"unique U1 ({names[i]})", f"unique U2 ({names[j]})",
              "synergy S", "total I(X1,X2;Y)"]
    values = np.append(pid.atoms_, pid.mutual_info_)
    # The batch estimator has no plug-in bias, so no corrected column.
    corrected = (np.append(pid.corrected_, np.sum(pid.corrected_))
                 if isinstance(pid, PIDEstimator) else None)
    # With permutations the corrected atoms are the estimate; a negative one
    # (an atom smaller than its bias) counts as 0 in the shares and the plot.
    shown = np.maximum(pid.corrected_, 0) if args.permutations else values[:4]
    print(f"{args.file}: {X.shape[0]} samples, {pid.target_coder_.n_codes_} classes; modalities "
          f"{names[i]} ({blocks[i].shape[1]} columns), {names[j]} ({blocks[j].shape[1]} columns)")
    width = max(map(len, labels))
    header = f"{'component':<{width}}  {args.units:>8}"
    print(header + ("" if corrected is None else f"  {'bias-corrected':>14}") + f"  {'share':>6}")
    total = shown.sum()
    for k, (label, value) in enumerate(zip(labels, values)):
        share = f"{100 * np.append(shown, total)[k] / total:5.1f}%" if total > 0 else "     -"
        row = f"{label:<{width}}  {value:8.4f}"
        print(row + ("" if corrected is None else f"  {corrected[k]:14.4f}") + f"  {share}")
    if args.permutations:
        print(f"share: of the bias-corrected atoms ({args.permutations} shuffled-label "
              "permutations); the plot shows them too")
    elif corrected is not None:
        print("share: of the plug-in atoms; bias-corrected: minus the Miller-Madow bias. "
              "--permutations N measures the bias and bases the shares on the corrected atoms")
    if args.permutations:
        for label, value in zip(labels, pid.corrected_):
            if value < 0:
                print(f"{label.split(' (')[0]} is negative after correction ({value:.4f}): the "
                      "plug-in value is within its bias, indistinguishable from 0 (counted as 0)")
    if corrected is not None:
        print(f"information retained by the discretisation: "
              f"{100 * pid.information_retained_:.0f}% of {pid.reference_info_:.4f} {args.units} "
              "(a cross-fitted logistic regression's lower bound on I(X1,X2;Y))")
    for warning in caught:
        print(f"note: {_note(warning.message, args)}", file=sys.stderr)
    print(_regime(shown))
    if args.plot:
        from ..plotting import PIDDisplay

        name = Path(args.file).name
        label = f"{name}\n(bias-corrected)" if args.permutations else name
        save_plot(args.plot, lambda: PIDDisplay(
            shown[0], shown[1:3], shown[3], names=[label],
            units=args.units, modality_names=(names[i], names[j]),
        ).plot())
    return 0


def _note(message, args):
    """A warning of the estimator in flag names, not advising what the user already did."""
    text = " ".join(str(message).split())
    if args.permutations:
        text = text.replace("Read the bias-corrected atoms (from the shuffled-label null), or "
                            "use fewer clusters.",
                            "The bias-corrected column removes it; fewer --n-clusters shrink it.")
    return flag_names(text, FLAGS)


def _regime(atoms):
    """One line naming the user guide's regime of the decomposition ``(R, U1, U2, S)``."""
    total = atoms.sum()
    if total <= 0:
        return "regime: none, the modalities carry no detectable information about the target."
    parts = {"redundancy": atoms[0], "uniqueness": atoms[1] + atoms[2], "synergy": atoms[3]}
    largest = max(parts, key=parts.get)
    name, advice = _REGIMES[largest if parts[largest] >= total / 2 else "mixed"]
    return (f"regime: {name} ({largest} holds {100 * parts[largest] / total:.0f}%), {advice} "
            "(user guide, 'When to align: the PID regimes').")
