"""Partial information decomposition (BROJA) of discrete distributions and samples."""

import dataclasses
import warnings
from numbers import Integral, Real

import numpy as np
from joblib import Parallel, delayed
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions, validate_params
from sklearn.utils.validation import check_array, check_consistent_length, column_or_1d

from ..utils import entropy
from ._solver import solve_broja

__all__ = ["PIDBiasWarning", "PIDResult", "PIDSolverError", "pid_from_joint", "pid_from_samples"]

UNIT_SCALE = {"nats": 1.0, "bits": 1.0 / np.log(2.0)}
# Fewer samples per joint-histogram cell than this triggers a PIDBiasWarning.
MIN_SAMPLES_PER_CELL = 5

_SOLVER_PARAMS = {
    "units": [StrOptions(set(UNIT_SCALE))],
    "tol": [Interval(Real, 0, None, closed="neither")],
    "max_iter": [Interval(Integral, 1, None, closed="left")],
}


class PIDBiasWarning(UserWarning):
    """Few samples per cell of the joint histogram: the plug-in PID is biased.

    The bias inflates synergy (see :func:`pid_from_samples`); a shuffled-label
    null (``n_permutations``) measures it.

    See Also
    --------
    pid_from_samples : Warns with it, and measures the bias.

    Examples
    --------
    >>> import warnings
    >>> from alignkit.pid import PIDBiasWarning, pid_from_samples
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     _ = pid_from_samples([0, 1, 1, 0] * 3, [0, 1, 0, 1] * 3, [0, 1, 1, 1] * 3)
    >>> [w.category.__name__ for w in caught]
    ['PIDBiasWarning']
    """


class PIDSolverError(RuntimeError):
    """The BROJA solver could not certify its minimum to ``tol``: no PID is returned.

    A :class:`RuntimeError`: the input was valid, the computation failed. The
    message names the table's shape, the certified duality gap reached and what
    to try. The solver's interior-point method hands over to a globally
    convergent barrier method when it stalls, so this means that ``max_iter``
    ran out or that round-off stopped progress above ``tol`` (then a larger
    ``tol`` is the remedy); please report such a table.

    See Also
    --------
    pid_from_joint : Raises it.

    Examples
    --------
    >>> from alignkit.pid import PIDSolverError
    >>> issubclass(PIDSolverError, RuntimeError)
    True
    """


