"""Permutation nulls of alignment_test against the naive loop, and its calibration.

Speed: ``alignment_test(A, B, metric, n_permutations=P)`` (its fast nulls:
one cross product per permutation for linear / unbiased CKA, relabelled
neighbour sets for mutual k-NN and CKNNA) against the naive loop that calls
the metric on ``(A, B[perm])`` P times, on the same data in the same run.
The naive loop is timed on ``--naive-permutations`` permutations and scaled
to P (its cost per permutation is constant). alignment_test runs its fast
permutations on one BLAS thread; the naive loop runs with the same limit
(``--naive-blas-threads``, default 1) so that the ratio is the algorithms'.
A and B share a 16-D signal.

Calibration (``--calibration``): the Kolmogorov-Smirnov p-value of the
permutation p-values of independent Gaussian pairs against the uniform
distribution, and the coverage of the 95% half-sample interval of unbiased
CKA on a Gaussian model whose population CKA is known in closed form.

    .venv/bin/python benchmarks/bench_permutation.py                 # n = 5000, d = 256, P = 1000
    .venv/bin/python benchmarks/bench_permutation.py --quick         # n = 1000 smoke run
    .venv/bin/python benchmarks/bench_permutation.py --calibration   # KS p-values and coverage
"""

import argparse
import time

import numpy as np
from scipy import stats
from threadpoolctl import threadpool_limits

from alignkit.metrics import alignment_test
from alignkit.metrics._alignment import METRICS

OPTIONS = {"mutual_knn": {"k": 10}, "cknna": {"k": 10}}


def speed(n, d, n_permutations, naive_permutations, metrics, naive_threads):
    rng = np.random.default_rng(0)
    z = rng.normal(size=(n, 16))
    A = z @ rng.normal(size=(16, d)) + rng.normal(size=(n, d))
    B = np.tanh(z @ rng.normal(size=(16, d))) + rng.normal(size=(n, d))
    print(f"n = {n}, d = {d}, {n_permutations} permutations (naive loop timed on "
          f"{naive_permutations} and scaled)")
    print(f"{'metric':<14}{'fast (s)':>10}{'naive (s)':>12}{'speed-up':>10}  check")
    for name in metrics:
        func, options = METRICS[name], OPTIONS.get(name, {})
        start = time.perf_counter()
        res = alignment_test(A, B, metric=name, n_permutations=n_permutations,
                             confidence_level=None, random_state=0, **options)
        fast = time.perf_counter() - start
        perms = [np.random.default_rng(s).permutation(n) for s in range(naive_permutations)]
        start = time.perf_counter()
        statistic = func(A, B, **options)
        observed = time.perf_counter() - start
        with threadpool_limits(limits=naive_threads, user_api="blas"):
            start = time.perf_counter()
            naive_values = [func(A, B[p], **options) for p in perms]
            per_permutation = (time.perf_counter() - start) / naive_permutations
        naive = observed + n_permutations * per_permutation
        # The fast null must be the metric on permuted rows: same statistic, and
        # the naive values lie in the fast null's range.
        fast_null = res.null_distribution
        check = (abs(statistic - res.statistic) < 1e-12
                 and fast_null.min() - 3 * fast_null.std() <= min(naive_values)
                 and max(naive_values) <= fast_null.max() + 3 * fast_null.std())
        print(f"{name:<14}{fast:>10.2f}{naive:>12.1f}{naive / fast:>9.0f}x  "
              f"{'ok' if check else 'MISMATCH'} (p = {res.pvalue:.4f}, null {res.null_mean:.4f} "
              f"± {res.null_std:.4f})")


def calibration(seeds, coverage_sets):
    print(f"KS test of {seeds} permutation p-values (99 permutations each) against U(0, 1), "
          "independent Gaussian pairs:")
    for metric, n, options in [("unbiased_cka", 30, {}), ("linear_cka", 30, {}),
                               ("mutual_knn", 100, {"k": 10}), ("cknna", 60, {"k": 5}),
                               ("rbf_cka", 30, {})]:
        pvalues = []
        for seed in range(seeds):
            rng = np.random.default_rng(seed)
            pvalues.append(alignment_test(rng.normal(size=(n, 3)), rng.normal(size=(n, 4)),
                                          metric=metric, n_permutations=99, confidence_level=None,
                                          random_state=seed, **options).pvalue)
        pvalues = np.array(pvalues)
        print(f"  {metric:<13} n = {n:<4} KS p = {stats.kstest(pvalues, 'uniform').pvalue:.3f}, "
              f"P(p <= 0.05) = {np.mean(pvalues <= 0.05):.3f}")
    rng = np.random.default_rng(0)
    M = rng.normal(size=(3, 2))
    cov = np.block([[np.eye(3), M], [M.T, M.T @ M + np.diag([1.0, 0.5])]])
    S_aa, S_ab, S_bb = cov[:3, :3], cov[:3, 3:], cov[3:, 3:]
    truth = (S_ab**2).sum() / np.sqrt((S_aa**2).sum() * (S_bb**2).sum())
    for n in (60, 120, 500):
        covered, widths = [], []
        for seed in range(coverage_sets):
            X = np.random.default_rng(seed).multivariate_normal(np.zeros(5), cov, size=n)
            low, high = alignment_test(X[:, :3], X[:, 3:], n_permutations=1, n_resamples=200,
                                       random_state=seed).confidence_interval
            covered.append(low <= truth <= high)
            widths.append(high - low)
        rate = np.mean(covered)
        print(f"  95% half-sample interval of unbiased_cka, n = {n}: coverage {rate:.3f} "
              f"± {np.sqrt(rate * (1 - rate) / coverage_sets):.3f} over {coverage_sets} data sets "
              f"(population CKA {truth:.3f}, mean width {np.mean(widths):.3f})")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--d", type=int, default=256)
    parser.add_argument("--permutations", type=int, default=1000)
    parser.add_argument("--naive-permutations", type=int, default=5)
    parser.add_argument("--naive-blas-threads", type=int, default=1)
    parser.add_argument("--metrics", default="mutual_knn,cknna,unbiased_cka,linear_cka")
    parser.add_argument("--quick", action="store_true", help="n = 1000, 200 permutations")
    parser.add_argument("--calibration", action="store_true")
    parser.add_argument("--seeds", type=int, default=200)
    parser.add_argument("--coverage-sets", type=int, default=1000)
    args = parser.parse_args()
    if args.calibration:
        calibration(args.seeds, args.coverage_sets)
        return
    if args.quick:
        args.n, args.permutations = 1000, 200
    speed(args.n, args.d, args.permutations, args.naive_permutations, args.metrics.split(","),
          args.naive_blas_threads)


if __name__ == "__main__":
    main()
