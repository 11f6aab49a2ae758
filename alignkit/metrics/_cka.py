"""Centered kernel alignment: linear and unbiased in feature space, RBF in blocks.

Every route reduces a pair of kernel matrices ``K``, ``L`` (n x n) to five
cheap summaries -- ``tr(KL)``, the row sums ``K1`` and ``L1`` and the
diagonals -- from which :func:`hsic` forms the biased or the unbiased HSIC
without ever holding ``K`` or ``L``.
"""

from numbers import Real

from sklearn.utils._param_validation import Interval

import numpy as np

from ._array import (
    center_columns,
    check_pair,
    max_abs_exponent,
    is_dask,
    ops_for,
    preprocess,
    row_chunk,
    rows_all_equal,
    validate_metric,
)


def hsic(trace_kl, k_sums, l_sums, k_diag, l_diag, n_samples, unbiased, *, clip=False):
    """HSIC of two kernels from their summaries.

    ``k_sums`` holds ``K^T 1`` and ``l_sums`` holds ``L 1`` (the same as
    ``K 1`` for a symmetric kernel), so that ``1^T K L 1`` is their dot
    product; ``trace_kl`` is ``sum_ij K_ij L_ji``.

    Biased (Gretton et al. 2005), ``tr(KHLH) / (n - 1)^2``.
    Unbiased (Song et al. 2012, HSIC_1), with ``K~``, ``L~`` the kernels with
    zeroed diagonals::

        [tr(K~L~) + 1'K~1 1'L~1 / ((n-1)(n-2)) - 2/(n-2) 1'K~L~1] / (n(n-3))

    The unbiased estimate is returned as is, so that its mean is the
    population HSIC (0 for independent representations); it can be slightly
    negative. ``clip=True`` clips it at 0, the variant of Tjandrasuwita et
    al. (2025). The biased estimate is never negative but for round-off,
    which is always clipped.
    """
    if unbiased:
        trace_kl = trace_kl - float((k_diag * l_diag).sum())
        k_sums, l_sums = k_sums - k_diag, l_sums - l_diag
    value = hsic_from_sums(trace_kl, float(k_sums.sum()), float(l_sums.sum()),
                           float((k_sums * l_sums).sum()), n_samples, unbiased)
    return max(value, 0.0) if clip or not unbiased else value


def hsic_from_sums(trace_kl, k_total, l_total, sums_dot, n_samples, unbiased):
    """The HSIC formula on scalars: ``tr(KL)``, ``1'K1``, ``1'L1`` and ``(K1)'(L1)``.

    For ``unbiased`` the four are sums of the kernels with zeroed diagonals.
    The one formula behind :func:`hsic` and the streaming accumulator (which
    holds these sums, not the kernels' row sums); unclipped.
    """
    n = n_samples
    if unbiased:
        value = (
            trace_kl + k_total * l_total / ((n - 1) * (n - 2)) - 2.0 * sums_dot / (n - 2)
        ) / (n * (n - 3))
    else:
        value = (trace_kl - 2.0 * sums_dot / n + k_total * l_total / n**2) / (n - 1) ** 2
    return float(value)


def cka_ratio(hsic_ab, hsic_aa, hsic_bb):
    """``HSIC(K, L) / sqrt(HSIC(K, K) HSIC(L, L))``; 0 when a denominator is 0."""
    if hsic_aa <= 0.0 or hsic_bb <= 0.0:
        return 0.0
    return min(hsic_ab / (hsic_aa * hsic_bb) ** 0.5, 1.0)


def _kernel_traces(X, d_a):
    """``tr(KL)``, ``tr(KK)``, ``tr(LL)`` for ``K = A A^T``, ``L = B B^T``, ``X = [A B]``.

    ``tr(KL) = ||A^T B||_F^2``: the one product ``X^T X`` gives all three in
    O(n (d1 + d2)^2). When features outnumber samples the n x n kernels are
    the smaller matrices, and used instead.
    """
    n, d = X.shape
    if d <= n:
        cross = X.T @ X
        blocks = cross[:d_a, d_a:], cross[:d_a, :d_a], cross[d_a:, d_a:]
        return [float((block**2).sum()) for block in blocks]
    K, L = X[:, :d_a] @ X[:, :d_a].T, X[:, d_a:] @ X[:, d_a:].T
    return [float((P * Q).sum()) for P, Q in ((K, L), (K, K), (L, L))]


