"""lambda_sweep's pairing and statistics, and LambdaSweepDisplay.from_sweep."""

import numpy as np
import pytest
import torch
from joblib import parallel_config
from scipy import stats
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from conftest import SMALL_NET
from alignkit import AlignedMultimodalClassifier
from alignkit.model_selection import lambda_sweep
from alignkit.plotting import LambdaSweepDisplay

torch.set_num_threads(1)


class SeedEffect(ClassifierMixin, BaseEstimator):
    """Scores ``seed_effect(random_state) + lam + noise(random_state, lam)``; records its rows."""

    def __init__(self, lam=0.0, random_state=None, noise=0.0):
        self.lam, self.random_state, self.noise = lam, random_state, noise

    def fit(self, X, y):
        self.rows_ = np.asarray(X)[:, 0].copy()
        self.classes_ = np.unique(y)
        return self

    def score(self, X, y):
        noise = np.random.default_rng([self.random_state, int(self.lam * 10)]).normal()
        return 10.0 * self.random_state + self.lam + self.noise * noise


@pytest.fixture
def data():
    X = np.arange(40, dtype=float)[:, None].repeat(2, axis=1)
    return X, np.tile([0, 1], 20)


def test_differences_are_paired_by_seed(data):
    X, y = data
    sweep = lambda_sweep(SeedEffect(), X, y, lams=[0, 0.5, 2], seeds=[3, 5, 11])
    s = sweep.summary.set_index("lam")
    # The seed effect (10 * seed) dominates the scores' spread and vanishes from Δ.
    np.testing.assert_allclose(s["mean"], np.array([0, 0.5, 2]) + 10 * np.mean([3, 5, 11]))
    np.testing.assert_allclose(s["sem"], 10 * np.std([3, 5, 11], ddof=1) / np.sqrt(3))
    np.testing.assert_allclose(s["delta"], [0, 0.5, 2], atol=1e-12)
    np.testing.assert_allclose(s["delta_sem"], 0, atol=1e-12)
    assert s["t"].isna().all()  # undefined where every seed gives the same Δ
    assert list(sweep.scores.columns) == ["seed", "lam", "scorer", "score", "fit_time"]
    assert len(sweep.scores) == 9 and sweep.baseline == 0.0 and sweep.seeds == [3, 5, 11]


def test_t_is_the_paired_t_statistic(data):
    X, y = data
    with parallel_config(backend="threading"):  # the parallel path, without process start-up
        sweep = lambda_sweep(SeedEffect(noise=1.0), X, y, lams=[0, 1], seeds=6, n_jobs=2)
    wide = sweep.scores.pivot(index="seed", columns="lam", values="score")
    expected = stats.ttest_rel(wide[1.0], wide[0.0]).statistic
    row = sweep.summary.query("lam == 1").iloc[0]
    assert row["t"] == pytest.approx(expected, rel=1e-10)
    assert row["delta_sem"] == pytest.approx(stats.sem(wide[1.0] - wide[0.0]), rel=1e-10)


def test_every_lambda_of_a_seed_trains_on_the_same_rows_with_the_same_seed(data, monkeypatch):
    X, y = data
    fitted = []
    monkeypatch.setattr(SeedEffect, "score", lambda self, X, y: fitted.append(self) or 0.0)
    lambda_sweep(SeedEffect(), X, y, lams=[0, 1, 2], seeds=2, test_size=0.5)
    by_seed = {}
    for est in fitted:
        by_seed.setdefault(est.random_state, []).append(est.rows_)
    assert sorted(by_seed) == [0, 1]
    for rows in by_seed.values():
        assert len(rows) == 3 and all(np.array_equal(rows[0], r) for r in rows)
    assert not np.array_equal(by_seed[0][0], by_seed[1][0])


