"""Per-modality encoders: flat features of one modality -> an embedding.

Every encoder takes ``(batch, input_dim)`` float tensors (its modality's slice
of ``X``) and returns ``(batch, embed_dim)``. ``layer_outputs(x)`` returns
every hidden representation, the last being the embedding; it is what
``transform_layers`` reads for layer-pair alignment.

:func:`make_encoder` turns the aligned estimators' ``encoder`` parameter into
a module and :func:`check_encoder_output` checks its output's shape: a new
encoder type is added here, to both.
"""

import copy
import math
from numbers import Integral

import torch
from torch import nn

from ..utils._docstrings import Substitution

__all__ = ["MLPEncoder", "TransformerEncoder"]


class MLPEncoder(nn.Module):
    """Multilayer perceptron encoder with LeakyReLU(0.1) activations.

    Linear layers of ``hidden_dims`` widths, each followed by the activation,
    then a linear map to ``embed_dim``; :meth:`layer_outputs` exposes every
    hidden layer for layer-wise alignment.

    Parameters
    ----------
    input_dim : int
        Number of input features of the modality.
    embed_dim : int
        Width of the output embedding.
    hidden_dims : tuple of int, default=(128, 128)
        Widths of the hidden layers.
    negative_slope : float, default=0.1
        Slope of the LeakyReLU for negative inputs (the emergence paper's 0.1).

    See Also
    --------
    TransformerEncoder : An encoder of sequences.

    Examples
    --------
    >>> import torch
    >>> from alignkit.nets import MLPEncoder
    >>> enc = MLPEncoder(input_dim=6, embed_dim=4, hidden_dims=(8,))
    >>> [tuple(h.shape) for h in enc.layer_outputs(torch.zeros(3, 6))]
    [(3, 8), (3, 4)]
    """

    def __init__(self, input_dim, embed_dim, hidden_dims=(128, 128), negative_slope=0.1):
        super().__init__()
        widths = [input_dim, *hidden_dims]
        self.hidden = nn.ModuleList(
            nn.Sequential(nn.Linear(w_in, w_out), nn.LeakyReLU(negative_slope))
            for w_in, w_out in zip(widths[:-1], widths[1:])
        )
        self.out = nn.Linear(widths[-1], embed_dim)

    @Substitution()
    def layer_outputs(self, x):
        """Every hidden layer's output, the embedding last.

        {encoder_layers_sections}
        """
        outputs = []
        for layer in self.hidden:
            x = layer(x)
            outputs.append(x)
        outputs.append(self.out(x))
        return outputs

    @Substitution()
    def forward(self, x):
        """The embedding of a batch.

        {encoder_forward_sections}
        """
        for layer in self.hidden:
            x = layer(x)
        return self.out(x)


