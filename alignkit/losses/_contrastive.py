"""Cross-modal contrastive (InfoNCE) losses."""

from itertools import combinations

import torch
import torch.nn.functional as F

__all__ = ["symmetric_info_nce", "multimodal_info_nce"]


def symmetric_info_nce(z_a, z_b, temperature):
    """Symmetric InfoNCE between two batches of paired, L2-normalised embeddings.

    ``0.5 * [CE(z_a z_b^T / tau, I) + CE(z_b z_a^T / tau, I)]``: row ``i`` of
    ``z_a`` must pick row ``i`` of ``z_b`` among the batch, and the reverse.

    Parameters
    ----------
    z_a, z_b : torch.Tensor of shape (batch_size, dim)
        Paired embeddings; sample ``i`` of one modality matches sample ``i``
        of the other.
    temperature : float or torch.Tensor
        Softmax temperature ``tau > 0``.

    Returns
    -------
    loss : torch.Tensor
        Scalar loss, ``log(batch_size)`` for embeddings that carry no pairing.

    See Also
    --------
    multimodal_info_nce : The mean over every pair of modalities.

    Examples
    --------
    >>> import torch
    >>> from alignkit.losses import symmetric_info_nce
    >>> z = torch.nn.functional.normalize(torch.eye(4), dim=1)
    >>> float(symmetric_info_nce(z, z, 0.07)) < 1e-5
    True
    """
    if z_a.shape != z_b.shape or z_a.ndim != 2:
        raise ValueError(
            "z_a and z_b must be 2-D and of the same shape (batch_size, dim); "
            f"got {tuple(z_a.shape)} and {tuple(z_b.shape)}."
        )
    if z_a.shape[0] < 2:
        raise ValueError(
            "The contrastive term needs a batch of at least 2 paired samples (each "
            f"sample is contrasted with the others); got batch_size={z_a.shape[0]}."
        )
    logits = z_a @ z_b.T / temperature
    targets = torch.arange(z_a.shape[0], device=z_a.device)
    return 0.5 * (F.cross_entropy(logits, targets) + F.cross_entropy(logits.T, targets))


def multimodal_info_nce(z, temperature):
    """Mean symmetric InfoNCE over every pair of modalities.

    The contrastive term of the aligned estimators: for every pair ``i < j``
    of modalities, :func:`symmetric_info_nce` of their projections, averaged.

    Parameters
    ----------
    z : torch.Tensor of shape (batch_size, n_modalities, dim)
        L2-normalised projections of each modality.
    temperature : float or torch.Tensor
        Softmax temperature ``tau > 0``.

    Returns
    -------
    loss : torch.Tensor
        Scalar, the mean of :func:`symmetric_info_nce` over the
        ``n_modalities * (n_modalities - 1) / 2`` pairs.

    See Also
    --------
    symmetric_info_nce : The loss of one pair.

    Examples
    --------
    >>> import torch
    >>> from alignkit.losses import multimodal_info_nce, symmetric_info_nce
    >>> z = torch.nn.functional.normalize(torch.randn(8, 2, 4), dim=-1)
    >>> bool(multimodal_info_nce(z, 0.1) == symmetric_info_nce(z[:, 0], z[:, 1], 0.1))
    True
    """
    pairs = list(combinations(range(z.shape[1]), 2))
    if not pairs:
        raise ValueError(f"The contrastive term needs at least 2 modalities; got {z.shape[1]}.")
    return sum(symmetric_info_nce(z[:, a], z[:, b], temperature) for a, b in pairs) / len(pairs)
