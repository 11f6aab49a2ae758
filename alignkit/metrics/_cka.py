"""Centered kernel alignment: linear and unbiased in feature space, RBF in blocks.

Every route reduces a pair of kernel matrices ``K``, ``L`` (n x n) to five
cheap summaries -- ``tr(KL)``, the row sums ``K1`` and ``L1`` and the
diagonals -- from which :func:`hsic` forms the biased or the unbiased HSIC
without ever holding ``K`` or ``L``.
"""

from numbers import Real

from ._array import (
    center_columns,
    check_pair,
    fill_doc,
    is_dask,
    ops_for,
    preprocess,
    row_chunk,
    rows_all_equal,
)


def hsic(trace_kl, k_sums, l_sums, k_diag, l_diag, n_samples, unbiased):
    """HSIC of two kernels from their summaries, clipped at 0.

    ``k_sums`` holds ``K^T 1`` and ``l_sums`` holds ``L 1`` (the same as
    ``K 1`` for a symmetric kernel), so that ``1^T K L 1`` is their dot
    product; ``trace_kl`` is ``sum_ij K_ij L_ji``.

    Biased (Gretton et al. 2005), ``tr(KHLH) / (n - 1)^2``.
    Unbiased (Song et al. 2012, HSIC_1), with ``K~``, ``L~`` the kernels with
    zeroed diagonals::

        [tr(K~L~) + 1'K~1 1'L~1 / ((n-1)(n-2)) - 2/(n-2) 1'K~L~1] / (n(n-3))
    """
    if unbiased:
        trace_kl = trace_kl - float((k_diag * l_diag).sum())
        k_sums, l_sums = k_sums - k_diag, l_sums - l_diag
    value = hsic_from_sums(trace_kl, float(k_sums.sum()), float(l_sums.sum()),
                           float((k_sums * l_sums).sum()), n_samples, unbiased)
    return max(value, 0.0)


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


def _linear_cka(A, B, unbiased):
    n, d_a = A.shape
    # HSIC with a linear kernel does not depend on column means; centring
    # first keeps the sums below free of cancellation.
    X = center_columns(ops_for(A).hstack([A, B]))
    A, B = X[:, :d_a], X[:, d_a:]
    # K = A A^T: K 1 = A (A^T 1), diag K = the squared row norms.
    k_sums, l_sums = A @ A.sum(0), B @ B.sum(0)
    k_diag, l_diag = (A * A).sum(1), (B * B).sum(1)
    trace_ab, trace_aa, trace_bb = _kernel_traces(X, d_a)
    return cka_ratio(
        hsic(trace_ab, k_sums, l_sums, k_diag, l_diag, n, unbiased),
        hsic(trace_aa, k_sums, k_sums, k_diag, k_diag, n, unbiased),
        hsic(trace_bb, l_sums, l_sums, l_diag, l_diag, n, unbiased),
    )


@fill_doc
def linear_cka(A, B, *, clip_quantile=None, normalize=False):
    """Linear centered kernel alignment (biased HSIC), computed in feature space.

    ``CKA = HSIC(K, L) / sqrt(HSIC(K, K) HSIC(L, L))`` with ``K = A A^T``,
    ``L = B B^T`` and ``HSIC = tr(KHLH) / (n - 1)^2`` (Kornblith et al. 2019),
    evaluated as ``||A_c^T B_c||_F^2`` on column-centred features:
    O(n (d1 + d2)^2) time and no n x n matrix (when d1 + d2 > n, the n x n
    kernels are the smaller matrices and are used instead).

    Parameters
    ----------
    %(A_B)s
    %(clip_quantile)s
    %(normalize)s

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


@fill_doc
def unbiased_cka(A, B, *, clip_quantile=None, normalize=False):
    """Linear CKA with the unbiased HSIC estimator, computed in feature space.

    HSIC_1 of Song et al. (2012), as used by Tjandrasuwita et al. (2025), on
    the linear kernels ``K = A A^T`` and ``L = B B^T``. Its expectation is 0
    for independent representations, so unlike :func:`linear_cka` it does
    not drift upwards when features outnumber samples. Every HSIC term is
    clipped at 0. All terms come from ``[A B]^T [A B]``, row norms and
    column sums: O(n (d1 + d2)^2) time, no n x n matrix.

    Parameters
    ----------
    %(A_B)s
    %(clip_quantile)s
    %(normalize)s

    Returns
    -------
    cka : float
        Alignment in [0, 1]. 0 when an HSIC term in the denominator is 0,
        e.g. for a constant representation.

    Raises
    ------
    ValueError
        When A and B differ in n_samples, are not 2-D, hold NaN or infinity,
        or n_samples < 4 (the estimator divides by n - 3).

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
                          clip=True)
    A, B = check_pair(A, B, min_samples=4, metric="unbiased_cka (HSIC_1)")
    return _linear_cka(preprocess(A, clip_quantile, normalize),
                       preprocess(B, clip_quantile, normalize), unbiased=True)


