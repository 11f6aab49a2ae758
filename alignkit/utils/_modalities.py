"""The multimodal data contract: one 2-D ``X`` holding every modality side by side."""

import warnings
from collections.abc import Mapping
from numbers import Integral

import numpy as np

__all__ = ["concat_modalities", "split_modalities", "resolve_modalities"]

_PREFIX_SEP = "__"


def concat_modalities(Xs):
    """Put several modalities side by side in one 2-D array.

    The ``X`` of the data contract: every modality's rows flattened and its
    columns placed after the previous modality's.

    Parameters
    ----------
    Xs : list of array-like or dict of str to array-like
        One array per modality, each of shape ``(n_samples, ...)``; trailing
        dimensions (an image, a sequence) are flattened in C order.

    Returns
    -------
    X : ndarray of shape (n_samples, sum(modality_dims))
        The flattened modalities, concatenated along the columns.
    modality_dims : list of int
        The number of columns of each modality, in order.

    See Also
    --------
    split_modalities : Its inverse.

    Examples
    --------
    >>> import numpy as np
    >>> from alignkit.utils import concat_modalities
    >>> X, dims = concat_modalities([np.zeros((5, 2, 3)), np.ones((5, 4))])
    >>> X.shape, dims
    ((5, 10), [6, 4])
    """
    if isinstance(Xs, Mapping):
        Xs = list(Xs.values())
    if isinstance(Xs, np.ndarray) or not hasattr(Xs, "__len__") or len(Xs) == 0:
        raise TypeError(
            "Xs must be a non-empty list or dict of arrays, one per modality; "
            f"got {type(Xs).__name__}."
        )
    arrays = [np.asarray(x) for x in Xs]
    n_samples = {a.shape[0] if a.ndim else None for a in arrays}
    if len(n_samples) != 1 or None in n_samples:
        shapes = [a.shape for a in arrays]
        raise ValueError(
            "Every modality in Xs must have the same number of samples along "
            f"axis 0; got shapes {shapes}."
        )
    flat = [a.reshape(a.shape[0], -1) for a in arrays]
    return np.concatenate(flat, axis=1), [f.shape[1] for f in flat]


def split_modalities(X, modality_dims):
    """Split a 2-D array into its modalities' column blocks.

    The inverse of :func:`concat_modalities` for flat modalities: block
    ``m`` holds the ``modality_dims[m]`` columns after those of modalities
    ``0, ..., m - 1``.

    Parameters
    ----------
    X : array-like of shape (n_samples, sum(modality_dims))
        Modalities side by side, as :func:`concat_modalities` makes them.
    modality_dims : list of int
        The number of columns of each modality, in order.

    Returns
    -------
    Xs : list of ndarray
        ``Xs[m]`` has shape ``(n_samples, modality_dims[m])``; the arrays are
        views of ``X`` where possible.

    See Also
    --------
    concat_modalities : Its inverse.

    Examples
    --------
    >>> import numpy as np
    >>> from alignkit.utils import split_modalities
    >>> [x.shape for x in split_modalities(np.zeros((3, 5)), [2, 3])]
    [(3, 2), (3, 3)]
    """
    X = np.asarray(X) if not hasattr(X, "shape") else X
    dims = _check_dims_list(modality_dims, min_modalities=1)
    if X.ndim != 2 or X.shape[1] != sum(dims):
        raise ValueError(
            f"modality_dims={dims} describes {sum(dims)} columns but X has shape "
            f"{tuple(X.shape)}; expected a 2-D X with {sum(dims)} columns."
        )
    bounds = np.cumsum([0] + dims)
    return [X[:, bounds[m] : bounds[m + 1]] for m in range(len(dims))]


def _check_dims_list(modality_dims, min_modalities):
    if isinstance(modality_dims, (str, bytes)) or not hasattr(modality_dims, "__iter__"):
        raise TypeError(
            "modality_dims must be a list of positive ints (the column count of "
            f"each modality) or None; got {modality_dims!r}."
        )
    dims = list(modality_dims)
    if not all(isinstance(d, Integral) and not isinstance(d, bool) and d > 0 for d in dims):
        raise ValueError(
            f"modality_dims must contain positive ints only; got {dims!r}."
        )
    if len(dims) < min_modalities:
        raise ValueError(
            f"modality_dims must describe at least {min_modalities} modalities; "
            f"got {len(dims)} ({dims!r})."
        )
    return [int(d) for d in dims]


def _prefix_runs(feature_names):
    """Group consecutive columns by their ``name__`` prefix.

    Returns ``None`` when no column carries a prefix.
    """
    prefixes = [
        str(name).split(_PREFIX_SEP, 1)[0] if _PREFIX_SEP in str(name) else None
        for name in feature_names
    ]
    if all(p is None for p in prefixes):
        return None
    if any(p is None for p in prefixes):
        bare = [str(n) for n, p in zip(feature_names, prefixes) if p is None][:3]
        raise ValueError(
            "With modality_dims=None, either every column name of X carries a "
            f"'<modality>{_PREFIX_SEP}' prefix or none does; columns {bare} have no "
            "prefix. Pass modality_dims explicitly or rename the columns."
        )
    runs = []
    for p in prefixes:
        if runs and runs[-1][0] == p:
            runs[-1][1] += 1
        else:
            runs.append([p, 1])
    names = [r[0] for r in runs]
    if len(set(names)) != len(names):
        raise ValueError(
            "With modality_dims=None, the columns of each modality must be "
            f"contiguous; the prefixes of X come in the order {names}."
        )
    return names, [r[1] for r in runs]


