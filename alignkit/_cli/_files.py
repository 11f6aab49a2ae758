"""Reading a data set or a representations file for the ``pid`` and ``align`` commands.

``.npz``: an array ``X`` (optionally ``modality_dims``), or one 2-D array per
modality named after it; ``y`` is the target. ``.csv``: a header row, the
target column named by ``--target`` and other non-feature columns by
``--drop``; modality columns carry ``name__`` prefixes, or ``--modality-dims``
splits them, or they split into two halves (with a note naming those flags).
"""

import sys
import warnings
import zipfile
from pathlib import Path

import numpy as np

from ..utils import resolve_modalities, split_modalities
from . import CLIError, comma_list, flag_names, one_line

_RESERVED = {"X", "y", "modality_dims", "modality_names"}
FLAGS = {"modality_dims": "--modality-dims"}


def add_layout_arguments(parser, target_help):
    parser.add_argument("--target", metavar="COLUMN", help=target_help)
    parser.add_argument("--drop", action="append", default=[], metavar="COLUMN",
                        help="a column of a .csv that is not a feature (an id, a second "
                             "label), left out; repeatable")
    parser.add_argument(
        "--modality-dims", metavar="D1,D2,...", type=parse_int_list,
        help="column count of each modality, in order (default: the file's "
             "'modality_dims', the 'name__' column prefixes, else two halves)",
    )


parse_int_list = comma_list(int, lambda values: min(values) > 0,
                            "comma-separated positive integers such as 12,12")


def load_modalities(path, *, target=None, drop=(), modality_dims=None, need_target=False):
    """Read ``path``; return ``(blocks, names, y)`` with one 2-D float block per modality."""
    path = Path(path)
    if not path.is_file():
        raise CLIError(f"no such file: {path}")
    suffix = path.suffix.lower()
    if suffix == ".npz":
        if target is not None or drop:
            raise CLIError(f"{path.name}: --target and --drop name columns of a .csv; a .npz "
                           "keeps its target in an array 'y'")
        X, y, dims, names, columns = _read_npz(path)
    elif suffix == ".csv":
        X, y, columns = _read_csv(path, target, drop)
        dims = names = None
    else:
        raise CLIError(f"{path.name}: unsupported file type {suffix or '(none)'}; use .npz or .csv")
    if need_target and y is None:
        raise CLIError(
            f"{path.name} has no target: store an array 'y' in the .npz, or name the "
            "target column of the .csv with --target"
        )
    if modality_dims is not None:
        dims, names = modality_dims, None
    if X.ndim != 2 or X.shape[0] < 2:
        raise CLIError(f"{path.name}: expected a 2-D table of samples; got shape {X.shape}")
    if not np.all(np.isfinite(X)):
        column = int(np.flatnonzero(~np.isfinite(X).all(0))[0])
        label = repr(columns[column]) if columns else f"{column} of X"
        raise CLIError(f"{path.name}: feature column {label} contains NaN or infinite values")
    if y is not None and len(y) != X.shape[0]:
        raise CLIError(f"{path.name}: y has {len(y)} entries but X has {X.shape[0]} rows")
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            dims, prefix_names = resolve_modalities(X.shape[1], dims, columns)
    except (TypeError, ValueError) as exc:
        raise CLIError(f"{path.name}: {flag_names(str(exc), FLAGS)}") from exc
    for warning in caught:
        print(f"note: {path.name}: {_layout_note(warning.message, dims, suffix)}", file=sys.stderr)
    if names is not None and len(names) != len(dims):
        raise CLIError(
            f"{path.name}: 'modality_names' has {len(names)} entries but the layout "
            f"has {len(dims)} modalities (modality_dims={dims})"
        )
    return split_modalities(X, dims), list(names or prefix_names), y


