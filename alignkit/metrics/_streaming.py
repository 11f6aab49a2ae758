"""Exact linear CKA, unbiased CKA and SVCCA over data seen a batch of rows at a time.

All three need only moments of the rows ``x = [a b]`` of the two
representations: their mean, the co-moment matrix ``sum x~ x~^T`` (``x~``
centred on the mean), and for the unbiased HSIC the third and fourth order
moments of the squared row norms ``p = ||a~||^2`` and ``q = ||b~||^2``
(``sum p q``, ``sum p x~``, ...). Each batch's moments are taken about the
batch's own mean and merged pairwise with the mean-shift identities of Chan,
Golub & LeVeque (1979), extended to these higher moments: a large common
offset never enters a sum, so nothing cancels however many rows there are.

Each representation is stored scaled by a power of 2 (exact in floating
point; CKA and SVCCA do not change under scaling), chosen from the largest
entry seen, so that fourth powers of large entries do not overflow.
"""

import math

import numpy as np
import torch

from ._array import check_pair, is_dask, row_normalize
from ._cka import cka_ratio, hsic_from_sums

STREAMING_METRICS = ("linear_cka", "unbiased_cka", "svcca")
_EPS = float(np.finfo(np.float64).eps)


def refuse_clip_quantile(clip_quantile, where):
    if clip_quantile is not None:
        raise ValueError(
            f"clip_quantile cannot be used with {where}: the threshold is a quantile of "
            "every entry, which is not known until the last row has been seen. Clip the "
            "data with a fixed threshold beforehand, or compute the metric in memory."
        )


def min_samples(metric):
    """Rows a streaming metric needs (the unbiased HSIC divides by n - 3)."""
    return 4 if metric == "unbiased_cka" else 2


def _exponent(X):
    """The power of 2 just above ``X``'s largest absolute entry (0 for all zeros)."""
    largest = float(abs(X).max())
    return math.frexp(largest)[1] if largest > 0 else None


