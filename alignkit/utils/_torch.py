"""The torch plumbing every torch-backed part of alignkit shares.

Where training runs (:func:`resolve_device`), on how many threads
(:func:`torch_threads`), from which seed (:func:`forked_torch_rng`), on which
batches (:func:`batch_loader`), and when it must stop (:class:`DivergenceGuard`).
The aligned estimators (:mod:`alignkit._training`) and the batch PID estimator
(:mod:`alignkit.pid._batch`) both train skorch nets with these. Private, and
imported only by torch-backed modules: :mod:`alignkit.utils` does not import it.
"""

import contextlib
import math

import torch
from skorch.callbacks import Callback
from torch.utils.data import DataLoader, Sampler


def resolve_device(device):
    """``"auto"``: CUDA when available, else the CPU; ``"cuda"`` must be available."""
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError("device='cuda' was asked for but CUDA is not available here; "
                         "use device='cpu' or device='auto'.")
    return device


@contextlib.contextmanager
def torch_threads(n_threads):
    """Run torch with ``n_threads`` intra-op threads (unchanged when None)."""
    if n_threads is None:
        yield
        return
    previous = torch.get_num_threads()
    torch.set_num_threads(n_threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


@contextlib.contextmanager
def forked_torch_rng(device, seed=None):
    """Run with a fork of torch's global RNG, seeded with ``seed`` when given.

    The caller's torch random stream is restored on exit, so fitting with a
    ``random_state`` neither depends on nor changes it. CUDA generators are
    forked only when ``device`` is CUDA (forking them initialises CUDA).
    """
    devices = None if str(device).startswith("cuda") else []
    with torch.random.fork_rng(devices=devices):
        if seed is not None:
            torch.manual_seed(seed)
        yield


class _IndexBatches(Sampler):
    """Batches of row indices as tensors: one ``randperm`` per epoch, no Python loop per row.

    torch's own ``BatchSampler`` over a ``RandomSampler`` builds every batch as
    a Python list, one index at a time, and the ``DataLoader`` then fetches
    and collates sample by sample. Here a batch is one slice of one
    permutation, and ``TensorDataset`` gathers it with one tensor index. An
    epoch of loading 65 536 rows in batches of 512 on one CPU thread took
    25 ms against 85 ms with ``BatchSampler(RandomSampler(...))`` and 621 ms
    with the default per-row loader (3.0--3.5x and 19--30x over three runs on
    a loaded machine; ``benchmarks/bench_loader.py``, docs/benchmarks.rst).
    """

    def __init__(self, n_samples, batch_size, shuffle):
        self.n_samples, self.batch_size, self.shuffle = n_samples, batch_size, shuffle

    def __len__(self):
        return math.ceil(self.n_samples / self.batch_size)

    def __iter__(self):
        order = torch.randperm(self.n_samples) if self.shuffle else torch.arange(self.n_samples)
        return iter(order.split(self.batch_size))


def batch_loader(dataset, batch_size, shuffle=False):
    """DataLoader that fetches whole batches by one index each, not sample by sample.

    ``dataset`` indexes with a tensor of rows, as ``torch.utils.data.TensorDataset``
    does; skorch calls this as its ``iterator_train`` / ``iterator_valid``.
    """
    sampler = _IndexBatches(len(dataset), batch_size, shuffle)
    return DataLoader(dataset, sampler=sampler, batch_size=None)


class DivergenceGuard(Callback):
    """Stop training with an error as soon as a batch loss diverges.

    A loss diverges when it is not finite, or when it exceeds ``factor``
    times the first epoch's mean training loss (at least ``factor``): a run
    whose loss explodes to 1e31 without reaching NaN would otherwise end at
    chance accuracy with no word. Training that ends with non-finite weights
    (a last step whose gradient was not finite) has diverged too.

    Parameters
    ----------
    advice : str or callable
        Ends the error message: the remedies, or ``advice(net) -> str`` for
        remedies that quote the net's state when it diverged.
    factor : float, default=1e6
        How many times the first epoch's loss counts as diverged.
    """

    def __init__(self, advice, factor=1e6):
        self.advice = advice
        self.factor = factor

    def on_train_begin(self, net, **kwargs):
        self.limit_ = math.inf

    def on_epoch_end(self, net, **kwargs):
        if len(net.history) == 1:
            self.limit_ = self.factor * max(abs(net.history[0, "train_loss"]), 1.0)

    def on_batch_end(self, net, training, **kwargs):
        key = "train_loss" if training else "valid_loss"
        loss = net.history[-1, "batches", -1, key]
        if math.isfinite(loss) and abs(loss) <= self.limit_:
            return
        what = (f"became {loss}" if not math.isfinite(loss) else
                f"reached {loss:.3g}, over {self.factor:.0e} times its first epoch's value")
        self._fail(net, f"the {key} {what}")

    def on_train_end(self, net, **kwargs):
        # A batch's loss is computed before its step, so only the weights
        # show a last step that went non-finite.
        if not all(bool(torch.isfinite(p).all()) for p in net.module_.parameters()):
            self._fail(net, "its last step left non-finite weights")

    def _fail(self, net, what):
        advice = self.advice(net) if callable(self.advice) else self.advice
        raise FloatingPointError(f"Training diverged in epoch {len(net.history)}: {what}. {advice}")
