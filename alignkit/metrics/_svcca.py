"""Singular vector canonical correlation analysis (Raghu et al. 2017)."""

from numbers import Integral

from sklearn.utils._param_validation import Interval

from ._array import center_columns, check_pair, is_dask, ops_for, preprocess, validate_metric


def _top_directions(X, n_components, ops):
    """Orthonormal basis of the top singular directions of column-centred ``X``.

    Directions with a zero singular value (rank deficiency, e.g. constant
    features) are dropped: they carry no signal to correlate.
    """
    X = center_columns(X)
    U, s, _ = ops.svd(X)
    U, s = U[:, :n_components], s[:n_components]
    tolerance = float(s[0]) * max(X.shape) * 2.220446049250313e-16 if s.shape[0] else 0.0
    return U[:, s > tolerance]


@validate_metric(n_components=[Interval(Integral, 1, None, closed="left")])
def svcca(A, B, n_components=10, *, clip_quantile=None, normalize=False):
    """SVCCA similarity: mean canonical correlation of the top singular directions.

    Each representation is column-centred and reduced to its
    ``n_components`` leading left singular vectors (the SVD step); the
    canonical correlations between the two reduced representations are the
    singular values of ``U_A^T U_B``, and the score is their sum divided by
    ``n_components``. Deterministic (exact SVD, no sampling).

    Parameters
    ----------
    {A_B}
    n_components : int, default=10
        Singular directions kept per representation, at most
        ``min(n_samples - 1, n_features_a, n_features_b)`` (a centred matrix
        has no more); a larger value uses that bound.
    {clip_quantile}
    {normalize}

    Returns
    -------
    score : float
        In [0, 1]. Directions with zero variance (fewer than
        ``n_components`` non-constant directions) count as correlation 0,
        so a constant representation scores 0.

    Raises
    ------
    ValueError
        When ``n_components`` is not a positive int or the inputs are invalid.

    See Also
    --------
    linear_cka : Alignment of the whole spectra, not only the top directions.

    Examples
    --------
    >>> import numpy as np
    >>> from alignkit.metrics import svcca
    >>> rng = np.random.default_rng(0)
    >>> A = rng.normal(size=(200, 6))
    >>> round(svcca(A, A @ rng.normal(size=(6, 6)), n_components=6), 6)
    1.0
    """
    if is_dask(A) or is_dask(B):
        from ._streaming import dask_score

        return dask_score(A, B, "svcca", clip_quantile=clip_quantile, normalize=normalize,
                          n_components=n_components)
    A, B = check_pair(A, B, min_samples=2, metric="svcca")
    n_components = min(n_components, A.shape[0] - 1, A.shape[1], B.shape[1])
    A, B = (preprocess(X, clip_quantile, normalize) for X in (A, B))
    ops = ops_for(A)
    U_a, U_b = (_top_directions(X, n_components, ops) for X in (A, B))
    if U_a.shape[1] == 0 or U_b.shape[1] == 0:
        return 0.0
    correlations = ops.svdvals(U_a.T @ U_b).clip(0.0, 1.0)
    return float(correlations.sum()) / n_components