@dataclasses.dataclass(frozen=True, repr=False)
class PIDResult:
    """The BROJA partial information decomposition of two sources about a target.

    ``redundancy + uniqueness[0] = I(X1; Y)``,
    ``redundancy + uniqueness[1] = I(X2; Y)`` and
    ``redundancy + uniqueness.sum() + synergy = mutual_info = I(X1, X2; Y)``.

    Attributes
    ----------
    redundancy : float
        ``R = I_Q(X1; Y) + I_Q(X2; Y) - I_Q(X1, X2; Y)`` at the optimal ``Q``.
    uniqueness : ndarray of shape (2,)
        ``U1 = I_Q(X1; Y | X2)`` and ``U2 = I_Q(X2; Y | X1)``.
    synergy : float
        ``S = I_P(X1, X2; Y) - I_Q(X1, X2; Y)``.
    mutual_info : float
        ``I_P(X1, X2; Y)``.
    units : {"bits", "nats"}
        Units of every information quantity here, ``duality_gap`` included.
    joint : ndarray of shape (n_x1, n_x2, n_y)
        The table ``P`` that was decomposed.
    optimal_joint : ndarray of shape (n_x1, n_x2, n_y)
        The minimiser ``Q`` of ``I_Q(X1, X2; Y)`` among the tables with
        ``P``'s ``(x1, y)`` and ``(x2, y)`` marginals (exactly, to round-off).
    n_iter : int
        Newton iterations of the solver, both of its methods together.
    duality_gap : float
        Certified bound on how far ``I_Q(X1, X2; Y)`` lies above its minimum,
        and so on the solver error of each atom; at most ``tol``.
    converged : bool
        Always True: a solve that cannot certify ``duality_gap <= tol`` raises
        :class:`PIDSolverError` instead.
    solver : {"interior-point", "barrier", "trivial"}
        The method that certified the minimum: the fast interior-point path,
        the barrier fallback it hands over to when it stalls, or none (one
        class, nothing to minimise).
    n_samples : int or None
        Sample count behind ``joint`` (:func:`pid_from_samples`), else None.
    bias : ndarray of shape (4,) or None
        Estimated plug-in bias of ``atoms``: the mean of the shuffled-label
        null when ``n_permutations > 0``, else ``(0, 0, 0, b)`` with ``b`` the
        Miller-Madow term ``(K12 - 1)(KY - 1) / (2 N)`` (``K12`` occupied
        ``(x1, x2)`` cells, ``KY`` classes, ``N`` samples).
    corrected : ndarray of shape (4,) or None
        ``atoms - bias``: the bias-corrected (R, U1, U2, S).
    null_distribution : ndarray of shape (n_permutations, 4) or None
        The atoms of ``(x1, x2, permuted y)`` for each permutation.
    pvalues : ndarray of shape (4,) or None
        ``(1 + #{null >= observed}) / (1 + n_permutations)`` per atom.

    See Also
    --------
    pid_from_joint : Returns it for a table.
    pid_from_samples : Returns it for samples.

    Examples
    --------
    >>> import numpy as np
    >>> from alignkit.pid import pid_from_joint
    >>> P = np.zeros((2, 2, 2))
    >>> P[0, 0, 0] = P[1, 1, 1] = 0.5  # X1 = X2 = Y: one redundant bit
    >>> pid_from_joint(P).atoms.round(6)
    array([1., 0., 0., 0.])
    """

    redundancy: float
    uniqueness: np.ndarray
    synergy: float
    mutual_info: float
    units: str
    joint: np.ndarray
    optimal_joint: np.ndarray
    n_iter: int
    duality_gap: float
    converged: bool
    solver: str = "interior-point"
    n_samples: int = None
    bias: np.ndarray = None
    corrected: np.ndarray = None
    null_distribution: np.ndarray = None
    pvalues: np.ndarray = None

    @property
    def atoms(self):
        """The atoms ``(R, U1, U2, S)``, an ndarray of shape (4,)."""
        return np.array([self.redundancy, *self.uniqueness, self.synergy])

    def __repr__(self):
        r, u1, u2, s = (f"{round(v, 6) + 0.0:g}" for v in self.atoms)
        return (
            f"PIDResult(redundancy={r}, uniqueness=({u1}, {u2}), synergy={s}, "
            f"units={self.units!r})"
        )


def check_joint(P):
    """Validate a probability table ``P[x1, x2, y]``; returns it as float64."""
    # A finite float ndarray needs none of check_array's conversions, which
    # cost about as much as two solver iterations on a 20 x 20 x 2 table.
    if not (type(P) is np.ndarray and P.dtype == np.float64 and P.ndim == 3 and P.size
            and np.isfinite(P).all()):
        P = check_array(P, ensure_2d=False, allow_nd=True, dtype=np.float64, input_name="P")
    if P.ndim != 3:
        raise ValueError(
            f"P must be a 3-D probability table P[x1, x2, y]; got an array of shape {P.shape}."
        )
    if P.min() < 0:
        raise ValueError(f"P must be non-negative; its smallest entry is {P.min():.6g}.")
    total = P.sum()
    # Float32 tables miss 1 by round-off: accept and rescale those.
    if abs(total - 1.0) > 1e-6:
        raise ValueError(
            f"P must sum to 1; it sums to {total:.12g}. Divide a count table by its total."
        )
    return P / total


def _refuse(P, solution, tol, max_iter, problem):
    shape = "x".join(map(str, P.shape))
    raise PIDSolverError(
        f"The BROJA solver could not certify the PID of this {shape} table: {problem} "
        f"(certified duality gap {solution.duality_gap:.3g} nats, tol={tol:.3g}, "
        f"{solution.n_iter} of max_iter={max_iter} iterations). Try a larger max_iter or "
        f"tol, and please report the table."
    )


