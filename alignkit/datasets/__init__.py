"""Data sets: controllable synthetic generators and loaders for real benchmarks."""

from ._continuous import make_multimodal_classification
from ._rus import make_rus_classification

__all__ = ["make_rus_classification", "make_multimodal_classification"]
