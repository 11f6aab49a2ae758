"""How close alignkit's PID estimators come to the truth, on every generator that has one.

Cases (each with an exact decomposition, in bits):

* ``make_rus_classification`` at redundancy r = 0, 2, 4, 6, 8 and heterogeneity
  0 and 2: the truth is ``pid_from_joint`` of the generator's exact joint of
  the label-relevant bits (``return_joint=True``);
* ``make_multimodal_classification`` in its three settings, each with one
  binary label factor and two noise latents per modality: ``redundant``
  (``n_redundant=1``: y is a function of either modality, R = 1 bit),
  ``unique`` (``n_unique=(1, 0)``: of the first only, U1 = 1) and
  ``synergistic`` (``n_synergistic=1``: the XOR of one sign in each, S = 1);
* continuous gates: two fair bits, each seen by its modality in 2 dimensions
  with N(0, 0.1^2) noise (the bits are recoverable except with probability
  ~1e-6), y = AND, XOR or COPY (2 b1 + b2) of them: the gate's exact PID.

Estimators: ``PIDEstimator`` with each discretiser it offers (``posterior``,
the default, ``kmeans`` and ``quantile``), its bias-corrected k-means atoms
(``kmeans-corrected``, ``corrected_``), k-means without row normalisation
(``kmeans-raw``), and ``BatchPIDEstimator`` (``batch``). Reported per case and sample size: each atom's
estimate, the largest atom error, whether the largest estimated atom is the
largest true one ("dominant"), whether every atom is within max(0.1 bits,
10 % of I(X1, X2; Y)) ("within"), and the fit time (wall clock and the
process's CPU time, which a shared machine's load does not inflate).

Run:  .venv/bin/python benchmarks/bench_pid_accuracy.py [--quick] [--estimators kmeans,batch]
      [--sizes 1000,8192] [--out results.csv]

The full run (n = 1 000, 8 192, 65 536, every estimator) takes hours on two
cores, most of it the batch estimator; ``--quick`` runs n = 1 000 and 8 192.
Every estimator runs with its defaults otherwise (``n_jobs=None``: one job).
"""

import argparse
import csv
import time
import warnings

import numpy as np
import torch
from threadpoolctl import threadpool_limits

from alignkit.datasets import make_multimodal_classification, make_rus_classification
from alignkit.pid import BatchPIDEstimator, PIDEstimator, pid_from_joint

GATES = {"AND": lambda a, b: a & b, "XOR": lambda a, b: a ^ b, "COPY": lambda a, b: 2 * a + b}
ATOMS = ["R", "U1", "U2", "S"]


def rus_case(n, r, h, seed):
    data = make_rus_classification(n, redundancy=r, heterogeneity=h, return_joint=True,
                                   random_state=seed)
    return data.X, data.y, data.modality_dims, pid_from_joint(data.joint, units="bits").atoms


def multimodal_case(n, setting, seed):
    knobs = {"redundant": dict(n_redundant=1, n_unique=0),
             "unique": dict(n_redundant=0, n_unique=(1, 0)),
             "synergistic": dict(n_redundant=0, n_unique=0, n_synergistic=1)}[setting]
    data = make_multimodal_classification(n, n_noise=(2, 2), return_bunch=True,
                                          random_state=seed, **knobs)
    truth = np.zeros(4)
    truth[{"redundant": 0, "unique": 1, "synergistic": 3}[setting]] = 1.0
    return data.X, data.y, data.modality_dims, truth


def gate_case(n, gate, seed):
    rng = np.random.default_rng(seed)
    b1, b2 = rng.integers(0, 2, size=(2, n))
    X = np.hstack([b1[:, None] + 0.1 * rng.normal(size=(n, 2)),
                   b2[:, None] + 0.1 * rng.normal(size=(n, 2))])
    table = np.zeros((2, 2, 4))
    for a in range(2):
        for b in range(2):
            table[a, b, GATES[gate](a, b)] = 0.25
    table = table[:, :, table.sum(axis=(0, 1)) > 0]
    return X, GATES[gate](b1, b2), [2, 2], pid_from_joint(table, units="bits").atoms


