"""Input validation and the few operations where numpy and torch differ.

Every metric is written once against the operations numpy arrays and torch
tensors share (``@``, ``.T``, ``.sum(axis)``, ``.cumsum(axis)``, comparisons,
boolean indexing); the handful that differ live in :class:`_NumpyOps` and
``_torch_ops.TorchOps``. A torch tensor stays a tensor on its own device.
torch is imported only when a tensor arrives, so the numpy path starts without it.
"""

import inspect
import math
import sys
from numbers import Integral, Real

import numpy as np
from sklearn.utils import check_array
from sklearn.utils._param_validation import Interval, validate_params

from ..utils._docstrings import Substitution


class _NumpyOps:
    @staticmethod
    def arange(n, like):
        return np.arange(n)

    @staticmethod
    def zeros(n, like):
        return np.zeros(n, dtype=np.float64)

    @staticmethod
    def expm1(x):
        return np.expm1(x)

    @staticmethod
    def row_max(X):
        return X.max(1)

    @staticmethod
    def kth_smallest(values, k):
        """The ``k``-th smallest (0-based) of a 1-D array, in linear time."""
        return np.partition(values, k)[k]

    @staticmethod
    def kth_largest_per_row(S, k):
        """The ``k``-th largest value (1-based) of every row of ``S``."""
        column = S.shape[1] - k
        return np.partition(S, column, axis=1)[:, column]

    @staticmethod
    def nonzero(mask):
        return np.nonzero(mask)

    @staticmethod
    def concatenate(arrays):
        return np.concatenate(arrays)

    @staticmethod
    def hstack(arrays):
        return np.hstack(arrays)

    @staticmethod
    def sort(x):
        order = np.argsort(x, kind="stable")
        return x[order], order

    @staticmethod
    def searchsorted(sorted_values, values):
        return np.searchsorted(sorted_values, values)

    @staticmethod
    def bincount(index, weights, n):
        return np.bincount(index, weights=weights, minlength=n).astype(np.float64)

    @staticmethod
    def svd(X):
        return np.linalg.svd(X, full_matrices=False)

    @staticmethod
    def svdvals(X):
        return np.linalg.svd(X, compute_uv=False)


# What the metrics' shared parameters mean and what they accept, stated once:
# ``{A_B}``, ``{clip}``, ... in a metric's docstring, and checked by @validate_metric.
_SHARED_DOCS = Substitution(
    A_B="""A : array-like or torch.Tensor of shape (n_samples, n_features_a)
    First representation of the samples. A torch tensor (CUDA included)
    is processed on its device, in float64.
B : array-like or torch.Tensor of shape (n_samples, n_features_b)
    Second representation of the same samples, in the same order.""",
    chunk_size="""chunk_size : int, default=None
    Rows per block; ``None`` picks blocks of about 4 million entries.""",
    clip_quantile="""clip_quantile : float in (0, 1], default=None
    Clamp each representation's entries to its ``clip_quantile``
    quantile of absolute values first (the outlier removal of
    Tjandrasuwita et al. 2025).""",
    clip="""clip : bool, default=False
    Clip every unbiased HSIC term at 0, as Tjandrasuwita et al. (2025)
    do. The default keeps the unclipped U-statistics, whose ratio is
    centred on 0 for independent representations; clipping makes the
    score of independent representations non-negative with a positive
    mean, and skews a permutation null built from it.""",
    normalize="""normalize : bool, default=False
    L2-normalise every row (after clipping).""",
)

SHARED_CONSTRAINTS = {
    "A": ["array-like"],
    "B": ["array-like"],
    "chunk_size": [Interval(Integral, 1, None, closed="left"), None],
    "clip": ["boolean"],
    "clip_quantile": [Interval(Real, 0, 1, closed="right"), None],
    "normalize": ["boolean"],
}


def validate_metric(**constraints):
    """Decorate a metric: its shared texts filled in, its parameters validated.

    The parameters it shares with the other metrics (``A``, ``B``,
    ``clip``, ...) are checked against :data:`SHARED_CONSTRAINTS`, the rest
    against ``constraints``.
    """

    def decorate(func):
        parameters = inspect.signature(func).parameters
        shared = {name: c for name, c in SHARED_CONSTRAINTS.items() if name in parameters}
        return validate_params({**shared, **constraints}, prefer_skip_nested_validation=True)(
            _SHARED_DOCS(func))

    return decorate


def is_tensor(X):
    """Whether ``X`` is a torch tensor, checked without importing torch.

    No tensor can exist before torch is imported, so an unimported torch
    answers "no" at the cost of a dictionary look-up.
    """
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(X, torch.Tensor)


