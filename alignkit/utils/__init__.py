"""Helpers for the multimodal data contract."""

from ._information import conditional_mutual_information, entropy, mutual_information
from ._modalities import (
    concat_modalities,
    fit_modality_layout,
    resolve_modalities,
    split_modalities,
)

__all__ = [
    "entropy",
    "mutual_information",
    "conditional_mutual_information",
    "concat_modalities",
    "fit_modality_layout",
    "resolve_modalities",
    "split_modalities",
]
