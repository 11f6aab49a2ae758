"""
===============================================
To align or not to align: sweeping the weight λ
===============================================

Fang, Zhang and Chan (*To Align or Not to Align*, AAAI 2026) train one model
per modality with its task loss plus λ times a cross-modal contrastive loss,
and vary λ. Explicit alignment helps when the modalities are redundant and
hurts when each carries unique information about the label.

This example re-creates that experiment with
:class:`~alignkit.AlignedMultimodalClassifier` on the synthetic generator
:func:`~alignkit.datasets.make_rus_classification`: of the 8 label-relevant
bits, ``r`` are shared by both modalities and ``8 - r`` are unique to one of
them. A :class:`~sklearn.model_selection.GridSearchCV` over λ scores, for
every λ, the fused accuracy, each modality's own accuracy
(:func:`~alignkit.metrics.modality_scorer`) and the unbiased CKA between the
two modalities' embeddings (:func:`~alignkit.metrics.make_alignment_scorer`)
on held-out data.

**Scaled down** to run in well under a minute on two CPU cores: 4 096
samples instead of 65 536, two train/validation splits, 15 epochs of a
two-layer MLP (64 units) per modality, one seed. The second modality passes
through a random one-layer ``Tanh`` network (``heterogeneity=1``), so the two
modalities are not copies of each other.
"""

# %%
# Data and grid
# -------------
# One torch thread per process: the grid search runs two processes, which
# keeps both cores busy without oversubscribing them.
import time

import numpy as np
import torch
from sklearn.model_selection import GridSearchCV, ShuffleSplit
from sklearn.preprocessing import StandardScaler

from alignkit import AlignedMultimodalClassifier
from alignkit.datasets import make_rus_classification
from alignkit.metrics import make_alignment_scorer, modality_scorer

torch.set_num_threads(1)
start = time.perf_counter()

LAMBDAS = [0, 0.1, 0.25, 0.5, 1, 2, 4]
REDUNDANCY = [0, 4, 8]

scoring = {
    "acc": "accuracy",
    "acc_m0": modality_scorer(0),
    "acc_m1": modality_scorer(1),
    "cka": make_alignment_scorer("unbiased_cka"),
}
model = AlignedMultimodalClassifier(
    modality_dims=[12, 12], hidden_dims=(64, 64), embed_dim=32, projection_dim=32,
    max_epochs=15, batch_size=256, random_state=0, n_threads=1,
)

results = {}
for r in REDUNDANCY:
    X, y = make_rus_classification(4096, redundancy=r, heterogeneity=1, random_state=0)
    # The generator's bits and tanh outputs have fixed, label-free scales;
    # standardising them once uses no label information.
    X = StandardScaler().fit_transform(X)
    grid = GridSearchCV(
        model, {"lam": LAMBDAS}, scoring=scoring, refit=False, n_jobs=2,
        cv=ShuffleSplit(n_splits=2, test_size=0.25, random_state=0),
    ).fit(X, y)
    results[r] = grid.cv_results_

# %%
# The numbers
# -----------
# Mean over the two validation splits. λ* is the λ with the best fused
# accuracy.
print(f"{'r':>2} {'λ':>5} {'fused':>6} {'acc m0':>7} {'acc m1':>7} {'CKA':>6}")
for r, cv in results.items():
    best = int(np.argmax(cv["mean_test_acc"]))
    for i, lam in enumerate(LAMBDAS):
        print(f"{r:>2} {lam:>5g} {cv['mean_test_acc'][i]:6.3f} "
              f"{cv['mean_test_acc_m0'][i]:7.3f} {cv['mean_test_acc_m1'][i]:7.3f} "
              f"{cv['mean_test_cka'][i]:6.3f}" + ("  <- λ*" if i == best else ""))

# %%
# Accuracy and alignment against λ
# --------------------------------
# :class:`~alignkit.plotting.LambdaSweepDisplay` reads ``cv_results_``
# directly: the accuracy scorers on the top panel, the alignment scorer
# (recognised by its name, ``"cka"``) on the bottom one, and λ* marked.
import matplotlib.pyplot as plt

from alignkit.plotting import LambdaSweepDisplay

fig, axes = plt.subplots(2, len(REDUNDANCY), sharex=True, sharey="row",
                         figsize=(12, 6), squeeze=False)
labels = {"acc": "fused", "acc_m0": "modality 1", "acc_m1": "modality 2"}
for col, (r, cv) in enumerate(results.items()):
    LambdaSweepDisplay.from_cv_results(
        cv, scores=labels, alignment={"cka": "unbiased CKA"},
        performance_name="validation accuracy", alignment_name="alignment",
        ax=(axes[0, col], axes[1, col]),
    )
    axes[0, col].set_title(f"r = {r} shared, {8 - r} unique bits")
fig.tight_layout()

# %%
# What this run shows
# -------------------
# The numbers at the two ends of the λ grid, for each redundancy level:
for r, cv in results.items():
    ends = {k: cv[f"mean_test_{k}"][[0, -1]] for k in ("acc", "acc_m0", "acc_m1", "cka")}
    print(f"r = {r}: λ* = {LAMBDAS[int(np.argmax(cv['mean_test_acc']))]:g}; from λ = 0 to 4: "
          + ", ".join(f"{k} {a:.3f} -> {b:.3f}" for k, (a, b) in ends.items()))
print(f"example ran in {time.perf_counter() - start:.0f} s")

# %%
# With a fixed seed the run is deterministic on CPU. What it shows:
#
# * **High uniqueness** (r = 0: every label bit is seen by one modality
#   only): alignment only hurts. The fused accuracy falls from about 0.79 at
#   λ = 0 to about 0.34 at λ = 4 and the second modality's own accuracy from
#   0.43 to 0.31; λ* = 0. The contrastive term can only align what the
#   modalities share, here the 8 label-free shared bits, and it crowds out
#   the unique bits the task needs.
# * **Mixed** (r = 4): a small λ (≤ 0.25) leaves accuracy where it is, within
#   the split-to-split spread, and λ ≥ 1 costs accuracy (about 0.65 fused at
#   λ = 4).
# * **High redundancy** (r = 8: every label bit is shared): a moderate λ
#   helps a little. Fused accuracy rises from about 0.89 at λ = 0 to its
#   best at λ* = 0.25, and the first modality's from about 0.90 to 0.91,
#   before large λ hurts here as well (about 0.70 fused at λ = 4). The gains
#   are of the size of the validation noise (about ±0.01 on 1 024 samples);
#   the falls under uniqueness are far larger.
# * **Alignment rises with λ** at every r: unbiased CKA between the
#   embeddings goes from about 0.00 to 0.88 (r = 0), 0.6 to 0.87 (r = 4) and
#   0.75 to 0.87 (r = 8). At λ = 0 the encoders are trained independently,
#   and the alignment that emerges on its own grows with redundancy, as the
#   next example explores.
#
# So the direction of the paper's finding holds at this scale: the more
# redundant the modalities, the larger the λ that can be afforded, and with
# unique information the best choice is no alignment. The benefit under
# redundancy is small here, and very large λ (≥ 2) hurts in every regime,
# because the contrastive term then dominates 15 short epochs of training.
