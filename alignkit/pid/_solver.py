"""A primal-dual interior-point solver, with a barrier-method fallback, for the BROJA problem.

The problem. Given ``P[x1, x2, y]``, find ``Q`` with the same ``(x1, y)`` and
``(x2, y)`` marginals ``a[x1, y]`` and ``b[x2, y]`` that minimises
``I_Q(X1, X2; Y) = H(Y) + f(Q)``, where

    f(Q) = sum_{x1 x2 y} Q log(Q[x1, x2, y] / Q[x1, x2])  = -H_Q(Y | X1, X2).

For each ``y`` the slice ``Q[:, :, y]`` is a coupling of ``a[:, y]`` and
``b[:, y]``; ``f`` is convex and positively homogeneous, so its conjugate is
the indicator of ``{s : logsumexp_y s[x1, x2, y] <= 0}``. The Lagrange dual has
one variable per marginal constraint, ``(|X1| + |X2|) |Y|`` in all:

    maximise  <a, lam> + <b, mu>
    s.t.      sum_y exp(lam[x1, y] + mu[x2, y]) <= 1   for every pair (x1, x2),

and the multiplier ``t[x1, x2] >= 0`` of a pair's constraint is the primal
``Q[x1, x2]``: ``Q[x1, x2, y] = t[x1, x2] exp(lam[x1, y] + mu[x2, y])``.

We run a primal-dual interior-point method on this dual (Boyd & Vandenberghe,
*Convex Optimization*, §11.7) with Mehrotra's predictor-corrector, extended to
the constraints' curvature: the predictor's step length comes from a
second-order model of the slacks, and the corrector also cancels the slacks'
second-order change along the predictor (a linear model misses it and stops
the steps short). The Newton system is small (the dual dimension) and has
block structure: the ``lam-lam`` and ``mu-mu`` blocks are block-diagonal with
``|Y| x |Y|`` blocks, so we eliminate the larger side and factorise a
``min(|X1|, |X2|) |Y|`` Schur complement once per iteration; up to
``_DENSE_MAX`` dual variables the whole matrix is factorised instead, which
takes fewer array operations. The canonical gates take 5 or 6 iterations,
20 × 20 tables 7 to 16 and the harder tables of the benchmark's corpus up to
about 25 (``benchmarks/bench_pid.py --against``), down to a certified gap of
1e-10 nats.

Why the predictor-corrector method alone is not enough. On tables where one
source is a degraded copy of the other (two sensors of one label with close
but unequal noise: the optimum is the Markov chain Y - X1 - X2, one
uniqueness exactly 0) some pairs ``(x1, x2)`` keep little but not zero mass
at the optimum. The first predictor-corrector steps, taken while the marginal
residual is still large, cut those pairs' multipliers ``t`` to about 1 % of
their optimal value (0.28 -> 0.005 against 0.031 on the 2 x 2 x 2 table of
two binary sensors flipping w.p. 0.1 and 0.15); the Newton steps then cannot
restore them, the marginal residual stays constant while complementarity is
driven down, the slacks of those pairs shrink geometrically until one reaches
0, and the Newton matrix stops being positive definite or every value turns
NaN. About 6 % of the test corpus's tables (tests/pid_corpus.py) failed so.

What is done about it, in three stages:

1. The fast path is the predictor-corrector method as described above; easy
   tables take it unchanged. It watches its merit (marginal residual plus
   complementarity): when that has not halved over ``_STALL_WINDOW``
   iterations, or an iterate is not finite, or the Newton matrix breaks, or
   ``_FAST_MAX_ITER`` iterations pass, it stops.
2. It is then restarted with a centrality safeguard in its step rule: while
   the marginal residual exceeds the complementarity, a step may not take
   any pair's ``t`` below ``_KEEP`` times its value, so multipliers cannot
   collapse before the marginals are nearly met (always on, this costs easy
   tables about 10 % more iterations, hence the restart rather than default).
3. If that stalls too, a globally convergent barrier method takes over,
   restarted from the standard point (the stalled iterate sits at the
   boundary, where the barrier's progress is slow): for a weight ``tau`` it
   minimises ``-<a, lam> - <b, mu> - sum log(slack) / tau`` by damped Newton
   steps with an Armijo line search, then raises ``tau`` tenfold. That
   function is strictly convex on the pinned dual and coercive, so each
   centring converges from any strictly feasible point; the multipliers are
   read off the slacks (``t = 1 / (tau s)``), so none can collapse, and the
   Newton system is the interior-point one at that ``t``. Once a centred
   point is certified within ``_HAND_BACK`` of the optimum, the fast path is
   tried once more from it (a central, nearly feasible start that
   converges in a few steps); if that fails the barrier method goes on to
   the end, its certificate checked after every step at the last weights.

Every stage ends in the same certificate, and a solve that cannot reach
``tol`` within ``max_iter`` iterations (all stages together) is reported as
not converged, which :func:`~alignkit.pid.pid_from_joint` turns into a
:class:`~alignkit.pid.PIDSolverError`. On the test corpus (521 tables) 36 (6.9 %)
take the barrier method; all are certified to 1e-10 nats and agree with an
exponential-cone solve (cvxpy + Clarabel) to 1e-6 bits.

The answer is certified: the primal ``t * exp(lam + mu)`` is rounded onto the
marginal constraints exactly (Altschuler, Weed & Rigollet, 2017, algorithm 2)
and the dual point is strictly feasible, so ``gap = f(Q_rounded) - dual(lam,
mu)`` bounds how far the returned objective is above the true minimum. Every
PID atom is an affine function of that minimum (``U1 = min I_Q - I(X2; Y)``
and so on), so the gap also bounds each atom's error.

Zero cells: ``Q[x1, x2, y]`` must vanish where ``a[x1, y] = 0`` or
``b[x2, y] = 0``; their dual variables are fixed at ``-inf`` (the term drops
out of every constraint) and kept out of the Newton system, and empty classes
drop out the same way.
"""

