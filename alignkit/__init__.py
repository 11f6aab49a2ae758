"""alignkit: measure and control multimodal representation alignment.

Estimators follow scikit-learn's API; ``X`` holds every modality's flattened
features side by side (see :mod:`alignkit.utils`).
"""

__version__ = "0.1.0.dev0"

from ._aligned import AlignedMultimodalClassifier, AlignedMultimodalRegressor
from .metrics import CKAScorer
from .pid import BatchPIDEstimator, PIDEstimator

__all__ = [
    "AlignedMultimodalClassifier",
    "AlignedMultimodalRegressor",
    "BatchPIDEstimator",
    "CKAScorer",
    "PIDEstimator",
]
