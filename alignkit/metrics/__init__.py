"""Alignment between representations: the CKA family, mutual k-NN, CKNNA, SVCCA.

Every metric takes two representations of the same samples, ``A`` of shape
``(n_samples, d1)`` and ``B`` of shape ``(n_samples, d2)``, as numpy arrays or
torch tensors (a CUDA tensor is processed on its GPU), computes in float64 and
returns a Python float. Scorers turn them into ``GridSearchCV`` scoring
entries, and :class:`CKAScorer` into an estimator.
"""

from .._lazy import attach
from ._alignment import alignment_matrix, layer_alignment_matrix
from ._cka import linear_cka, rbf_cka, unbiased_cka
from ._knn import cknna, mutual_knn
from ._scorers import make_alignment_scorer, modality_scorer
from ._stats import AlignmentTestResult, adjust_pvalues, alignment_test
from ._svcca import svcca

__all__ = [
    "AlignmentAccumulator",
    "AlignmentTestResult",
    "CKAScorer",
    "adjust_pvalues",
    "alignment_matrix",
    "alignment_test",
    "cknna",
    "layer_alignment_matrix",
    "linear_cka",
    "make_alignment_scorer",
    "model_alignment_matrix",
    "modality_scorer",
    "mutual_knn",
    "rbf_cka",
    "svcca",
    "unbiased_cka",
]

# Torch-backed (streaming accepts tensors and hooks torch models): imported on first use.
__getattr__, __dir__ = attach(__name__, {
    "AlignmentAccumulator": "._streaming",
    "CKAScorer": "._cka_scorer",
    "model_alignment_matrix": "._model_alignment",
})