import functools
from dataclasses import dataclass

import numpy as np
from scipy.linalg.lapack import dpotrf as _potrf
from scipy.linalg.lapack import dpotrs as _potrs
from threadpoolctl import ThreadpoolController

__all__ = ["BrojaSolution", "round_to_marginals", "solve_broja"]

# Fraction of the distance to the boundary a step may cover.
_STEP_TO_BOUNDARY = 0.99
# Backtracking factor when the estimated step to the boundary was too long.
_BACKTRACK = 0.8
# The starting point's scale (see _DualProblem.initial_point), tuned on random
# tables and plug-in histograms.
_START = 0.9
# Largest change of any dual variable (a logarithm) in one step.
_MAX_LOG_STEP = 8.0
# Largest dual dimension for which the Newton system is factorised whole.
_DENSE_MAX = 160
# Fraction of each pair mass t that an interior-point step must keep while the
# marginal residual is larger than the complementarity (the centrality safeguard).
_KEEP = 0.1
# The fast path hands over when its merit (marginal residual plus
# complementarity) fell by less than _STALL_FACTOR over _STALL_WINDOW iterations...
_STALL_WINDOW, _STALL_FACTOR = 10, 0.5
# ...or after _FAST_MAX_ITER iterations (easy tables take up to about 25).
_FAST_MAX_ITER = 60
# Barrier method: growth of the barrier weight per centring, Armijo constant,
# and the Newton decrement (squared) below which a point counts as centred.
_BARRIER_GROWTH, _ARMIJO, _CENTRED = 10.0, 0.25, 0.05
# Certified gap (nats) of a centred barrier point from which the fast path is
# tried once more: the point is central and nearly feasible.
_HAND_BACK = 1e-5


@dataclass
class BrojaSolution:
    """The minimiser ``q`` and how it was reached (objective and gap in nats).

    ``objective`` is ``f(q) = -H_q(Y | X1, X2)``; ``duality_gap`` bounds
    ``objective - min f`` from above; ``method`` is the stage that certified it
    ("interior-point", "barrier", or "trivial" for a single class).
    """

    q: np.ndarray
    objective: float
    duality_gap: float
    n_iter: int
    converged: bool
    method: str


