"""Torch modules: per-modality encoders and the multimodal alignment network."""

from ._encoders import MLPEncoder, TransformerEncoder
from ._multimodal import ModalityBranch, MultimodalAlignmentNet, MultimodalOutput

__all__ = ["MLPEncoder", "ModalityBranch", "MultimodalAlignmentNet", "MultimodalOutput",
           "TransformerEncoder"]
