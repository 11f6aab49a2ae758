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
    parser.add_argument("--plot", metavar="PNG",
                        help="also write a heatmap of the first metric over modality pairs")


def run(args):
    from ..metrics import alignment_matrix
    from ..metrics._alignment import METRICS

    metrics = _metric_names(args.metric, sorted(METRICS))
    if args.neighbors < 1:
        raise CLIError(f"--neighbors must be a positive integer; got {args.neighbors}")
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
    if args.plot:
        from ..plotting import AlignmentMatrixDisplay

        first = metrics[0]
        save_plot(args.plot, lambda: AlignmentMatrixDisplay(
            matrices[first], row_labels=names, col_labels=names, metric=first,
        ).plot())
    return 0


def _metric_names(requested, known):
    names = [part.strip() for item in requested or [",".join(_DEFAULT_METRICS)]
             for part in item.split(",") if part.strip()]
    unknown = [n for n in names if n not in known]
    if unknown or not names:
        raise CLIError(f"unknown metric {unknown or requested!r}; choose from {', '.join(known)}")
    return list(dict.fromkeys(names))
