"""What each piece of the posterior PID route is worth, on the benchmark's hardest cases.

Measured at n = 8 192, seed 0, one thread, bits:

* whitening: the out-of-fold bound on I(X2; Y) that each candidate classifier
  reaches on the second modality of ``make_rus_classification(r=8, h=2)`` (a
  random network's output; truth 1.673 bits), with and without
  ``Whitener``, and its CPU time over the 5 folds;
* the coding: R, U1, U2 of ``make_rus_classification(r=8, h=0)`` (truth
  1.673, 0, 0) when the same cross-fitted posteriors are grouped by
  Kullback-Leibler k-means (``information_clusters``, the default) or by
  k-means of ``log p(y | x)`` (the former posterior route), both into the
  default number of codes.

Run:  .venv/bin/python benchmarks/bench_pid_posteriors.py
"""

import time
import warnings

import numpy as np
from sklearn.base import clone
from sklearn.cluster import KMeans
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from alignkit.datasets import make_rus_classification
from alignkit.pid import pid_from_joint
from alignkit.pid._decomposition import histogram
from alignkit.pid._discretize import assign_information_clusters, information_clusters
from alignkit.pid._posteriors import (
    Whitener,
    candidate_classifiers,
    loglik_bound,
    out_of_fold_posteriors,
    row_loglik,
)

BITS = np.log(2)
N_CODES = 55  # n_clusters="auto" at n = 8 192 with 4 classes


def bound_bits(posteriors, y):
    return loglik_bound(row_loglik(posteriors, y), y) / BITS


def whitening():
    data = make_rus_classification(8192, redundancy=8, heterogeneity=2, return_joint=True,
                                   random_state=0)
    x2, y = data.X[:, 12:], data.y
    print("I(X2; Y) bound, r = 8, h = 2 (truth 1.673 bits):")
    for name, pipeline in candidate_classifiers(x2, y, 0).items():
        final = pipeline.steps[-1][1]
        for label, first in [("whitened", Whitener()), ("standardised", StandardScaler())]:
            start = time.process_time()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                posteriors = out_of_fold_posteriors(
                    make_pipeline(first, *[clone(s) for _, s in pipeline.steps[1:-1]],
                                  clone(final)), x2, y, None, 0)
            print(f"  {name:<9} {label:<13} {bound_bits(posteriors, y):.3f} bits"
                  f"  {time.process_time() - start:6.1f} CPU s")


def coding():
    data = make_rus_classification(8192, redundancy=8, heterogeneity=0, return_joint=True,
                                   random_state=0)
    y, truth = data.y, pid_from_joint(data.joint, units="bits").atoms
    logistic = candidate_classifiers(data.X[:, :12], y, 0)["logistic"]
    posteriors = [out_of_fold_posteriors(logistic, block, y, None, seed)
                  for seed, block in enumerate((data.X[:, :12], data.X[:, 12:]))]
    print(f"R, U1, U2 at r = 8, h = 0, {N_CODES} codes (truth "
          f"{', '.join(f'{v:.3f}' for v in truth[:3])} bits):")
    groupings = {
        "KL k-means": lambda p: assign_information_clusters(p, information_clusters(p, N_CODES, 0)),
        "k-means of log p": lambda p: KMeans(N_CODES, n_init=1, random_state=0).fit_predict(
            np.log(p)),
    }
    for name, group in groupings.items():
        codes = [group(p) for p in posteriors]
        shape = (codes[0].max() + 1, codes[1].max() + 1, y.max() + 1)
        atoms = pid_from_joint(histogram(codes[0], codes[1], y, shape), units="bits").atoms
        print(f"  {name:<17} {', '.join(f'{v:.3f}' for v in atoms[:3])}")


if __name__ == "__main__":
    threadpool_limits(1)
    whitening()
    coding()
