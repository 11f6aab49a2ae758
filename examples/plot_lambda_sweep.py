"""
===============================================
To align or not to align: sweeping the weight λ
===============================================

Fang, Zhang and Chan (*To Align or Not to Align*, AAAI 2026) train one model
per modality with its task loss plus λ times a cross-modal contrastive loss,
and vary λ. Explicit alignment should help the unimodal encoders when the
modalities are redundant and hurt when each carries unique information.

This example re-creates that experiment with
:class:`~alignkit.AlignedMultimodalClassifier` on the emergence paper's
generator :func:`~alignkit.datasets.make_rus_classification` (its own draws,
``random_state="paper"``): of the 8 label-relevant bits, ``r`` are shared by
both modalities and ``8 - r`` are unique to one of them; the second
modality, m1, passes through a random depth-2 ``Tanh`` network. The encoders are as small as the
paper's (width 12) and see 1 024 training rows, so that the unimodal models
stay below their Bayes ceilings and alignment has something to give.

Every claim below is a **paired difference over seeds**:
:func:`~alignkit.model_selection.lambda_sweep` fits each λ with the same
training rows, initial weights and batch order per seed, so
Δ = accuracy(λ) − accuracy(0) cancels the seed-to-seed spread that all λ
share. Two variants separate two mechanisms: symmetric alignment, and
``stop_gradient=[0]``, where the contrastive gradient reaches m1 only and
m0 trains exactly as at λ = 0.

Scaled down to the two ends of the redundancy range (r = 0 and r = 8), λ ∈
{0, 2} and three seeds: 24 fits, on an 8 192-row test pool per seed.
**Run time**: 102 s of CPU, two fits at a time (measured on a shared two-core
machine), so about 50 s on two idle cores.
``alignkit demo`` runs the same fits and adds the mixed r = 4 and λ = 0.5,
so its table holds this example's numbers.
"""

# %%
# The sweeps
# ----------
# One torch thread per fit; joblib runs two fits at a time.
import time

import torch
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from alignkit import AlignedMultimodalClassifier
from alignkit.datasets import make_rus_classification
from alignkit.metrics import make_alignment_scorer, modality_scorer
from alignkit.model_selection import lambda_sweep

torch.set_num_threads(1)
start = time.perf_counter()

REDUNDANCY, LAMBDAS, N_TRAIN, N_TEST = [0, 8], [0, 2], 1024, 8192
scoring = {"fused": "accuracy", "m0": modality_scorer(0), "m1": modality_scorer(1),
           "cka": make_alignment_scorer("unbiased_cka")}


def model(stop_gradient=None):
    return make_pipeline(StandardScaler(), AlignedMultimodalClassifier(
        modality_dims=[12, 12], hidden_dims=(12,), embed_dim=12, projection_dim=12, lr=1e-2,
        max_epochs=100, batch_size=256, stop_gradient=stop_gradient, n_threads=1))


results = {}
for r in REDUNDANCY:
    data = make_rus_classification(N_TRAIN + N_TEST, redundancy=r, heterogeneity=2,
                                   return_joint=True, random_state="paper")
    sweeps = {
        variant: lambda_sweep(model(stop_gradient), data.X, data.y, lams=LAMBDAS, seeds=3,
                              train_size=N_TRAIN, test_size=N_TEST, scoring=scoring,
                              param="alignedmultimodalclassifier__lam", n_jobs=2)
        for variant, stop_gradient in [("symmetric", None), ("stop_gradient", [0])]
    }
    results[r] = sweeps, data.bayes_accuracy

# %%
# The paired differences
# ----------------------
# One row per scorer and λ: the mean over seeds and its s.e., the paired Δ
# from λ = 0, its s.e. and t (2 degrees of freedom: ``|t| > 4.3`` is the
# two-sided 5 % level).
for r, (sweeps, ceilings) in results.items():
    print(f"r = {r}: Bayes ceilings m0 {ceilings['X1']:.3f}, m1 {ceilings['X2']:.3f}, "
          f"fused {ceilings['X1,X2']:.3f}")
    for variant, sweep in sweeps.items():
        table = sweep.summary.query("lam > 0")[["scorer", "mean", "delta", "delta_sem", "t"]]
        print(f"  {variant}, λ = 2:\n" + table.round(3).to_string(index=False))

