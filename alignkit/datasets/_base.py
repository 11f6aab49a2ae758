"""Helpers shared by the generators and loaders of :mod:`alignkit.datasets`."""

import math

import numpy as np
import torch
from sklearn.utils import Bunch
from torch import nn

from ..utils import concat_modalities


def random_transform(n_features, depth, generator):
    """A random, untrained ``Linear`` followed by ``depth`` x [``Tanh``, ``Linear``].

    The weights are drawn exactly as ``torch.nn.Linear`` initialises them
    (weight by Kaiming-uniform with ``a=sqrt(5)``, then bias from
    U(-1/sqrt(fan_in), 1/sqrt(fan_in))), but from ``generator`` instead of the
    global torch seed, so a seeded generator gives the same modules as
    ``torch.manual_seed`` followed by ``nn.Linear(...)`` calls would.
    """
    layers = [_seeded_linear(n_features, generator)]
    for _ in range(depth):
        layers += [nn.Tanh(), _seeded_linear(n_features, generator)]
    return nn.Sequential(*layers).requires_grad_(False)


def _seeded_linear(n_features, generator):
    # Construct on the meta device: nn.Linear's own init would draw from the
    # global generator, which must stay untouched.
    layer = nn.Linear(n_features, n_features, device="meta").to_empty(device="cpu")
    with torch.no_grad():
        nn.init.kaiming_uniform_(layer.weight, a=math.sqrt(5), generator=generator)
        bound = 1 / math.sqrt(n_features)
        nn.init.uniform_(layer.bias, -bound, bound, generator=generator)
    return layer


def heterogeneity_transforms(modality_dims, depth, on, seed):
    """Per modality, the random transform of depth ``depth`` or None.

    ``on="second"`` transforms the second modality only, ``"both"`` both. The
    transforms of every shallower depth are built first, consuming a
    ``torch.Generator`` seeded with ``seed`` as the emergence paper's script
    consumes torch's global generator, so that seed 0 gives its transforms.
    """
    if depth is None:
        return [None] * len(modality_dims)
    generator = torch.Generator().manual_seed(int(seed))
    transformed = [on == "both", True]
    for d in range(depth + 1):
        transforms = [
            random_transform(dim, d, generator) if t else None
            for dim, t in zip(modality_dims, transformed)
        ]
    return transforms


def apply_transforms(Xs, transforms):
    """Run each float32 torch module (or None: identity) on its modality; float64."""
    out = []
    for x, module in zip(Xs, transforms):
        if module is not None:
            with torch.no_grad():
                x = module(torch.as_tensor(np.asarray(x, dtype=np.float32))).numpy()
        out.append(np.asarray(x, dtype=np.float64))
    return out


def feature_names(modality_names, modality_dims):
    """``name__j`` column names, the prefixes the data contract reads."""
    return [f"{name}__{j}" for name, dim in zip(modality_names, modality_dims) for j in range(dim)]


def modality_bunch(Xs, y, modality_names, *, as_frame=False, input_shapes=None, **extra):
    """The Bunch every generator and loader returns.

    ``X`` holds the modalities of ``Xs`` flattened side by side (a DataFrame
    with ``name__j`` columns when ``as_frame``), with ``modality_dims``,
    ``modality_names``, ``input_shapes`` (each modality's per-sample shape,
    by default its trailing shape in ``Xs``) and ``feature_names``.
    """
    X, modality_dims = concat_modalities(Xs)
    names = feature_names(modality_names, modality_dims)
    if as_frame:
        import pandas as pd

        X, y = pd.DataFrame(X, columns=names), pd.Series(y, name="y")
    if input_shapes is None:
        input_shapes = [tuple(np.shape(x)[1:]) for x in Xs]
    return Bunch(
        X=X,
        y=y,
        modality_dims=modality_dims,
        modality_names=list(modality_names),
        input_shapes=input_shapes,
        feature_names=names,
        **extra,
    )
