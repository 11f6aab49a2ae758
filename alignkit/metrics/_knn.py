"""Nearest-neighbour alignment: mutual k-NN and CKNNA, exact, in blocks of rows.

Neighbours are found a block of rows at a time, so memory is O(n * chunk)
rather than O(n^2). Ties are broken towards the lower sample index, the same
way on numpy and torch, so results never depend on a sort's internals.
Similarities are compared on a grid of 2**-40 of the largest one, so values
equal in exact arithmetic stay tied whatever order a library sums them in.
"""

import math
from numbers import Integral

import numpy as np
from sklearn.utils._param_validation import Interval

from ._array import (
    as_numpy,
    check_neighbours,
    check_pair,
    ops_for,
    preprocess,
    row_chunk,
    rows_all_equal,
    validate_metric,
)
from ._cka import cka_ratio, hsic


def _top_k_mask(S, k, ops):
    """Boolean mask of the ``k`` largest entries of every row of ``S``.

    Exact in linear time per row: everything at or above the k-th largest
    value; in the rare rows where ties at that value overshoot ``k``, only
    as many tied entries as still needed, lowest index first.
    """
    threshold = ops.kth_largest_per_row(S, k)[:, None]
    mask = S >= threshold
    overshoot = mask.sum(1) > k
    if bool(overshoot.any()):
        rows = S[overshoot]
        tied = rows == threshold[overshoot]
        still_needed = k - (rows > threshold[overshoot]).sum(1)
        mask[overshoot] ^= tied & (tied.cumsum(1) > still_needed[:, None])
    return mask


def _neighbour_blocks(A, B, k, chunk_size):
    """Yield ``(start, S_a, S_b, mask_a, mask_b)`` per block of rows from ``start``.

    ``S_x`` holds the inner products of the block's rows with all rows (-inf
    at self), and ``mask_x`` their ``k`` nearest neighbours, self excluded.
    """
    ops = ops_for(A)
    n = A.shape[0]
    step = row_chunk(n, chunk_size)
    # |inner product| <= the largest squared row norm.
    grids = [2.0 ** (math.frexp(float((X * X).sum(1).max()))[1] - 40) for X in (A, B)]
    for start in range(0, n, step):
        stop = min(start + step, n)
        rows = ops.arange(stop - start, A)
        blocks = []
        for X, grid in zip((A, B), grids):
            S = X[start:stop] @ X.T
            # Self is never a neighbour, so its entry is free to carry -inf.
            S[rows, rows + start] = -float("inf")
            blocks.append((S, _top_k_mask((S / grid).round() * grid, k, ops)))
        (S_a, mask_a), (S_b, mask_b) = blocks
        yield start, S_a, S_b, mask_a, mask_b


def neighbour_indices(A, B, k, chunk_size=None):
    """``(n, k)`` numpy arrays of every row's neighbours in ``A`` and in ``B``, ascending."""
    parts = ([], [])
    for _, _, _, mask_a, mask_b in _neighbour_blocks(A, B, k, chunk_size):
        for part, mask in zip(parts, (mask_a, mask_b)):
            part.append(as_numpy(ops_for(A).nonzero(mask)[1]).reshape(-1, k))
    return tuple(np.concatenate(part) for part in parts)


@validate_metric(k=[Interval(Integral, 1, None, closed="left")])
def mutual_knn(A, B, k=10, *, chunk_size=None, clip_quantile=None):
    """Mutual k-nearest-neighbour alignment (Huh et al. 2024).

    For every sample ``i``, ``N_A(i)`` is its ``k`` nearest neighbours by
    cosine similarity among the other rows of ``A`` (self excluded), and
    likewise ``N_B(i)``; the score is the mean of
    ``|N_A(i) & N_B(i)| / k``. Computed exactly, a block of rows at a time
    (O(n * chunk_size) memory); ties go to the lower sample index.

    Parameters
    ----------
    {A_B}
    k : int, default=10
        Number of neighbours, ``1 <= k < n_samples``.
    {chunk_size}
    {clip_quantile}
        Rows are always L2-normalised after that, so the score does not
        change when rows are rescaled; an all-zero row has cosine 0 to
        every row.

    Returns
    -------
    score : float
        In [0, 1]; 1 when both representations have the same neighbours.
        0 when either representation has all rows equal (up to scale), as
        then no row is nearer than another.

    Raises
    ------
    ValueError
        When ``k`` is not in ``[1, n_samples)``, A and B differ in
        n_samples, are not 2-D or hold NaN or infinity.

    See Also
    --------
    cknna : Unbiased CKA restricted to the mutual neighbours.

    Examples
    --------
    >>> import numpy as np
    >>> from alignkit.metrics import mutual_knn
    >>> rng = np.random.default_rng(0)
    >>> A = rng.normal(size=(300, 8))
    >>> mutual_knn(A, 5 * A, k=10)
    1.0
    """
    A, B = check_pair(A, B, min_samples=2, metric="mutual_knn")
    k = check_neighbours(k, A.shape[0])
    A, B = (preprocess(X, clip_quantile, normalize=True) for X in (A, B))
    if rows_all_equal(A) or rows_all_equal(B):  # no row nearer than another
        return 0.0
    shared = sum(
        float((mask_a & mask_b).sum())
        for *_, mask_a, mask_b in _neighbour_blocks(A, B, k, chunk_size)
    )
    return shared / (A.shape[0] * k)


