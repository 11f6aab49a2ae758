"""alignkit.metrics against straightforward n x n implementations, in one run.

Linear and unbiased CKA: feature-space sums vs the Gram-matrix route (build
K = A A^T and L = B B^T, centre them -- U-centre for the unbiased HSIC -- and
take Frobenius products, as Kornblith et al.'s reference code does; O(n^2 d)
time, O(n^2) memory). Mutual k-NN: blocked exact top-k vs the full cosine
similarity matrix argsorted row by row (as the platonic-representation code
does). Peak memory is numpy's, traced with tracemalloc; every value is
checked against its reference.

Optionally (``--research``), linear and unbiased CKA also against the
research-code route: the O(n^3) HSIC formulas of the platonic-representation
code that Tjandrasuwita et al. (2025) use, in torch float32 on the CPU --
biased HSIC as ``tr(K H L H)`` with an explicit ``H = I - 11^T/n`` (three
n x n products per HSIC, nine per CKA), unbiased HSIC (Song et al. 2012) with
the n x n product ``K~ L~`` (one per HSIC, three per CKA). Each route runs in
its own subprocess, whose peak resident memory (``ru_maxrss``) is reported,
since tracemalloc does not see torch's allocations.

    .venv/bin/python benchmarks/bench_metrics.py            # n = 20 000, d = 512
    .venv/bin/python benchmarks/bench_metrics.py --quick    # n = 2 000 smoke run
    .venv/bin/python benchmarks/bench_metrics.py --research unbiased biased \
        --research-only                                      # O(n^3) routes only, ~35 min
    .venv/bin/python benchmarks/bench_metrics.py --research biased \
        --research-n 10000 --research-only                  # the biased route at n = 10 000
"""

import argparse
import multiprocessing
import platform
import resource
import time
import tracemalloc

import numpy as np
import torch

from alignkit.metrics import cknna, linear_cka, mutual_knn, rbf_cka, unbiased_cka

# --------------------------------------------------------------------------
# References


def gram(X):
    """``X X^T`` as a general matrix product.

    numpy's ``X @ X.T`` takes OpenBLAS's syrk route, which segfaults at
    n = 20 000 with the OpenBLAS 0.3.31 that numpy 2.4 bundles.
    """
    return X @ np.ascontiguousarray(X.T)


def _center_gram_in_place(K, unbiased):
    """Double centring (biased) or U-centring (unbiased HSIC) of a Gram matrix."""
    n = K.shape[0]
    if unbiased:
        np.fill_diagonal(K, 0.0)
        means = K.sum(0) / (n - 2)
        means -= means.sum() / (2 * (n - 1))
    else:
        means = K.mean(0)
        means -= means.mean() / 2
    K -= means[:, None]
    K -= means[None, :]
    if unbiased:
        np.fill_diagonal(K, 0.0)
    return K


def gram_cka(A, B, unbiased):
    K = _center_gram_in_place(gram(A), unbiased)
    L = _center_gram_in_place(gram(B), unbiased)
    return np.vdot(K, L) / np.sqrt(np.vdot(K, K) * np.vdot(L, L))


def argsort_mutual_knn(A, B, k):
    def neighbours(X):
        Xn = X / np.linalg.norm(X, axis=1, keepdims=True)
        S = gram(Xn)
        np.fill_diagonal(S, -np.inf)
        S *= -1.0
        return np.argsort(S, axis=1, kind="stable")[:, :k].copy()  # frees the n x n order

    both = np.sort(np.hstack([neighbours(A), neighbours(B)]), axis=1)
    shared = (both[:, 1:] == both[:, :-1]).sum()
    return shared / (A.shape[0] * k)


# Research-code route: O(n^3) HSIC in torch float32, one process per route.
#
# The same estimators as the Gram route above, evaluated the way the
# platonic-representation code (used by Tjandrasuwita et al. 2025) does:
# with n x n matrix products rather than Frobenius products of centred
# kernels. Written here from the formulas, not copied.

RESEARCH_TOLERANCE = 1e-3  # |CKA_float32 - CKA_float64|, CKA in [0, 1]