def resolve_modalities(n_features, modality_dims, feature_names=None, min_modalities=2):
    """Work out the modality layout of ``X`` from the contract's rules.

    ``modality_dims`` when given, else one modality per ``name__`` column
    prefix of the feature names, else two halves of the columns.

    Parameters
    ----------
    n_features : int
        Number of columns of ``X``.
    modality_dims : list of int or None
        The user's ``modality_dims`` parameter.
    feature_names : array-like of str, default=None
        The column names of ``X`` (an estimator's ``feature_names_in_``).
    min_modalities : int, default=2
        Fewest modalities the caller works with.

    Returns
    -------
    modality_dims : list of int
        Columns per modality; sums to ``n_features``.
    modality_names : list of str
        The ``name__`` prefixes when the column names carry them, else
        ``"m0"``, ``"m1"``, ...

    Raises
    ------
    ValueError
        When the layout does not fit ``X``; the message says what was
        expected and what was given.

    Warns
    -----
    UserWarning
        Whenever the layout falls back to two halves (no ``modality_dims``
        and no column prefixes), since a wrong split gives plausible but wrong
        results. Pass ``modality_dims``, or keep the column names through a
        :class:`~sklearn.pipeline.Pipeline` with
        ``set_output(transform="pandas")``.

    See Also
    --------
    fit_modality_layout : The same for an estimator being fitted.

    Notes
    -----
    An explicit ``modality_dims`` always sets the widths; ``name__``
    prefixes then only name the modalities, when their runs match the widths.

    Examples
    --------
    >>> from alignkit.utils import resolve_modalities
    >>> resolve_modalities(5, None)
    ([3, 2], ['m0', 'm1'])
    >>> resolve_modalities(3, None, ["img__a", "img__b", "txt__c"])
    ([2, 1], ['img', 'txt'])
    """
    if modality_dims is not None:
        dims = _check_dims_list(modality_dims, min_modalities)
        if sum(dims) != n_features:
            raise ValueError(
                f"modality_dims={dims} sums to {sum(dims)} columns but X has "
                f"{n_features} feature(s); the modality widths must add up to the "
                "number of columns of X."
            )
        # Explicit widths win; column prefixes only name the modalities, when they fit.
        try:
            runs = _prefix_runs(feature_names) if feature_names is not None else None
        except ValueError:
            runs = None
        names = runs[0] if runs is not None and runs[1] == dims else None
        return dims, names or [f"m{m}" for m in range(len(dims))]
    runs = _prefix_runs(feature_names) if feature_names is not None else None
    if runs is not None:
        names, dims = runs
        if len(dims) < min_modalities:
            raise ValueError(
                f"The column prefixes of X name {len(dims)} modality ({names}); "
                f"at least {min_modalities} are needed. Pass modality_dims to split "
                "the columns differently."
            )
        return dims, names
    if n_features < min_modalities:
        raise ValueError(
            f"X has {n_features} feature(s), but at least {min_modalities} are "
            "needed to split it into modalities (modality_dims=None splits the "
            "columns into two halves)."
        )
    dims = [len(c) for c in np.array_split(np.arange(n_features), 2)]
    warnings.warn(
        f"modality_dims=None and X has no 'name__' column prefixes, so its {n_features} "
        f"columns are split into two halves {dims}. Pass modality_dims to set the "
        "layout; in a Pipeline, set_output(transform='pandas') keeps the prefixes.",
        UserWarning,
        stacklevel=3,
    )
    return dims, [f"m{m}" for m in range(len(dims))]


def fit_modality_layout(estimator, min_modalities=2):
    """Set ``modality_dims_`` and ``modality_names_`` on an estimator being fitted.

    Call right after ``validate_data(estimator, X, reset=True)``: it reads
    ``n_features_in_``, ``feature_names_in_`` (when ``X`` had column names) and
    the ``modality_dims`` parameter.

    Parameters
    ----------
    estimator : estimator
        The estimator being fitted, with ``n_features_in_`` set.
    min_modalities : int, default=2
        The fewest modalities the estimator works with.

    Returns
    -------
    modality_dims : list of int
        The columns of each modality, as set on ``estimator``.

    See Also
    --------
    resolve_modalities : The layout from a column count and names.

    Examples
    --------
    >>> from sklearn.base import BaseEstimator
    >>> from alignkit.utils import fit_modality_layout
    >>> est = BaseEstimator()
    >>> est.modality_dims, est.n_features_in_ = [2, 3], 5
    >>> fit_modality_layout(est), est.modality_names_
    ([2, 3], ['m0', 'm1'])
    """
    estimator.modality_dims_, estimator.modality_names_ = resolve_modalities(
        estimator.n_features_in_,
        estimator.modality_dims,
        getattr(estimator, "feature_names_in_", None),
        min_modalities=min_modalities,
    )
    return estimator.modality_dims_


def check_pair_index(pair, n_modalities=None):
    """Validate a pair ``(i, j)`` of distinct modality indices (below ``n_modalities``)."""
    valid = (
        isinstance(pair, (tuple, list, np.ndarray))
        and len(pair) == 2
        and all(isinstance(m, Integral) and not isinstance(m, bool) for m in pair)
        and pair[0] != pair[1]
        and all(0 <= m and (n_modalities is None or m < n_modalities) for m in pair)
    )
    if not valid:
        bound = "" if n_modalities is None else f" in [0, {n_modalities})"
        raise ValueError(f"pair must be two distinct modality indices{bound}; got {pair!r}.")
    return int(pair[0]), int(pair[1])


def modality_index(modality, names):
    """The index of a modality given by index (negative counts from the end) or name."""
    n_modalities = len(names)
    if isinstance(modality, str) and modality in names:
        return list(names).index(modality)
    if isinstance(modality, Integral) and -n_modalities <= modality < n_modalities:
        return int(modality) % n_modalities
    raise ValueError(
        f"modality must be an index in [0, {n_modalities}) or one of {list(names)}; "
        f"got {modality!r}."
    )
