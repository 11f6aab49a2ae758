"""Data sets: controllable synthetic generators and loaders for real benchmarks.

Generators
----------
make_rus_classification
    The redundancy / uniqueness / heterogeneity generator of Tjandrasuwita et
    al. (ICML 2025), exact, with its joint distribution for ground-truth PID.
bayes_accuracy
    The Bayes classifiers' accuracy (unimodal and fused ceilings) from an
    exact joint.
make_multimodal_classification
    Continuous latents with separate redundant, unique and synergistic label
    factors.

Loaders (local files only; nothing is ever downloaded)
-------------------------------------------------------
load_multibench
    MultiBench affect pickles: CMU-MOSEI, CMU-MOSI, MUStARD, UR-FUNNY.
load_avmnist
    AV-MNIST ``.npy`` folders (image + spoken-digit audio).
load_mfeat
    UCI Multiple Features: six real views of 2 000 handwritten digits.
"""

from ._continuous import make_multimodal_classification
from ._loaders import load_avmnist, load_mfeat, load_multibench
from ._rus import bayes_accuracy, make_rus_classification

__all__ = [
    "make_rus_classification",
    "bayes_accuracy",
    "make_multimodal_classification",
    "load_multibench",
    "load_avmnist",
    "load_mfeat",
]