def as_numpy(X):
    """``X`` as a numpy array (a torch tensor is copied to the host)."""
    return X.detach().cpu().numpy() if is_tensor(X) else np.asarray(X)


def is_dask(X):
    """Whether ``X`` is a dask array (checked without importing dask)."""
    return type(X).__module__.split(".")[0] == "dask"


def ops_for(X):
    """The operation table for ``X``'s array library."""
    if is_tensor(X):
        from ._torch_ops import TorchOps

        return TorchOps
    return _NumpyOps


def check_pair(A, B, *, min_samples=1, metric="this metric"):
    """Validate two representations of the same samples as float64 2-D arrays.

    Both come back as numpy arrays, or as torch tensors on the device of the
    tensor(s) given when either is one.
    """
    if is_tensor(A) or is_tensor(B):
        from ._torch_ops import tensor_pair_as_float64

        A, B = tensor_pair_as_float64(A, B)
    else:
        A, B = (
            check_array(X, dtype=np.float64, input_name=name)
            for X, name in ((A, "A"), (B, "B"))
        )
    if A.shape[0] != B.shape[0]:
        raise ValueError(
            "A and B must hold the same samples (rows); got A with n_samples = "
            f"{A.shape[0]} and B with n_samples = {B.shape[0]}."
        )
    if A.shape[0] < min_samples:
        raise ValueError(
            f"{metric} needs at least {min_samples} samples; got n_samples = "
            f"{A.shape[0]}."
        )
    return A, B


def check_neighbours(k, n_samples, *, min_k=1):
    """Check a (validated) neighbour count against the number of samples."""
    if not min_k <= k < n_samples:
        raise ValueError(
            f"k must satisfy {min_k} <= k < n_samples (self is excluded from the "
            f"neighbours); got k = {k} with n_samples = {n_samples}."
        )
    return int(k)


def row_chunk(n_samples, chunk_size, *, elements=2**22):
    """Rows per block so that a block of an n x n matrix holds ~``elements`` values."""
    if chunk_size is None:
        return max(1, min(n_samples, elements // max(n_samples, 1)))
    return int(chunk_size)


def max_abs_exponent(X):
    """The ``e`` with ``max |X|`` in ``[2**(e-1), 2**e)`` (0 for an all-zero ``X``)."""
    return math.frexp(float(abs(X).max()))[1]


def scale_by_power_of_two(X, exponent):
    """``X * 2**exponent``, exact (short of the subnormal range) for any int exponent.

    Two factors, since ``2**exponent`` alone leaves the float range when ``X``
    is near it.
    """
    half = exponent // 2
    return X * 2.0**half * 2.0**(exponent - half)


def preprocess(X, clip_quantile=None, normalize=False):
    """The emergence paper's feature preparation: clip outliers, then L2-normalise rows.

    ``clip_quantile=q`` clamps every entry to ``[-t, t]`` with ``t`` the
    entry of rank ``floor(q * X.size)`` (0-based, capped at the last) among
    the sorted absolute values of ``X``, as Tjandrasuwita et al. (2025) do.
    ``normalize=True`` divides each row by its L2 norm; all-zero rows stay zero.

    Unless rows are normalised, ``X`` is rescaled by a power of two
    (exactly) so that its largest magnitude lies in ``[0.5, 1)``: every metric
    is scale-invariant, and this keeps its sums of products clear of overflow
    and underflow over the whole float64 range.
    """
    if clip_quantile is not None:  # validated by the public entry points
        size = X.shape[0] * X.shape[1]
        rank = min(int(clip_quantile * size), size - 1)
        threshold = float(ops_for(X).kth_smallest(abs(X).reshape(-1), rank))
        X = X.clip(-threshold, threshold)
    # Rows normalise on their own scale; a global rescale first could underflow small rows.
    return row_normalize(X) if normalize else scale_by_power_of_two(X, -max_abs_exponent(X))


def row_normalize(X):
    """Divide each row by its L2 norm (all-zero rows stay zero).

    Each row is divided by its largest magnitude first, so rows far smaller
    or larger than the others neither underflow nor overflow.
    """
    peaks = ops_for(X).row_max(abs(X))
    peaks[peaks == 0] = 1.0
    X = X / peaks[:, None]
    norms = ((X * X).sum(1)) ** 0.5
    norms[norms == 0] = 1.0
    return X / norms[:, None]


def center_columns(X):
    """Subtract column means; exactly constant columns become exact zeros.

    A constant column's mean is not always exactly representable, and its
    rounding residue would otherwise pose as (tiny) signal.
    """
    constant = (X == X[0]).all(0)
    X = X - X.mean(0)
    X[:, constant] = 0.0
    return X


def rows_all_equal(X):
    """Whether every row of ``X`` is the same (a representation without structure)."""
    return bool((X == X[0]).all())
