"""Is an alignment above chance? Permutation tests and half-sample intervals for every metric.

The null keeps both representations as they are and breaks the pairing of
their rows: ``metric(A, B[perm])``. Where the structure allows, a permutation
reuses what it does not change: for linear and unbiased CKA only the cross
term ``||A_c^T B_c[perm]||^2`` and the permuted row summaries of ``L`` are
new (``HSIC(A, A)``, ``HSIC(B, B)`` and ``B^T B`` are computed once); for
mutual k-NN and CKNNA the neighbour sets of ``B`` are found once and only
relabelled, O(n k log k) per permutation without a similarity product.
"""

from contextlib import nullcontext
from dataclasses import dataclass, field
from numbers import Integral, Real

import numpy as np
from joblib import Parallel, delayed
from sklearn.utils._param_validation import Interval, StrOptions, validate_params
from threadpoolctl import threadpool_limits

from ..utils._random import draw_seeds
from ._alignment import METRIC_CONSTRAINT, resolve_metric
from ._array import (
    SHARED_CONSTRAINTS,
    _NumpyOps,
    as_numpy,
    check_pair,
    ops_for,
    preprocess,
    row_normalize,
    rows_all_equal,
)
from ._cka import _kernel_traces, _linear_cka, cka_ratio, hsic, linear_summaries
from ._knn import _neighbour_blocks, _sparse_hsic, neighbour_indices

_CHUNK = 32  # permutations (or resamples) per seeded task: results do not depend on n_jobs


@dataclass(frozen=True)
class AlignmentTestResult:
    """Result of :func:`alignment_test`.

    The statistic with its permutation p-value and null, and the half-sample
    confidence interval when one was asked for.

    Attributes
    ----------
    statistic : float
        The metric on the data, ``metric(A, B)``.
    pvalue : float
        Permutation p-value with the +1 correction,
        ``(1 + #{null >= statistic}) / (1 + n_permutations)`` for
        ``alternative="greater"`` (``<=`` for ``"less"``; twice the smaller
        of the two, capped at 1, for ``"two-sided"``). Never below
        ``1 / (1 + n_permutations)``.
    null_mean : float
        Mean of the metric over the permutations: the score that
        representations of this size and geometry reach with their rows
        paired at random (about ``k / (n - 1)`` for mutual k-NN, about 0 for
        unbiased CKA, clearly above 0 for biased CKA at small n).
    null_std : float
        Standard deviation of the permutation null.
    calibrated : float
        ``statistic - null_mean``: the alignment above what chance pairing
        gives. 0 means no more aligned than chance; compare it with
        ``null_std``.
    confidence_interval : tuple of float or None
        ``(low, high)`` at ``confidence_level``; ``None`` when not computed.
        See :func:`alignment_test` for what it covers.
    confidence_level : float or None
        Level of the interval.
    null_distribution : ndarray of shape (n_permutations,)
        The metric on every permutation.
    resample_distribution : ndarray of shape (n_resamples,)
        The metric on every half-sample (empty without an interval).
    metric : str
        Name of the metric (a callable's ``__name__``).
    alternative : str
        The alternative hypothesis.

    See Also
    --------
    alignment_test : Returns it.

    Examples
    --------
    >>> import numpy as np
    >>> from alignkit.metrics import alignment_test
    >>> A = np.random.default_rng(0).normal(size=(50, 3))
    >>> res = alignment_test(A, A, n_permutations=20, confidence_level=None, random_state=0)
    >>> res.statistic, res.pvalue == 1 / 21, res.confidence_interval
    (1.0, True, None)
    """

    statistic: float
    pvalue: float
    null_mean: float
    null_std: float
    calibrated: float
    confidence_interval: tuple
    confidence_level: float
    null_distribution: np.ndarray = field(repr=False)
    resample_distribution: np.ndarray = field(repr=False)
    metric: str
    alternative: str


