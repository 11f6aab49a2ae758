"""Streaming alignment: time and memory of AlignmentAccumulator, dask, and model_alignment_matrix.

1. Streaming ``unbiased_cka`` (batches of 4 096 rows, d1 = d2 = 512) against
   the in-memory function on the same data at the largest n held in memory
   (``--n-in-memory``), and the two values' difference.
2. Time per row and peak memory of streaming over n = 10^5, 10^6, 10^7 rows
   (``--n-stream``; the time per row against the in-memory function's),
   the rows generated batch by batch and never held; each n runs in its own
   process, reporting numpy's traced peak (tracemalloc) and the process's
   peak resident memory (``VmHWM``, which includes the interpreter and
   torch, ~0.3 GB).
3. ``unbiased_cka`` on dask arrays built lazily (``da.random``) on a
   2-worker ``LocalCluster`` against numpy on the same values.
4. ``model_alignment_matrix`` of two MLPs against bare forward passes over
   the same batches.

    .venv/bin/python benchmarks/bench_streaming.py                 # everything (long)
    .venv/bin/python benchmarks/bench_streaming.py --quick         # smoke run, a minute
    .venv/bin/python benchmarks/bench_streaming.py --n-stream 100000 1000000   # skip 10^7
    .venv/bin/python benchmarks/bench_streaming.py --only memory --n-stream 10000000 --width 64
"""

import argparse
import json
import multiprocessing
import platform
import resource
import time
import tracemalloc

import numpy as np
import torch

from alignkit.metrics import AlignmentAccumulator, model_alignment_matrix, unbiased_cka

BATCH = 4096


def _batch(seed, rows, width):
    """A batch of two related representations, made from its seed alone."""
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((rows, width))
    B = 0.5 * A[:, ::-1] + rng.standard_normal((rows, width)) + 3.0
    return A, B


def _batches(n, width, batch=BATCH):
    for k, start in enumerate(range(0, n, batch)):
        yield _batch(k, min(batch, n - start), width)


def _stream(n, width, batch=BATCH):
    """Streaming unbiased CKA over n generated rows; seconds spent in partial_fit only."""
    acc = AlignmentAccumulator("unbiased_cka")
    seconds = 0.0
    for A, B in _batches(n, width, batch):
        start = time.perf_counter()
        acc.partial_fit(A, B)
        seconds += time.perf_counter() - start
    start = time.perf_counter()
    value = acc.score()
    return value, seconds + time.perf_counter() - start


def _memory_worker(n, width, queue):
    tracemalloc.start()
    value, seconds = _stream(n, width)
    _, peak = tracemalloc.get_traced_memory()
    queue.put(dict(n=n, value=value, seconds=seconds, traced_peak_mb=peak / 2**20,
                   maxrss_mb=_peak_resident_mb()))


