"""alignkit: measure and control multimodal representation alignment.

Estimators follow scikit-learn's API; ``X`` holds every modality's flattened
features side by side (see :mod:`alignkit.utils`). The estimators and
submodules are imported on first use, so ``import alignkit`` is light.
"""

from ._lazy import attach

__version__ = "0.1.0.dev0"

__all__ = [
    "AlignedMultimodalClassifier",
    "AlignedMultimodalRegressor",
    "BatchPIDEstimator",
    "CKAScorer",
    "PIDEstimator",
]

__getattr__, __dir__ = attach(__name__, {
    "AlignedMultimodalClassifier": "._aligned",
    "AlignedMultimodalRegressor": "._aligned",
    "BatchPIDEstimator": ".pid",
    "CKAScorer": ".metrics",
    "PIDEstimator": ".pid",
    **dict.fromkeys(["datasets", "losses", "metrics", "model_selection", "nets", "pid",
                     "plotting", "utils"]),
})