def _sparse_hsic(P, Q, n_samples, ops, clip=False):
    """Unbiased HSIC of two sparse kernels with zero diagonals.

    ``P`` and ``Q`` are ``(rows, cols, values)`` triplets; the trace term
    pairs ``P_ij`` with ``Q_ji`` by matching sorted linear indices, so the
    cost is O(nnz log nnz).
    """
    (p_rows, p_cols, p_values), (q_rows, q_cols, q_values) = P, Q
    q_transposed_keys, order = ops.sort(q_cols * n_samples + q_rows)
    q_values_sorted = q_values[order]
    p_keys = p_rows * n_samples + p_cols
    position = ops.searchsorted(q_transposed_keys, p_keys).clip(0, q_values.shape[0] - 1)
    trace = 0.0
    if q_values.shape[0]:
        match = q_transposed_keys[position] == p_keys
        trace = float((p_values[match] * q_values_sorted[position[match]]).sum())
    zeros = ops.zeros(n_samples, p_values)
    return hsic(
        trace,
        ops.bincount(p_cols, p_values, n_samples),
        ops.bincount(q_rows, q_values, n_samples),
        zeros,
        zeros,
        n_samples,
        unbiased=True,
        clip=clip,
    )


@validate_metric(k=[Interval(Integral, 2, None, closed="left")])
def cknna(A, B, k=10, *, clip=False, chunk_size=None, clip_quantile=None, normalize=False):
    """Centered kernel nearest-neighbour alignment (CKNNA, Huh et al. 2024).

    Unbiased CKA restricted to mutual neighbours: with linear kernels
    ``K = A A^T`` and ``L = B B^T``, and ``M_ij = 1`` when ``j`` is among
    the ``k`` largest ``K_i.`` and among the ``k`` largest ``L_i.``
    (self excluded), the score is
    ``HSIC_1(M*K, M*L) / sqrt(HSIC_1(M_K*K, M_K*K) HSIC_1(M_L*L, M_L*L))``
    with ``M_K``, ``M_L`` each kernel's own neighbour mask. Only the O(n k)
    neighbour entries are ever stored.

    Parameters
    ----------
    {A_B}
    k : int, default=10
        Number of neighbours, ``2 <= k < n_samples``.
    {clip}
    {chunk_size}
    {clip_quantile}
    normalize : bool, default=False
        L2-normalise every row (after clipping), so neighbours and kernel
        values are cosine similarities, as in Huh et al. and Tjandrasuwita
        et al.

    Returns
    -------
    score : float
        At most 1; unclipped (the default) it can be slightly negative, with
        ``clip=True`` it is in [0, 1]. 0 when a denominator is not positive
        or either representation has all rows equal.

    Raises
    ------
    ValueError
        When ``k`` is not in ``[2, n_samples)``, n_samples < 4, or the
        inputs are invalid.

    See Also
    --------
    mutual_knn : The share of neighbours both representations have.

    Examples
    --------
    >>> import numpy as np
    >>> from alignkit.metrics import cknna
    >>> rng = np.random.default_rng(0)
    >>> A = rng.normal(size=(300, 8))
    >>> round(cknna(A, A, k=10), 6)
    1.0
    """
    A, B = check_pair(A, B, min_samples=4, metric="cknna (unbiased HSIC)")
    k = check_neighbours(k, A.shape[0], min_k=2)
    A, B = (preprocess(X, clip_quantile, normalize) for X in (A, B))
    if rows_all_equal(A) or rows_all_equal(B):  # no row nearer than another
        return 0.0
    ops = ops_for(A)
    # (rows, cols, values) of the masked kernels, block by block.
    sparse = {"K_mutual": [], "L_mutual": [], "K": [], "L": []}
    for start, S_a, S_b, mask_a, mask_b in _neighbour_blocks(A, B, k, chunk_size):
        mutual = mask_a & mask_b
        for name, mask, S in (("K_mutual", mutual, S_a), ("L_mutual", mutual, S_b),
                              ("K", mask_a, S_a), ("L", mask_b, S_b)):
            rows, cols = ops.nonzero(mask)
            sparse[name].append((rows + start, cols, S[mask]))
    P = {name: tuple(ops.concatenate(parts) for parts in zip(*blocks))
         for name, blocks in sparse.items()}
    n = A.shape[0]
    return cka_ratio(
        _sparse_hsic(P["K_mutual"], P["L_mutual"], n, ops, clip),
        _sparse_hsic(P["K"], P["K"], n, ops, clip),
        _sparse_hsic(P["L"], P["L"], n, ops, clip),
    )