class _Moments:
    """Moments of the rows of ``[a b]`` about their mean, ``a`` and ``b`` scaled by ``2**-exponent``.

    ``mean`` is relative to ``origin`` (a row of the data, so it is of the
    size of the spread, not of the offset); ``comoment = sum x~ x~^T``;
    ``p_moment = sum p x~`` and ``q_moment = sum q x~``; ``pp, pq, qq =
    sum p^2, sum p q, sum q^2``. Arrays are numpy or torch (on the batches'
    device), float64.
    """

    def __init__(self, n, origin, mean, comoment, p_moment, q_moment, pp, pq, qq,
                 n_features_a, exponents):
        self.n, self.origin, self.mean, self.comoment = n, origin, mean, comoment
        self.p_moment, self.q_moment = p_moment, q_moment
        self.pp, self.pq, self.qq = pp, pq, qq
        self.n_features_a, self.exponents = n_features_a, exponents

    @classmethod
    def of_batch(cls, A, B, normalize=False):
        A, B = check_pair(A, B, min_samples=1, metric="partial_fit")
        if normalize:
            A, B = row_normalize(A), row_normalize(B)
        exponents = [_exponent(A), _exponent(B)]
        A, B = (X if e is None else X * 2.0**-e for X, e in zip((A, B), exponents))
        d_a = A.shape[1]
        lib = torch if isinstance(A, torch.Tensor) else np
        X = lib.hstack([A, B])  # a new array: centred in place below
        # Relative to its first row the batch is free of any common offset; a
        # column constant in the batch is then exactly 0 and stays so.
        origin = X[0] + 0.0
        X -= origin
        mean = X.mean(0)
        X -= mean
        p, q = (lib.einsum("ij,ij->i", Y, Y) for Y in (X[:, :d_a], X[:, d_a:]))
        return cls(X.shape[0], origin, mean, X.T @ X, X.T @ p, X.T @ q, float(p @ p),
                   float(p @ q), float(q @ q), d_a, exponents)

    def _scale_vector(self, ratio_a, ratio_b):
        d_a, d = self.n_features_a, self.mean.shape[0]
        r = self.mean.new_empty(d) if isinstance(self.mean, torch.Tensor) else np.empty(d)
        r[:d_a], r[d_a:] = ratio_a, ratio_b
        return r

    def rescaled(self, exponents):
        """The same moments with ``a`` and ``b`` scaled by ``2**-exponents`` (exact)."""
        exponents = [old if new is None else new for old, new in zip(self.exponents, exponents)]
        if exponents == self.exponents:
            return self
        ra, rb = (1.0 if old is None else 2.0 ** (old - new)
                  for old, new in zip(self.exponents, exponents))
        r = self._scale_vector(ra, rb)
        return _Moments(self.n, self.origin * r, self.mean * r, self.comoment * r[:, None] * r[None, :],
                        self.p_moment * r * ra**2, self.q_moment * r * rb**2,
                        self.pp * ra**4, self.pq * ra**2 * rb**2, self.qq * rb**4,
                        self.n_features_a, exponents)

    def shifted(self, delta):
        """The moments about ``mean + delta`` instead of ``mean``."""
        d_a, n, C = self.n_features_a, self.n, self.comoment
        delta_a, delta_b = delta[:d_a], delta[d_a:]
        alpha, beta = float(delta_a @ delta_a), float(delta_b @ delta_b)
        sum_p, sum_q = float(C[:d_a, :d_a].trace()), float(C[d_a:, d_a:].trace())
        # Rows move by -delta: p -> p - 2 u + alpha with u = a~ . delta_a, and
        # sum u = 0 about the mean; likewise q with v = b~ . delta_b.
        C_a_delta, C_b_delta = C[:, :d_a] @ delta_a, C[:, d_a:] @ delta_b
        sum_pv, sum_uq = float(self.p_moment[d_a:] @ delta_b), float(self.q_moment[:d_a] @ delta_a)
        sum_uv = float(C_b_delta[:d_a] @ delta_a)
        pp = (self.pp - 4.0 * float(self.p_moment[:d_a] @ delta_a)
              + 4.0 * float(C_a_delta[:d_a] @ delta_a) + 2.0 * alpha * sum_p + n * alpha**2)
        qq = (self.qq - 4.0 * float(self.q_moment[d_a:] @ delta_b)
              + 4.0 * float(C_b_delta[d_a:] @ delta_b) + 2.0 * beta * sum_q + n * beta**2)
        pq = (self.pq - 2.0 * sum_pv - 2.0 * sum_uq + 4.0 * sum_uv + alpha * sum_q
              + beta * sum_p + n * alpha * beta)
        p_moment = self.p_moment - sum_p * delta - 2.0 * C_a_delta - n * alpha * delta
        q_moment = self.q_moment - sum_q * delta - 2.0 * C_b_delta - n * beta * delta
        comoment = C + n * (delta[:, None] * delta[None, :])
        return _Moments(n, self.origin, self.mean + delta, comoment, p_moment, q_moment, pp, pq, qq, d_a,
                        self.exponents)

    def merged(self, other):
        """Moments of the union of two disjoint sets of rows."""
        if other.mean.shape != self.mean.shape or other.n_features_a != self.n_features_a:
            raise ValueError(
                "Cannot merge statistics of representations of different widths: got "
                f"({self.n_features_a}, {self.mean.shape[0] - self.n_features_a}) and "
                f"({other.n_features_a}, {other.mean.shape[0] - other.n_features_a}) features."
            )
        other = other.to_backend_of(self.mean)
        exponents = [max((e for e in pair if e is not None), default=None)
                     for pair in zip(self.exponents, other.exponents)]
        first, second = self.rescaled(exponents), other.rescaled(exponents)
        n = first.n + second.n
        gap = second.mean + (second.origin - first.origin) - first.mean
        # Both shift to the common mean, moving by their share of the gap.
        first, second = first.shifted(gap * (second.n / n)), second.shifted(gap * (-first.n / n))
        return _Moments(n, first.origin, first.mean, first.comoment + second.comoment,
                        first.p_moment + second.p_moment, first.q_moment + second.q_moment,
                        first.pp + second.pp, first.pq + second.pq, first.qq + second.qq,
                        self.n_features_a, exponents)

    def to_backend_of(self, like):
        """These moments as arrays of ``like``'s library (and device)."""
        if isinstance(like, torch.Tensor):
            convert = lambda x: torch.as_tensor(x, dtype=torch.float64, device=like.device)  # noqa: E731
        elif isinstance(self.mean, torch.Tensor):
            convert = lambda x: x.cpu().numpy()  # noqa: E731
        else:
            return self
        return _Moments(self.n, convert(self.origin), convert(self.mean), convert(self.comoment), convert(self.p_moment),
                        convert(self.q_moment), self.pp, self.pq, self.qq, self.n_features_a,
                        self.exponents)

    # -- the metrics ------------------------------------------------------------
    def cka(self, unbiased, clip=False):
        d_a, n = self.n_features_a, self.n
        C = self.to_backend_of(np.empty(0)).comoment
        blocks = (C[:d_a, d_a:], C[:d_a, :d_a], C[d_a:, d_a:])
        sums = (float(C[:d_a, :d_a].trace()), float(C[d_a:, d_a:].trace()))
        # About the mean the kernels' row sums K1 vanish; what is left of
        # HSIC are tr(KL) = ||A~^T B~||_F^2 and, for the unbiased estimator
        # (zeroed diagonals), the diagonals' sums and their products.
        values = []
        for block, (i, j), fourth in zip(blocks, ((0, 1), (0, 0), (1, 1)),
                                         (self.pq, self.pp, self.qq)):
            trace = float((block**2).sum())
            if unbiased:
                value = hsic_from_sums(trace - fourth, -sums[i], -sums[j], fourth, n, True)
            else:
                value = hsic_from_sums(trace, 0.0, 0.0, 0.0, n, False)
            values.append(max(value, 0.0) if clip else value)
        return cka_ratio(*values)

    def svcca(self, n_components):
        """SVCCA from the co-moments: ``U_X = X~ V_X S_X^-1`` for the eigenpairs of ``X~^T X~``.

        The canonical correlations are the singular values of
        ``S_A^-1 V_A^T (A~^T B~) V_B S_B^-1``. Eigenvalues below
        ``max(n, d) * eps`` of the largest (what the co-moment matrix cannot
        resolve) are dropped, like zero singular values in :func:`svcca`.
        """
        d_a, n = self.n_features_a, self.n
        C = self.to_backend_of(np.empty(0)).comoment
        n_components = min(n_components, n - 1, d_a, C.shape[0] - d_a)
        bases = []
        for block in (C[:d_a, :d_a], C[d_a:, d_a:]):
            values, vectors = np.linalg.eigh(block)
            values, vectors = values[::-1][:n_components], vectors[:, ::-1][:, :n_components]
            keep = values > values[0] * max(n, block.shape[0]) * _EPS if values[0] > 0 else values > 0
            bases.append(vectors[:, keep] / np.sqrt(values[keep]))
        if bases[0].shape[1] == 0 or bases[1].shape[1] == 0:
            return 0.0
        correlations = np.linalg.svd(bases[0].T @ C[:d_a, d_a:] @ bases[1], compute_uv=False)
        return float(correlations.clip(0.0, 1.0).sum()) / n_components

    def score(self, metric, *, n_components=10, clip=False):
        minimum = min_samples(metric)
        if self.n < minimum:
            raise ValueError(f"{metric} needs at least {minimum} samples; got n_samples = {self.n}.")
        if metric == "svcca":
            return self.svcca(n_components)
        return self.cka(unbiased=metric == "unbiased_cka", clip=clip)