# %%
# Accuracy, its ceiling, and Δ of both variants
# ---------------------------------------------
# :meth:`~alignkit.plotting.LambdaSweepDisplay.from_sweep` draws the means
# with ± s.e. error bars and the Bayes ceilings (dotted), or, with
# ``delta=True``, the paired Δ with its ± s.e. band around 0. The y axes are
# shared across redundancy levels.
import matplotlib.pyplot as plt

from alignkit.plotting import LambdaSweepDisplay

fig, axes = plt.subplots(3, len(REDUNDANCY), sharex=True, sharey="row", figsize=(9, 8.5),
                         squeeze=False, layout="constrained")
for col, (r, (sweeps, ceilings)) in enumerate(results.items()):
    LambdaSweepDisplay.from_sweep(
        sweeps["symmetric"], alignment=[], performance_name="test accuracy",
        ceilings={"fused": ceilings["X1,X2"], "m0": ceilings["X1"], "m1": ceilings["X2"]},
        ax=axes[0, col])
    for row, variant in [(1, "symmetric"), (2, "stop_gradient")]:
        LambdaSweepDisplay.from_sweep(sweeps[variant], alignment=[], delta=True,
                                      performance_name=f"Δ vs λ = 0, {variant}",
                                      ax=axes[row, col])
    axes[0, col].set_title(f"r = {r} ({r} shared, {8 - r} unique bits)")
    for ax in axes[:, col]:
        if col:
            ax.get_legend().remove()
print(f"example ran in {time.perf_counter() - start:.0f} s")

# %%
# What this run shows
# -------------------
# The same fits are in ``alignkit demo``'s table (its λ = 2 rows), and are
# deterministic on CPU. Δ at λ = 2 ± s.e. (3 seeds), against λ = 0:
#
# * **r = 0** (no shared label bit; ceilings m0 0.541, m1 0.595): symmetric
#   alignment raises the raw m0 (+0.024 ± 0.004, t = 5.4) and lowers the
#   transformed m1 (−0.031 ± 0.008, t = −4.1, not beyond the 2-df
#   threshold); fused accuracy is unchanged (−0.005 ± 0.006). With m0
#   detached, m1 loses 0.068 ± 0.009 and fused accuracy 0.071 ± 0.014:
#   pulling an encoder towards a partner that shares no label information
#   crowds out its own bits.
# * **r = 8** (every label bit shared; ceilings 0.906): m0 gains
#   (+0.013 ± 0.003); m1 gains +0.008 ± 0.004 when it alone is pulled
#   towards m0, and +0.001 ± 0.004 symmetrically; neither is beyond noise
#   with three seeds. Fused accuracy: +0.003 ± 0.003.
# * **Unbiased CKA** rises with λ under symmetric alignment (0.01 → 0.60 at
#   r = 0, 0.65 → 0.78 at r = 8), much less when m0 is detached.
#
# Two mechanisms are mixed in the symmetric sweep. m0's gain even at
# r = 0, where nothing label-relevant is shared, is regularisation of an
# over-fitting raw modality: at λ = 0, ``weight_decay=1.0`` instead of 0.01
# gives m0 +0.022 ± 0.003 at r = 0 and +0.017 ± 0.001 at r = 8, and
# the fused model +0.006 ± 0.001 at r = 8, as much as any λ does (the same
# :func:`~alignkit.model_selection.lambda_sweep`, with
# ``param="alignedmultimodalclassifier__weight_decay"``, ``lams=[0.01, 1.0]``
# and ``baseline=0.01``). The detached variant isolates transfer into m1:
# its sign follows redundancy (−0.068 at r = 0, +0.008 at r = 8), the
# paper's direction, but the r = 8 gain needs more seeds than three to be
# certain. ``alignkit demo`` adds the mixed r = 4 between them.