def decompose(P, units, tol, max_iter):
    """The PID of a validated table (no sampling information); raises
    :class:`PIDSolverError` unless the solver certified its minimum."""
    solution = solve_broja(P, tol=tol, max_iter=max_iter)
    if not solution.converged:
        _refuse(P, solution, tol, max_iter, "the gap stayed above tol")
    Q = solution.q
    # Q shares P's (x1, y) and (x2, y) marginals, so seven entropies and the
    # solver's objective give every term: U1 = I_Q(X1; Y | X2) = I_Q(X1, X2; Y)
    # - I(X2; Y), and so on, with I_Q(X1, X2; Y) = H(Y) - H_Q(Y | X1, X2).
    a, b = P.sum(axis=1), P.sum(axis=0)
    h_y = entropy(a.sum(axis=0))
    info_1 = entropy(a.sum(axis=1)) + h_y - entropy(a)
    info_2 = entropy(b.sum(axis=1)) + h_y - entropy(b)
    joint_info = h_y + entropy(P.sum(axis=2)) - entropy(P)
    min_info = h_y + solution.objective
    # Each is >= 0 for any Q with these marginals; clip the round-off.
    unique = np.maximum([min_info - info_2, min_info - info_1], 0.0)
    # R and S are >= 0 at the minimum (the product coupling and P are feasible),
    # so within the gap at a certified point; anything else is a solver fault.
    slack = solution.duality_gap + 1e-12 * (1.0 + joint_info)
    if min(info_1 - unique[0], joint_info - min_info) < -slack:
        _refuse(P, solution, tol, max_iter, "its atoms break non-negativity")
    scale = UNIT_SCALE[units]
    return PIDResult(
        redundancy=scale * (info_1 - unique[0]),
        uniqueness=scale * unique,
        synergy=scale * (joint_info - min_info),
        mutual_info=scale * joint_info,
        units=units,
        joint=P,
        optimal_joint=Q,
        n_iter=solution.n_iter,
        duality_gap=scale * solution.duality_gap,
        converged=solution.converged,
        solver=solution.method,
    )


@validate_params({"P": ["array-like"], **_SOLVER_PARAMS}, prefer_skip_nested_validation=True)
def pid_from_joint(P, *, units="bits", tol=1e-10, max_iter=200):
    """Partial information decomposition of a discrete joint distribution.

    The BROJA decomposition (Bertschinger et al. 2014): with ``Q*`` the table
    that minimises ``I_Q(X1, X2; Y)`` among those sharing ``P``'s ``(x1, y)``
    and ``(x2, y)`` marginals, redundancy ``R = I_Q*(X1; Y) + I_Q*(X2; Y) -
    I_Q*(X1, X2; Y)``, uniqueness ``U1 = I_Q*(X1; Y | X2)``, ``U2 = I_Q*(X2; Y |
    X1)`` and synergy ``S = I_P(X1, X2; Y) - I_Q*(X1, X2; Y)``.

    ``Q*`` is found by a primal-dual interior-point method on the problem's
    dual, which hands over to a globally convergent barrier method when it
    stalls; the answer comes with a certified duality gap, or the call raises.

    Parameters
    ----------
    P : array-like of shape (n_x1, n_x2, n_y)
        Non-negative, summing to 1. Zero cells and empty classes are fine.
    units : {"bits", "nats"}, default="bits"
        Units of the returned information quantities.
    tol : float, default=1e-10
        Stop when the certified duality gap, in nats, is at most ``tol``; it
        bounds the solver error of every atom.
    max_iter : int, default=200
        Most Newton iterations of the solver (both of its methods together).

    Returns
    -------
    result : PIDResult
        ``redundancy``, ``uniqueness`` (shape (2,)), ``synergy``,
        ``mutual_info``, the optimal table and the solver's diagnostics.

    Raises
    ------
    PIDSolverError
        When the solver cannot certify the minimum to ``tol``.

    See Also
    --------
    pid_from_samples : The PID of discrete samples, with a shuffled-label null.
    PIDEstimator : The PID of continuous multimodal data.

    Examples
    --------
    >>> import numpy as np
    >>> from alignkit.pid import pid_from_joint
    >>> P = np.zeros((2, 2, 2))                   # Y = X1 AND X2, fair bits
    >>> for x1 in range(2):
    ...     for x2 in range(2):
    ...         P[x1, x2, x1 & x2] = 0.25
    >>> pid_from_joint(P)
    PIDResult(redundancy=0.311278, uniqueness=(0, 0), synergy=0.5, units='bits')
    """
    return decompose(check_joint(P), units, tol, max_iter)


