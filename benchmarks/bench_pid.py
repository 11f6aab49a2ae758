"""The BROJA PID solver against cvxpy's exponential-cone formulation.

For each size |X1| x |X2| x |Y| both solvers minimise I_Q(X1, X2; Y) over the
tables Q with P's (x1, y) and (x2, y) marginals, on the same inputs: a random
joint (Dirichlet(1)) and a realistic plug-in histogram (KMeans codes of two
noisy continuous modalities, as PIDEstimator makes them). Reported: the best
wall time of each over a few runs (cvxpy: building and solving the problem,
as a user calls it once per table; its conic solver's own time too), their
ratio, and the difference in the objective, I_Q(X1, X2; Y) in bits. cvxpy's
table is first clipped at 0 and moved exactly onto the constraints (it misses
them by up to ~1e-9), so both objectives are upper bounds on the minimum and
a positive difference means ours is closer to it.

Run:  .venv/bin/python benchmarks/bench_pid.py [--quick | --sizes 20x20x2,...] [--rounds R]
Needs cvxpy (the ``benchmark`` extra): pip install -c constraints.txt cvxpy

With ``--rounds R`` the whole measurement is repeated R times and a last
table gives, per size and input, the median over the rounds of both times and
of their ratio (and the smallest ratio): on a machine shared with other jobs
one round's timings can be off by 2x.

With ``--against REV`` it instead times the solver (``solve_broja``) of the
working tree (or of git revision ``--new``) against the one at git revision
REV, alternately in one process, on three random and three plug-in tables of
each 20x20 size, and counts both solvers' iterations over a 90-table corpus:
the check for a change to the solver. ``--dense-max N`` sets the new solver's
``_DENSE_MAX`` (0 factorises every Newton system by its Schur complement).
cvxpy is not needed for it.

With ``--corpus`` it instead solves every table of the test corpus
(tests/pid_corpus.py: 521 tables of boundary-optimum families) with
both routes, once each, and reports the median and worst time per table of
each, the share of tables whose solve took the barrier fallback, and the
largest objective difference.
"""

import argparse
import importlib.util
import platform
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

from alignkit.pid import PIDBiasWarning, PIDEstimator, _solver, pid_from_joint
from alignkit.pid._solver import _DualProblem
from alignkit.utils import mutual_information

SIZES = [(20, 20, 2), (20, 20, 4), (20, 20, 10), (50, 50, 10)]
QUICK_SIZES = [(20, 20, 2), (20, 20, 10)]


def cvxpy_min_information(P):
    """Liang et al.'s route: min sum_y sum rel_entr(Q_y, Q(x1, x2)) s.t. marginals.

    Returns the table Q, the wall time of build + solve, and the conic solver's time.
    """
    import cvxpy as cp

    start = time.perf_counter()
    n1, n2, ny = P.shape
    a, b = P.sum(axis=1), P.sum(axis=0)
    Q = [cp.Variable((n1, n2), nonneg=True) for _ in range(ny)]
    pair_mass = sum(Q)
    constraints = []
    for y in range(ny):
        constraints += [cp.sum(Q[y], axis=1) == a[:, y], cp.sum(Q[y], axis=0) == b[:, y]]
    # sum_y Q_y log(Q_y / Q(x1, x2)) = I_Q(X1, X2; Y) - H(Y).
    objective = cp.Minimize(sum(cp.sum(cp.rel_entr(Q[y], pair_mass)) for y in range(ny)))
    problem = cp.Problem(objective, constraints)
    problem.solve(solver=cp.CLARABEL)
    elapsed = time.perf_counter() - start
    table = np.clip(np.stack([q.value for q in Q], axis=2), 0, None)
    return table, elapsed, problem.solver_stats.solve_time


def ours_min_information(P):
    start = time.perf_counter()
    res = pid_from_joint(P, units="nats")
    return res.optimal_joint, time.perf_counter() - start, res


