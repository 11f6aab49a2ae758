"""skorch pieces behind the aligned estimators: the net, its callbacks, its loader."""

import contextlib
import math

import torch
import torch.nn.functional as F
from skorch import NeuralNet
from skorch.callbacks import Callback
from torch.utils.data import DataLoader, Dataset, Sampler

from .losses import multimodal_info_nce


class AlignmentNet(NeuralNet):
    """skorch net whose loss is Σ_m task_m (+ fused head) + lam · InfoNCE.

    The module is a :class:`~alignkit.nets.MultimodalAlignmentNet`; its
    output is ``(fused, outputs, z, h)``. The task and contrastive parts are
    recorded per batch (``train_task_loss``, ``train_contrastive_loss``).
    """

    def __init__(self, *args, lam=0.0, lam_warmup=0, stop_gradient=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.lam = lam
        self.lam_warmup = lam_warmup
        self.stop_gradient = stop_gradient

    def current_lam(self):
        """λ of the running epoch: ramped linearly over the first ``lam_warmup`` epochs."""
        if self.lam_warmup <= 0:
            return self.lam
        return self.lam * min(1.0, max(len(self.history), 1) / self.lam_warmup)

    def _contrastive_projections(self, z, h):
        """``z`` with the stop-gradient modalities re-projected from detached embeddings.

        Their projection heads still learn, but no contrastive gradient reaches
        their encoders, so those encoders train exactly as at ``lam = 0``.
        """
        if not self.stop_gradient:
            return z
        branches = self.module_.branches
        return torch.stack([
            F.normalize(branches[m].projection(h[:, m].detach()), dim=-1)
            if m in self.stop_gradient else z[:, m]
            for m in range(z.shape[1])
        ], dim=1)

    def get_loss(self, y_pred, y_true, X=None, training=False):
        fused, outputs, z, h = y_pred
        y_true = y_true.to(outputs.device)
        task = sum(self.criterion_(outputs[:, m], y_true) for m in range(outputs.shape[1]))
        if self.module_.fusion_head is not None:
            task = task + self.criterion_(fused, y_true)
        # lam == 0 leaves the graph without the contrastive term, so each
        # modality's gradient is exactly its own task gradient.
        lam = self.current_lam()
        contrastive = None
        if lam > 0 and z.shape[0] > 1:
            contrastive = multimodal_info_nce(self._contrastive_projections(z, h),
                                              self.module_.temperature)
        prefix = "train" if training else "valid"
        self.history.record_batch(f"{prefix}_task_loss", task.item())
        if training:
            self.history.record_batch(
                "train_contrastive_loss", contrastive.item() if contrastive is not None else 0.0
            )
        return task if contrastive is None else task + lam * contrastive

    def on_epoch_begin(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        super().on_epoch_begin(net, dataset_train, dataset_valid, **kwargs)
        self.history.record("lam", self.current_lam())


class TensorDataset(Dataset):
    """``X`` and ``y`` as tensors, indexed a whole batch at a time.

    skorch's default dataset indexes through sklearn's ``_safe_indexing`` on
    every batch; with :func:`batch_loader` one tensor gather does the job.
    """

    def __init__(self, X, y):
        self.X = torch.as_tensor(X)
        self.y = torch.as_tensor(y)

    def __len__(self):
        return len(self.X)

    def __getitem__(self, index):
        return self.X[index], self.y[index]


class _IndexBatches(Sampler):
    """Batches of row indices as tensors: one ``randperm`` per epoch, no Python loop per row."""

    def __init__(self, n_samples, batch_size, shuffle):
        self.n_samples, self.batch_size, self.shuffle = n_samples, batch_size, shuffle

    def __len__(self):
        return math.ceil(self.n_samples / self.batch_size)

    def __iter__(self):
        order = torch.randperm(self.n_samples) if self.shuffle else torch.arange(self.n_samples)
        return iter(order.split(self.batch_size))


def resolve_device(device):
    """``"auto"``: CUDA when available, else the CPU; ``"cuda"`` must be available."""
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError("device='cuda' was asked for but CUDA is not available here; "
                         "use device='cpu' or device='auto'.")
    return device


def batch_loader(dataset, batch_size, shuffle=False):
    """DataLoader that fetches whole batches by fancy indexing, not sample by sample."""
    sampler = _IndexBatches(len(dataset), batch_size, shuffle)
    return DataLoader(dataset, sampler=sampler, batch_size=None)


class ValidationScoring(Callback):
    """Record ``valid_score``: a scorer of the estimator on the validation split.

    The scorer sees the estimator being fitted (its ``net_`` set to the net in
    training) and the validation targets in their original form, so any
    scikit-learn scorer, or :func:`~alignkit.metrics.modality_scorer`, works.
    """

    def __init__(self, estimator, scorer, decode_targets):
        self.estimator = estimator
        self.scorer = scorer
        self.decode_targets = decode_targets

    def on_epoch_end(self, net, dataset_valid=None, **kwargs):
        self.estimator.net_ = net
        # skorch's ValidSplit hands over a Subset of the TensorDataset.
        rows = torch.as_tensor(dataset_valid.indices)
        X, y = dataset_valid.dataset.X[rows].numpy(), dataset_valid.dataset.y[rows].numpy()
        net.history.record("valid_score", float(self.scorer(self.estimator, X, self.decode_targets(y))))


class PerModalityGradientClipping(Callback):
    """Clip each modality branch's gradient norm on its own.

    Joint clipping would let one modality's large gradient shrink another's
    step, coupling modalities that ``lam = 0`` must keep independent.
    """

    def __init__(self, max_norm):
        self.max_norm = max_norm

    def on_grad_computed(self, net, named_parameters, **kwargs):
        module = net.module_
        groups = list(module.branches)
        if module.fusion_head is not None:
            groups.append(module.fusion_head)
        for group in groups:
            torch.nn.utils.clip_grad_norm_(group.parameters(), self.max_norm)


class DivergenceGuard(Callback):
    """Stop training with an error as soon as a batch loss diverges.

    A loss diverges when it is not finite, or when it exceeds ``factor``
    times the first epoch's mean training loss (at least ``factor``): a run
    whose loss explodes to 1e31 without reaching NaN would otherwise end at
    chance accuracy with no word. ``advice`` ends the message; by default,
    the aligned estimators' remedies.
    """

    def __init__(self, advice=None, factor=1e6):
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
        advice = self.advice or (
            f"Try a lower lr (now {net.lr}), a higher temperature (now "
            f"{float(net.module_.temperature):.3g}) or grad_clip."
        )
        what = (f"became {loss}" if not math.isfinite(loss) else
                f"reached {loss:.3g}, over {self.factor:.0e} times its first epoch's value")
        raise FloatingPointError(
            f"Training diverged in epoch {len(net.history)}: the {key} {what}. {advice}"
        )


class EpochProgressBar(Callback):
    """A tqdm bar over epochs, showing the last training loss."""

    def __init__(self, desc="training"):
        self.desc = desc

    def on_train_begin(self, net, **kwargs):
        from tqdm.auto import tqdm

        self.bar_ = tqdm(total=net.max_epochs, desc=self.desc, unit="epoch", leave=False)

    def on_epoch_end(self, net, **kwargs):
        self.bar_.set_postfix(loss=f"{net.history[-1, 'train_loss']:.4f}")
        self.bar_.update()

    def on_train_end(self, net, **kwargs):
        self.bar_.close()


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
