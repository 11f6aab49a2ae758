"""``alignkit align FILE``: alignment metrics between the modality blocks of a file."""

from itertools import combinations

from . import CLIError
from ._files import add_layout_arguments, load_modalities, save_plot

NAME = "align"
HELP = ("Alignment metrics (CKA family, mutual k-NN, ...) between the modality blocks "
        "of a representations file (.npz or .csv).")

_DEFAULT_METRICS = ["linear_cka", "unbiased_cka", "mutual_knn"]
_NEIGHBOUR_METRICS = {"mutual_knn", "cknna"}


FLAGS = {"k": "--neighbors", "n_permutations": "--permutations",
         "confidence_level": "--confidence-level", "random_state": "--seed",
         "modality_dims": "--modality-dims"}
# Permutations behind the chance level of a metric with no closed form.
_CHANCE_PERMUTATIONS = 50


def add_arguments(parser):
    parser.add_argument("file", metavar="FILE",
                        help=".npz with 'X' (and 'modality_dims') or one array per "
                             "modality; or .csv with 'name__' column prefixes")
    add_layout_arguments(parser, "a label column of a .csv, left out of the features")
    parser.add_argument("--metric", action="append", metavar="NAME",
                        help="metric(s) to compute, repeatable or comma-separated "
                             f"(default: {','.join(_DEFAULT_METRICS)})")
    parser.add_argument("-k", "--neighbors", type=int, default=10, metavar="K",
                        help="neighbours of mutual_knn and cknna (default: 10)")
    parser.add_argument("--permutations", type=int, default=0, metavar="N",
                        help="also test every pair against chance with N permutations and print "
                             "p-values, chance levels and bootstrap intervals (default: off)")
    parser.add_argument("--confidence-level", type=float, default=0.95, metavar="LEVEL",
                        help="level of the intervals printed with --permutations (default: 0.95)")
    parser.add_argument("--seed", type=int, default=0,
                        help="seed of the permutations and resamples (default: 0)")
    parser.add_argument("--plot", metavar="PNG",
                        help="also write a heatmap of the first metric over modality pairs")


def run(args):
    from ..metrics import alignment_matrix
    from ..metrics._alignment import METRICS

    metrics = _metric_names(args.metric, sorted(METRICS))
    blocks, names, _ = load_modalities(args.file, target=args.target, drop=args.drop,
                                       modality_dims=args.modality_dims)
    n_samples = blocks[0].shape[0]

    def options(metric):
        return {"k": args.neighbors} if metric in _NEIGHBOUR_METRICS else {}

    # The metrics check their own options (k against n_samples, ...).
    matrices = {m: alignment_matrix(blocks, metric=m, **options(m)) for m in metrics}
    print(f"{args.file}: {n_samples} samples, modalities "
          + ", ".join(f"{n} ({b.shape[1]} columns)" for n, b in zip(names, blocks)))
    pairs = list(combinations(range(len(blocks)), 2))
    width = max(len(f"{names[i]} ~ {names[j]}") for i, j in pairs)
    widths = [max(len(m), 8) for m in metrics]

    def table(cell):
        print(f"{'pair':<{width}}  " + "  ".join(f"{m:>{w}}" for m, w in zip(metrics, widths)))
        for i, j in pairs:
            row = "  ".join(f"{cell(m, i, j):>{w}.4f}" for m, w in zip(metrics, widths))
            print(f"{names[i] + ' ~ ' + names[j]:<{width}}  {row}")

    table(lambda m, i, j: matrices[m][i, j])
    if args.permutations:
        _print_tests(args, blocks, names, pairs, metrics, options, width)
    else:
        how = {}
        chance = {(m, i, j): _chance_level(m, blocks[i], blocks[j], options(m), args.seed, how)
                  for m in metrics for i, j in pairs}
        print("\nchance level: the metric's expected value when the rows of the two "
              "modalities are unrelated (randomly re-paired):")
        table(lambda m, i, j: chance[m, i, j])
        for m in metrics:
            print(f"  {m}: {how[m]}")
        print("--permutations N adds p-values and confidence intervals.")
    if args.plot:
        from ..plotting import AlignmentMatrixDisplay
        from ..plotting._alignment_matrix import metric_label

        first = metrics[0]
        # A modality against itself is trivially aligned: masked, never the best pair.
        save_plot(args.plot, lambda: AlignmentMatrixDisplay(
            matrices[first], row_labels=names, col_labels=names,
            metric=metric_label(first, **options(first)),
        ).plot(mask_diagonal=True))
    return 0