def test_pipeline_parameters_and_real_estimators(data):
    X, y = data
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 120)
    X = np.c_[y[:, None] + rng.normal(size=(120, 2)), y[:, None] + rng.normal(size=(120, 2))]
    model = make_pipeline(StandardScaler(), AlignedMultimodalClassifier(
        modality_dims=[2, 2], max_epochs=2, n_threads=1, **{**SMALL_NET, "batch_size": 40}))
    sweep = lambda_sweep(model, X, y, lams=[0, 1], seeds=2, scoring=["accuracy"],
                         param="alignedmultimodalclassifier__lam")
    assert sweep.summary["scorer"].tolist() == ["accuracy", "accuracy"]
    assert sweep.summary["n_seeds"].tolist() == [2, 2]
    logistic = lambda_sweep(LogisticRegression(), X, y, lams=[0.01, 1.0], param="C",
                            baseline=0.01, seeds=2, scoring={"acc": "accuracy"})
    assert logistic.summary["scorer"].unique().tolist() == ["acc"]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"lams": [0.5, 1]}, "do not contain the baseline 0"),
        ({"lams": [0, np.inf]}, "finite numbers"),
        ({"lams": [0, 1], "seeds": [1, 1]}, "at least 2 distinct seeds"),
        ({"lams": [0, 1], "param": "alpha"}, "has no parameter 'alpha'"),
    ],
)
def test_bad_sweeps_are_refused(kwargs, message, data):
    X, y = data
    with pytest.raises(ValueError, match=message):
        lambda_sweep(SeedEffect(), X, y, **kwargs)


def test_display_from_sweep_error_bars_delta_band_and_ceilings(data):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    X, y = data
    sweep = lambda_sweep(SeedEffect(noise=0.5), X, y, lams=[0, 1, 2], seeds=3,
                         scoring={"acc": None, "cka": None})
    disp = LambdaSweepDisplay.from_sweep(sweep, scores={"acc": "fused"}, ceilings={"acc": 60.0})
    s = sweep.summary
    np.testing.assert_allclose(disp.lines_["fused"].get_ydata(), s.query("scorer == 'acc'")["mean"])
    np.testing.assert_allclose(disp.lines_["cka"].get_ydata(), s.query("scorer == 'cka'")["mean"])
    assert disp.ceiling_lines_["fused"].get_ydata()[0] == 60.0
    # Error bars: one vertical segment per λ, as long as 2 s.e.
    (bars,) = [c for c in disp.ax_.collections if len(c.get_segments()) == 3]
    lengths = [seg[1, 1] - seg[0, 1] for seg in bars.get_segments()]
    np.testing.assert_allclose(lengths, 2 * s.query("scorer == 'acc'")["sem"])
    plt.close("all")

    disp = LambdaSweepDisplay.from_sweep(sweep.summary, scores=["acc"], alignment=[], delta=True)
    np.testing.assert_allclose(disp.lines_["acc"].get_ydata(), s.query("scorer == 'acc'")["delta"])
    assert disp.baseline == 0.0 and disp.ax_.get_ylabel() == "Δ score"
    assert any(list(line.get_ydata()) == [0.0, 0.0] for line in disp.ax_.lines)
    plt.close("all")
    with pytest.raises(ValueError, match="ceilings bound scores"):
        LambdaSweepDisplay.from_sweep(sweep, delta=True, ceilings={"acc": 1.0})
    with pytest.raises(ValueError, match="has no scorer"):
        LambdaSweepDisplay.from_sweep(sweep, scores=["f1"])
    with pytest.raises(ValueError, match="what lambda_sweep returned"):
        LambdaSweepDisplay.from_sweep({"lam": [0]})


def test_a_dask_cluster_runs_the_same_sweep(data):
    distributed = pytest.importorskip("distributed")
    X, y = data
    local = lambda_sweep(SeedEffect(noise=1.0), X, y, lams=[0, 1], seeds=3)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, distributed.Client(cluster):
        with parallel_config(backend="dask"):
            on_dask = lambda_sweep(SeedEffect(noise=1.0), X, y, lams=[0, 1], seeds=3, n_jobs=-1)
    columns = ["lam", "scorer", "mean", "sem", "delta", "delta_sem", "t"]
    np.testing.assert_allclose(on_dask.summary[columns[2:]].to_numpy(dtype=float),
                               local.summary[columns[2:]].to_numpy(dtype=float))
