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
* **estimated from samples** by :class:`~alignkit.PIDEstimator`, whose
  default codes each modality by its cross-fitted class posterior (grouped
  so as to lose the least information about the label) and takes synergy
  from a classifier of both; beside it, the unsupervised clustering route of
  Liang et al. (2023), ``discretizer="kmeans"`` (PCA, 20 k-means codes);
* and, for the continuous generator, by the same paper's **batch**
  estimator (:class:`~alignkit.BatchPIDEstimator`), which does not discretise: a network
  learns the minimising joint distribution batch by batch.

**Scaled down**: 4 096 samples per data set (the paper's generator draws
65 536), three redundancy levels, one seed; the posterior route's
cross-fitting runs on two jobs. **Run time**: 94 s of CPU (103 s on a shared two-core machine), about a
minute on two idle cores, most of it the posterior route's cross-fitted
classifiers.
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


exact, estimated, clustered = {}, {}, {}
for r in [0, 4, 8]:
    data = make_rus_classification(4096, redundancy=r, heterogeneity=None,
                                   return_joint=True, random_state=0)
    exact[r] = pid_from_joint(data.joint, units="bits")
    estimated[r] = PIDEstimator(modality_dims=data.modality_dims, n_jobs=2,
                                random_state=0).fit(data.X, data.y)
    clustered[r] = PIDEstimator(modality_dims=data.modality_dims, discretizer="kmeans",
                                random_state=0).fit(data.X, data.y)

print(f"{'r':>2} {'':>9} " + " ".join(f"{a:>6}" for a in ATOMS) + f" {'total':>6}")
for r in exact:
    for label, result in [("exact", exact[r]), ("estimated", estimated[r]),
                          ("k-means", clustered[r])]:
        values = atoms(result)
        print(f"{r:>2} {label:>9} " + " ".join(f"{v:6.3f}" for v in values)
              + f" {values.sum():6.3f}")

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
    bars[f"r={r}\nk-means"] = clustered[r]
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
# Both estimators run on each data set; the batch one trains for 8 epochs.
settings = {
    "redundant": dict(n_redundant=2, n_unique=0, n_synergistic=0),
    "unique": dict(n_redundant=0, n_unique=(1, 0), n_synergistic=0),
    "synergistic": dict(n_redundant=0, n_unique=0, n_synergistic=1),
}
regimes = {}
for name, knobs in settings.items():
    data = make_multimodal_classification(4096, n_noise=(2, 2), return_bunch=True,
                                          random_state=0, **knobs)
    X, y, dims = data.X, data.y, data.modality_dims
    plugin = PIDEstimator(modality_dims=dims, n_jobs=2, random_state=0).fit(X, y)
    batch = BatchPIDEstimator(modality_dims=dims, max_epochs=8, random_state=0).fit(X, y)
    regimes[f"{name}\nplug-in"], regimes[f"{name}\nbatch"] = plugin, batch
    print(f"{name:>11} plug-in: " + " ".join(f"{a}={v:.3f}" for a, v in zip(ATOMS, atoms(plugin))))
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
#   redundancy grows with r: 0.27, 1.09 and 1.67 bits for r = 0, 4
#   and 8, all of it redundant at r = 8. Even at r = 0, where no
#   label bit is shared, the decomposition is not all uniqueness (U1 = 0.68,
#   U2 = 0.10) but has R = 0.27 and S = 0.62: the label is a softmax of a
#   weighted sum of both modalities' bits, so it depends on them jointly.
# * **The default estimate** (posterior coding) is within 0.04 bits of the
#   exact atoms at every level: R = 0.29, 1.08 and 1.64 against 0.27, 1.09
#   and 1.67, and S = 0.61 against 0.62 at r = 0. It names the regime where
#   the exact PID does: unique-and-synergistic at r = 0, redundant at r = 4
#   and 8.
# * **The k-means estimate** sees much less information (0.55 to 0.86 bits
#   of the 1.67): 20 clusters of each modality's bits, chosen without the
#   label, cannot keep apart the patterns the label depends on. Its
#   redundancy still rises with r (0.08, 0.31, 0.35), but its synergy (about
#   0.3 bits everywhere, even at r = 8 where the exact value is 0) is mostly
#   the plug-in bias of a 20 x 20 x 4 histogram from 4 096 samples, which it
#   warns about. Read it as a ranking of data sets at best.
# * **The continuous generator's regimes** are recovered by both
#   estimators: the redundant setting is almost only R, the unique one only
#   U1 and the synergistic one only S (each modality alone carries nothing):
#   R = 0.99 (plug-in) and 0.92 (batch), U1 = 0.97 and 0.93, S = 0.91 and
#   0.85. The batch estimator, trained for 8 epochs, stays a little below
#   the default here.
#
# In the terms of *To Align or Not to Align*: the first and redundant data
# sets are where explicit alignment can pay off, the unique one where it
# cannot, and the synergistic one where an interior λ has to be searched.