def research_hsic(K, L, unbiased):
    """HSIC of two n x n kernels with O(n^3) matrix products (torch)."""
    n = K.shape[0]
    if unbiased:
        # Song et al. (2012), HSIC_1: kernels with zeroed diagonals,
        # [sum(K~ * L~^T) + sum(K~) sum(L~) / ((n-1)(n-2)) - 2 sum(K~ L~) / (n-2)] / (n(n-3)).
        K_tilde = K.clone().fill_diagonal_(0.0)
        L_tilde = K_tilde if L is K else L.clone().fill_diagonal_(0.0)
        frobenius = (K_tilde * L_tilde.T).sum()
        totals = K_tilde.sum() * L_tilde.sum() / ((n - 1) * (n - 2))
        cross = torch.mm(K_tilde, L_tilde).sum()  # the n x n product
        del K_tilde, L_tilde
        return (frobenius + totals - 2.0 * cross / (n - 2)) / (n * (n - 3))
    # Biased: tr(K H L H), H = I - 11^T / n, left to right: three n x n products.
    H = torch.eye(n, dtype=K.dtype, device=K.device) - 1.0 / n
    return torch.trace(K @ H @ L @ H)


def research_cka(A, B, unbiased):
    """Linear CKA from float32 tensors, HSIC(K, L) / sqrt(HSIC(K, K) HSIC(L, L))."""
    K, L = torch.mm(A, A.T), torch.mm(B, B.T)
    hsic_kl = research_hsic(K, L, unbiased)
    hsic_kk = research_hsic(K, K, unbiased)
    hsic_ll = research_hsic(L, L, unbiased)
    return float(hsic_kl / torch.sqrt(hsic_kk * hsic_ll))


def _max_rss_bytes():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


def _research_child(n, d, unbiased, queue):
    """Runs in a fresh (spawned) process: rebuild the inputs, time one route."""
    A, B = data(n, d)
    tA, tB = torch.from_numpy(A).float(), torch.from_numpy(B).float()
    del A, B
    baseline = _max_rss_bytes()
    start = time.perf_counter()
    value = research_cka(tA, tB, unbiased)
    seconds = time.perf_counter() - start
    queue.put((value, seconds, _max_rss_bytes(), baseline))


def run_research(n, d, routes):
    """alignkit (float64) vs the O(n^3) research-code route (float32), same inputs."""
    A, B = data(n, d)
    mib = 2.0**20
    buffers = {"unbiased": 5, "biased": 5}  # n x n float32 matrices alive at once
    print(f"\nresearch-code route (torch float32, CPU, O(n^3)), n = {n}, d = {d}; "
          f"one n x n float32 matrix = {n * n * 4 / mib:.0f} MiB")
    print(f"{'measure':<24}{'alignkit s':>11}{'research s':>12}{'ratio':>10}"
          f"{'alignkit MiB':>14}{'peak RSS MiB':>14}{'(+ over base)':>15}{'|diff|':>10}")
    spawn = multiprocessing.get_context("spawn")
    failures = []
    for route in routes:
        unbiased = route == "unbiased"
        func = unbiased_cka if unbiased else linear_cka
        value, seconds, peak = measure(func, A, B, repeat=3)
        queue = spawn.Queue()
        child = spawn.Process(target=_research_child, args=(n, d, unbiased, queue))
        child.start()
        ref_value, ref_seconds, rss, baseline = queue.get()
        child.join()
        diff = abs(value - ref_value)
        if not diff < RESEARCH_TOLERANCE:
            failures.append(route)
        name = "unbiased_cka" if unbiased else "linear_cka"
        print(f"{name:<24}{seconds:>11.3f}{ref_seconds:>12.1f}{ref_seconds / seconds:>9.0f}x"
              f"{peak / mib:>14.0f}{rss / mib:>14.0f}{(rss - baseline) / mib:>15.0f}"
              f"{diff:>10.1e}  value {value:.6f} vs {ref_value:.6f}"
              f" (~{buffers[route]} x n^2 float32 = {buffers[route] * n * n * 4 / mib:.0f} MiB)",
              flush=True)
    if failures:
        raise SystemExit(f"research route differs from alignkit by >= {RESEARCH_TOLERANCE}: {failures}")


# --------------------------------------------------------------------------


