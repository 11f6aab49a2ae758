"""The neural batch PID estimator against the exact minimum of each batch.

On continuous AND-gate data (two fair bits, each seen by one modality in two
noisy dimensions, y = b1 AND b2; exact atoms R = 0.311, U1 = U2 = 0, S = 0.5
bits) the batch estimator is fitted once per batch size. For a few batches its
trained network's I_Q is compared with the exact minimum over all tables with
the batch's marginals (this package's interior-point solver), value and time;
the fit's atoms and time are reported next to the plug-in estimator's.

Run:  .venv/bin/python benchmarks/bench_pid_batch.py [--n-samples 20000]
"""

import argparse
import time

import numpy as np
import torch
from sklearn.preprocessing import StandardScaler

from alignkit.pid import BatchPIDEstimator, PIDEstimator
from alignkit.pid._batch import (
    default_classifier,
    information_terms,
    out_of_fold_posteriors,
)
from alignkit.pid._solver import solve_broja

BITS = np.log(2)


def and_gate(n_samples, seed=0):
    rng = np.random.default_rng(seed)
    b1, b2 = rng.integers(0, 2, size=(2, n_samples))
    X = np.hstack([b1[:, None] + 0.1 * rng.normal(size=(n_samples, 2)),
                   b2[:, None] + 0.1 * rng.normal(size=(n_samples, 2))])
    return X, b1 & b2


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=20000)
    parser.add_argument("--batches", type=int, default=3, help="batches checked against the exact minimum")
    args = parser.parse_args()
    torch.set_num_threads(1)
    X, y = and_gate(args.n_samples)
    print(f"AND gate, {args.n_samples} samples; exact atoms R U1 U2 S = 0.311 0 0 0.5 bits; one torch thread")

    start = time.perf_counter()
    plugin = PIDEstimator(modality_dims=[2, 2], n_clusters=20, random_state=0).fit(X, y)
    print(f"plug-in (20 clusters): atoms {np.round(plugin.atoms_, 3)}, fit {time.perf_counter() - start:.1f} s")

    x1, x2 = X[:, :2], X[:, 2:]
    post = [out_of_fold_posteriors(default_classifier(0), x, y, None, 0) for x in (x1, x2)]
    data = np.hstack([StandardScaler().fit_transform(x1), StandardScaler().fit_transform(x2), *post])
    rng = np.random.default_rng(1)
    print(f"{'batch':>6} {'fit s':>6} {'atoms R U1 U2 S (bits)':>30} {'network I_Q':>11} "
          f"{'exact min':>9} {'excess':>8} {'network ms':>10} {'exact ms':>8}")
    for batch_size in (64, 128, 256):
        start = time.perf_counter()
        est = BatchPIDEstimator(modality_dims=[2, 2], batch_size=batch_size,
                                random_state=0).fit(X, y)
        fit_time = time.perf_counter() - start
        module = est.net_.module_.double().eval()
        rows = []
        for _ in range(args.batches):
            batch = torch.from_numpy(data[rng.permutation(len(y))[:batch_size]])
            start = time.perf_counter()
            with torch.no_grad():
                q, a, b, mass = module(batch)
                network = float(information_terms(q, a, b, mass)[2])
            network_time = time.perf_counter() - start
            a, b, mass = a.numpy(), b.numpy(), mass.numpy()
            start = time.perf_counter()
            exact = solve_broja(a[:, None, :] * b[None, :, :] / mass)
            exact_time = time.perf_counter() - start
            minimum = exact.objective - np.sum(mass * np.log(mass))
            rows.append((network / BITS, minimum / BITS, network_time, exact_time))
        network, minimum, network_time, exact_time = np.mean(rows, axis=0)
        print(f"{batch_size:6d} {fit_time:6.1f} {np.round(est.atoms_, 3)!s:>30} {network:11.4f} "
              f"{minimum:9.4f} {network - minimum:+8.4f} {1e3 * network_time:10.1f} {1e3 * exact_time:8.1f}")


if __name__ == "__main__":
    main()
