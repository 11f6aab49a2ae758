"""
=====================================================
Redundant, unique, synergistic: the PID of a data set
=====================================================

Whether aligning two modalities should help depends on how they inform the
label: Partial Information Decomposition splits ``I(X1, X2; Y)`` into
redundancy R (what either modality tells), uniqueness U1, U2 (what only one
tells) and synergy S (what only the two together tell).

This example computes the decomposition of the two synthetic generators of
:mod:`alignkit.datasets` in each of their regimes, in two ways:

* **exactly**, from the generator's known joint distribution
  (:func:`~alignkit.pid.pid_from_joint`), where there is one;
* **estimated from samples** by :class:`~alignkit.PIDEstimator`, the
  clustering route of Liang et al. (2023): each modality is PCA-reduced and
  clustered into 20 codes, and the plug-in histogram is decomposed;
* and, for the continuous generator, by the same paper's **batch**
  estimator (:class:`~alignkit.BatchPIDEstimator`), which does not discretise: a network
  learns the minimising joint distribution batch by batch.

**Scaled down**: 8 192 samples per data set (the paper's generator draws
65 536), one seed. **Run time**: 41 s of CPU in one process (measured on a
shared two-core machine), so about 40 s on an idle one.
"""

# %%
# The redundancy generator: exact against estimated
# --------------------------------------------------
# :func:`~alignkit.datasets.make_rus_classification` shares ``r`` of the 8
# label bits between the modalities; the other ``8 - r`` are unique to one
# of them. ``return_joint=True`` also gives the exact joint distribution of
# each modality's label-relevant bits and the label.
import time

import numpy as np
import torch
from threadpoolctl import threadpool_limits

from alignkit import BatchPIDEstimator, PIDEstimator
from alignkit.datasets import make_multimodal_classification, make_rus_classification
from alignkit.pid import pid_from_joint

# One thread: these small fits run fastest single-threaded on a shared machine.
threadpool_limits(1)
torch.set_num_threads(1)
start = time.perf_counter()
ATOMS = ["R", "U1", "U2", "S"]


def atoms(result):
    """(R, U1, U2, S) of a PIDResult or a fitted estimator."""
    return result.atoms_ if hasattr(result, "atoms_") else result.atoms


exact, estimated = {}, {}
for r in [0, 2, 4, 6, 8]:
    data = make_rus_classification(8192, redundancy=r, heterogeneity=None,
                                   return_joint=True, random_state=0)
    exact[r] = pid_from_joint(data.joint, units="bits")
    estimated[r] = PIDEstimator(modality_dims=data.modality_dims, random_state=0).fit(
        data.X, data.y)

print(f"{'r':>2} {'':>9} " + " ".join(f"{a:>6}" for a in ATOMS) + f" {'total':>6}")
for r in exact:
    for label, result in [("exact", exact[r]), ("estimated", estimated[r])]:
        values = atoms(result)
        print(f"{r:>2} {label:>9} " + " ".join(f"{v:6.3f}" for v in values)
              + f" {values.sum():6.3f}")
    print(f"{'':>2} {'corrected':>9} "
          + " ".join(f"{v:6.3f}" for v in estimated[r].corrected_)
          + f" {estimated[r].corrected_.sum():6.3f}")

# %%
# :class:`~alignkit.plotting.PIDDisplay` stacks R, U1, U2 and S, one bar per
# decomposition; it reads fitted estimators and exact results alike.
import matplotlib.pyplot as plt

from alignkit.plotting import PIDDisplay

fig, ax = plt.subplots(figsize=(11, 4))
bars = {}
for r in exact:
    bars[f"r={r}\nexact"] = exact[r]
    bars[f"r={r}\nestimated"] = estimated[r]
PIDDisplay.from_estimators(bars, ax=ax)
ax.set_title("make_rus_classification: r of the 8 label bits shared")
fig.tight_layout()

