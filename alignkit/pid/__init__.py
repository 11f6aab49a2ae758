"""Partial information decomposition: how two modalities inform a target.

Redundancy (information both modalities carry), uniqueness (information only
one carries) and synergy (information only their combination carries), in the
BROJA definition, computed by an interior-point solver with a certified
duality gap. :func:`pid_from_joint` takes a probability table,
:func:`pid_from_samples` discrete samples, and :class:`PIDEstimator` (plug-in)
and :class:`BatchPIDEstimator` (neural batch route) continuous multimodal data.
"""

from .._lazy import attach
from ._decomposition import (PIDBiasWarning, PIDResult, PIDSolverError, pid_from_joint,
                             pid_from_samples)

__all__ = ["BatchPIDEstimator", "PIDBiasWarning", "PIDEstimator", "PIDResult", "PIDSolverError",
           "pid_from_joint", "pid_from_samples"]

# The estimators train torch models (the batch route, cross-fitted posteriors).
__getattr__, __dir__ = attach(__name__, dict.fromkeys(["BatchPIDEstimator", "PIDEstimator"],
                                                      "._estimator"))