def _codes(values, name):
    shape = np.shape(values)
    # column_or_1d's own message blames "y" whatever the argument.
    if len(shape) != 1 and shape[1:] != (1,):
        raise ValueError(f"{name} should be a 1d array, got an array of shape {shape} instead.")
    values = column_or_1d(values, warn=True)
    if values.dtype.kind in "fc":
        values = check_array(values.reshape(-1, 1), input_name=name, dtype=None).ravel()
    if values.dtype == object:
        kinds = sorted({type(v).__name__ for v in values})
        if len(kinds) > 1:
            raise ValueError(
                f"{name} mixes value types ({', '.join(kinds)}); give each of x1, x2 and y "
                "values of one type."
            )
    return np.unique(values, return_inverse=True)[1].ravel()


@validate_params(
    {
        "x1": ["array-like"],
        "x2": ["array-like"],
        "y": ["array-like"],
        "n_permutations": [Interval(Integral, 0, None, closed="left")],
        "random_state": ["random_state"],
        "n_jobs": [Integral, None],
        **_SOLVER_PARAMS,
    },
    prefer_skip_nested_validation=True,
)
def pid_from_samples(x1, x2, y, *, units="bits", n_permutations=0, random_state=None,
                     n_jobs=None, tol=1e-10, max_iter=200):
    """Partial information decomposition of paired discrete samples.

    The plug-in estimate: the joint histogram of ``(x1, x2, y)`` is decomposed
    by :func:`pid_from_joint`. It is biased upwards, and the bias lands almost
    entirely in synergy: with independent ``X1``, ``X2``, ``Y`` on 20 x 20 x 2
    symbols and 2000 samples, ``S`` comes out near 0.16 bits instead of 0,
    about the Miller-Madow term ``(|X1||X2| - 1)(|Y| - 1) / (2 N ln 2)``.
    Fewer than 5 samples per histogram cell raise a :class:`PIDBiasWarning`.

    The result carries a bias estimate and bias-corrected atoms. With
    ``n_permutations > 0`` they come from a shuffled-label null: the PID of
    ``(x1, x2, permuted y)``, which keeps every marginal and destroys all
    information about ``y``; its mean is the bias and its spread gives a
    p-value per atom. Without permutations the bias is the Miller-Madow term,
    put entirely in synergy.

    Parameters
    ----------
    x1, x2 : array-like of shape (n_samples,)
        Discrete values (any hashable dtype) of the two sources.
    y : array-like of shape (n_samples,)
        Discrete target; at least two classes.
    units : {"bits", "nats"}, default="bits"
        Units of the returned information quantities.
    n_permutations : int, default=0
        Shuffled-label null draws.
    random_state : int, RandomState instance or None, default=None
        Seeds the permutations.
    n_jobs : int, default=None
        Parallel jobs (joblib) for the permutations.
    tol : float, default=1e-10
        Certified duality-gap tolerance (nats) of each solve.
    max_iter : int, default=200
        Most Newton iterations per solve; a solve that cannot certify its
        minimum raises :class:`PIDSolverError`.

    Returns
    -------
    result : PIDResult
        The decomposition of the plug-in joint with ``n_samples``, ``bias``
        and ``corrected`` set, and ``null_distribution`` and ``pvalues`` when
        ``n_permutations > 0``.

    See Also
    --------
    pid_from_joint : The decomposition of a probability table.
    alignkit.PIDEstimator : The same for continuous multimodal data.

    Examples
    --------
    >>> import numpy as np
    >>> from alignkit.pid import pid_from_samples
    >>> rng = np.random.default_rng(0)
    >>> x1, x2 = rng.integers(0, 2, size=(2, 4000))
    >>> res = pid_from_samples(x1, x2, x1 ^ x2, n_permutations=20, random_state=0)
    >>> print(round(res.synergy, 2), res.pvalues[3])
    1.0 0.047...
    """
    codes = [_codes(values, name) for values, name in ((x1, "x1"), (x2, "x2"), (y, "y"))]
    check_consistent_length(*codes)
    if len(codes[2]) < 2:
        raise ValueError(f"pid_from_samples needs at least 2 samples; got {len(codes[2])} sample.")
    shape = tuple(int(c.max()) + 1 for c in codes)
    if shape[2] < 2:
        raise ValueError("y has 1 class; the PID of a constant target is empty (need 2 or more).")
    return pid_of_codes(*codes, shape, units=units, n_permutations=n_permutations,
                        random_state=random_state, n_jobs=n_jobs, tol=tol, max_iter=max_iter)


