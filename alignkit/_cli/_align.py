"""``alignkit align FILE``: alignment metrics between the modality blocks of a file."""

from itertools import combinations

from . import CLIError
from ._files import add_layout_arguments, load_modalities, save_plot

NAME = "align"
HELP = ("Alignment metrics (CKA family, mutual k-NN, ...) between the modality blocks "
        "of a representations file (.npz or .csv).")

_DEFAULT_METRICS = ["linear_cka", "unbiased_cka", "mutual_knn"]
_NEIGHBOUR_METRICS = {"mutual_knn", "cknna"}


def add_arguments(parser):
    parser.add_argument("file", metavar="FILE",
                        help=".npz with 'X' (and 'modality_dims') or one array per "
                             "modality; or .csv with 'name__' column prefixes")
    add_layout_arguments(parser)
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
    if args.neighbors < 1:
        raise CLIError(f"--neighbors must be a positive integer; got {args.neighbors}")
    if args.permutations < 0:
        raise CLIError(f"--permutations must be a non-negative integer; got {args.permutations}")
    if not 0 < args.confidence_level < 1:
        raise CLIError(f"--confidence-level must be in (0, 1); got {args.confidence_level}")
    blocks, names, _ = load_modalities(args.file, modality_dims=args.modality_dims)
    n_samples = blocks[0].shape[0]
    if any(m in _NEIGHBOUR_METRICS for m in metrics) and args.neighbors >= n_samples:
        raise CLIError(f"--neighbors={args.neighbors} needs more than {args.neighbors} "
                       f"samples; the file has {n_samples}")

    def options(metric):
        return {"k": args.neighbors} if metric in _NEIGHBOUR_METRICS else {}

    matrices = {m: alignment_matrix(blocks, metric=m, **options(m)) for m in metrics}
    print(f"{args.file}: {n_samples} samples, modalities "
          + ", ".join(f"{n} ({b.shape[1]} columns)" for n, b in zip(names, blocks)))
    pairs = list(combinations(range(len(blocks)), 2))
    width = max(len(f"{names[i]} ~ {names[j]}") for i, j in pairs)
    widths = [max(len(m), 8) for m in metrics]
    print(f"{'pair':<{width}}  " + "  ".join(f"{m:>{w}}" for m, w in zip(metrics, widths)))
    for i, j in pairs:
        row = "  ".join(f"{matrices[m][i, j]:>{w}.4f}" for m, w in zip(metrics, widths))
        print(f"{names[i] + ' ~ ' + names[j]:<{width}}  {row}")
    if args.permutations:
        _print_tests(args, blocks, names, pairs, metrics, options, width)
    if args.plot:
        from ..plotting import AlignmentMatrixDisplay

        first = metrics[0]
        save_plot(args.plot, lambda: AlignmentMatrixDisplay(
            matrices[first], row_labels=names, col_labels=names, metric=first,
        ).plot())
    return 0


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
            except ValueError as exc:
                raise CLIError(f"{m}: {exc}") from exc
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