def _peak_resident_mb():
    """This process's peak resident memory (``VmHWM``; unlike ``ru_maxrss`` not
    inherited from the parent across ``exec``)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _in_own_process(target, *args):
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=target, args=(*args, queue))
    process.start()
    result = queue.get()
    process.join()
    return result


def bench_time(n_memory, width):
    A, B = (np.vstack(parts) for parts in zip(*_batches(n_memory, width)))
    start = time.perf_counter()
    in_memory = unbiased_cka(A, B)
    t_memory = time.perf_counter() - start
    acc = AlignmentAccumulator("unbiased_cka")
    start = time.perf_counter()
    for lo in range(0, n_memory, BATCH):
        acc.partial_fit(A[lo:lo + BATCH], B[lo:lo + BATCH])
    streamed = acc.score()
    t_same = time.perf_counter() - start
    per_row = t_memory / n_memory
    print(f"in memory, n = {n_memory}: {t_memory:.1f} s ({per_row * 1e6:.1f} us/row)")
    print(f"streamed, same data:  {t_same:.1f} s, ratio {t_same / t_memory:.2f}, "
          f"|diff| = {abs(streamed - in_memory):.1e} (value {in_memory:.6f})")
    return per_row


def bench_memory(ns, width, per_row_in_memory=None):
    for n in ns:
        r = _in_own_process(_memory_worker, n, width)
        ratio = "" if per_row_in_memory is None else (
            f", per-row time / in memory's {r['seconds'] / n / per_row_in_memory:.2f}")
        print(f"n = {n:>9}: traced peak {r['traced_peak_mb']:7.1f} MB, peak RSS "
              f"{r['maxrss_mb']:7.1f} MB, {r['seconds']:.1f} s{ratio}, unbiased CKA "
              f"{r['value']:.6f}")


def bench_dask(n, width, processes):
    import dask.array as da
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=processes,
                      dashboard_address=None) as cluster, Client(cluster):
        state = da.random.RandomState(0)
        A = state.standard_normal((n, width), chunks=(BATCH * 4, width))
        B = 0.5 * A[:, ::-1] + state.standard_normal((n, width), chunks=(BATCH * 4, width))
        start = time.perf_counter()
        on_dask = unbiased_cka(A, B)
        t_dask = time.perf_counter() - start
        start = time.perf_counter()
        A_np, B_np = A.compute(), B.compute()  # the same values, gathered
        t_gather = time.perf_counter() - start
    start = time.perf_counter()
    on_numpy = unbiased_cka(A_np, B_np)
    t_numpy = time.perf_counter() - start
    print(f"dask, n = {n}, d = {width}+{width}, 2 workers ({'processes' if processes else 'threads'}): "
          f"{t_dask:.1f} s (generation included); numpy on the gathered values {t_numpy:.1f} s "
          f"(+{t_gather:.1f} s to gather); ratio {t_dask / t_numpy:.2f}; "
          f"|diff| = {abs(on_dask - on_numpy):.1e}")


def bench_model(n, width, depth, batch):
    torch.manual_seed(0)

    def mlp():
        layers = [torch.nn.Linear(64, width), torch.nn.ReLU()]
        for _ in range(depth - 1):
            layers += [torch.nn.Linear(width, width), torch.nn.ReLU()]
        return torch.nn.Sequential(*layers, torch.nn.Linear(width, 10))

    model_a, model_b = mlp(), mlp()
    X = torch.randn(n, 64)
    names = [str(i) for i in range(0, 2 * depth + 1, 2)]  # every Linear
    start = time.perf_counter()
    with torch.no_grad():
        for lo in range(0, n, batch):
            model_a(X[lo:lo + batch]), model_b(X[lo:lo + batch])
    t_bare = time.perf_counter() - start
    start = time.perf_counter()
    model_alignment_matrix(model_a, model_b, X, layers_a=names, layers_b=names, batch_size=batch)
    t_matrix = time.perf_counter() - start
    print(f"model matrix, {len(names)} x {len(names)} layers of width <= {width}, n = {n}, "
          f"batches of {batch}: {t_matrix:.1f} s vs bare forward passes {t_bare:.2f} s "
          f"(overhead {t_matrix / t_bare:.0f}x; the {len(names) ** 2} accumulators' "
          f"(d_a + d_b)^2 products dominate)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", nargs="*", choices=["time", "memory", "dask", "model"])
    parser.add_argument("--width", type=int, default=512, help="d1 = d2")
    parser.add_argument("--n-in-memory", type=int, default=200_000)
    parser.add_argument("--n-stream", type=int, nargs="*", default=[10**5, 10**6, 10**7])
    parser.add_argument("--n-dask", type=int, default=200_000)
    parser.add_argument("--dask-threads", action="store_true",
                        help="threads instead of worker processes")
    args = parser.parse_args()
    if args.quick:
        args.width, args.n_in_memory = 64, 20_000
        args.n_stream, args.n_dask = [10_000, 100_000], 20_000
    only = set(args.only or ["time", "memory", "dask", "model"])
    torch.set_num_threads(1)
    print(json.dumps(dict(python=platform.python_version(), numpy=np.__version__,
                          torch=torch.__version__, cores=multiprocessing.cpu_count())))
    per_row = bench_time(args.n_in_memory, args.width) if "time" in only else None
    if "memory" in only:
        bench_memory(args.n_stream, args.width, per_row)
    if "dask" in only:
        bench_dask(args.n_dask, args.width // 2 if not args.quick else args.width,
                   processes=not args.dask_threads)
    if "model" in only:
        bench_model(20_000 if not args.quick else 2_000, 256, 3, 256)


if __name__ == "__main__":
    main()
