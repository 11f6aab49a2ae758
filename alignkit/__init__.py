"""alignkit: measure and control multimodal representation alignment.

Estimators follow scikit-learn's API; ``X`` holds every modality's flattened
features side by side (see :mod:`alignkit.utils`).

The estimators and submodules are imported on first use (as scikit-learn
loads its submodules), so ``import alignkit`` and the numpy-only functions of
:mod:`alignkit.pid` and :mod:`alignkit.metrics` do not pull in torch.
"""

import importlib

__version__ = "0.1.0.dev0"

# public name -> the module that defines it
_ESTIMATORS = {
    "AlignedMultimodalClassifier": "._aligned",
    "AlignedMultimodalRegressor": "._aligned",
    "BatchPIDEstimator": ".pid",
    "CKAScorer": ".metrics",
    "PIDEstimator": ".pid",
}
_SUBMODULES = ["datasets", "losses", "metrics", "model_selection", "nets", "pid", "plotting", "utils"]

__all__ = sorted(_ESTIMATORS)


def __getattr__(name):
    if name in _ESTIMATORS:
        value = getattr(importlib.import_module(_ESTIMATORS[name], __name__), name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f".{name}", __name__)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__():
    return sorted([*globals(), *_ESTIMATORS, *_SUBMODULES])