def linear_summaries(A, B):
    """``X = [A_c B_c]`` (column-centred) and the row sums and diagonals of ``K``, ``L``.

    HSIC with a linear kernel does not depend on column means; centring
    first keeps the sums free of cancellation. ``K = A A^T``: ``K 1 = A (A^T 1)``,
    ``diag K`` the squared row norms.
    """
    d_a = A.shape[1]
    X = center_columns(ops_for(A).hstack([A, B]))
    A, B = X[:, :d_a], X[:, d_a:]
    return X, (A @ A.sum(0), B @ B.sum(0), (A * A).sum(1), (B * B).sum(1))


def _linear_cka(A, B, unbiased, clip=False):
    n, d_a = A.shape
    X, (k_sums, l_sums, k_diag, l_diag) = linear_summaries(A, B)
    trace_ab, trace_aa, trace_bb = _kernel_traces(X, d_a)
    return cka_ratio(
        hsic(trace_ab, k_sums, l_sums, k_diag, l_diag, n, unbiased, clip=clip),
        hsic(trace_aa, k_sums, k_sums, k_diag, k_diag, n, unbiased, clip=clip),
        hsic(trace_bb, l_sums, l_sums, l_diag, l_diag, n, unbiased, clip=clip),
    )


@validate_metric()
def linear_cka(A, B, *, clip_quantile=None, normalize=False):
    """Linear centered kernel alignment (biased HSIC), computed in feature space.

    ``CKA = HSIC(K, L) / sqrt(HSIC(K, K) HSIC(L, L))`` with ``K = A A^T``,
    ``L = B B^T`` and ``HSIC = tr(KHLH) / (n - 1)^2`` (Kornblith et al. 2019),
    evaluated as ``||A_c^T B_c||_F^2`` on column-centred features:
    O(n (d1 + d2)^2) time and no n x n matrix (when d1 + d2 > n, the n x n
    kernels are the smaller matrices and are used instead).

    Parameters
    ----------
    {A_B}
    {clip_quantile}
    {normalize}

    Returns
    -------
    cka : float
        Alignment in [0, 1]; 1 for representations equal up to an orthogonal
        transform and isotropic scaling. 0 when either representation is
        constant (every column constant), where CKA is undefined.

    Raises
    ------
    ValueError
        When A and B differ in n_samples, are not 2-D, hold NaN or infinity,
        or n_samples < 2.

    See Also
    --------
    unbiased_cka : The same with the unbiased HSIC estimator.

    Examples
    --------
    >>> import numpy as np
    >>> from alignkit.metrics import linear_cka
    >>> rng = np.random.default_rng(0)
    >>> A = rng.normal(size=(100, 5))
    >>> Q, _ = np.linalg.qr(rng.normal(size=(5, 5)))
    >>> round(linear_cka(A, 3 * A @ Q), 6)
    1.0
    """
    if is_dask(A) or is_dask(B):
        from ._streaming import dask_score

        return dask_score(A, B, "linear_cka", clip_quantile=clip_quantile, normalize=normalize)
    A, B = check_pair(A, B, min_samples=2, metric="linear_cka")
    return _linear_cka(preprocess(A, clip_quantile, normalize),
                       preprocess(B, clip_quantile, normalize), unbiased=False)


@validate_metric()
def unbiased_cka(A, B, *, clip=False, clip_quantile=None, normalize=False):
    """Linear CKA with the unbiased HSIC estimator, computed in feature space.

    HSIC_1 of Song et al. (2012), as used by Tjandrasuwita et al. (2025), on
    the linear kernels ``K = A A^T`` and ``L = B B^T``. Its expectation is 0
    for independent representations, so unlike :func:`linear_cka` it does
    not drift upwards when features outnumber samples. All terms come from
    ``[A B]^T [A B]``, row norms and column sums: O(n (d1 + d2)^2) time, no
    n x n matrix.

    Parameters
    ----------
    {A_B}
    {clip}
    {clip_quantile}
    {normalize}

    Returns
    -------
    cka : float
        Alignment, at most 1. Unclipped (the default) it scatters around 0
        for independent representations and can be slightly negative, like
        the debiased CKA of Kornblith et al. (2019); with ``clip=True`` it
        is in [0, 1]. A constant representation (every column constant) has
        no variance to align and its CKA is undefined; it scores 0, as does
        any case where an HSIC term of the denominator is not positive.

    Raises
    ------
    ValueError
        When A and B differ in n_samples, are not 2-D, hold NaN or infinity,
        or n_samples < 4 (the estimator divides by n - 3).

    See Also
    --------
    linear_cka : The biased estimator.
    alignment_test : Whether the alignment is above chance, with an interval.

    Examples
    --------
    >>> import numpy as np
    >>> from alignkit.metrics import unbiased_cka
    >>> rng = np.random.default_rng(0)
    >>> A = rng.normal(size=(500, 20))
    >>> round(unbiased_cka(A, A), 6)
    1.0
    >>> unbiased_cka(A, rng.normal(size=(500, 20))) < 0.01
    True
    """
    if is_dask(A) or is_dask(B):
        from ._streaming import dask_score

        return dask_score(A, B, "unbiased_cka", clip_quantile=clip_quantile, normalize=normalize,
                          clip=clip)
    A, B = check_pair(A, B, min_samples=4, metric="unbiased_cka (HSIC_1)")
    return _linear_cka(preprocess(A, clip_quantile, normalize),
                       preprocess(B, clip_quantile, normalize), unbiased=True, clip=clip)


