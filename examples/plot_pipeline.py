"""
=====================================================
Per-modality preprocessing in a scikit-learn Pipeline
=====================================================

Real modalities need different preprocessing: scaling for a handful of
sensor readings, dimensionality reduction for a wide, noisy spectrum.
A :class:`~sklearn.compose.ColumnTransformer` does that per modality and,
with pandas output, names every output column ``<transformer>__<column>``.
:class:`~alignkit.AlignedMultimodalClassifier` with ``modality_dims=None``
reads those prefixes as the modalities, so the whole model is one
:class:`~sklearn.pipeline.Pipeline` that cross-validation and grid search
treat like any other estimator.

The data come from :func:`~alignkit.datasets.make_multimodal_classification`:
three redundant label factors seen by both sources and one unique factor
each. The "spectrum" observes its six latent directions through 60 noisy
channels, so a PCA recovers them.

**Run time**: 57 s of CPU, the grid search's fits two at a time (measured on
a shared two-core machine), so about half a minute on two idle cores.
"""

# %%
# Two sources in one DataFrame
# ----------------------------
import time

import numpy as np
import pandas as pd
import torch
from sklearn.compose import ColumnTransformer
from sklearn.decomposition import PCA
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from alignkit import AlignedMultimodalClassifier, CKAScorer
from alignkit.datasets import make_multimodal_classification

torch.set_num_threads(1)
start = time.perf_counter()

latent, y = make_multimodal_classification(
    3000, n_redundant=3, n_unique=(1, 1), n_noise=(1, 2), flip_y=0.05,
    as_frame=True, random_state=0,
)
rng = np.random.default_rng(0)
x2 = latent.filter(like="x2__").to_numpy()
channels = x2 @ rng.normal(size=(x2.shape[1], 60)) + 0.5 * rng.normal(size=(len(x2), 60))
sensor = [f"sensor_{j}" for j in range(latent.filter(like="x1__").shape[1])]
spectrum = [f"spectrum_{j}" for j in range(60)]
X = pd.concat([
    pd.DataFrame(latent.filter(like="x1__").to_numpy(), columns=sensor),
    pd.DataFrame(channels, columns=spectrum),
], axis=1)
print(f"{len(sensor)} sensor columns, {len(spectrum)} spectrum columns")
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.3, stratify=y, random_state=0)

# %%
# The pipeline
# ------------
# The transformer names, ``sensor`` and ``spectrum``, become the prefixes and
# so the modality names.
preprocess = ColumnTransformer([
    ("sensor", StandardScaler(), sensor),
    ("spectrum", make_pipeline(StandardScaler(), PCA(n_components=8, random_state=0)),
     spectrum),
])
model = make_pipeline(
    preprocess,
    AlignedMultimodalClassifier(hidden_dims=(32,), embed_dim=16, projection_dim=16,
                                max_epochs=20, batch_size=128, random_state=0,
                                n_threads=1),
).set_output(transform="pandas")
model.fit(X_train, y_train)

clf = model[-1]
print("modalities:", clf.modality_names_, "columns:", clf.modality_dims_)
print(f"fused test accuracy: {model.score(X_test, y_test):.3f}")
Z_test = model[:-1].transform(X_test)
for name in clf.modality_names_:
    accuracy = (clf.predict_modality(Z_test, name) == y_test).mean()
    print(f"  {name} alone: {accuracy:.3f}")

# %%
# How aligned are the sources, before and after training?
# -------------------------------------------------------
# :class:`~alignkit.CKAScorer` also reads the prefixes: on the preprocessed
# inputs it measures how aligned the two sources already are; on the model's
# embeddings (``transform`` names them ``sensor__e0``, ...) how aligned the
# trained encoders are.
inputs = CKAScorer(metric="unbiased_cka").fit(Z_test)
embeddings = CKAScorer(metric="unbiased_cka").fit(model.transform(X_test))
print(f"unbiased CKA of the inputs:     {inputs.score_:.3f}")
print(f"unbiased CKA of the embeddings: {embeddings.score_:.3f}")

# %%
# Grid search over λ through the pipeline
# ---------------------------------------
# The pipeline's parameter is ``alignedmultimodalclassifier__lam``;
# :class:`~alignkit.plotting.LambdaSweepDisplay` finds it from ``lam``.
from alignkit.plotting import LambdaSweepDisplay

grid = GridSearchCV(
    model, {"alignedmultimodalclassifier__lam": [0, 0.25, 1, 4]},
    scoring={"accuracy": "accuracy"}, refit="accuracy", cv=3, n_jobs=2,
).fit(X_train, y_train)
disp = LambdaSweepDisplay.from_cv_results(grid.cv_results_, performance_name="accuracy")
for lam, acc in zip(disp.lambdas, disp.performance["accuracy"]):
    print(f"λ = {lam:g}: cross-validated accuracy {acc:.3f}")
print(f"best λ: {grid.best_params_['alignedmultimodalclassifier__lam']:g}, "
      f"test accuracy of the refitted pipeline: {grid.score(X_test, y_test):.3f}")
print(f"example ran in {time.perf_counter() - start:.0f} s")

# %%
# What this run shows
# -------------------
# The classifier found the two modalities from the column prefixes
# (``['sensor', 'spectrum']``, 5 and 8 columns after the PCA). Each modality
# alone reaches about 0.82-0.83 test accuracy and the fused model about
# 0.88: each source has a label factor the other lacks. Training raises the
# unbiased CKA between the sources only slightly (about 0.51 for the inputs,
# 0.57 for the embeddings at the default λ = 0.25). The grid search prefers
# no alignment (λ = 0: about 0.87 cross-validated, 0.80 at λ = 4), as
# expected when each modality carries unique information.