class TransformerEncoder(nn.Module):
    """Transformer encoder for a modality that is a sequence ``(seq_len, dim)``.

    The flat slice of ``X`` is reshaped to ``input_shape``. Time steps whose
    features are all zero are padding and are masked out of attention and
    pooling. A learned CLS token is always prepended, so a sample made only of
    padding is still well defined.

    Parameters
    ----------
    input_dim : int
        Number of flat input features, ``seq_len * dim``.
    embed_dim : int
        Width of the output embedding.
    input_shape : tuple of (int, int)
        ``(seq_len, dim)`` of one sample.
    d_model : int, default=64
        Width of the transformer.
    n_heads : int, default=4
        Attention heads; must divide ``d_model``.
    n_layers : int, default=2
        Transformer layers.
    dim_feedforward : int, default=None
        Width of the feed-forward blocks; ``2 * d_model`` when None.
    dropout : float, default=0.0
        Dropout inside the transformer layers.
    pooling : {"cls", "mean"}, default="cls"
        Sequence summary: the CLS token, or the mean of the non-padding steps.

    See Also
    --------
    MLPEncoder : An encoder of flat features.

    Examples
    --------
    >>> import torch
    >>> from alignkit.nets import TransformerEncoder
    >>> enc = TransformerEncoder(input_dim=10, embed_dim=4, input_shape=(5, 2), d_model=8)
    >>> tuple(enc(torch.randn(3, 10)).shape)
    (3, 4)
    """

    def __init__(
        self,
        input_dim,
        embed_dim,
        input_shape,
        d_model=64,
        n_heads=4,
        n_layers=2,
        dim_feedforward=None,
        dropout=0.0,
        pooling="cls",
    ):
        super().__init__()
        if input_shape is None or len(input_shape) != 2 or math.prod(input_shape) != input_dim:
            raise ValueError(
                "encoder='transformer' needs input_shape=(seq_len, dim) with "
                f"seq_len * dim == {input_dim} features of its modality; got "
                f"input_shape={input_shape!r}."
            )
        if pooling not in ("cls", "mean"):
            raise ValueError(f"pooling must be 'cls' or 'mean'; got {pooling!r}.")
        self.input_shape = tuple(int(s) for s in input_shape)
        self.pooling = pooling
        seq_len, dim = self.input_shape
        self.embed = nn.Linear(dim, d_model)
        self.cls = nn.Parameter(torch.zeros(1, 1, d_model))
        self.position = nn.Parameter(torch.randn(1, seq_len + 1, d_model) * 0.02)
        self.layers = nn.ModuleList(
            nn.TransformerEncoderLayer(
                d_model,
                n_heads,
                dim_feedforward=dim_feedforward or 2 * d_model,
                dropout=dropout,
                batch_first=True,
                norm_first=True,
            )
            for _ in range(n_layers)
        )
        self.out = nn.Linear(d_model, embed_dim)

    def _pool(self, h, padding):
        if self.pooling == "cls":
            return h[:, 0]
        keep = (~padding[:, 1:]).unsqueeze(-1).to(h.dtype)
        n_kept = keep.sum(dim=1)
        mean = (h[:, 1:] * keep).sum(dim=1) / n_kept.clamp(min=1)
        # A sample that is all padding falls back to its CLS token.
        return torch.where(n_kept > 0, mean, h[:, 0])

    @Substitution()
    def layer_outputs(self, x):
        """The class token after every transformer layer, the embedding last.

        {encoder_layers_sections}
        """
        seq = x.reshape(x.shape[0], *self.input_shape)
        padding = seq.abs().sum(dim=-1) == 0
        padding = torch.cat([padding.new_zeros(x.shape[0], 1), padding], dim=1)
        h = torch.cat([self.cls.expand(x.shape[0], -1, -1), self.embed(seq)], dim=1)
        h = h + self.position
        outputs = []
        for layer in self.layers:
            h = layer(h, src_key_padding_mask=padding)
            outputs.append(self._pool(h, padding))
        outputs.append(self.out(outputs[-1] if outputs else self._pool(h, padding)))
        return outputs

    @Substitution()
    def forward(self, x):
        """The embedding of a batch.

        {encoder_forward_sections}
        """
        return self.layer_outputs(x)[-1]


def make_encoder(spec, input_dim, embed_dim, *, hidden_dims, input_shape, kwargs):
    """The encoder of one modality from the estimators' ``encoder`` parameter.

    ``spec`` is ``"mlp"`` (an :class:`MLPEncoder` of ``hidden_dims``),
    ``"transformer"`` (a :class:`TransformerEncoder` over ``input_shape``),
    an ``nn.Module`` (deep-copied) or a callable called as
    ``spec(input_dim=..., embed_dim=..., **kwargs)`` returning one.
    """
    if spec == "mlp":
        if not all(isinstance(w, Integral) and not isinstance(w, bool) and w > 0
                   for w in hidden_dims):
            raise ValueError(
                f"hidden_dims must hold positive ints (the width of each hidden "
                f"layer; () for none); got {hidden_dims!r}."
            )
        return MLPEncoder(input_dim, embed_dim, hidden_dims=tuple(hidden_dims), **kwargs)
    if spec == "transformer":
        return TransformerEncoder(input_dim, embed_dim, input_shape=input_shape, **kwargs)
    if isinstance(spec, nn.Module):
        return copy.deepcopy(spec)
    if callable(spec):
        module = spec(input_dim=input_dim, embed_dim=embed_dim, **kwargs)
        if isinstance(module, nn.Module):
            return module
    raise TypeError(
        "encoder must be 'mlp', 'transformer', a torch.nn.Module, or a callable "
        "(e.g. an nn.Module class) called as encoder(input_dim=..., embed_dim=..., "
        f"**encoder_kwargs) that returns an nn.Module; got {spec!r}."
    )


def check_encoder_output(encoder, input_dim, embed_dim, modality):
    """Raise, naming ``modality``, unless ``encoder`` maps ``(2, input_dim)`` to ``(2, embed_dim)``."""
    encoder.eval()
    with torch.no_grad():
        out = encoder(torch.zeros(2, input_dim))
    encoder.train()
    if not isinstance(out, torch.Tensor) or tuple(out.shape) != (2, embed_dim):
        shape = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        raise ValueError(
            f"The encoder of modality {modality} returned {shape} for a batch of 2 samples "
            f"with {input_dim} features; expected a tensor of shape (batch_size, embed_dim) "
            f"= (2, {embed_dim})."
        )
