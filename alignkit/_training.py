"""What only the aligned estimators train with: their skorch net and callbacks.

:class:`AlignmentNet` (task losses + λ·InfoNCE, λ warm-up, stop-gradient),
validation scoring, per-modality gradient clipping, the remedies quoted when
their loss diverges, and the progress bar. The torch plumbing they share with
the batch PID estimator (device, threads, seeding, loader, divergence guard)
is in :mod:`alignkit.utils._torch`.
"""

import torch
import torch.nn.functional as F
from skorch import NeuralNet
from skorch.callbacks import Callback

from .losses import multimodal_info_nce


class AlignmentNet(NeuralNet):
    """skorch net whose loss is Σ_m task_m (+ fused head) + lam · InfoNCE.

    The module is a :class:`~alignkit.nets.MultimodalAlignmentNet`; its
    output is a :class:`~alignkit.nets.MultimodalOutput`. The task and
    contrastive parts are recorded per batch (``train_task_loss``,
    ``train_contrastive_loss``).
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
        outputs = y_pred.outputs
        y_true = y_true.to(outputs.device)
        task = sum(self.criterion_(outputs[:, m], y_true) for m in range(outputs.shape[1]))
        if self.module_.fusion_head is not None:
            task = task + self.criterion_(y_pred.fused, y_true)
        # lam == 0 leaves the graph without the contrastive term, so each
        # modality's gradient is exactly its own task gradient.
        lam = self.current_lam()
        contrastive = None
        if lam > 0 and y_pred.z.shape[0] > 1:
            contrastive = multimodal_info_nce(self._contrastive_projections(y_pred.z, y_pred.h),
                                              self.module_.temperature)
        prefix = "train" if training else "valid"
        self.history.record_batch(f"{prefix}_task_loss", task.item())
        if training:
            self.history.record_batch(
                "train_contrastive_loss", contrastive.item() if contrastive is not None else 0.0
            )
        return task if contrastive is None else task + lam * contrastive

    def evaluation_step(self, batch, training=False):
        # skorch's inference moves a tuple output to its device by calling
        # type(output)(generator), which a NamedTuple does not take: hand it a
        # plain tuple, fused output first, as net_.predict_proba expects.
        return tuple(super().evaluation_step(batch, training))

    def on_epoch_begin(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        super().on_epoch_begin(net, dataset_train, dataset_valid, **kwargs)
        self.history.record("lam", self.current_lam())


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

    def on_train_begin(self, net, **kwargs):
        self.estimator.net_ = net
        self.valid_ = None  # gathered once, at the first epoch's validation split

    def on_epoch_end(self, net, dataset_valid=None, **kwargs):
        if self.valid_ is None:
            # skorch's ValidSplit hands over a Subset of the TensorDataset.
            rows = torch.as_tensor(dataset_valid.indices)
            X, y = (tensor[rows].numpy() for tensor in dataset_valid.dataset.tensors)
            self.valid_ = X, self.decode_targets(y)
        net.history.record("valid_score", float(self.scorer(self.estimator, *self.valid_)))


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


def divergence_advice(net):
    """The aligned estimators' remedies for a diverging loss, quoting the net's settings."""
    return (f"Try a lower lr (now {net.lr}), a higher temperature (now "
            f"{float(net.module_.temperature):.3g}) or grad_clip.")


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
