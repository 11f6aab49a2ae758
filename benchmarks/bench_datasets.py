"""Time to generate make_rus_classification's default 65 536 samples.

Reference (in this file): the same generator written the direct way, one
latent state and one sample at a time (a softmax per state, then
``RandomState.choice(n_classes, p=...)`` per sample, as the emergence paper's
script does). The reference must give exactly the same labels as
``make_rus_classification(random_state="paper")``; the script checks that.

    .venv/bin/python benchmarks/bench_datasets.py
"""

import itertools
import platform
import time

import numpy as np

from alignkit.datasets import make_rus_classification

N_SAMPLES, N_SHARED, N_UNIQUE, N_CLASSES, TEMPERATURE = 65536, 8, 4, 4, 0.05


def reference_labels(redundancy):
    """Labels with the paper's seeds, computed with per-state and per-sample loops."""
    u1 = (N_SHARED - redundancy) // 2
    u2 = N_SHARED - redundancy - u1
    subsets = np.random.RandomState(1)
    rel_c = subsets.choice(N_SHARED, size=redundancy, replace=False)
    rel_1 = subsets.choice(N_UNIQUE, size=u1, replace=False)
    rel_2 = subsets.choice(N_UNIQUE, size=u2, replace=False)
    rng = np.random.RandomState(2)
    weights = rng.uniform(0, 1, size=(N_SHARED, N_CLASSES))
    weights /= np.linalg.norm(weights, axis=1, keepdims=True)

    shared = list(itertools.product([0, 1], repeat=N_SHARED))
    unique = list(itertools.product([0, 1], repeat=N_UNIQUE))
    cond = {}
    for c, a, b in itertools.product(range(len(shared)), range(len(unique)), range(len(unique))):
        f = np.concatenate([np.take(shared[c], rel_c), np.take(unique[a], rel_1),
                            np.take(unique[b], rel_2)])
        logits = f @ weights / TEMPERATURE
        e = np.exp(logits - logits.max())
        cond[c, a, b] = e / e.sum()
    table = np.array(list(cond.values()))
    uniform = np.full(N_CLASSES, 1 / N_CLASSES)
    for _ in range(100):
        p_y = table.mean(axis=0)
        if np.allclose(p_y, uniform, atol=0.01):
            break
        table = table * (uniform / p_y)
        table /= table.sum(axis=1, keepdims=True)
    cond = dict(zip(cond, table))

    xc = rng.choice(len(shared), size=N_SAMPLES, p=np.full(len(shared), 1 / len(shared)))
    xu1 = rng.choice(len(unique), size=N_SAMPLES, p=np.full(len(unique), 1 / len(unique)))
    xu2 = rng.choice(len(unique), size=N_SAMPLES, p=np.full(len(unique), 1 / len(unique)))
    return np.array([rng.choice(N_CLASSES, p=cond[c, a, b]) for c, a, b in zip(xc, xu1, xu2)])


def best_time(fn, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return min(times), out


def main():
    print(f"machine: {platform.processor() or platform.machine()}, numpy {np.__version__}")
    ref_time, ref_y = best_time(lambda: reference_labels(4), 1)
    ours_time, (_, y) = best_time(
        lambda: make_rus_classification(redundancy=4, heterogeneity=None, random_state="paper"), 5
    )
    assert np.array_equal(ref_y, y), "reference and make_rus_classification disagree"
    print(f"reference loops (labels only): {ref_time:8.3f} s")
    print(f"make_rus_classification, no transform: {ours_time:8.3f} s "
          f"({ref_time / ours_time:.0f}x faster, identical labels)")
    for kwargs in [dict(heterogeneity=0), dict(heterogeneity=3), dict(heterogeneity=10),
                   dict(heterogeneity=3, heterogeneity_on="both"),
                   dict(heterogeneity=3, return_joint=True)]:
        t, _ = best_time(lambda: make_rus_classification(redundancy=4, random_state=0, **kwargs), 5)
        print(f"make_rus_classification({', '.join(f'{k}={v!r}' for k, v in kwargs.items())}): "
              f"{t:8.3f} s ({ref_time / t:.0f}x faster than the reference)")


if __name__ == "__main__":
    main()
