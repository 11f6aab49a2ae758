"""Partial information decomposition: how two modalities inform a target.

Redundancy (information both modalities carry), uniqueness (information only
one carries) and synergy (information only their combination carries), in the
BROJA definition, computed by an interior-point solver with a certified
duality gap. :func:`pid_from_joint` takes a probability table,
:func:`pid_from_samples` discrete samples, and :class:`PIDEstimator` (plug-in)
and :class:`BatchPIDEstimator` (neural batch route) continuous multimodal data.
"""

import importlib

from ._decomposition import (PIDBiasWarning, PIDResult, PIDSolverError, pid_from_joint,
                             pid_from_samples)

# The estimators train torch models (the batch route, cross-fitted posteriors): imported on
# first use, so the discrete functions above start without torch.
_ESTIMATORS = {"BatchPIDEstimator": "._estimator", "PIDEstimator": "._estimator"}

__all__ = ["BatchPIDEstimator", "PIDBiasWarning", "PIDEstimator", "PIDResult", "PIDSolverError",
           "pid_from_joint", "pid_from_samples"]


def __getattr__(name):
    if name not in _ESTIMATORS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = globals()[name] = getattr(importlib.import_module(_ESTIMATORS[name], __name__), name)
    return value


def __dir__():
    return sorted([*globals(), *_ESTIMATORS])
