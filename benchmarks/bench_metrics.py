"""alignkit.metrics against straightforward n x n implementations, in one run.

Linear and unbiased CKA: feature-space sums vs the Gram-matrix route (build
K = A A^T and L = B B^T, centre them -- U-centre for the unbiased HSIC -- and
take Frobenius products, as Kornblith et al.'s reference code does; O(n^2 d)
time, O(n^2) memory). Mutual k-NN: blocked exact top-k vs the full cosine
similarity matrix argsorted row by row (as the platonic-representation code
does). Peak memory is numpy's, traced with tracemalloc; every value is
checked against its reference.

    .venv/bin/python benchmarks/bench_metrics.py            # n = 20 000, d = 512
    .venv/bin/python benchmarks/bench_metrics.py --quick    # n = 2 000 smoke run
"""

import argparse
import platform
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
    args = parser.parse_args()
    n = args.n or (2000 if args.quick else 20000)
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


if __name__ == "__main__":
    main()
