"""The multimodal network: per-modality branches, fused head, temperature."""

import math
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from ..utils._docstrings import Substitution

__all__ = ["ModalityBranch", "MultimodalAlignmentNet", "MultimodalOutput"]


class MultimodalOutput(NamedTuple):
    """What :class:`MultimodalAlignmentNet` returns for a batch of ``X``.

    A tuple, so skorch's ``predict_proba`` takes ``fused`` (its first
    element) as the net's prediction.

    Attributes
    ----------
    fused : torch.Tensor of shape (batch, n_outputs)
        The mean of the unimodal outputs, or the concat head's output on the
        (gradient-detached) embeddings, so the fusion head never shapes the
        encoders.
    outputs : torch.Tensor of shape (batch, n_modalities, n_outputs)
        Each unimodal head's output.
    z : torch.Tensor of shape (batch, n_modalities, projection_dim)
        The L2-normalised projections the contrastive term compares.
    h : torch.Tensor of shape (batch, n_modalities, embed_dim)
        The embeddings.

    See Also
    --------
    MultimodalAlignmentNet : The network that returns it.

    Examples
    --------
    >>> from alignkit.nets import MultimodalOutput
    >>> MultimodalOutput._fields
    ('fused', 'outputs', 'z', 'h')
    """

    fused: torch.Tensor
    outputs: torch.Tensor
    z: torch.Tensor
    h: torch.Tensor


class ModalityBranch(nn.Module):
    """One modality's encoder, task head and projection head.

    ``encoder`` embeds the modality; ``head`` (linear) predicts the task
    from the embedding and ``projection`` (linear) maps it to the space the
    contrastive term compares.

    Parameters
    ----------
    encoder : torch.nn.Module
        Maps the modality's flat features ``(batch, input_dim)`` to
        ``(batch, embed_dim)``.
    embed_dim : int
        Width of the encoder's output.
    n_outputs : int
        Number of logits (classes) or regression targets.
    projection_dim : int
        Width of the L2-normalised projection used by the contrastive term.

    See Also
    --------
    MultimodalAlignmentNet : The branches side by side.
    """

    def __init__(self, encoder, embed_dim, n_outputs, projection_dim):
        super().__init__()
        self.encoder = encoder
        self.head = nn.Linear(embed_dim, n_outputs)
        self.projection = nn.Linear(embed_dim, projection_dim)

    @Substitution()
    def layer_outputs(self, x):
        """Every hidden layer of the encoder (just its output for an encoder without layers).

        {encoder_layers_sections}
        """
        layers = getattr(self.encoder, "layer_outputs", None)
        return layers(x) if layers is not None else [self.encoder(x)]


class MultimodalAlignmentNet(nn.Module):
    """Unimodal models side by side, tied only by the contrastive loss.

    ``forward(X)`` splits the flat ``X`` into the modalities' column blocks
    and returns a :class:`MultimodalOutput` ``(fused, outputs, z, h)``: the
    fused prediction, each unimodal head's, the contrastive projections and
    the embeddings.

    Parameters
    ----------
    branches : list of ModalityBranch
        One per modality, in column order.
    modality_dims : list of int
        Columns of each modality in ``X``.
    embed_dim : int
        Width of every embedding.
    n_outputs : int
        Logits or regression targets per head.
    fusion : {"mean", "concat"}
        How ``fused`` is formed.
    temperature : float
        Initial contrastive temperature.
    learn_temperature : bool
        Whether the temperature is a trained parameter (kept >= 0.01).

    See Also
    --------
    alignkit.AlignedMultimodalClassifier : The estimator that trains it.

    Examples
    --------
    >>> import torch
    >>> from alignkit.nets import MLPEncoder, ModalityBranch, MultimodalAlignmentNet
    >>> branches = [ModalityBranch(MLPEncoder(d, 8, hidden_dims=(16,)), 8, 3, 4) for d in (5, 2)]
    >>> net = MultimodalAlignmentNet(branches, [5, 2], 8, 3, "mean", 0.1, False)
    >>> out = net(torch.zeros(10, 7))
    >>> out.fused.shape, out.outputs.shape, out.z.shape, out.h.shape
    (torch.Size([10, 3]), torch.Size([10, 2, 3]), torch.Size([10, 2, 4]), torch.Size([10, 2, 8]))
    """

    def __init__(
        self, branches, modality_dims, embed_dim, n_outputs, fusion, temperature, learn_temperature
    ):
        super().__init__()
        self.branches = nn.ModuleList(branches)
        self.modality_dims = list(modality_dims)
        self.fusion = fusion
        self.fusion_head = (
            nn.Linear(embed_dim * len(branches), n_outputs) if fusion == "concat" else None
        )
        log_tau = torch.tensor(math.log(temperature))
        if learn_temperature:
            self.log_temperature = nn.Parameter(log_tau)
        else:
            self.register_buffer("log_temperature", log_tau)

    @property
    def temperature(self):
        """The InfoNCE temperature ``exp(log_temperature)``, kept >= 0.01 (a 0-d tensor)."""
        return self.log_temperature.exp().clamp(min=0.01)

    @Substitution()
    def split(self, X):
        """The modalities' column blocks of a batch.

        Parameters
        ----------
        {X_batch}

        Returns
        -------
        blocks : tuple of torch.Tensor
            One ``(batch, modality_dims[m])`` view per modality.
        """
        return torch.split(X, self.modality_dims, dim=1)

    @Substitution()
    def embed(self, X):
        """Every modality's embedding of a batch.

        Parameters
        ----------
        {X_batch}

        Returns
        -------
        {embeddings}
        """
        return torch.stack(
            [branch.encoder(x) for branch, x in zip(self.branches, self.split(X))], dim=1
        )

    @Substitution()
    def forward(self, X):
        """The fused prediction, each modality's head, projections and embeddings.

        Parameters
        ----------
        {X_batch}

        Returns
        -------
        fused : torch.Tensor of shape (batch, n_outputs)
            The fused heads' output (see ``fusion``).
        outputs : torch.Tensor of shape (batch, n_modalities, n_outputs)
            Each modality's head output.
        z : torch.Tensor of shape (batch, n_modalities, projection_dim)
            The L2-normalised projections InfoNCE compares.
        {embeddings}
        """
        h = self.embed(X)
        outputs = torch.stack([b.head(h[:, m]) for m, b in enumerate(self.branches)], dim=1)
        z = F.normalize(
            torch.stack([b.projection(h[:, m]) for m, b in enumerate(self.branches)], dim=1),
            dim=-1,
        )
        if self.fusion_head is None:
            fused = outputs.mean(dim=1)
        else:
            fused = self.fusion_head(h.detach().flatten(1))
        return MultimodalOutput(fused, outputs, z, h)

    @Substitution()
    def layer_outputs(self, X):
        """Every hidden layer of every encoder.

        Parameters
        ----------
        {X_batch}

        Returns
        -------
        layers : list of list of torch.Tensor
            Per modality, its encoder's layers (the embedding last).
        """

        return [b.layer_outputs(x) for b, x in zip(self.branches, self.split(X))]
