import math
import os
import pickle

import joblib
import numpy as np
import pandas as pd
import pytest
import torch
from skorch.callbacks import Callback
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, cross_validate
from torch import nn

from conftest import SMALL_NET
from alignkit import AlignedMultimodalClassifier, AlignedMultimodalRegressor
from alignkit.losses import multimodal_info_nce, symmetric_info_nce
from alignkit.nets import TransformerEncoder



def _two_modalities(rng, n=400, n_classes=2):
    y = rng.integers(0, n_classes, n)
    X = np.c_[y[:, None] + rng.normal(size=(n, 4)), y[:, None] + rng.normal(size=(n, 3))]
    return X, y


def _encoder_state(clf, m):
    return {k: v.clone() for k, v in clf.net_.module_.branches[m].state_dict().items()}


# -- the contrastive loss ----------------------------------------------------------
def test_symmetric_info_nce_matches_the_formula(rng):
    za = nn.functional.normalize(torch.tensor(rng.normal(size=(5, 3))), dim=1)
    zb = nn.functional.normalize(torch.tensor(rng.normal(size=(5, 3))), dim=1)
    tau = 0.3
    sim = (za @ zb.T / tau).numpy()
    row = -np.mean(np.diag(sim) - np.log(np.exp(sim).sum(axis=1)))
    col = -np.mean(np.diag(sim) - np.log(np.exp(sim).sum(axis=0)))
    assert float(symmetric_info_nce(za, zb, tau)) == pytest.approx(0.5 * (row + col), rel=1e-12)


def test_info_nce_of_uninformative_embeddings_is_log_batch_size():
    z = nn.functional.normalize(torch.ones(6, 4), dim=1)
    assert float(symmetric_info_nce(z, z, 0.07)) == pytest.approx(math.log(6), rel=1e-6)
    # Three modalities: mean over the three pairs, each log(6).
    z3 = torch.stack([z, z, z], dim=1)
    assert float(multimodal_info_nce(z3, 0.07)) == pytest.approx(math.log(6), rel=1e-6)


def test_info_nce_needs_two_samples():
    z = torch.ones(1, 4)
    with pytest.raises(ValueError, match="at least 2 paired samples"):
        symmetric_info_nce(z, z, 0.1)


# -- λ = 0 is independent training ---------------------------------------------------
@pytest.mark.parametrize("fusion", ["mean", "concat"])
def test_lam_zero_trains_each_modality_independently(rng, fusion):
    X, y = _two_modalities(rng)
    X_other = X.copy()
    X_other[:, 4:] = rng.normal(size=(len(X), 3)) * 10  # a very different second modality
    params = dict(modality_dims=[4, 3], lam=0.0, max_epochs=3, random_state=0, grad_clip=0.5,
                  fusion=fusion, **SMALL_NET)
    a = AlignedMultimodalClassifier(**params).fit(X, y)
    b = AlignedMultimodalClassifier(**params).fit(X_other, y)
    for key, value in _encoder_state(a, 0).items():
        torch.testing.assert_close(value, _encoder_state(b, 0)[key], rtol=0, atol=0)
    np.testing.assert_array_equal(a.predict_proba_modality(X, 0), b.predict_proba_modality(X_other, 0))
    # ...while the second modality did change, and with lam > 0 the first one feels it.
    assert not torch.equal(_encoder_state(a, 1)["head.weight"], _encoder_state(b, 1)["head.weight"])
    c = AlignedMultimodalClassifier(**{**params, "lam": 1.0}).fit(X, y)
    d = AlignedMultimodalClassifier(**{**params, "lam": 1.0}).fit(X_other, y)
    assert not torch.equal(_encoder_state(c, 0)["head.weight"], _encoder_state(d, 0)["head.weight"])


def test_same_random_state_gives_identical_models(rng):
    X, y = _two_modalities(rng)
    params = dict(lam=0.5, max_epochs=3, random_state=7, **SMALL_NET)
    a = AlignedMultimodalClassifier(**params).fit(X, y)
    b = AlignedMultimodalClassifier(**params).fit(X, y)
    assert a.history_[:, "train_loss"] == b.history_[:, "train_loss"]
    np.testing.assert_array_equal(a.transform(X), b.transform(X))
    c = AlignedMultimodalClassifier(**{**params, "random_state": 8}).fit(X, y)
    assert a.history_[:, "train_loss"] != c.history_[:, "train_loss"]


