"""Partial information decomposition: how two modalities inform a target.

Redundancy (information both modalities carry), uniqueness (information only
one carries) and synergy (information only their combination carries), in the
BROJA definition, computed by an interior-point solver with a certified
duality gap. :func:`pid_from_joint` takes a probability table,
:func:`pid_from_samples` discrete samples and :class:`PIDEstimator`
continuous multimodal data.
"""

from ._decomposition import (PIDBiasWarning, PIDResult, PIDSolverError, pid_from_joint,
                             pid_from_samples)
from ._estimator import PIDEstimator

__all__ = ["PIDBiasWarning", "PIDEstimator", "PIDResult", "PIDSolverError", "pid_from_joint",
           "pid_from_samples"]