def histogram(c1, c2, cy, shape):
    """Plug-in joint distribution of integer codes on a fixed alphabet."""
    flat = np.ravel_multi_index((c1, c2, cy), shape)
    return np.bincount(flat, minlength=int(np.prod(shape))).reshape(shape) / len(flat)


def null_bias(P, n_samples):
    """Miller-Madow bias (nats) of the plug-in ``I(X1, X2; Y)`` when Y carries
    no information: ``(K12 - 1)(KY - 1) / (2 N)`` over occupied cells."""
    k12 = np.count_nonzero(P.sum(axis=2))
    ky = np.count_nonzero(P.sum(axis=(0, 1)))
    return (k12 - 1) * (ky - 1) / (2.0 * n_samples)


def _null_atoms(c1, c2, cy, shape, tol, max_iter):
    return decompose(histogram(c1, c2, cy, shape), "nats", tol, max_iter).atoms


def pid_of_codes(c1, c2, cy, shape, *, units, n_permutations, random_state, n_jobs, tol,
                 max_iter):
    """The plug-in PID of integer codes on the alphabet ``shape``, with its bias
    estimate and, when asked, the shuffled-label null."""
    n_samples = len(cy)
    P = histogram(c1, c2, cy, shape)
    result = decompose(P, units, tol, max_iter)
    scale = UNIT_SCALE[units]
    analytic_bias = scale * null_bias(P, n_samples)
    n_cells = int(np.prod(shape))
    if n_samples < MIN_SAMPLES_PER_CELL * n_cells:
        warnings.warn(
            f"{n_samples} samples for a {'x'.join(map(str, shape))} joint histogram "
            f"({n_samples / n_cells:.2g} per cell): the plug-in PID overstates synergy by "
            f"about {analytic_bias:.3g} {units} (Miller-Madow). "
            + ("Read the bias-corrected atoms (from the shuffled-label null), or use fewer "
               "clusters." if n_permutations else
               "Use n_permutations for a shuffled-label null and bias-corrected atoms, or "
               "fewer clusters."),
            PIDBiasWarning,
        )
    null = pvalues = None
    if n_permutations:
        rng = check_random_state(random_state)
        permutations = [rng.permutation(n_samples) for _ in range(n_permutations)]
        null = scale * np.array(
            Parallel(n_jobs=n_jobs)(
                delayed(_null_atoms)(c1, c2, cy[perm], shape, tol, max_iter)
                for perm in permutations
            )
        )
        bias = null.mean(axis=0)
        # A null atom within the solver's accuracy of the observed one counts as reaching it.
        reached = null >= result.atoms - scale * max(tol, result.duality_gap)
        pvalues = (1.0 + reached.sum(axis=0)) / (1.0 + n_permutations)
    else:
        bias = np.array([0.0, 0.0, 0.0, analytic_bias])
    return dataclasses.replace(
        result, n_samples=n_samples, bias=bias, corrected=result.atoms - bias,
        null_distribution=null, pvalues=pvalues,
    )