def _linear_cka_null(A, B, *, unbiased, clip=False, clip_quantile=None, normalize=False):
    """``perm -> CKA(A, B[perm])``: only the cross trace and ``L``'s permuted summaries are new."""
    A, B = preprocess(A, clip_quantile, normalize), preprocess(B, clip_quantile, normalize)
    n, d_a = A.shape
    X, (k_sums, l_sums, k_diag, l_diag) = linear_summaries(A, B)
    _, trace_aa, trace_bb = _kernel_traces(X, d_a)
    hsic_aa = hsic(trace_aa, k_sums, k_sums, k_diag, k_diag, n, unbiased, clip=clip)
    hsic_bb = hsic(trace_bb, l_sums, l_sums, l_diag, l_diag, n, unbiased, clip=clip)
    A_c, B_c = X[:, :d_a], X[:, d_a:]
    if X.shape[1] <= n:
        def cross(perm):  # ||A_c^T B_c[perm]||_F^2, O(n d1 d2)
            return float(((A_c.T @ B_c[perm]) ** 2).sum())
    else:  # features outnumber samples: the n x n kernels are smaller, made once
        K, L = A_c @ A_c.T, B_c @ B_c.T

        def cross(perm):
            return float((K * L[perm][:, perm]).sum())

    def statistic(perm):
        return cka_ratio(
            hsic(cross(perm), k_sums, l_sums[perm], k_diag, l_diag[perm], n, unbiased, clip=clip),
            hsic_aa, hsic_bb,
        )

    return statistic


def _inverse(perm):
    inverse = np.empty_like(perm)
    inverse[perm] = np.arange(perm.shape[0])
    return inverse


def _mutual_knn_null(A, B, k=10, *, chunk_size=None, clip_quantile=None):
    """``perm -> mutual_knn(A, B[perm])`` from B's neighbour sets, relabelled.

    Row ``i`` of ``B[perm]`` is row ``perm[i]`` of ``B``, so its neighbours
    are ``inverse[N_B(perm[i])]``. The overlap with ``N_A(i)`` is counted by
    sorting the 2k labels of each row: a shared neighbour is an adjacent pair.
    """
    A, B = (row_normalize(preprocess(X, clip_quantile)) for X in (A, B))
    if rows_all_equal(A) or rows_all_equal(B):
        return lambda perm: 0.0
    index_a, index_b = neighbour_indices(A, B, k, chunk_size)
    n = index_a.shape[0]

    def statistic(perm):
        labels = np.concatenate([index_a, _inverse(perm)[index_b[perm]]], axis=1)
        labels.sort(axis=1)
        return float((labels[:, 1:] == labels[:, :-1]).sum()) / (n * k)

    return statistic


def _cknna_null(A, B, k=10, *, clip=False, chunk_size=None, clip_quantile=None, normalize=False):
    """``perm -> cknna(A, B[perm])``: the masked kernels of A and B are found once.

    ``HSIC(M_K*K, M_K*K)`` and ``HSIC(M_L*L, M_L*L)`` do not change under a
    permutation; the mutual entries are the relabelled entries of ``M_L*L``
    whose position is also in ``M_K``, found by binary search.
    """
    A, B = (preprocess(X, clip_quantile, normalize) for X in (A, B))
    if rows_all_equal(A) or rows_all_equal(B):
        return lambda perm: 0.0
    ops = _NumpyOps
    parts = {"K": [], "L": []}
    for start, S_a, S_b, mask_a, mask_b in _neighbour_blocks(A, B, k, chunk_size):
        for name, mask, S in (("K", mask_a, S_a), ("L", mask_b, S_b)):
            rows, cols = (as_numpy(index) for index in ops_for(S).nonzero(mask))
            parts[name].append((rows + start, cols, as_numpy(S[mask])))
    (rows_a, cols_a, values_a), (rows_b, cols_b, values_b) = (
        tuple(np.concatenate(column) for column in zip(*parts[name])) for name in ("K", "L"))
    n = A.shape[0]
    hsic_kk = _sparse_hsic((rows_a, cols_a, values_a), (rows_a, cols_a, values_a), n, ops, clip)
    hsic_ll = _sparse_hsic((rows_b, cols_b, values_b), (rows_b, cols_b, values_b), n, ops, clip)
    keys_a = rows_a * n + cols_a  # ascending: blocks of rows in order, row-major within

    def statistic(perm):
        inverse = _inverse(perm)
        rows, cols = inverse[rows_b], inverse[cols_b]
        keys = rows * n + cols
        position = np.searchsorted(keys_a, keys).clip(0, keys_a.shape[0] - 1)
        mutual = keys_a[position] == keys
        rows, cols = rows[mutual], cols[mutual]
        return cka_ratio(
            _sparse_hsic((rows, cols, values_a[position[mutual]]),
                         (rows, cols, values_b[mutual]), n, ops, clip),
            hsic_kk, hsic_ll,
        )

    return statistic