def _chance_level(metric, A, B, options, seed, how):
    """The metric's mean over random re-pairings of the rows; ``how[metric]`` says how it is known."""
    import numpy as np

    n = A.shape[0]
    if metric == "mutual_knn":
        # The re-paired neighbour set of a row is a uniform k-subset of the other n - 1 rows.
        how[metric] = f"exact, k/(n-1) = {options['k']}/{n - 1}"
        return options["k"] / (n - 1)
    if metric == "unbiased_cka":
        # The unbiased HSIC is a U-statistic with mean 0 over re-pairings.
        how[metric] = "exact, 0 (the unbiased HSIC averages to 0 over re-pairings)"
        return 0.0
    if metric == "linear_cka":
        # E[tr(K P L P^T)] over permutations P of centred kernels is tr(K) tr(L) / (n - 1).
        Ac, Bc = A - A.mean(0), B - B.mean(0)
        how[metric] = ("exact, ||A||^2 ||B||^2 / ((n-1) ||A'A|| ||B'B||) of the centred "
                       "blocks: not 0, the biased estimator's floor at this n")
        scale = (n - 1) * np.linalg.norm(Ac.T @ Ac) * np.linalg.norm(Bc.T @ Bc)
        return float(np.sum(Ac ** 2) * np.sum(Bc ** 2) / scale) if scale > 0 else 0.0
    from ..metrics import alignment_test

    how[metric] = f"estimated, the mean of {_CHANCE_PERMUTATIONS} re-pairings (seed {seed})"
    return alignment_test(A, B, metric=metric, n_permutations=_CHANCE_PERMUTATIONS,
                          confidence_level=None, random_state=seed, **options).null_mean


def _print_tests(args, blocks, names, pairs, metrics, options, width):
    """Each pair's permutation p-value, chance level and half-sample interval."""
    from ..metrics import alignment_test

    level = f"{100 * args.confidence_level:g}%"
    print(f"\nagainst chance ({args.permutations} permutations of the rows, seed {args.seed}; "
          f"{level} half-sample bootstrap intervals):")
    metric_width = max(len(m) for m in metrics)
    print(f"{'pair':<{width}}  {'metric':<{metric_width}}  {'value':>8}  {'chance':>8}  "
          f"{'p-value':>8}  {level + ' interval':>20}")
    for i, j in pairs:
        for m in metrics:
            try:
                res = alignment_test(blocks[i], blocks[j], metric=m, n_permutations=args.permutations,
                                     confidence_level=args.confidence_level,
                                     random_state=args.seed, **options(m))
            except ValueError as exc:  # in flag names, as every estimator error
                raise ValueError(f"{m}: {exc}") from exc
            low, high = res.confidence_interval
            print(f"{names[i] + ' ~ ' + names[j]:<{width}}  {m:<{metric_width}}  "
                  f"{res.statistic:>8.4f}  {res.null_mean:>8.4f}  {res.pvalue:>8.4f}  "
                  f"{f'[{low:.4f}, {high:.4f}]':>20}")
    print(f"chance: the metric's mean over the permutations; p-value: (1 + #permutations "
          f"at least as aligned) / {1 + args.permutations}, not corrected for the "
          f"{len(pairs) * len(metrics)} tests.")


def _metric_names(requested, known):
    names = [part.strip() for item in requested or [",".join(_DEFAULT_METRICS)]
             for part in item.split(",") if part.strip()]
    unknown = [n for n in names if n not in known]
    if unknown or not names:
        raise CLIError(f"unknown metric {unknown or requested!r}; choose from {', '.join(known)}")
    return list(dict.fromkeys(names))