# %%
# The continuous generator in its three regimes
# ---------------------------------------------
# :func:`~alignkit.datasets.make_multimodal_classification` builds the label
# from redundant factors (seen by both modalities), unique factors (here
# one, seen by the first modality only) or synergistic factors (an XOR-like
# combination of one latent from each modality). There is no exact
# decomposition here; each estimate should be dominated by its regime's atom.
# Both estimators run on each data set; the batch one trains for 3 epochs.
settings = {
    "redundant": dict(n_redundant=2, n_unique=0, n_synergistic=0),
    "unique": dict(n_redundant=0, n_unique=(1, 0), n_synergistic=0),
    "synergistic": dict(n_redundant=0, n_unique=0, n_synergistic=1),
}
regimes = {}
for name, knobs in settings.items():
    X, y = make_multimodal_classification(8192, n_noise=(2, 2), random_state=0, **knobs)
    plugin = PIDEstimator(random_state=0).fit(X, y)
    batch = BatchPIDEstimator(max_epochs=3, random_state=0).fit(X, y)
    regimes[f"{name}\nplug-in"], regimes[f"{name}\nbatch"] = plugin, batch
    print(f"{name:>11} plug-in: " + " ".join(f"{a}={v:.3f}" for a, v in zip(ATOMS, atoms(plugin)))
          + "  (bias-corrected S = " + f"{plugin.corrected_[3]:.3f})")
    print(f"{name:>11}   batch: " + " ".join(f"{a}={v:.3f}" for a, v in zip(ATOMS, atoms(batch))))

fig, ax = plt.subplots(figsize=(8, 4))
PIDDisplay.from_estimators(regimes, ax=ax)
ax.set_title("make_multimodal_classification")
fig.tight_layout()
print(f"example ran in {time.perf_counter() - start:.0f} s")

# %%
# What this run shows
# -------------------
# The run is deterministic; these are its numbers (bits).
#
# * **Exact PID of the redundancy generator.** ``I(X1, X2; Y)`` is 1.673
#   bits at every r (the generator keeps the label distribution fixed), and
#   redundancy grows with r: 0.27, 0.72, 1.09, 1.32 and 1.67 bits for
#   r = 0, 2, 4, 6, 8, all of it redundant at r = 8. Even at r = 0, where no
#   label bit is shared, the decomposition is not all uniqueness (U1 = 0.68,
#   U2 = 0.10) but has R = 0.27 and S = 0.62: the label is a softmax of a
#   weighted sum of both modalities' bits, so it depends on them jointly.
# * **The estimate from samples** sees much less information (0.44 to 0.71
#   bits of the 1.67): 20 k-means clusters cannot keep the 4 096 distinct bit
#   patterns of a modality apart. It still ranks the data sets the right way
#   round, its redundancy rising from 0.05 bits at r = 0 to 0.29 at r = 8.
#   Its synergy (about 0.2 bits everywhere, even at r = 8 where the exact
#   value is 0) is mostly the plug-in bias of a 20 x 20 x 4 histogram from
#   8 192 samples; the Miller-Madow correction removes about 0.09 bits of it.
#   Compare estimates between data sets, not against the exact scale, and
#   read synergy with its bias in mind.
# * **The continuous generator's regimes** are recovered by both
#   estimators: the redundant setting is mostly R, the unique one almost
#   only U1 and the synergistic one only S, each modality alone carrying
#   nothing. The batch estimator sees more of the information and keeps the
#   atoms apart more cleanly, since no clustering blurs the features: R =
#   0.93 of 0.96 bits against the plug-in's 0.54 of 0.74 (whose S = 0.12 is
#   bias), U1 = 0.94 against 0.69, and S = 0.87 against 0.52. It takes about
#   4 s per data set here against 0.1 s for the plug-in route.
#
# In the terms of *To Align or Not to Align*: the first and redundant data
# sets are where explicit alignment can pay off, the unique one where it
# cannot, and the synergistic one where an interior λ has to be searched.