_MEDIAN_SAMPLES = 2000


def _squared_distances(rows, X, row_norms, norms):
    """``||rows_i - X_j||^2`` from the squared norms, clipped at 0 against round-off."""
    return (row_norms[:, None] + norms[None, :] - 2.0 * (rows @ X.T)).clip(0.0, None)


def _median_heuristic_gamma(X, sigma_factor):
    """``1 / (2 sigma^2)`` with ``sigma = sigma_factor * sqrt(median squared distance)``.

    The median runs over distinct pairs of rows (at most 2000 evenly spaced
    rows, so it stays cheap), ignoring zero distances from duplicates; when
    every row is the same the kernel is constant whatever sigma is.
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
    median = float(ops.kth_smallest(distances, (distances.shape[0] - 1) // 2))
    return 1.0 / (2.0 * sigma_factor**2 * median)


def _rbf_block(X, sq_norms, start, stop, gamma, ops):
    """Rows ``start:stop`` of the RBF kernel, with an exact unit diagonal."""
    block = _squared_distances(X[start:stop], X, sq_norms[start:stop], sq_norms)
    rows = ops.arange(stop - start, X)
    block[rows, rows + start] = 0.0
    return ops.exp(-gamma * block)


@fill_doc
def rbf_cka(A, B, *, sigma=None, sigma_factor=1.0, unbiased=False, chunk_size=None,
            clip_quantile=None, normalize=False):
    """CKA with Gaussian (RBF) kernels, computed in blocks of rows.

    ``K_ij = exp(-||a_i - a_j||^2 / (2 sigma^2))`` and likewise ``L``. The
    kernels are built a block of rows at a time and reduced to the sums
    HSIC needs, so memory is O(n * chunk_size) and n = 20 000 runs in a
    few hundred MB; time is O(n^2 (d1 + d2)).

    Parameters
    ----------
    %(A_B)s
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
    %(chunk_size)s
    %(clip_quantile)s
    %(normalize)s

    Returns
    -------
    cka : float
        Alignment in [0, 1]; 0 when a denominator is 0 (e.g. all rows of a
        representation identical).

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
    for name, value in (("sigma", sigma), ("sigma_factor", sigma_factor)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, Real) or not value > 0):
            raise ValueError(f"{name} must be a positive float; got {value!r}.")
    A, B = preprocess(A, clip_quantile, normalize), preprocess(B, clip_quantile, normalize)
    if rows_all_equal(A) or rows_all_equal(B):  # a constant kernel: HSIC is exactly 0
        return 0.0
    ops = ops_for(A)
    n = A.shape[0]
    gammas = [
        _median_heuristic_gamma(X, sigma_factor) if sigma is None else 1.0 / (2.0 * sigma**2)
        for X in (A, B)
    ]
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
    ones = ops.zeros(n, A) + 1.0
    ka, kb = row_sums
    return cka_ratio(
        hsic(trace_ab, ka, kb, ones, ones, n, unbiased),
        hsic(trace_aa, ka, ka, ones, ones, n, unbiased),
        hsic(trace_bb, kb, kb, ones, ones, n, unbiased),
    )