def test_a_fixed_seed_gives_the_predictions_it_always_gave():
    # Values of a fit before the torch plumbing moved to alignkit.utils._torch
    # (issue 17): the seeds, the branch initialisation order, the batch order,
    # the validation split and the loader are all unchanged. Bit-identical on
    # one CPU thread; the tolerance only allows for another BLAS or torch build.
    from alignkit.metrics import modality_scorer

    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 200)
    X = np.c_[y[:, None] + rng.normal(size=(200, 4)), y[:, None] + rng.normal(size=(200, 3)),
              rng.normal(size=(200, 2))]
    small = dict(modality_dims=[4, 3, 2], hidden_dims=(8,), embed_dim=4, projection_dim=4,
                 batch_size=32)
    clf = AlignedMultimodalClassifier(lam=0.5, max_epochs=4, random_state=3, early_stopping=True,
                                      stop_gradient=[0], scoring=modality_scorer(1),
                                      fusion="concat", **small).fit(X, y)
    reg = AlignedMultimodalRegressor(lam=0.3, max_epochs=3, random_state=5, **small).fit(X, y + 0.5)
    np.testing.assert_allclose(clf.predict_proba(X[:3]), [
        [0.41509220004081726, 0.2624019980430603, 0.32250577211380005],
        [0.34531065821647644, 0.31810495257377625, 0.3365844488143921],
        [0.3724369704723358, 0.2840973436832428, 0.3434656858444214]], rtol=1e-5)
    np.testing.assert_allclose(clf.transform(X[:1])[0, [0, 4, 11]],
                               [-0.31520020961761475, 1.8208013772964478, 0.6002177596092224],
                               rtol=1e-5)
    np.testing.assert_allclose(reg.predict(X[:3]),
                               [1.8879591727750433, 1.843127890308879, 1.7839339540401506], rtol=1e-5)
    np.testing.assert_allclose(reg.predict_modality(X[:3], 2),
                               [1.7891207836230436, 1.6418109082658718, 1.7669613378315532],
                               rtol=1e-5)


def test_fit_leaves_the_global_torch_rng_alone(rng):
    X, y = _two_modalities(rng)
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    AlignedMultimodalClassifier(max_epochs=1, random_state=0, **SMALL_NET).fit(X, y)
    torch.testing.assert_close(torch.rand(3), expected)


# -- what the model learns and exposes ------------------------------------------------
def test_history_records_task_and_contrastive_parts(rng):
    X, y = _two_modalities(rng)
    clf = AlignedMultimodalClassifier(lam=0.5, max_epochs=4, random_state=0, **SMALL_NET).fit(X, y)
    last = clf.history_[-1]
    assert clf.n_iter_ == 4
    assert last["train_loss"] == pytest.approx(
        last["train_task_loss"] + 0.5 * last["train_contrastive_loss"], rel=1e-5)
    # Training aligned the modalities: InfoNCE fell below its chance level log(batch).
    assert clf.history_[-1, "train_contrastive_loss"] < clf.history_[0, "train_contrastive_loss"]
    assert clf.history_[-1, "train_contrastive_loss"] < math.log(64)
    zero = AlignedMultimodalClassifier(lam=0.0, max_epochs=2, random_state=0, **SMALL_NET).fit(X, y)
    assert zero.history_[:, "train_contrastive_loss"] == [0.0, 0.0]


def test_fused_and_unimodal_predictions(rng):
    X, y = _two_modalities(rng, n=600, n_classes=3)
    clf = AlignedMultimodalClassifier(max_epochs=15, random_state=0, **SMALL_NET).fit(X, y)
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    assert clf.score(X, y) > 0.75
    for m in (0, 1, "m0", "m1"):
        p_m = clf.predict_proba_modality(X, m)
        np.testing.assert_allclose(p_m.sum(axis=1), 1.0, rtol=1e-6)
        assert np.mean(clf.predict_modality(X, m) == y) > 0.6
    # Fusion "mean" is the softmax of the mean unimodal logit.
    logits = [np.log(clf.predict_proba_modality(X, m)) for m in (0, 1)]
    mean = np.mean(logits, axis=0)
    fused = np.exp(mean) / np.exp(mean).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(fused, proba, atol=1e-5)
    with pytest.raises(ValueError, match=r"modality must be an index in \[0, 2\) or one of"):
        clf.predict_modality(X, 2)


