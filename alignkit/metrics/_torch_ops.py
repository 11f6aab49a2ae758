"""The torch half of the metrics' operation table, imported only when a tensor arrives."""

import numpy as np
import torch


class TorchOps:
    @staticmethod
    def arange(n, like):
        return torch.arange(n, device=like.device)

    @staticmethod
    def zeros(n, like):
        return torch.zeros(n, dtype=torch.float64, device=like.device)

    @staticmethod
    def expm1(x):
        return torch.expm1(x)

    @staticmethod
    def row_max(X):
        return X.amax(1)

    @staticmethod
    def kth_smallest(values, k):
        return torch.kthvalue(values, k + 1).values

    @staticmethod
    def kth_largest_per_row(S, k):
        return torch.kthvalue(S, S.shape[1] - k + 1, dim=1).values

    @staticmethod
    def nonzero(mask):
        return torch.nonzero(mask, as_tuple=True)

    @staticmethod
    def concatenate(arrays):
        return torch.cat(arrays)

    @staticmethod
    def hstack(arrays):
        return torch.hstack(arrays)

    @staticmethod
    def sort(x):
        return torch.sort(x, stable=True)

    @staticmethod
    def searchsorted(sorted_values, values):
        return torch.searchsorted(sorted_values, values)

    @staticmethod
    def bincount(index, weights, n):
        return torch.bincount(index, weights=weights, minlength=n).to(torch.float64)

    @staticmethod
    def svd(X):
        return torch.linalg.svd(X, full_matrices=False)

    @staticmethod
    def svdvals(X):
        return torch.linalg.svdvals(X)


def _tensor_as_float64(X, name):
    if X.is_complex():
        raise TypeError(f"{name} must hold real numbers; got a complex tensor.")
    if X.ndim != 2:
        raise ValueError(
            f"{name} must be a 2-D (n_samples, n_features) tensor; got shape "
            f"{tuple(X.shape)}. Use {name}.reshape(-1, 1) for a single feature."
        )
    if X.shape[0] < 1 or X.shape[1] < 1:
        raise ValueError(
            f"{name} must have at least 1 sample and 1 feature; got shape "
            f"{tuple(X.shape)}."
        )
    X = X.detach().to(torch.float64)
    if not bool(torch.isfinite(X).all()):
        raise ValueError(f"{name} contains NaN or infinity; remove or impute them first.")
    return X


def tensor_pair_as_float64(A, B):
    """Both representations as float64 tensors on the device of the tensor(s) given."""
    tensors = [X for X in (A, B) if isinstance(X, torch.Tensor)]
    device = tensors[0].device
    if any(X.device != device for X in tensors):
        raise ValueError(f"A and B must be on the same device; got {A.device} and {B.device}.")
    return tuple(
        _tensor_as_float64(
            X if isinstance(X, torch.Tensor) else torch.as_tensor(np.asarray(X)), name
        ).to(device)
        for X, name in ((A, "A"), (B, "B"))
    )