def cases(n, seed):
    for r in (0, 2, 4, 6, 8):
        for h in (0, 2):
            yield f"rus r={r} h={h}", lambda r=r, h=h: rus_case(n, r, h, seed)
    for setting in ("redundant", "unique", "synergistic"):
        yield f"multimodal {setting}", lambda s=setting: multimodal_case(n, s, seed)
    for gate in GATES:
        yield f"gate {gate}", lambda g=gate: gate_case(n, g, seed)


def estimate(name, X, y, dims, seed):
    """(atoms, wall seconds, CPU seconds) of one estimator."""
    start, cpu_start = time.perf_counter(), time.process_time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if name == "batch":
            est = BatchPIDEstimator(modality_dims=dims, random_state=seed).fit(X, y)
            atoms = est.atoms_
        elif name == "posterior":
            est = PIDEstimator(modality_dims=dims, random_state=seed).fit(X, y)
            atoms = est.atoms_
        else:
            discretizer = "quantile" if name == "quantile" else "kmeans"
            est = PIDEstimator(modality_dims=dims, discretizer=discretizer,
                               row_normalize=name != "kmeans-raw", random_state=seed).fit(X, y)
            atoms = est.corrected_ if name == "kmeans-corrected" else est.atoms_
    return np.asarray(atoms), time.perf_counter() - start, time.process_time() - cpu_start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="n = 1 000 and 8 192 only")
    parser.add_argument("--sizes", default=None, help="comma-separated sample sizes")
    parser.add_argument("--estimators", default="posterior,kmeans,kmeans-corrected,quantile,batch")
    parser.add_argument("--cases", default=None, help="only cases whose name contains this")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", default=None, help="also write the rows to this CSV file")
    args = parser.parse_args()
    sizes = ([int(s) for s in args.sizes.split(",")] if args.sizes
             else [1000, 8192] if args.quick else [1000, 8192, 65536])
    estimators = args.estimators.split(",")
    threadpool_limits(args.threads)
    torch.set_num_threads(args.threads)
    rows = []
    print(f"{'case':<22} {'n':>6} {'estimator':<17} {'truth R U1 U2 S':>27} "
          f"{'estimate R U1 U2 S':>27} {'max err':>7} {'dominant':>8} {'within':>6} {'fit s':>6} {'cpu s':>6}")
    for n in sizes:
        for case, make in cases(n, args.seed):
            if args.cases and args.cases not in case:
                continue
            X, y, dims, truth = make()
            total = truth.sum()
            for name in estimators:
                atoms, seconds, cpu_seconds = estimate(name, X, y, dims, args.seed)
                error = np.abs(atoms - truth)
                # Ties (COPY: U1 = U2) accept either of the tied atoms.
                dominant = bool(truth[np.argmax(atoms)] >= truth.max() - 1e-6)
                within = bool(np.all(error <= max(0.1, 0.1 * total)))
                rows.append(dict(case=case, n=n, estimator=name,
                                 **{f"true_{a}": t for a, t in zip(ATOMS, truth)},
                                 **{f"est_{a}": v for a, v in zip(ATOMS, atoms)},
                                 max_error=error.max(), dominant=dominant, within=within,
                                 fit_seconds=seconds, cpu_seconds=cpu_seconds))
                fmt = " ".join(f"{v:6.3f}" for v in truth), " ".join(f"{v:6.3f}" for v in atoms)
                print(f"{case:<22} {n:>6} {name:<17} {fmt[0]:>27} {fmt[1]:>27} "
                      f"{error.max():7.3f} {'yes' if dominant else 'NO':>8} "
                      f"{'yes' if within else 'NO':>6} {seconds:6.1f} {cpu_seconds:6.1f}", flush=True)
    if args.out:
        with open(args.out, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    print("\nshare of cases with the dominant atom right / every atom within tolerance:")
    for n in sizes:
        for name in estimators:
            sel = [r for r in rows if r["n"] == n and r["estimator"] == name]
            if sel:
                print(f"  n={n:>6} {name:<17} dominant {sum(r['dominant'] for r in sel)}/{len(sel)}"
                      f"  within {sum(r['within'] for r in sel)}/{len(sel)}"
                      f"  median fit {np.median([r['fit_seconds'] for r in sel]):.1f} s"
                      f" (CPU {np.median([r['cpu_seconds'] for r in sel]):.1f} s,"
                      f" at most {max(r['cpu_seconds'] for r in sel):.1f} s)")


if __name__ == "__main__":
    main()