def _read_npz(path):
    if not zipfile.is_zipfile(path):
        raise CLIError(f"{path.name}: not a .npz archive (numpy.savez writes one)")
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {key: data[key] for key in data.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise CLIError(f"{path.name}: not a readable .npz file ({one_line(exc)})") from exc
    for key, value in arrays.items():
        if not isinstance(value, np.ndarray):  # numpy hands back such a member's raw bytes
            raise CLIError(f"{path.name}: member {key!r} is not a valid .npy array")
    y = arrays.get("y")
    if y is not None:
        y = _check_target(y, path, "array 'y'")
    if "X" in arrays:
        dims = arrays.get("modality_dims")
        if dims is not None and not np.issubdtype(dims.dtype, np.integer):
            raise CLIError(f"{path.name}: 'modality_dims' must hold integers; got dtype {dims.dtype}")
        dims = None if dims is None else [int(d) for d in np.ravel(dims)]
        names = arrays.get("modality_names")
        names = None if names is None else [str(n) for n in np.ravel(names)]
        return _as_float(arrays["X"], path, "X"), y, dims, names, None
    blocks = {k: v for k, v in arrays.items() if k not in _RESERVED}
    if len(blocks) < 2:
        raise CLIError(
            f"{path.name}: expected an array 'X' or one array per modality; found "
            f"{sorted(arrays) or 'no arrays'}"
        )
    sizes = {v.shape[0] if v.ndim else None for v in blocks.values()}
    if len(sizes) != 1 or None in sizes:
        raise CLIError(
            f"{path.name}: the modality arrays must have the same number of rows; got "
            + ", ".join(f"{k} {v.shape}" for k, v in blocks.items())
        )
    flat = [_as_float(v, path, k).reshape(v.shape[0], -1) for k, v in blocks.items()]
    return np.hstack(flat), y, [f.shape[1] for f in flat], list(blocks), None


def _layout_note(message, dims, suffix):
    """The layout warning in flag names; the halves fallback says how to set the layout."""
    if "two halves" not in str(message):
        return flag_names(str(message), FLAGS)
    label_hint = ("; a label or id column would count as a feature: leave it out with "
                  "--target COLUMN or --drop COLUMN" if suffix == ".csv" else "")
    return (f"no modality layout given and no 'name__' column prefixes, so the "
            f"{sum(dims)} columns are split into two halves {dims}. Set the layout with "
            f"--modality-dims{label_hint}.")


def _read_csv(path, target, drop):
    import pandas as pd

    try:
        frame = pd.read_csv(path)
    except (OSError, ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise CLIError(f"{path.name}: not a readable .csv file ({one_line(exc)})") from exc
    for column, flag in [(target, "--target"), *((c, "--drop") for c in drop)]:
        if column is not None and column not in frame.columns:
            raise CLIError(
                f"{path.name}: no column {column!r} for {flag}; the columns are "
                f"{list(frame.columns)[:8]}{' ...' if frame.shape[1] > 8 else ''}"
            )
    frame = frame.drop(columns=[c for c in drop if c != target])
    y = None
    if target is not None:
        y = _check_target(frame.pop(target).to_numpy(), path, f"target column {target!r}")
    non_numeric = [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
    if non_numeric:
        raise CLIError(f"{path.name}: non-numeric feature columns {non_numeric[:5]}")
    return frame.to_numpy(dtype=float), y, [str(c) for c in frame.columns]


def _as_float(array, path, key):
    if not np.issubdtype(array.dtype, np.number) and array.dtype != bool:
        raise CLIError(f"{path.name}: array {key!r} is not numeric (dtype {array.dtype})")
    if np.iscomplexobj(array):
        raise CLIError(f"{path.name}: array {key!r} holds complex numbers (dtype {array.dtype}); "
                       "features must be real")
    return array.astype(float)


def _check_target(y, path, what):
    """``y`` with no missing entries and real values; else a one-line error naming ``what``."""
    import pandas as pd

    if np.iscomplexobj(y):
        raise CLIError(f"{path.name}: {what} holds complex numbers; the target must be real or labels")
    if y.ndim != 1:
        raise CLIError(f"{path.name}: {what} must be 1-D, one entry per sample; got shape {y.shape}")
    missing = np.flatnonzero(pd.isna(y))
    if missing.size:
        raise CLIError(
            f"{path.name}: {what} has {missing.size} missing (NaN) value(s), first in "
            f"row {missing[0]}; drop or fill those rows"
        )
    return y


def save_plot(path, draw):
    """Draw with ``draw()`` (returns a Display) off-screen and write it to ``path``."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        display = draw()
    except ImportError as exc:
        raise CLIError(f"--plot needs matplotlib: {exc}") from exc
    try:
        if display.figure_.get_layout_engine() is None:
            display.figure_.tight_layout()
        display.figure_.savefig(path, dpi=120)
    except (OSError, ValueError) as exc:
        raise CLIError(f"cannot write the plot to {path}: {exc}") from exc
    print(f"plot written to {path}")