def test_transform_and_layers_have_the_documented_layout(rng):
    X, y = _two_modalities(rng)
    df = pd.DataFrame(X, columns=[f"img__{i}" for i in range(4)] + [f"aud__{i}" for i in range(3)])
    clf = AlignedMultimodalClassifier(max_epochs=2, random_state=0, **SMALL_NET).fit(df, y)
    assert clf.modality_dims_ == [4, 3] and clf.modality_names_ == ["img", "aud"]
    Z = clf.transform(df)
    assert Z.shape == (400, 16) and Z.dtype == np.float64
    names = clf.get_feature_names_out()
    assert list(names[:2]) == ["img__e0", "img__e1"] and names[8] == "aud__e0"
    layers = clf.transform_layers(df)
    assert [[layer.shape for layer in mod] for mod in layers] == [[(400, 16), (400, 8)]] * 2
    np.testing.assert_allclose(np.hstack([mod[-1] for mod in layers]), Z, rtol=1e-6)
    out = clf.set_output(transform="pandas").transform(df)
    assert list(out.columns) == list(names)


def test_three_modalities(rng):
    X, y = _two_modalities(rng)
    X3 = np.c_[X, y[:, None] + rng.normal(size=(len(y), 2))]
    clf = AlignedMultimodalClassifier(modality_dims=[4, 3, 2], lam=1.0, max_epochs=3,
                                      random_state=0, **SMALL_NET).fit(X3, y)
    assert clf.transform(X3).shape == (400, 24)
    assert len(clf.transform_layers(X3)) == 3
    assert clf.predict_modality(X3, 2).shape == (400,)


class _TinyEncoder(nn.Module):
    def __init__(self, input_dim, embed_dim, width=5):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(input_dim, width), nn.Tanh(), nn.Linear(width, embed_dim))

    def forward(self, x):
        return self.net(x)


def test_user_encoders_per_modality(rng):
    X, y = _two_modalities(rng)
    clf = AlignedMultimodalClassifier(
        encoder=[_TinyEncoder, "mlp"], encoder_kwargs=[{"width": 3}, {}], max_epochs=2,
        random_state=0, **SMALL_NET,
    ).fit(X, y)
    assert clf.net_.module_.branches[0].encoder.net[0].out_features == 3
    # A module without layer_outputs contributes its embedding only.
    assert [len(mod) for mod in clf.transform_layers(X)] == [1, 2]
    instance = _TinyEncoder(4, 8)
    clf = AlignedMultimodalClassifier(encoder=[instance, "mlp"], max_epochs=1, **SMALL_NET).fit(X, y)
    assert clf.net_.module_.branches[0].encoder is not instance  # deep-copied, not trained in place