def dask_moments(A, B, normalize=False):
    """The moments of two dask arrays as one dask reduction (a lazy ``Delayed``).

    Each row block's moments are computed where the block lives and merged
    pairwise in a tree; only (d1 + d2)^2-sized statistics travel.
    """
    import dask.array as da
    from dask import delayed

    A, B = (X if is_dask(X) else da.from_array(np.asarray(X)) for X in (A, B))
    if A.ndim != 2 or B.ndim != 2:
        raise ValueError(f"A and B must be 2-D dask arrays; got shapes {A.shape} and {B.shape}.")
    if A.shape[0] != B.shape[0]:
        raise ValueError(
            "A and B must hold the same samples (rows); got A with n_samples = "
            f"{A.shape[0]} and B with n_samples = {B.shape[0]}."
        )
    A = A.rechunk({1: -1})
    B = B.rechunk({0: A.chunks[0], 1: -1})
    parts = [delayed(_Moments.of_batch)(a, b, normalize)
             for a, b in zip(A.to_delayed().ravel(), B.to_delayed().ravel())]
    while len(parts) > 1:
        parts = [delayed(_Moments.merged)(parts[i], parts[i + 1]) if i + 1 < len(parts)
                 else parts[i] for i in range(0, len(parts), 2)]
    return parts[0]


def dask_score(A, B, metric, *, clip_quantile=None, normalize=False, **options):
    """``metric`` of two dask arrays, computed as one reduction (on a cluster if attached)."""
    refuse_clip_quantile(clip_quantile, f"{metric} on dask arrays")
    return dask_moments(A, B, normalize).compute().score(metric, **options)