_MEDIAN_SAMPLES = 2000


def _squared_distances(rows, X, row_norms, norms):
    """``||rows_i - X_j||^2`` from the squared norms, round-off set to 0.

    Below ``2**-46`` of ``||a||^2 + ||b||^2`` the formula cannot tell the
    distance from rounding, so duplicates come out exactly 0 whatever order
    a library sums in.
    """
    sums = row_norms[:, None] + norms[None, :]
    distances = sums - 2.0 * (rows @ X.T)
    distances[distances <= sums * 2.0**-46] = 0.0
    return distances


def _median_squared_distance(X):
    """The median squared distance between distinct rows (1.0 when all rows coincide).

    The median runs over at most 2000 evenly spaced rows, so it stays cheap,
    and ignores zero distances from duplicates; when every row is the same
    the kernel is constant whatever sigma is.
    """
    ops = ops_for(X)
    n = X.shape[0]
    rows = ops.arange(n, X)[:: max(1, -(-n // _MEDIAN_SAMPLES))]
    S = X[rows]
    sq = (S * S).sum(1)
    distances = _squared_distances(S, S, sq, sq)
    index = ops.arange(S.shape[0], X)
    distances = distances[index[:, None] < index[None, :]]
    distances = distances[distances > 0]
    if distances.shape[0] == 0:
        return 1.0
    return float(ops.kth_smallest(distances, (distances.shape[0] - 1) // 2))


def _rbf_gamma(X, sigma, sigma_factor, exponent):
    """``1 / (2 sigma^2)`` for ``X``, which is the data scaled by ``2**-exponent``.

    A width so far from the data's distances that ``1 / (2 sigma^2)``
    leaves the normal float64 range gives no kernel worth the name
    (constant or the identity to double precision): a ``ValueError``.
    """
    with np.errstate(all="ignore"):
        if sigma is None:
            name, value = "sigma_factor", sigma_factor
            width = np.float64(sigma_factor) ** 2 * _median_squared_distance(X)
        else:
            name, value = "sigma", sigma
            width = np.ldexp(np.float64(sigma), -exponent) ** 2
        gamma = 0.5 / width
    if not np.finfo(np.float64).tiny <= gamma < np.inf:
        raise ValueError(
            f"{name}={value!r} is out of range for these data: 1 / (2 sigma^2) "
            f"{'overflows' if gamma == np.inf else 'underflows'} float64 relative "
            "to their squared distances, so the RBF kernel is numerically the "
            f"{'identity' if gamma == np.inf else 'constant'} matrix. Choose a "
            "sigma nearer the data's spread, or sigma=None (median heuristic)."
        )
    return float(gamma)


def _rbf_block(X, sq_norms, start, stop, gamma, ops):
    """Rows ``start:stop`` of the RBF kernel minus 1, over ``min(gamma, 1)``.

    HSIC is blind to a constant added to a kernel and CKA to a kernel's
    scale, so ``expm1(-gamma d) / min(gamma, 1)`` gives the same CKA as
    ``exp(-gamma d)`` while keeping the small-distance (large-sigma) signal
    that ``1 - gamma d`` would round away. The diagonal is exactly 0.
    """
    block = _squared_distances(X[start:stop], X, sq_norms[start:stop], sq_norms)
    rows = ops.arange(stop - start, X)
    block[rows, rows + start] = 0.0
    return ops.expm1(-gamma * block) / min(gamma, 1.0)


@validate_metric(
    sigma=[Interval(Real, 0, None, closed="neither"), None],
    sigma_factor=[Interval(Real, 0, None, closed="neither")],
    unbiased=["boolean"],
)
def rbf_cka(A, B, *, sigma=None, sigma_factor=1.0, unbiased=False, clip=False,
            chunk_size=None, clip_quantile=None, normalize=False):
    """CKA with Gaussian (RBF) kernels, computed in blocks of rows.

    ``K_ij = exp(-||a_i - a_j||^2 / (2 sigma^2))`` and likewise ``L``. The
    kernels are built a block of rows at a time and reduced to the sums
    HSIC needs, so memory is O(n * chunk_size) and n = 20 000 runs in a
    few hundred MB; time is O(n^2 (d1 + d2)).

    Parameters
    ----------
    {A_B}
    sigma : float > 0, default=None
        Kernel width for both representations. ``None`` uses the median
        heuristic per representation: ``sigma_factor`` times the square root
        of the median squared distance between distinct rows (taken over at
        most 2000 evenly spaced rows; zero distances of duplicate rows
        ignored).
    sigma_factor : float > 0, default=1.0
        Multiplier of the median heuristic (Kornblith et al.'s
        ``threshold``); ignored when ``sigma`` is given.
    unbiased : bool, default=False
        Use the unbiased HSIC_1 estimator (needs n_samples >= 4).
    {clip}
        Only used with ``unbiased=True``.
    {chunk_size}
    {clip_quantile}
    {normalize}

    Returns
    -------
    cka : float
        Alignment in [0, 1] (with ``unbiased=True`` and ``clip=False``, at
        most 1 and possibly slightly negative); 0 when a denominator is 0
        (e.g. all rows of a representation identical). Invariant to
        translating and (with ``sigma=None``) scaling either representation;
        as ``sigma`` grows it tends to :func:`linear_cka`.

    Raises
    ------
    ValueError
        When ``sigma`` (or ``sigma_factor``) is so far from the data's
        distances that ``1 / (2 sigma^2)`` leaves the float64 range, or the
        inputs are invalid.

    See Also
    --------
    linear_cka : The linear kernel, which RBF CKA tends to as sigma grows.

    Examples
    --------
    >>> import numpy as np
    >>> from alignkit.metrics import rbf_cka
    >>> rng = np.random.default_rng(0)
    >>> A = rng.normal(size=(200, 4))
    >>> round(rbf_cka(A, 2 * A), 6)
    1.0
    """
    A, B = check_pair(A, B, min_samples=4 if unbiased else 2, metric="rbf_cka")
    # preprocess rescales by 2**-exponent, and sigma with it (not after normalising rows).
    exponents = [0 if normalize else max_abs_exponent(X) for X in (A, B)]
    # Centred, the squared distances from norms and products are translation-invariant.
    A, B = (center_columns(preprocess(X, clip_quantile, normalize)) for X in (A, B))
    if rows_all_equal(A) or rows_all_equal(B):  # a constant kernel: HSIC is exactly 0
        return 0.0
    ops = ops_for(A)
    n = A.shape[0]
    gammas = [_rbf_gamma(X, sigma, sigma_factor, e) for X, e in zip((A, B), exponents)]
    sq_norms = [(X * X).sum(1) for X in (A, B)]
    row_sums = [ops.zeros(n, A), ops.zeros(n, A)]
    trace_ab = trace_aa = trace_bb = 0.0
    step = row_chunk(n, chunk_size)
    for start in range(0, n, step):
        stop = min(start + step, n)
        K, L = (_rbf_block(X, s, start, stop, g, ops) for X, s, g in zip((A, B), sq_norms, gammas))
        trace_ab += float((K * L).sum())
        trace_aa += float((K * K).sum())
        trace_bb += float((L * L).sum())
        row_sums[0][start:stop] = K.sum(1)
        row_sums[1][start:stop] = L.sum(1)
    zeros = ops.zeros(n, A)  # the diagonal of the shifted kernels
    ka, kb = row_sums
    return cka_ratio(
        hsic(trace_ab, ka, kb, zeros, zeros, n, unbiased, clip=clip),
        hsic(trace_aa, ka, ka, zeros, zeros, n, unbiased, clip=clip),
        hsic(trace_bb, kb, kb, zeros, zeros, n, unbiased, clip=clip),
    )