class _DualProblem:
    """Data, masks and the oracle of the dual problem (see the module docstring)."""

    def __init__(self, P):
        self.shape = n1, _, ny = P.shape
        self.a = P.sum(axis=1)
        self.b = P.sum(axis=0)
        self.support = (self.a[:, None, :] > 0) & (self.b[None, :, :] > 0)
        # One constraint per pair (x1, x2) that can carry mass; t = 0 elsewhere.
        self.pairs = self.support.any(axis=2)
        self.n_pairs = int(self.pairs.sum())
        self.no_pair = (~self.pairs).astype(float)
        # The dual is invariant under lam[:, y] += c, mu[:, y] -= c: pinning one mu
        # per class that has mass removes exactly that null space (each class's
        # support is a complete bipartite graph, so nothing else is left free).
        mu_free = self.b > 0
        classes = np.flatnonzero(mu_free.any(axis=0))
        self.pins = (self.b[:, classes].argmax(axis=0), classes)
        mu_free[self.pins] = False
        self.fixed = ~np.concatenate([(self.a > 0).ravel(), mu_free.ravel()])
        self.fixed_index = np.flatnonzero(self.fixed)
        self.live = np.concatenate([(self.a > 0).ravel(), (self.b > 0).ravel()])
        self.c = np.concatenate([self.a.ravel(), self.b.ravel()])
        self.n_lam = n1 * ny
        # Sums over one axis as products with ones: numpy's reductions over a
        # short or strided axis cost several times more on these small arrays.
        self.ones = [np.ones(n) for n in self.shape]
        if self.c.size <= _DENSE_MAX:
            self._dense_layout()

    def _dense_layout(self):
        """Where :func:`_hessian_blocks`'s flat array goes in the whole Newton
        matrix, flattened, with one spare entry at the end that takes every
        entry in a fixed coordinate's row or column; and that matrix, the
        identity on the fixed coordinates."""
        n1, n2, ny = self.shape
        size = self.c.size
        spare = size * size
        # Row and column offsets of every coordinate; a fixed one's are pushed
        # past the spare entry, so every sum involving one lands beyond it.
        coordinate = np.where(self.fixed, spare, np.arange(size))
        row = coordinate * size
        lam_row, mu_row = row[: self.n_lam].reshape(n1, ny), row[self.n_lam :].reshape(n2, ny)
        lam, mu = coordinate[: self.n_lam].reshape(n1, ny), coordinate[self.n_lam :].reshape(n2, ny)
        index = np.concatenate([
            # cross[x1, x2, y, z] is the (mu[x2, z], lam[x1, y]) entry: below the diagonal.
            (mu_row[None, :, None, :] + lam[:, None, :, None]).ravel(),
            (lam_row[:, :, None] + lam[:, None, :]).ravel(),
            (mu_row[:, :, None] + mu[:, None, :]).ravel(),
        ])
        self.dense_index = np.minimum(index, spare)
        # Every entry the scatter does not write stays as set here, so one
        # matrix serves every iteration (LAPACK factorises a copy).
        self.dense_matrix = np.zeros(spare + 1)
        self.dense_matrix[self.fixed_index * (size + 1)] = 1.0

    def newton_system(self, E, t, slack):
        # Up to here a whole-matrix factorisation costs less than the fewer flops
        # but more array operations of the Schur complement: on a 2-core x86,
        # Schur took 1.28x the time at 80 dual variables (20x20x2) and 1.18x at
        # 160, the whole matrix 1.29x at 400 (bench_pid.py --against HEAD
        # --dense-max 0, or 100000).
        small = self.c.size <= _DENSE_MAX
        return (_DenseNewtonSystem if small else _NewtonSystem)(self, E, t, slack)

    def sum_y(self, x):
        """``x.sum(axis=2)``."""
        return x @ self.ones[2]

    def split(self, z):
        n1, n2, ny = self.shape
        return z[: self.n_lam].reshape(n1, ny), z[self.n_lam :].reshape(n2, ny)

    def initial_point(self):
        """Strictly feasible: ``exp(lam + mu) = sqrt(0.9 P(y|x1) P(y|x2))``, whose
        constraint sums are at most ``sqrt(0.9)`` by Cauchy-Schwarz, and
        ``t = P(x1) P(x2) / 0.9``."""
        p1 = self.a.sum(axis=1, keepdims=True)
        p2 = self.b.sum(axis=1, keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            lam = np.where(self.a > 0, 0.5 * np.log(self.a / p1) + 0.5 * np.log(_START), -np.inf)
            mu = np.where(self.b > 0, 0.5 * np.log(self.b / p2), -np.inf)
        t = np.where(self.pairs, p1 * p2.T / _START, 0.0)
        return np.concatenate([lam.ravel(), mu.ravel()]), t

    def kernel(self, z):
        """``exp(lam + mu)``, shape (n1, n2, ny); 0 off the support."""
        lam, mu = self.split(z)
        return np.exp(lam[:, None, :] + mu[None, :, :])

    def evaluate(self, z):
        """``E = exp(lam + mu)`` and the slacks ``1 - sum_y E`` of the constraints
        (1 where there is no constraint: every term there has a dual variable at
        ``-inf``, so ``t = 0`` there stays put)."""
        E = self.kernel(z)
        return E, 1.0 - self.sum_y(E)

    def marginals(self, q):
        """``(q.sum(axis=1), q.sum(axis=0))``, flattened and concatenated."""
        n1, n2, ny = self.shape
        out = np.empty(self.c.size)
        np.matmul(self.ones[1], q, out=out[: self.n_lam].reshape(n1, ny))
        np.matmul(self.ones[0], q.reshape(n1, n2 * ny), out=out[self.n_lam :])
        return out

    def dual_value(self, z):
        return float(self.c[self.live] @ z[self.live])

    def du(self, dz):
        """The change of ``lam[x1, y] + mu[x2, y]`` along ``dz``, shape (n1, n2, ny)."""
        dlam, dmu = self.split(dz)
        return dlam[:, None, :] + dmu[None, :, :]

    def objective(self, q):
        """``f(q) = sum q log(q / q[x1, x2])``: minus the conditional entropy of Y."""
        pair_mass = q.sum(axis=2, keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            terms = np.where(q > 0, q * np.log(q / pair_mass), 0.0)
        return float(terms.sum())

    def round_to_marginals(self, q):
        """Move ``q`` exactly onto the constraints (see :func:`round_to_marginals`)."""
        return round_to_marginals(q, self.a, self.b, np)

    def certify(self, z, t, E):
        """The rounded primal, its objective and the certified duality gap."""
        q = self.round_to_marginals(t[:, :, None] * E)
        primal = self.objective(q)
        return q, primal, primal - self.dual_value(z)


def round_to_marginals(q, a, b, xp):
    """Move ``q[x1, x2, y]`` exactly onto the marginals ``a[x1, y]`` (rows) and
    ``b[x2, y]`` (columns), changing it by at most about twice its marginal
    error (Altschuler, Weed & Rigollet 2017, alg. 2, per class).

    ``xp`` is ``numpy`` or ``torch``: the batch estimator rounds its training
    tables with this same function, differentiably.
    """
    tiny = xp.finfo(q.dtype).tiny
    q = q * (a / q.sum(axis=1).clip(min=tiny)).clip(max=1.0)[:, None, :]
    q = q * (b / q.sum(axis=0).clip(min=tiny)).clip(max=1.0)[None, :, :]
    # Both deficits are >= 0 and total the same per class, but only up to
    # round-off: in float32 one total can be ~0 while the other is not.
    err_a, err_b = (a - q.sum(axis=1)).clip(min=0), (b - q.sum(axis=0)).clip(min=0)
    total = xp.maximum(err_a.sum(axis=0), err_b.sum(axis=0)).clip(min=tiny)
    return q + err_a[:, None, :] * err_b[None, :, :] / total


def _hessian_blocks(problem, E, t, slack):
    """The Newton matrix ``sum_k t_k hess g_k + sum_k (t_k / s_k) grad g_k grad g_k^T``
    of the constraints ``g_k = sum_y exp(lam + mu) - 1``, by blocks: the
    coupling ``cross[x1, x2, y, z]`` (the ``(lam[x1, y], mu[x2, z])`` entry)
    and the ``lam-lam`` and ``mu-mu`` diagonal blocks, shapes (n1, ny, ny) and
    (n2, ny, ny); all three are views of one flat array, in that order.
    Coordinates at ``-inf`` have all-zero rows; the systems below zero the
    gauge pins' rows too and give every fixed coordinate a unit diagonal,
    hence a zero step.
    """
    # The (lam_iy, mu_jz) entries: d_k E_ky E_kz (rank-one terms, d = t / s)
    # plus t_k E_ky when y = z (the constraints' Hessians); summing them over
    # j (over i) gives the lam-lam (mu-mu) diagonal blocks.
    n1, n2, ny = problem.shape
    ones1, ones2, _ = problem.ones
    flat = np.empty((n1 * n2 + n1 + n2) * ny * ny)
    cross = flat[: n1 * n2 * ny * ny].reshape(n1, n2, ny, ny)
    blocks1 = flat[cross.size : cross.size + n1 * ny * ny].reshape(n1, ny, ny)
    blocks2 = flat[cross.size + blocks1.size :].reshape(n2, ny, ny)
    np.multiply(((t / slack)[:, :, None] * E)[:, :, :, None], E[:, :, None, :], out=cross)
    cross.reshape(n1, n2, ny * ny)[:, :, :: ny + 1] += t[:, :, None] * E
    np.matmul(ones2, cross.reshape(n1, n2, ny * ny), out=blocks1.reshape(n1, ny * ny))
    np.matmul(ones1, cross.reshape(n1, -1), out=blocks2.reshape(-1))
    return flat, cross, blocks1, blocks2


class _DenseNewtonSystem:
    """The Newton system (see :func:`_hessian_blocks`) assembled whole and
    Cholesky-factorised by LAPACK: for small problems, the fewest array
    operations per iteration."""

    def __init__(self, problem, E, t, slack):
        flat = _hessian_blocks(problem, E, t, slack)[0]
        # One scatter of every block into the lower triangle (the fixed
        # coordinates' rows and columns go to a spare last entry), onto a
        # matrix that is the identity on those coordinates.
        H = problem.dense_matrix
        H[problem.dense_index] = flat
        size = problem.c.size
        self.L = _cholesky(H[:-1].reshape(size, size))

    def solve(self, rhs):
        """Solve for a right-hand side over all dual coordinates (lam then mu)."""
        return _potrs(self.L, rhs, lower=1)[0]


class _NewtonSystem:
    """The Newton system (see :func:`_hessian_blocks`), Cholesky-factorised blockwise.

    The side with more symbols is block-diagonal (``|Y| x |Y|`` blocks): with
    ``A = L L^T`` its blocks and ``C`` the coupling, the factor is
    ``[[L, 0], [W^T, M]]`` with ``W = L^-1 C`` and ``M M^T = D - W^T W``, the
    same arithmetic as a dense Cholesky but on a ``min(|X1|, |X2|) |Y|`` matrix.
    """

    def __init__(self, problem, E, t, slack):
        n1, n2, ny = problem.shape
        _, cross, blocks1, blocks2 = _hessian_blocks(problem, E, t, slack)
        pin_j, pin_y = problem.pins
        cross[:, pin_j, :, pin_y] = 0.0
        blocks2[pin_j, pin_y, :] = 0.0
        blocks2[pin_j, :, pin_y] = 0.0
        for blocks in (blocks1, blocks2):
            d = np.einsum("kyy->ky", blocks)
            d[~(d > 0)] = 1.0
        self.swap = n1 < n2
        # cross[k1, y, k2, z] with k1 the side eliminated.
        if self.swap:
            blocks1, blocks2, cross = blocks2, blocks1, cross.transpose(1, 3, 0, 2)
        else:
            cross = cross.transpose(0, 2, 1, 3)
        k1, k2 = blocks1.shape[0], blocks2.shape[0]
        # Inverses of the small triangular blocks turn every block solve into a
        # matmul; unit-diagonal scaling first keeps them accurate when the
        # probabilities behind the blocks span many orders of magnitude.
        sigma = np.sqrt(np.maximum(np.einsum("kyy->ky", blocks1), 1e-300))
        unit = blocks1 / (sigma[:, :, None] * sigma[:, None, :])
        self.L_inv = _inverse_cholesky(unit) / sigma[:, None, :]
        self.W = (self.L_inv @ cross.reshape(k1, ny, k2 * ny)).reshape(k1 * ny, k2 * ny)
        schur = -(self.W.T @ self.W)
        np.einsum("kykz->kyz", schur.reshape(k2, ny, k2, ny))[...] += blocks2
        self.M = _cholesky(schur, np.einsum("kyy->ky", blocks2).ravel())
        self.shape = (k1, k2, ny)
        self.n_lam = problem.n_lam

    def solve(self, rhs):
        """Solve for a right-hand side over all dual coordinates (lam then mu)."""
        k1, _, ny = self.shape
        n_lam = self.n_lam
        rhs1, rhs2 = (rhs[n_lam:], rhs[:n_lam]) if self.swap else (rhs[:n_lam], rhs[n_lam:])
        v1 = (self.L_inv @ rhs1.reshape(k1, ny, 1)).ravel()
        x2 = _potrs(self.M, rhs2 - self.W.T @ v1, lower=1)[0]
        x1 = (self.L_inv.transpose(0, 2, 1) @ (v1 - self.W @ x2).reshape(k1, ny, 1)).ravel()
        return np.concatenate((x2, x1) if self.swap else (x1, x2))


def _inverse_cholesky(A):
    """``L^-1`` for each ``A = L L^T`` of a batch of matrices with unit diagonal."""
    if A.shape[-1] == 2:
        # In closed form: two batched LAPACK calls cost more than these few ufuncs.
        r = A[:, 1, 0]
        c = 1.0 - r * r
        if (c > 0).all():
            L_inv = np.zeros_like(A)
            L_inv[:, 0, 0] = 1.0
            L_inv[:, 1, 1] = 1.0 / np.sqrt(c)
            L_inv[:, 1, 0] = -r * L_inv[:, 1, 1]
            return L_inv
    return np.linalg.inv(_cholesky(A))


def _cholesky(A, scale=None):
    """Lower Cholesky factor of one matrix or a batch, with a fallback ridge.

    Near a degenerate optimum (a dual face rather than a point) the curvature
    along the face vanishes with the barrier parameter while other directions
    grow without bound, and round-off in the Schur complement's cancellation
    can make it indefinite. A ridge, a small multiple of ``scale`` (the diagonal
    before any cancellation; by default ``A``'s) grown until the factorisation
    succeeds, only damps the step; the certificate is unaffected.
    """
    B = A
    for ridge in (0.0, 1e-15, 1e-13, 1e-11, 1e-9):
        if ridge:
            if scale is None:
                scale = np.einsum("...ii->...i", A).copy()
            B = A.copy()
            np.einsum("...ii->...i", B)[...] += ridge * scale
        if B.ndim == 2:
            # LAPACK itself: numpy's checks cost as much as factorising a small matrix.
            # Only the lower triangle is written, and only it is read (by _potrs).
            L, info = _potrf(B, lower=1, clean=0)
            if info == 0:
                return L
        else:
            try:
                return np.linalg.cholesky(B)
            except np.linalg.LinAlgError:
                pass
    raise np.linalg.LinAlgError("The Newton system is not positive definite.")


class _InteriorPoint:
    """One run of the primal-dual method: the iterate ``(z, t)`` and its kernel and slacks.

    Off the constrained pairs ``E``, ``t`` and every residual are 0 and the slack
    is 1, so no array needs masking there.
    """

    def __init__(self, problem, keep=0.0):
        self.problem = problem
        self.keep = keep
        self.z, self.t = problem.initial_point()
        self.E, self.slack = problem.evaluate(self.z)

    def mean_complementarity(self):
        return float((self.t * self.slack).sum()) / self.problem.n_pairs

    def residuals(self):
        """Marginal mismatch of ``t exp(lam + mu)``, and ``t s`` per pair."""
        r_dual = self.problem.marginals(self.t[:, :, None] * self.E) - self.problem.c
        return r_dual, self.t * self.slack

    def rhs(self, r_dual, r_cent):
        """The Newton system's right-hand side for the residuals."""
        return self.problem.marginals((r_cent / self.slack)[:, :, None] * self.E) - r_dual

    def direction(self, system, rhs, r_cent):
        """Newton step ``(dz, dt)`` for the right-hand side ``rhs`` and the
        centring residual ``r_cent``, with ``du`` (the step of ``lam + mu`` per
        cell) and ``grad g . dz`` per pair."""
        problem, E = self.problem, self.E
        # The systems decouple the fixed coordinates, so rhs there is ignored.
        dz = system.solve(rhs)
        dz[problem.fixed_index] = 0.0  # exactly: some fixed coordinates sit at -inf
        du = problem.du(dz)
        # Linearised complementarity: (t + dt)(s + ds) = target, ds = -grad g . dz.
        grad_dz = problem.sum_y(E * du)
        dt = (self.t * grad_dz - r_cent) / self.slack
        return dz, dt, du, grad_dz

    def step_cap(self, dz, dt, keep=0.0):
        """Largest ``alpha <= 1`` keeping ``t`` above ``keep * t`` and no dual
        variable moving by more than ``_MAX_LOG_STEP``."""
        # The dual variables are logarithms: a Newton step in a direction of
        # little curvature can ask for exp(-800); a few e-folds at a time suffice.
        # Off the pairs t = dt = 0: dividing by 1 there keeps them out.
        shrink_rate = -(dt / (self.t + self.problem.no_pair)).min() / (1.0 - keep)
        return 1.0 / max(1.0, np.abs(dz).max() / _MAX_LOG_STEP, shrink_rate)

    def predicted_step(self, dz, dt, du, grad_dz):
        """A fraction of the step to the boundary of the slacks' second-order model
        ``s - a grad g . dz - a^2 c`` with ``c = sum_y E du^2 / 2``, the model's
        slacks there, and ``c``.

        Mehrotra's centring heuristic only needs an estimate of how far the
        predictor gets; the model is exact to second order and, unlike the
        linearisation, sees the boundary come closer along the step.
        """
        cap = self.step_cap(dz, dt)
        du = cap * du  # within +-2 _MAX_LOG_STEP: the squares stay finite
        slope, twice_curvature = cap * grad_dz, self.problem.sum_y(self.E * du * du)
        # The reciprocal of the positive root of s - b slope - b^2 curvature, in
        # a form that does not cancel (0 where there is no root; s > 0).
        twice_slack = 2 * self.slack
        inverse_roots = (slope + np.sqrt(slope * slope + twice_curvature * twice_slack)) / twice_slack
        fraction = _STEP_TO_BOUNDARY / max(1.0, float(inverse_roots.max()))
        slack = self.slack - fraction * (slope + (0.5 * fraction) * twice_curvature)
        return cap * fraction, slack, twice_curvature * (0.5 / cap**2)

    def max_step(self, du, alpha):
        """Largest step ``<= alpha`` along ``du`` keeping the slacks positive."""
        # Each pair's log sum_y E exp(a du) is convex in a, and so is their maximum
        # phi(a); the step to the boundary is phi's root. Newton's method on phi
        # (with the slope of the pair attaining it), started right of the root,
        # converges to it monotonically, and on the whole arrays: indexing the
        # crossing pairs out costs more than the few exponentials it saves.
        ny = du.shape[2]
        E, du = self.E.reshape(-1, ny), du.reshape(-1, ny)
        a = alpha
        for _ in range(20):
            total = (E * np.exp(a * du)) @ self.problem.ones[2]
            k = total.argmax()
            if total[k] < 1.0:
                return a  # no constraint reaches its boundary
            w = E[k] * np.exp(a * du[k])
            change = np.log(total[k]) * total[k] / (w @ du[k])
            a -= change
            if change <= 1e-4 * alpha:
                break
        return a

    def feasible_step(self, dz, dt, du, keep=0.0):
        """A fraction of the step to the boundary, with the dual point, kernel
        and slacks there; the slacks are concave along the step, so each keeps
        at least ``1 - _STEP_TO_BOUNDARY`` of its value."""
        step = _STEP_TO_BOUNDARY * self.max_step(du, self.step_cap(dz, dt, keep))
        floor = (1 - _STEP_TO_BOUNDARY) * self.slack
        while True:
            z = self.z + step * dz
            E, slack = self.problem.evaluate(z)
            if not step > 1e-12 or (slack >= floor).all():
                return step, z, E, slack
            step *= _BACKTRACK  # the Newton estimate of the boundary was a little long

    def iterate(self):
        """One predictor-corrector step; returns its length."""
        system = self.problem.newton_system(self.E, self.t, self.slack)
        # Predictor: the pure Newton step towards t s = 0 says how much centring
        # the corrector needs (Mehrotra's heuristic).
        r_dual, r_cent = self.residuals()
        mu_gap = float(r_cent.sum()) / self.problem.n_pairs
        # Its right-hand side, rhs(r_dual, t s), is c: the marginals of t E cancel.
        dz, dt, du, grad_dz = self.direction(system, self.problem.c, r_cent)
        step, slack_aff, curvature = self.predicted_step(dz, dt, du, grad_dz)
        mu_aff = float(((self.t + step * dt) * slack_aff).sum()) / self.problem.n_pairs
        target = min(1.0, (mu_aff / mu_gap) ** 3) * mu_gap
        # ...but complementarity must not outrun the marginal error, or iterates
        # reach the boundary before feasibility and stall there.
        infeasibility = np.abs(r_dual).sum()
        self.merit = infeasibility + self.problem.n_pairs * mu_gap  # of the point stepped from
        target = max(target, 0.001 * infeasibility / self.problem.n_pairs)
        # Corrector: Mehrotra's second-order term dt * ds from the predictor, with
        # ds including the slacks' curvature along it, which the linearisation misses
        # and which otherwise stops the step short of its target.
        r_cent = r_cent - target * self.problem.pairs - (self.t + dt) * curvature - dt * grad_dz
        dz, dt, du, grad_dz = self.direction(system, self.rhs(r_dual, r_cent), r_cent)
        # Centrality safeguard: while the marginal error outweighs complementarity,
        # no pair's mass may fall below _KEEP of its value in one step. Without it
        # a pair with little but not zero mass at the optimum has its multiplier
        # cut to ~1 % of that at once; the marginal residual then stays put while
        # the slacks shrink geometrically (see the module docstring).
        keep = self.keep if infeasibility > self.problem.n_pairs * mu_gap else 0.0
        step, self.z, self.E, self.slack = self.feasible_step(dz, dt, du, keep)
        self.t = self.t + step * dt
        return step


class _BarrierPath(_InteriorPoint):
    """The fallback: the barrier method on the dual (Boyd & Vandenberghe §11.3).

    For a weight ``tau`` it minimises ``F(z) = -<c, z> - sum_k log(s_k) / tau``
    by Newton's method with an Armijo line search that keeps every slack
    positive, then raises ``tau``. ``F`` is strictly convex on the pinned dual
    and tends to infinity at the feasible set's boundary and as any dual
    variable tends to ``-inf``, so each centring converges from any strictly
    feasible point: nothing can jam. The multipliers are not iterated but read
    off the slacks, ``t = 1 / (tau s)``, so none can collapse, and the Newton
    system is the interior-point one at that ``t`` (``grad F = r_dual``).
    """

    def __init__(self, problem, z):
        self.problem = problem
        self.z = z.copy()
        self.E, self.slack = problem.evaluate(self.z)
        self.free = ~problem.fixed
        # The weight whose multipliers fit the marginals best (least squares).
        m = problem.marginals(self.E / self.slack[:, :, None])[self.free]
        self.tau = float(m @ m) / max(float(m @ problem.c[self.free]), 1e-300)
        self.set_multipliers()

    def set_multipliers(self):
        self.t = self.problem.pairs / (self.tau * self.slack)

    def value(self, z, slack):
        return -self.problem.dual_value(z) - float(np.log(slack).sum()) / self.tau

    def iterate(self):
        """One damped Newton step on ``F``; returns the squared Newton decrement
        (times ``1 / tau``) before it, or None when the line search failed."""
        problem = self.problem
        system = problem.newton_system(self.E, self.t, self.slack)
        r_dual = problem.marginals(self.t[:, :, None] * self.E) - problem.c
        no_centring = np.zeros_like(self.t)
        dz, _, du, _ = self.direction(system, -r_dual, no_centring)
        slope = float(r_dual[self.free] @ dz[self.free])
        if not slope < 0:
            return None
        step = _STEP_TO_BOUNDARY * self.max_step(du, self.step_cap(dz, no_centring))
        value = self.value(self.z, self.slack)
        # Round-off in F, not the model, decides the test once the decrease
        # expected is below it.
        allowance = 4 * np.finfo(float).eps * (abs(value) + abs(problem.dual_value(self.z)))
        while step > 1e-14:
            z = self.z + step * dz
            E, slack = problem.evaluate(z)
            if (slack > 0).all() and self.value(z, slack) <= value + _ARMIJO * step * slope + allowance:
                self.z, self.E, self.slack = z, E, slack
                self.set_multipliers()
                return -slope
            step *= 0.5
        return None


def _fast_path(problem, tol, max_iter, keep=0.0, start=None):
    """The predictor-corrector method, with the centrality safeguard ``keep``
    (see :meth:`_InteriorPoint.iterate`), from the standard starting point or
    from ``start = (z, t)``. Returns ``(certificate, iterations)``; when it
    stalled, broke down or ran out of iterations, the certificate is that of
    its last iterate (gap above ``tol``, possibly NaN)."""
    ipm = _InteriorPoint(problem, keep)
    if start is not None:
        ipm.z, ipm.t = start
        ipm.E, ipm.slack = problem.evaluate(ipm.z)
    merits = []
    for n_iter in range(max_iter + 1):
        # The complementarity sum is the gap up to the marginal error, so the
        # (costlier) certificate is only worth computing once it is small.
        complementarity = problem.n_pairs * ipm.mean_complementarity()
        if complementarity <= tol:
            certificate = problem.certify(ipm.z, ipm.t, ipm.E)
            if certificate[2] <= tol:
                return certificate, n_iter
        if n_iter == max_iter or (len(merits) > _STALL_WINDOW
                                  and merits[-1] > _STALL_FACTOR * merits[-1 - _STALL_WINDOW]):
            break
        try:
            ipm.iterate()
        except np.linalg.LinAlgError:
            n_iter += 1
            break
        merits.append(ipm.merit)
        # NaN fails both tests; the pair masses are at most about 1.
        if not (np.isfinite(ipm.t.sum()) and ipm.slack.min() > 0):
            n_iter += 1
            break
    with np.errstate(all="ignore"):
        return problem.certify(ipm.z, ipm.t, ipm.E), n_iter


def _barrier_method(problem, tol, max_iter):
    """The fallback, restarted from the standard starting point. Once a centred
    point is within ``_HAND_BACK`` of the optimum, the fast path gets one more
    try from it; if that fails too, the barrier method carries on to the end.
    Returns ``(certificate, iterations)``; the gap exceeds ``tol`` only when
    ``max_iter`` ran out or the line search could not progress."""
    path = _BarrierPath(problem, problem.initial_point()[0])
    certificate, hand_back, n_iter = None, True, 0
    while n_iter < max_iter:
        n_iter += 1
        try:
            decrement = path.iterate()
        except np.linalg.LinAlgError:
            decrement = None
        # Near the end the certificate is checked after every step: the centred
        # point's gap is about n_pairs / tau, but its rounding onto the marginals
        # only becomes harmless as Newton's method converges quadratically.
        final = problem.n_pairs <= 0.1 * tol * path.tau
        if decrement is None or final or path.tau * decrement <= _CENTRED:
            certificate = problem.certify(path.z, path.t, path.E)
            if certificate[2] <= tol or decrement is None:
                break
            if hand_back and certificate[2] <= _HAND_BACK:
                hand_back = False
                fast, more = _fast_path(problem, tol, min(_FAST_MAX_ITER, max_iter - n_iter),
                                        _KEEP, start=(path.z.copy(), path.t.copy()))
                n_iter += more
                if fast[2] <= tol:
                    return fast, n_iter
            if not final:
                path.tau *= _BARRIER_GROWTH
                path.set_multipliers()
    if certificate is None:
        certificate = problem.certify(path.z, path.t, path.E)
    return certificate, n_iter


@functools.cache
def _blas_controller():
    # Inspecting the loaded libraries costs milliseconds: do it once.
    return ThreadpoolController()


def solve_broja(P, tol=1e-10, max_iter=200):
    """Minimise ``I_Q(X1, X2; Y)`` over ``Q`` with ``P``'s ``(x1, y)``, ``(x2, y)`` marginals.

    Parameters
    ----------
    P : ndarray of shape (n1, n2, ny)
        A validated probability table (non-negative, sums to 1).
    tol : float
        Stop when the certified duality gap (nats) is at most ``tol``.
    max_iter : int
        Most Newton iterations, both methods together.

    Returns
    -------
    BrojaSolution
        ``converged`` is False when no certificate reached ``tol``: the caller
        must not use such a solution as the minimum.
    """
    if np.count_nonzero(P.sum(axis=(0, 1))) <= 1:
        # One class: H(Y | X1, X2) = 0 for every Q, so P itself is optimal.
        return BrojaSolution(q=P.copy(), objective=0.0, duality_gap=0.0, n_iter=0,
                             converged=True, method="trivial")
    problem = _DualProblem(P)
    # One BLAS thread: the systems are small enough, and threads that spin while
    # other work holds the cores only slow a factorisation down.
    with _blas_controller().limit(limits=1, user_api="blas"):
        # Easy tables take the plain method (the safeguard would cost them some
        # iterations); a stalled run restarts with the safeguard, then hands over.
        certificate, n_iter = _fast_path(problem, tol, min(max_iter, _FAST_MAX_ITER))
        if not certificate[2] <= tol and n_iter < max_iter:
            certificate, more = _fast_path(problem, tol, min(max_iter - n_iter, _FAST_MAX_ITER), _KEEP)
            n_iter += more
        method = "interior-point"
        if not certificate[2] <= tol and n_iter < max_iter:
            method = "barrier"
            certificate, more = _barrier_method(problem, tol, max_iter - n_iter)
            n_iter += more
    q, objective, gap = certificate
    converged = bool(np.isfinite(gap) and gap <= tol and np.isfinite(q).all())
    return BrojaSolution(q=q, objective=objective, duality_gap=max(gap, 0.0) if np.isfinite(gap) else np.inf,
                         n_iter=n_iter, converged=converged, method=method)
