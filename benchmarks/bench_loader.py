"""One epoch of batch loading: alignkit's batch sampler against torch's samplers.

Every loader serves the same ``torch.utils.data.TensorDataset`` (65 536 rows of
24 float32 features and an int64 target, as in ``bench_training.py``) in
shuffled batches of 512; an epoch is one pass over the loader, with no model.

- ``alignkit``: :func:`alignkit.utils._torch.batch_loader`, one ``randperm``
  split into index tensors, each batch gathered by one tensor index;
- ``torch BatchSampler``: ``BatchSampler(RandomSampler(...))`` as the sampler,
  batches gathered whole, but each built as a Python list of indices;
- ``torch default``: ``DataLoader(dataset, batch_size, shuffle=True)``, which
  fetches every row on its own and collates the batch.

Each loader's fastest of ``--repeats`` epochs is reported (the least
disturbed by other work, as timeit does), with the ratio to alignkit's.

    python benchmarks/bench_loader.py
    python benchmarks/bench_loader.py --n-samples 8192 --repeats 5   # smoke run
"""

import argparse
import time

import torch
from torch.utils.data import BatchSampler, DataLoader, RandomSampler, TensorDataset

from alignkit.utils._torch import batch_loader


def epoch_time(loader):
    start = time.perf_counter()
    for X, y in loader:
        pass
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=65536)
    parser.add_argument("--batch-size", type=int, default=512)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    dataset = TensorDataset(torch.randn(args.n_samples, 24), torch.randint(0, 4, (args.n_samples,)))
    loaders = {
        "alignkit": batch_loader(dataset, args.batch_size, shuffle=True),
        "torch BatchSampler": DataLoader(
            dataset, batch_size=None,
            sampler=BatchSampler(RandomSampler(dataset), args.batch_size, drop_last=False)),
        "torch default": DataLoader(dataset, batch_size=args.batch_size, shuffle=True),
    }
    times = {name: [] for name in loaders}
    # Interleaved, so that machine noise hits every loader alike.
    for _ in range(args.repeats):
        for name, loader in loaders.items():
            times[name].append(epoch_time(loader))
    best = {name: min(t) for name, t in times.items()}
    print(f"n={args.n_samples} batch={args.batch_size} torch_threads={torch.get_num_threads()} "
          f"repeats={args.repeats}")
    print(f"{'':20s}{'ms/epoch':>10s}{'x alignkit':>12s}")
    for name, t in best.items():
        print(f"{name:20s}{1e3 * t:10.1f}{t / best['alignkit']:12.1f}")


if __name__ == "__main__":
    main()