def measure(func, *args, repeat=1, **kwargs):
    """Best wall time of ``repeat`` calls, and numpy's peak memory in bytes."""
    best = np.inf
    for _ in range(repeat):
        tracemalloc.start()
        start = time.perf_counter()
        value = func(*args, **kwargs)
        best = min(best, time.perf_counter() - start)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return value, best, peak


def data(n, d, seed=0):
    rng = np.random.default_rng(seed)
    shared = rng.normal(size=(n, 16))
    A = shared @ rng.normal(size=(16, d)) + rng.normal(size=(n, d))
    B = np.tanh(shared @ rng.normal(size=(16, d))) + rng.normal(size=(n, d))
    return A, B


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="n = 2000 smoke run")
    parser.add_argument("--n", type=int, default=None, help="samples (default 20000)")
    parser.add_argument("--d", type=int, default=512, help="features per representation")
    parser.add_argument("--torch", action="store_true",
                        help="also time torch tensors (on CUDA when available)")
    parser.add_argument("--research", nargs="+", choices=("unbiased", "biased"), default=[],
                        help="also run the O(n^3) research-code route(s), torch float32 on the "
                             "CPU (unbiased: 3 n x n products, biased: 9; hours at large n)")
    parser.add_argument("--research-n", type=int, default=None,
                        help="samples for the research-code routes (default: --n)")
    parser.add_argument("--research-only", action="store_true",
                        help="skip the main table, run only the --research routes")
    args = parser.parse_args()
    n = args.n or (2000 if args.quick else 20000)
    if args.research_only:
        run_research(args.research_n or n, args.d, args.research)
        return
    A, B = data(n, args.d)
    mib = 2.0**20
    print(f"n = {n}, d = {args.d}; {platform.processor() or platform.machine()}, "
          f"torch threads {torch.get_num_threads()}")
    header = f"{'measure':<24}{'alignkit s':>11}{'ref s':>10}{'ratio':>9}{'alignkit MiB':>14}{'ref MiB':>10}{'|diff|':>10}"
    print(header)
    rows = [
        ("linear_cka", linear_cka, (A, B), {}, gram_cka, (A, B, False)),
        ("unbiased_cka", unbiased_cka, (A, B), {}, gram_cka, (A, B, True)),
        ("mutual_knn k=10", mutual_knn, (A, B), {"k": 10}, argsort_mutual_knn, (A, B, 10)),
        ("mutual_knn k=100", mutual_knn, (A, B), {"k": 100}, argsort_mutual_knn, (A, B, 100)),
        # Blocked metrics without a reference here: their time and memory at this n.
        ("rbf_cka (median sigma)", rbf_cka, (A, B), {}, None, ()),
        ("cknna k=10", cknna, (A, B), {"k": 10, "normalize": True}, None, ()),
    ]
    for name, func, fargs, fkwargs, reference, rargs in rows:
        fast = name.startswith(("linear", "unbiased"))
        value, seconds, peak = measure(func, *fargs, repeat=3 if fast else 1, **fkwargs)
        if reference is None:
            print(f"{name:<24}{seconds:>11.3f}{'-':>10}{'-':>9}{peak / mib:>14.0f}{'-':>10}"
                  f"  value {value:.4f}", flush=True)
            continue
        ref_value, ref_seconds, ref_peak = measure(reference, *rargs)
        print(f"{name:<24}{seconds:>11.3f}{ref_seconds:>10.2f}{ref_seconds / seconds:>8.1f}x"
              f"{peak / mib:>14.0f}{ref_peak / mib:>10.0f}{abs(value - ref_value):>10.1e}", flush=True)
    if args.torch:
        device = "cuda" if torch.cuda.is_available() else "cpu"
        tA, tB = torch.tensor(A, device=device), torch.tensor(B, device=device)
        for name, func, kwargs in (("linear_cka", linear_cka, {}), ("unbiased_cka", unbiased_cka, {}),
                                   ("mutual_knn k=10", mutual_knn, {"k": 10})):
            func(tA, tB, **kwargs)  # warm-up
            _, seconds, _ = measure(func, tA, tB, repeat=3, **kwargs)
            print(f"torch {device} {name:<18}{seconds:>8.3f} s")
    if args.research:
        run_research(args.research_n or n, args.d, args.research)


if __name__ == "__main__":
    main()