class AlignmentAccumulator:
    """Exact linear CKA, unbiased CKA and SVCCA over data seen a batch of rows at a time.

    Feed row batches of two representations of the same samples to
    :meth:`partial_fit`, in any number and size (a single row included);
    :meth:`score` equals :func:`linear_cka`, :func:`unbiased_cka` or
    :func:`svcca` on all the rows stacked, in O((d1 + d2)^2) memory whatever
    the number of rows. Accumulators of disjoint shards (other workers,
    other files) combine exactly with :meth:`merge`, in any order.

    Batches may be numpy arrays, torch tensors (a CUDA tensor's statistics
    stay on its GPU) or dask arrays (reduced chunk-wise, on the attached
    cluster if any). Computation is in float64 whatever the input dtype.

    Parameters
    ----------
    metrics : str or tuple of str, default="unbiased_cka"
        One of, or a tuple of, ``"linear_cka"``, ``"unbiased_cka"``,
        ``"svcca"``. :meth:`score` returns a float for a string and a dict
        for a tuple.
    n_components : int, default=10
        Singular directions kept per representation by ``"svcca"``.
    normalize : bool, default=False
        L2-normalise every row first (a per-row operation, so it streams
        exactly). Quantile clipping (``clip_quantile`` of the in-memory
        metrics) does not stream: its threshold depends on every row.
    clip : bool, default=False
        Clip every unbiased HSIC term at 0 (the emergence paper's variant);
        ``False`` keeps the unclipped U-statistic.

    Attributes
    ----------
    n_samples_seen_ : int
        Rows accumulated so far.
    n_features_a_ : int
        Width of the first representation.
    n_features_b_ : int
        Width of the second representation.

    See Also
    --------
    unbiased_cka : The in-memory function it reproduces.
    model_alignment_matrix : Layer-by-layer alignment of two torch models
        over a whole data loader, built on accumulators.

    Notes
    -----
    SVCCA is formed from the eigenpairs of the co-moment matrices rather
    than an SVD of the rows; it matches :func:`svcca` to about
    ``eps * (s_1 / s_k)^2`` for the ratio of the largest and the smallest
    kept singular value.

    Examples
    --------
    >>> import numpy as np
    >>> from alignkit.metrics import AlignmentAccumulator, unbiased_cka
    >>> rng = np.random.default_rng(0)
    >>> A = rng.normal(size=(1000, 8))
    >>> B = A @ rng.normal(size=(8, 5)) + rng.normal(size=(1000, 5))
    >>> acc = AlignmentAccumulator()
    >>> for start in range(0, 1000, 128):
    ...     acc = acc.partial_fit(A[start:start + 128], B[start:start + 128])
    >>> bool(np.isclose(acc.score(), unbiased_cka(A, B), rtol=1e-12))
    True
    """

    def __init__(self, metrics="unbiased_cka", *, n_components=10, normalize=False, clip=False):
        self.metrics = metrics
        self.n_components = n_components
        self.normalize = normalize
        self.clip = clip

    def _metric_names(self):
        names = (self.metrics,) if isinstance(self.metrics, str) else tuple(self.metrics)
        unknown = [name for name in names if name not in STREAMING_METRICS]
        if not names or unknown:
            raise ValueError(
                f"metrics must be one or a tuple of {STREAMING_METRICS} (the metrics whose "
                f"statistics add up across batches); got {self.metrics!r}."
            )
        if isinstance(self.n_components, bool) or not isinstance(self.n_components, (int, np.integer)) \
                or self.n_components < 1:
            raise ValueError(f"n_components must be a positive int; got {self.n_components!r}.")
        return names

    def _add(self, moments):
        self._metric_names()
        state = getattr(self, "moments_", None)
        self.moments_ = moments if state is None else state.merged(moments)
        self.n_samples_seen_ = self.moments_.n
        self.n_features_a_ = self.moments_.n_features_a
        self.n_features_b_ = self.moments_.mean.shape[0] - self.n_features_a_
        return self

    def partial_fit(self, A, B):
        """Add a batch of rows.

        Parameters
        ----------
        A : array-like, torch.Tensor or dask array of shape (n_rows, n_features_a)
            The batch's rows of the first representation.
        B : array-like, torch.Tensor or dask array of shape (n_rows, n_features_b)
            The same rows of the second representation.

        Returns
        -------
        self : AlignmentAccumulator
            With the batch's statistics added.
        """
        if is_dask(A) or is_dask(B):
            return self._add(dask_moments(A, B, self.normalize).compute())
        return self._add(_Moments.of_batch(A, B, self.normalize))

    def merge(self, other):
        """Add the rows accumulated by another accumulator (disjoint from these).

        Parameters
        ----------
        other : AlignmentAccumulator
            An accumulator with the same widths and ``normalize``.

        Returns
        -------
        self : AlignmentAccumulator
            Now holding the statistics of both sets of rows.
        """
        if not isinstance(other, AlignmentAccumulator):
            raise TypeError(f"other must be an AlignmentAccumulator; got {type(other).__name__}.")
        if bool(other.normalize) != bool(self.normalize):
            raise ValueError(
                "Cannot merge accumulators with different normalize settings; got "
                f"{self.normalize!r} and {other.normalize!r}."
            )
        if getattr(other, "moments_", None) is None:
            return self
        return self._add(other.moments_)

    def score(self):
        """The metric(s) over every row seen.

        Returns
        -------
        score : float or dict of str to float
            A float when ``metrics`` is a string, otherwise ``{metric: value}``.
        """
        names = self._metric_names()
        if getattr(self, "moments_", None) is None:
            raise ValueError(
                "This AlignmentAccumulator has seen no rows yet; call partial_fit first."
            )
        scores = {name: self.moments_.score(name, n_components=self.n_components, clip=self.clip)
                  for name in names}
        return scores[self.metrics] if isinstance(self.metrics, str) else scores