def plugin_histogram(shape, n_samples, seed):
    """The joint histogram PIDEstimator builds from two noisy continuous modalities."""
    n1, _, ny = shape
    rng = np.random.default_rng(seed)
    y = rng.integers(0, ny, n_samples)
    latent = rng.integers(0, 4, n_samples)  # a nuisance in both modalities: mixed atoms
    m1 = rng.normal(size=(ny, 8))[y] + rng.normal(size=(4, 8))[latent] + rng.normal(size=(n_samples, 8))
    m2 = rng.normal(size=(ny, 6))[(y + latent) % ny] + rng.normal(size=(n_samples, 6))
    est = PIDEstimator(modality_dims=[8, 6], n_clusters=n1, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PIDBiasWarning)
        est.fit(np.hstack([m1, m2]), y)
    assert est.joint_.shape == shape, est.joint_.shape
    return est.joint_


def best_of(fn, P, repeats):
    runs = [fn(P) for _ in range(repeats)]
    best = min(runs, key=lambda run: run[1])
    return best[0], best[1], best


def bits(nats):
    return nats / np.log(2)


def solver_at(revision):
    """The solver module as it was at a git revision (it imports no other alignkit module)."""
    source = subprocess.run(["git", "show", f"{revision}:alignkit/pid/_solver.py"],
                            capture_output=True, text=True, check=True,
                            cwd=Path(__file__).parent).stdout
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "solver_reference.py"
        path.write_text(source)
        spec = importlib.util.spec_from_file_location("solver_reference", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    return module


def corpus():
    """90 tables, 2x2x2 to 50x50x10: Dirichlet tables from spiky to flat, each also
    with about half its cells zeroed, and plug-in histograms of 200 to 20 000
    samples: the cases a change to the solver must not slow or break."""
    rng = np.random.default_rng(123)
    tables = []
    for shape in [(2, 2, 2), (3, 4, 2), (5, 5, 3), (10, 10, 2), (20, 20, 2), (20, 20, 4),
                  (20, 20, 10), (50, 50, 10), (8, 30, 3)]:
        for concentration in [0.05, 0.3, 1.0, 5.0]:
            P = rng.dirichlet(np.full(np.prod(shape), concentration)).reshape(shape)
            sparse = P * (rng.random(shape) > 0.5)
            tables += [P, sparse / sparse.sum()]
        if shape[0] >= 5:
            for n_samples in [200, 2000, 20000]:
                try:
                    tables.append(plugin_histogram(shape, n_samples, seed=n_samples + shape[0]))
                except AssertionError:  # k-means found fewer codes than asked for
                    pass
    return tables


def against(reference, new=None, dense_max=None, repeats=7):
    """Time the solver at ``new`` (default: the working tree) against the one at
    ``reference``, alternately, on the 20x20 tables; then their iterations and
    convergence over :func:`corpus`."""
    new_module = solver_at(new) if new else _solver
    if dense_max is not None:
        new_module._DENSE_MAX = dense_max
    new = (new or "working tree") + ("" if dense_max is None else f", _DENSE_MAX={dense_max}")
    solvers = {reference: solver_at(reference), new: new_module}
    tables = [
        (shape, table)
        for shape in SIZES[:3]
        for seed in range(3)
        for table in (
            np.random.default_rng(sum(shape) + seed).dirichlet(np.ones(np.prod(shape))).reshape(shape),
            plugin_histogram(shape, 20 * shape[0] * shape[1], seed=sum(shape) + seed),
        )
    ]
    times = {name: np.full((repeats, len(tables)), np.inf) for name in solvers}
    iters = {name: np.zeros(len(tables), dtype=int) for name in solvers}
    for module in solvers.values():  # warm-up
        module.solve_broja(tables[0][1])
    for r in range(repeats):
        for i, (_, P) in enumerate(tables):
            for name, module in solvers.items():
                start = time.perf_counter()
                iters[name][i] = module.solve_broja(P).n_iter
                times[name][r, i] = time.perf_counter() - start
    best = {name: t.min(axis=0) for name, t in times.items()}
    print(f"solve_broja, best of {repeats} alternate runs: {reference} (reference) vs {new}")
    print(f"{'size':>10} {'ms reference':>12} {'ms new':>8} {'time ratio':>10} {'iterations':>16}")
    shapes = np.array([shape for shape, _ in tables])
    for shape in SIZES[:3]:
        rows = (shapes == shape).all(axis=1)
        ref_ms, new_ms = (best[name][rows] for name in solvers)
        its = " / ".join(str(iters[name][rows].sum()) for name in solvers)
        print(f"{'x'.join(map(str, shape)):>10} {1e3 * ref_ms.mean():12.2f} {1e3 * new_ms.mean():8.2f} "
              f"{(new_ms / ref_ms).mean():10.3f} {its:>16}")
    tables = corpus()
    print(f"corpus of {len(tables)} tables (2x2x2 to 50x50x10):")
    for name, module in solvers.items():
        results = [module.solve_broja(P) for P in tables]
        its = [r.n_iter for r in results]
        print(f"  {name}: {sum(its)} iterations in all, at most {max(its)}, "
              f"{sum(not r.converged for r in results)} not converged")


def corpus_timings():
    """Both routes on every table of the test corpus, one call each."""
    sys.path.insert(0, str(Path(__file__).parent.parent / "tests"))
    from pid_corpus import corpus as test_corpus

    tables = [P for _, P in test_corpus()]
    ours_min_information(tables[0])  # warm-up
    cvxpy_min_information(tables[0])
    rows = []
    for P in tables:
        Q_ours, t_ours, res = ours_min_information(P)
        try:
            Q_cvx, t_cvx, _ = cvxpy_min_information(P)
            diff = bits(mutual_information(_DualProblem(P).round_to_marginals(Q_cvx), (0, 1), 2)
                        - mutual_information(Q_ours, (0, 1), 2))
        except Exception:  # cvxpy gives up on a few extreme tables (entries ~1e-280)
            t_cvx, diff = np.nan, np.nan
        rows.append((t_ours, t_cvx, res.solver == "barrier", diff))
    t_ours, t_cvx, fallback, diff = (np.array(c) for c in zip(*rows))
    print(f"corpus: {len(tables)} tables, {fallback.sum()} ({100 * fallback.mean():.1f} %) "
          "through the barrier fallback")
    print(f"  ours:  median {1e3 * np.median(t_ours):.2f} ms, worst {1e3 * t_ours.max():.1f} ms "
          f"(fallback tables: median {1e3 * np.median(t_ours[fallback]):.2f} ms)")
    print(f"  cvxpy: median {1e3 * np.nanmedian(t_cvx):.2f} ms, worst {1e3 * np.nanmax(t_cvx):.1f} ms"
          f" ({np.isnan(t_cvx).sum()} tables it could not solve)")
    print(f"  per-table ratio cvxpy/ours: median {np.nanmedian(t_cvx / t_ours):.1f}, "
          f"min {np.nanmin(t_cvx / t_ours):.1f}; objective cvxpy-ours: {np.nanmin(diff):+.1e} to "
          f"{np.nanmax(diff):+.1e} bits")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="two sizes, fewer repeats")
    parser.add_argument("--rounds", type=int, default=1, metavar="R",
                        help="repeat the measurement R times; report medians over the rounds")
    parser.add_argument("--sizes", metavar="N1xN2xNY,...",
                        help="these sizes instead, e.g. 20x20x2,20x20x4")
    parser.add_argument("--against", metavar="REV",
                        help="time the solver against the one at git revision REV instead")
    parser.add_argument("--new", metavar="REV",
                        help="with --against: the solver at REV, not the working tree's")
    parser.add_argument("--dense-max", type=int, metavar="N",
                        help="with --against: set the new solver's _DENSE_MAX (0: Schur always)")
    parser.add_argument("--corpus", action="store_true",
                        help="time both routes on the test corpus instead")
    args = parser.parse_args()
    if args.corpus:
        corpus_timings()
        return
    if args.against:
        against(args.against, args.new, args.dense_max)
        return
    import cvxpy as cp

    sizes = QUICK_SIZES if args.quick else SIZES
    if args.sizes:
        sizes = [tuple(int(n) for n in size.split("x")) for size in args.sizes.split(",")]
    repeats_ours, repeats_cvx = (3, 1) if args.quick else (7, 3)

    print(f"machine: {platform.processor() or platform.machine()}, cvxpy {cp.__version__} "
          f"(CLARABEL); best of {repeats_ours} (ours) / {repeats_cvx} (cvxpy) runs")
    header = (f"{'size':>10} {'input':>8} {'ours s':>8} {'iters':>5} {'gap bits':>9} "
              f"{'cvxpy s':>8} {'conic s':>8} {'ratio':>6} {'ratio conic':>11} "
              f"{'objective cvxpy-ours (bits)':>27}")
    print(header)
    ours_min_information(np.full((2, 2, 2), 1 / 8))  # warm-up: imports, BLAS set-up
    cvxpy_min_information(np.full((2, 2, 2), 1 / 8))
    inputs = {}
    for shape in sizes:
        rng = np.random.default_rng(sum(shape))
        inputs[shape, "random"] = rng.dirichlet(np.ones(np.prod(shape))).reshape(shape)
        inputs[shape, "plug-in"] = plugin_histogram(shape, 20 * shape[0] * shape[1], seed=sum(shape))
    rows = []
    for round_ in range(args.rounds):
        if args.rounds > 1:
            print(f"round {round_ + 1} of {args.rounds}")
        for (shape, kind), P in inputs.items():
            Q_ours, t_ours, (_, _, res) = best_of(ours_min_information, P, repeats_ours)
            Q_cvx, t_cvx, (_, _, t_conic) = best_of(cvxpy_min_information, P, repeats_cvx)
            marginal_error = max(np.abs(Q_cvx.sum(axis=1) - P.sum(axis=1)).max(),
                                 np.abs(Q_cvx.sum(axis=0) - P.sum(axis=0)).max())
            Q_cvx = _DualProblem(P).round_to_marginals(Q_cvx)
            diff = bits(mutual_information(Q_cvx, (0, 1), 2) - mutual_information(Q_ours, (0, 1), 2))
            rows.append((shape, kind, t_ours, t_cvx, t_conic, diff))
            print(f"{'x'.join(map(str, shape)):>10} {kind:>8} {t_ours:8.4f} {res.n_iter:5d} "
                  f"{bits(res.duality_gap):9.1e} {t_cvx:8.3f} {t_conic:8.3f} "
                  f"{t_cvx / t_ours:6.1f} {t_conic / t_ours:11.1f} {diff:+27.1e}"
                  f"   (cvxpy marginal error {marginal_error:.0e})")
    ratios = np.array([r[3] / r[2] for r in rows])
    print(f"ratio cvxpy/ours: min {ratios.min():.1f}, median {np.median(ratios):.1f}")
    if args.rounds > 1:
        print(f"median over {args.rounds} rounds:")
        print(f"{'size':>10} {'input':>8} {'ours ms':>8} {'cvxpy ms':>9} {'ratio':>6} {'min ratio':>9}")
        for shape, kind in inputs:
            ours, cvx = (np.array([r[column] for r in rows if r[:2] == (shape, kind)]) for column in (2, 3))
            print(f"{'x'.join(map(str, shape)):>10} {kind:>8} {1e3 * np.median(ours):8.2f} "
                  f"{1e3 * np.median(cvx):9.1f} {np.median(cvx / ours):6.1f} {(cvx / ours).min():9.1f}")


if __name__ == "__main__":
    main()