def test_transformer_encoder_on_sequences(rng):
    n, seq, dim = 200, 6, 3
    y = rng.integers(0, 2, n)
    seqs = rng.normal(size=(n, seq, dim)) + y[:, None, None]
    seqs[: n // 2, 4:] = 0.0  # padding at the end of half the samples
    X = np.c_[seqs.reshape(n, -1), y[:, None] + rng.normal(size=(n, 4))]
    clf = AlignedMultimodalClassifier(
        modality_dims=[seq * dim, 4], encoder=["transformer", "mlp"], input_shapes=[(seq, dim), None],
        encoder_kwargs=[{"d_model": 8, "n_heads": 2, "n_layers": 1, "pooling": "mean"}, {}],
        max_epochs=8, random_state=0, **SMALL_NET,
    ).fit(X, y)
    assert np.mean(clf.predict_modality(X, 0) == y) > 0.8
    assert [len(mod) for mod in clf.transform_layers(X[:5])] == [2, 2]


@pytest.mark.parametrize("pooling", ["cls", "mean"])
def test_transformer_padding_is_masked(rng, pooling):
    torch.manual_seed(0)
    enc = TransformerEncoder(12, 4, input_shape=(4, 3), d_model=8, n_heads=2, pooling=pooling).eval()
    x = torch.tensor(rng.normal(size=(2, 4, 3)), dtype=torch.float32)
    x[:, 2:] = 0.0
    before = enc(x.reshape(2, -1))
    with torch.no_grad():  # what a padded position would add must not matter
        enc.position[:, 3:] += 5.0
    torch.testing.assert_close(enc(x.reshape(2, -1)), before)
    all_padding = enc(torch.zeros(1, 12))
    assert torch.isfinite(all_padding).all()


def test_early_stopping_restores_the_best_epoch(rng):
    X, y = _two_modalities(rng, n=300)
    y = rng.permutation(y)  # nothing to learn: validation loss soon rises
    clf = AlignedMultimodalClassifier(early_stopping=True, n_iter_no_change=3, max_epochs=60,
                                      random_state=0, **SMALL_NET).fit(X, y)
    valid = clf.history_[:, "valid_task_loss"]  # the default monitor
    assert clf.n_iter_ < 60
    assert np.argmin(valid) == len(valid) - 1 - 3


def test_user_callbacks_run_and_are_not_mutated(rng):
    class CountEpochs(Callback):
        def initialize(self):
            self.epochs_ = 0
            return self

        def on_epoch_end(self, net, **kwargs):
            self.epochs_ += 1
            net.history.record("seen", self.epochs_)

    X, y = _two_modalities(rng)
    callback = CountEpochs()
    clf = AlignedMultimodalClassifier(callbacks=[callback], max_epochs=3, **SMALL_NET).fit(X, y)
    assert clf.history_[:, "seen"] == [1, 2, 3]
    assert not hasattr(callback, "epochs_")


def test_verbose_shows_a_progress_bar(rng, capsys):
    X, y = _two_modalities(rng, n=100)
    AlignedMultimodalClassifier(verbose=1, max_epochs=2, **SMALL_NET).fit(X, y)
    err = capsys.readouterr().err
    assert "AlignedMultimodalClassifier:" in err and "/2 [" in err and "loss=" in err


# -- the regressor ---------------------------------------------------------------------
@pytest.mark.parametrize("loss", ["squared_error", "absolute_error"])
def test_regressor_predicts_on_the_target_scale(rng, loss):
    t = rng.normal(size=500)
    X = np.c_[t[:, None] + 0.1 * rng.normal(size=(500, 3)), t[:, None] + 0.5 * rng.normal(size=(500, 2))]
    y = 100 + 50 * t
    reg = AlignedMultimodalRegressor(loss=loss, max_epochs=20, random_state=0, **SMALL_NET).fit(X, y)
    assert reg.net_.criterion_.__class__.__name__ == {"squared_error": "MSELoss",
                                                      "absolute_error": "L1Loss"}[loss]
    assert reg.score(X, y) > 0.9
    assert abs(reg.predict(X).mean() - 100) < 5
    assert np.corrcoef(reg.predict_modality(X, 0), y)[0, 1] > 0.9
    Y2 = np.c_[y, -y]
    multi = AlignedMultimodalRegressor(max_epochs=5, random_state=0, **SMALL_NET).fit(X, Y2)
    assert multi.predict(X).shape == (500, 2) and multi.predict_modality(X, 1).shape == (500, 2)


# -- bad input and faults ------------------------------------------------------------
def test_clear_errors_for_bad_input(rng):
    X, y = _two_modalities(rng, n=50)
    clf = AlignedMultimodalClassifier(max_epochs=1, **SMALL_NET)
    X_nan = X.copy()
    X_nan[3, 2] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        clf.fit(X_nan, y)
    with pytest.raises(ValueError, match="y has 1 class"):
        clf.fit(X, np.zeros(50))
    with pytest.raises(ValueError, match=r"modality_dims=\[4, 4\] sums to 8 columns but X has 7"):
        AlignedMultimodalClassifier(modality_dims=[4, 4]).fit(X, y)
    with pytest.raises(ValueError, match="lam=0.5 needs batches of at least 2 samples"):
        AlignedMultimodalClassifier(lam=0.5, batch_size=1).fit(X, y)
    with pytest.raises(ValueError, match=r"encoder lists 3 entries but X has 2 modalities"):
        AlignedMultimodalClassifier(encoder=["mlp"] * 3).fit(X, y)
    with pytest.raises(ValueError, match="needs input_shape"):
        AlignedMultimodalClassifier(encoder="transformer").fit(X, y)
    fitted = clf.fit(X, y)
    with pytest.raises(ValueError, match="X has 6 features, but AlignedMultimodalClassifier is expecting 7"):
        fitted.predict(X[:, :6])


def test_a_last_batch_of_one_sample_skips_the_contrastive_term(rng):
    X, y = _two_modalities(rng, n=129)  # batches of 64, 64 and 1
    clf = AlignedMultimodalClassifier(lam=1.0, max_epochs=2, random_state=0, **SMALL_NET).fit(X, y)
    last_batches = [epoch["batches"][-1] for epoch in clf.history_]
    assert [b["train_batch_size"] for b in last_batches] == [1, 1]
    assert [b["train_contrastive_loss"] for b in last_batches] == [0.0, 0.0]
    assert all(math.isfinite(loss) for loss in clf.history_[:, "train_loss"])


def test_encoder_with_the_wrong_output_shape_is_named(rng):
    X, y = _two_modalities(rng, n=50)
    def five_wide(input_dim, embed_dim):
        return _TinyEncoder(input_dim, 5)

    with pytest.raises(ValueError, match=r"encoder of modality 1 \('m1'\) returned \(2, 5\).*\(2, 8\)"):
        AlignedMultimodalClassifier(encoder=["mlp", five_wide], **SMALL_NET).fit(X, y)
    with pytest.raises(TypeError, match="encoder must be 'mlp', 'transformer', a torch.nn.Module"):
        AlignedMultimodalClassifier(encoder=lambda input_dim, embed_dim: "nope", **SMALL_NET).fit(X, y)


def test_diverging_loss_stops_with_an_error_naming_the_epoch(rng):
    X, y = _two_modalities(rng)
    with pytest.raises(FloatingPointError, match=r"diverged in epoch 1.*lower lr.*higher temperature"):
        AlignedMultimodalClassifier(lr=1e30, max_epochs=5, random_state=0, **{
            k: v for k, v in SMALL_NET.items() if k != "lr"}).fit(X * 1e30, y)


class _ExplodingEncoder(torch.nn.Module):
    """A linear encoder whose output grows tenfold with every training step."""

    def __init__(self, input_dim, embed_dim):
        super().__init__()
        self.linear = torch.nn.Linear(input_dim, embed_dim)
        self.steps = 0

    def forward(self, x):
        if self.training:
            self.steps += 1
        return self.linear(x) * 10.0 ** min(self.steps, 30)


def test_a_loss_that_explodes_without_becoming_nan_stops_with_an_error(rng):
    X, y = _two_modalities(rng)
    model = AlignedMultimodalClassifier(encoder=_ExplodingEncoder, max_epochs=30, random_state=0,
                                        **{k: v for k, v in SMALL_NET.items() if k != "max_epochs"})
    with pytest.raises(FloatingPointError,
                       match=r"diverged in epoch \d+: the (train|valid)_loss reached .*over 1e\+06 "
                             r"times its first epoch's value.*lower lr"):
        model.fit(X, y)


def test_cuda_requested_without_cuda_is_an_error(rng):
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    X, y = _two_modalities(rng, n=50)
    with pytest.raises(ValueError, match="device='cuda' was asked for but CUDA is not available"):
        AlignedMultimodalClassifier(device="cuda").fit(X, y)
    assert AlignedMultimodalClassifier(device="auto", max_epochs=1, **SMALL_NET).fit(X, y).device_ == "cpu"


# -- persistence -------------------------------------------------------------------------
def test_pickle_joblib_and_a_cuda_model_loading_on_cpu(rng, tmp_path):
    X, y = _two_modalities(rng)
    clf = AlignedMultimodalClassifier(max_epochs=2, random_state=0, **SMALL_NET).fit(X, y)
    expected = clf.predict_proba(X)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(clf)).predict_proba(X), expected)
    joblib.dump(clf, tmp_path / "model.joblib")
    np.testing.assert_array_equal(joblib.load(tmp_path / "model.joblib").predict_proba(X), expected)
    if not torch.cuda.is_available():
        # What a model trained on a GPU carries; skorch maps it onto the CPU at load.
        clf.net_.device = "cuda"
        with pytest.warns(Warning, match="cuda"):
            loaded = pickle.loads(pickle.dumps(clf))
        assert str(loaded.net_.device) == "cpu"
        np.testing.assert_array_equal(loaded.predict_proba(X), expected)