def _linear_cka_unchecked(unbiased):
    """The CKA of validated inputs, for half-samples (no check per resample)."""
    def statistic(A, B, *, clip=False, clip_quantile=None, normalize=False):
        return _linear_cka(preprocess(A, clip_quantile, normalize),
                           preprocess(B, clip_quantile, normalize), unbiased, clip)

    return statistic


_UNCHECKED = {"linear_cka": _linear_cka_unchecked(False), "unbiased_cka": _linear_cka_unchecked(True)}

_FAST_NULLS = {
    "linear_cka": lambda A, B, **kw: _linear_cka_null(A, B, unbiased=False, **kw),
    "unbiased_cka": lambda A, B, **kw: _linear_cka_null(A, B, unbiased=True, **kw),
    "mutual_knn": _mutual_knn_null,
    "cknna": _cknna_null,
}


def _map_seeded(statistic, draw, count, seed, n_jobs):
    """``[statistic(draw(rng)) for each of count draws]``, in seeded chunks (same for any n_jobs)."""
    sizes = [min(_CHUNK, count - start) for start in range(0, count, _CHUNK)]

    def run(seed_sequence, size):
        rng = np.random.default_rng(seed_sequence)
        return [statistic(draw(rng)) for _ in range(size)]

    chunks = Parallel(n_jobs=n_jobs, prefer="threads")(
        delayed(run)(s, size) for s, size in zip(np.random.SeedSequence(seed).spawn(len(sizes)), sizes)
    )
    return np.array([value for chunk in chunks for value in chunk], dtype=np.float64)


def permutation_pvalue(statistic, null, alternative):
    """The +1-corrected p-value of ``statistic`` against permutation values ``null``.

    Values within a relative 1e-12 of the statistic count as ties (the fast
    paths and the metric round differently).
    """
    tolerance = 1e-12 * max(1.0, abs(statistic))
    greater = (1.0 + np.sum(null >= statistic - tolerance)) / (1.0 + null.shape[0])
    less = (1.0 + np.sum(null <= statistic + tolerance)) / (1.0 + null.shape[0])
    if alternative == "greater":
        return float(greater)
    if alternative == "less":
        return float(less)
    return float(min(1.0, 2.0 * min(greater, less)))


@validate_params(
    {"pvalues": ["array-like", Real], "method": [StrOptions({"holm", "bh"})]},
    prefer_skip_nested_validation=True,
)
def adjust_pvalues(pvalues, method="holm"):
    """Adjust p-values for testing them all at once.

    ``"holm"`` (Holm 1979) controls the family-wise error rate: the chance
    that *any* cell flagged as above chance is not. ``"bh"`` (Benjamini and
    Hochberg 1995) controls the false discovery rate: the expected share of
    flagged cells that are not above chance; it flags more, and assumes the
    tests are independent or positively dependent (as alignments of layers of
    the same networks typically are).

    Parameters
    ----------
    pvalues : array-like of any shape
        P-values in [0, 1].
    method : {"holm", "bh"}, default="holm"
        The correction.

    Returns
    -------
    adjusted : ndarray of the same shape
        Adjusted p-values; reject where ``adjusted <= alpha``.

    See Also
    --------
    alignment_test : The permutation p-value of one alignment.

    Examples
    --------
    >>> from alignkit.metrics import adjust_pvalues
    >>> adjust_pvalues([0.01, 0.04, 0.03], method="holm").round(3)
    array([0.03, 0.06, 0.06])
    >>> adjust_pvalues([0.01, 0.04, 0.03], method="bh").round(3)
    array([0.03, 0.04, 0.04])
    """
    p = np.asarray(pvalues, dtype=np.float64)
    if p.size and (not np.all(np.isfinite(p)) or p.min() < 0 or p.max() > 1):
        raise ValueError("pvalues must be finite and in [0, 1].")
    flat = p.ravel()
    m = flat.shape[0]
    order = np.argsort(flat, kind="stable")
    ranked = flat[order]
    if method == "holm":
        adjusted = np.maximum.accumulate((m - np.arange(m)) * ranked)
    else:
        adjusted = np.minimum.accumulate((m / np.arange(m, 0, -1) * ranked[::-1]))[::-1]
    out = np.empty(m)
    out[order] = np.minimum(adjusted, 1.0)
    return out.reshape(p.shape)