# -- scale: parallel search and a dask cluster -------------------------------------------
def test_parallel_workers_do_not_oversubscribe_threads(rng):
    X, y = _two_modalities(rng, n=200)
    est = AlignedMultimodalClassifier(max_epochs=1, **SMALL_NET)
    res = cross_validate(est, X, y, cv=2, n_jobs=2, return_estimator=True)
    cap = max(1, os.cpu_count() // 2)
    assert all(e.n_threads_ <= cap for e in res["estimator"])
    res = cross_validate(clone(est).set_params(n_threads=1), X, y, cv=2, n_jobs=2,
                         return_estimator=True)
    assert [e.n_threads_ for e in res["estimator"]] == [1, 1]


def test_grid_search_over_lam_is_the_same_on_a_dask_cluster(rng):
    distributed = pytest.importorskip("dask.distributed")
    X, y = _two_modalities(rng, n=200)
    grid = GridSearchCV(AlignedMultimodalClassifier(max_epochs=2, random_state=0, n_threads=1, **SMALL_NET),
                        {"lam": [0.0, 1.0]}, cv=2)
    local = clone(grid).fit(X, y)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, distributed.Client(cluster):
        with joblib.parallel_backend("dask"):
            on_dask = clone(grid).fit(X, y)
    np.testing.assert_allclose(on_dask.cv_results_["mean_test_score"],
                               local.cv_results_["mean_test_score"])
    assert on_dask.best_params_ == local.best_params_