# prefer_skip_nested_validation=False: the metric validates the options forwarded to it.
@validate_params(
    {
        "A": SHARED_CONSTRAINTS["A"],
        "B": SHARED_CONSTRAINTS["B"],
        "metric": METRIC_CONSTRAINT,
        "n_permutations": [Interval(Integral, 1, None, closed="left")],
        "alternative": [StrOptions({"greater", "less", "two-sided"})],
        "confidence_level": [Interval(Real, 0, 1, closed="neither"), None],
        "n_resamples": [Interval(Integral, 10, None, closed="left")],
        "random_state": ["random_state"],
        "n_jobs": [Integral, None],
    },
    prefer_skip_nested_validation=False,
)
def alignment_test(A, B, metric="unbiased_cka", *, n_permutations=1000, alternative="greater",
                   confidence_level=0.95, n_resamples=500, random_state=None, n_jobs=None,
                   **metric_kwargs):
    """Whether two representations are aligned beyond chance, and how precisely.

    The **permutation test** compares ``metric(A, B)`` with the metric after
    a random re-pairing of the rows, ``metric(A, B[perm])``: what two
    representations of exactly this size and geometry score when their
    samples are unrelated. Under that null (the rows of ``(A, B)`` i.i.d.
    and ``A`` independent of ``B``) the p-value is valid at every sample
    size. For ``"linear_cka"``, ``"unbiased_cka"``, ``"mutual_knn"`` and
    ``"cknna"`` the permutations reuse what a re-pairing does not change
    (``B^T B`` and both self-HSIC terms; the neighbour sets), so a
    permutation costs one ``d1 x d2`` cross product, or O(n k log k) for
    the k-NN metrics; other metrics and callables are recomputed.

    The **confidence interval** is a half-sampling bootstrap over rows: the
    metric on ``n_resamples`` random halves of the rows (drawn without
    replacement, the same rows of ``A`` and ``B``), whose spread is that of
    the full-sample estimate to first order, shifted so that the
    half-samples' mean sits at ``statistic`` (a percentile interval). It is
    an interval for the population alignment between the two
    representation maps (what the metric converges to as the samples grow,
    the maps held fixed), assuming i.i.d. rows. Half-samples rather than the
    usual resampling with replacement because a duplicated row is its own
    nearest neighbour in both spaces and pairs with itself in the
    off-diagonal terms of the unbiased HSIC, biasing the k-NN metrics and
    the U-statistics upwards. Known biases: the interval inherits the
    estimator's own bias (biased ``linear_cka`` overstates alignment at
    small n; use ``unbiased_cka``); it is too narrow when rows are not
    independent (repeated subjects, augmentations of one image); for the
    k-NN metrics, whose value depends on n and k, it covers the value at
    this n and k and its width is estimated from samples half as large;
    near the ends of the metric's range percentile intervals under-cover.

    Parameters
    ----------
    A : array-like or torch.Tensor of shape (n_samples, n_features_a)
        First representation of the samples.
    B : array-like or torch.Tensor of shape (n_samples, n_features_b)
        Second representation of the same samples, in the same order.
    metric : str or callable, default="unbiased_cka"
        One of ``"linear_cka"``, ``"unbiased_cka"``, ``"rbf_cka"``,
        ``"mutual_knn"``, ``"cknna"``, ``"svcca"``, or a callable
        ``(A, B, **metric_kwargs) -> float``.
    n_permutations : int, default=1000
        Random re-pairings in the null. The smallest attainable p-value is
        ``1 / (1 + n_permutations)``.
    alternative : {"greater", "less", "two-sided"}, default="greater"
        ``"greater"``: the representations are more aligned than chance.
    confidence_level : float in (0, 1) or None, default=0.95
        Level of the interval; ``None`` skips it.
    n_resamples : int, default=500
        Half-samples of the interval (at least 10).
    random_state : int, RandomState instance or None, default=None
        Seeds the permutations and half-samples; the result does not depend
        on ``n_jobs``.
    n_jobs : int, default=None
        Threads over which permutations and half-samples are spread
        (``None`` means 1, ``-1`` all cores).
    **metric_kwargs : dict
        Options of the metric (``k``, ``clip``, ``clip_quantile``, ...).

    Returns
    -------
    result : AlignmentTestResult
        ``statistic``, ``pvalue``, ``null_mean``, ``null_std``,
        ``calibrated`` (``statistic - null_mean``), ``confidence_interval``,
        ``null_distribution`` and ``resample_distribution``.

    Raises
    ------
    ValueError
        For invalid inputs or options, naming the parameter; and when a
        half-sample is too small for the metric (e.g. ``k >= n_samples // 2``).

    See Also
    --------
    adjust_pvalues : Holm or Benjamini-Hochberg over many tests.

    Examples
    --------
    >>> import numpy as np
    >>> from alignkit.metrics import alignment_test
    >>> rng = np.random.default_rng(0)
    >>> A = rng.normal(size=(200, 5))
    >>> res = alignment_test(A, rng.normal(size=(200, 5)), metric="mutual_knn", k=10,
    ...                      n_permutations=200, random_state=0)
    >>> round(res.null_mean, 3), round(10 / 199, 3), res.pvalue > 0.05
    (0.05, 0.05, True)
    >>> res = alignment_test(A, A[:, :3] + rng.normal(size=(200, 3)), n_permutations=200,
    ...                      random_state=0)
    >>> res.pvalue, bool(res.confidence_interval[0] > 0)
    (0.004975124378109453, True)
    """
    func = resolve_metric(metric)
    name = metric if isinstance(metric, str) else getattr(metric, "__name__", repr(metric))
    A, B = check_pair(A, B, metric=name)
    n = A.shape[0]
    # The metric itself validates its options and the data, and is the statistic.
    statistic = float(func(A, B, **metric_kwargs))
    seed = draw_seeds(random_state)
    fast = _FAST_NULLS.get(metric) if isinstance(metric, str) else None
    permuted = fast(A, B, **metric_kwargs) if fast else (lambda perm: func(A, B[perm], **metric_kwargs))
    # A fast permutation is a small product: BLAS threads only contend for it;
    # n_jobs parallelises over permutations.
    with threadpool_limits(limits=1, user_api="blas") if fast else nullcontext():
        null = _map_seeded(permuted, lambda rng: rng.permutation(n), n_permutations, seed, n_jobs)

    interval, resamples = None, np.empty(0)
    if confidence_level is not None:
        half = n // 2
        try:
            func(A[:half], B[:half], **metric_kwargs)
        except ValueError as exc:
            raise ValueError(
                f"The confidence interval evaluates {name} on half of the rows "
                f"({half} of {n}), which fails: {exc} Pass confidence_level=None "
                "or use more samples.") from exc
        resampled = _UNCHECKED.get(metric, func) if isinstance(metric, str) else func
        resamples = _map_seeded(
            lambda rows: float(resampled(A[rows], B[rows], **metric_kwargs)),
            lambda rng: np.sort(rng.choice(n, half, replace=False)), n_resamples, seed + 1, n_jobs)
        tail = (1.0 - confidence_level) / 2.0
        low, high = np.quantile(resamples, [tail, 1.0 - tail]) + (statistic - resamples.mean())
        interval = (float(low), float(high))
    null_mean = float(null.mean())
    return AlignmentTestResult(
        statistic=statistic,
        pvalue=permutation_pvalue(statistic, null, alternative),
        null_mean=null_mean,
        null_std=float(null.std(ddof=1)) if n_permutations > 1 else 0.0,
        calibrated=statistic - null_mean,
        confidence_interval=interval,
        confidence_level=confidence_level,
        null_distribution=null,
        resample_distribution=resamples,
        metric=name,
        alternative=alternative,
    )
