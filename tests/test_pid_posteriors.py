"""The posterior route's pieces: whitening, candidate classifiers, information clustering."""

import warnings

import numpy as np
import pytest
from sklearn.cluster import KMeans
from sklearn.linear_model import LogisticRegression

from alignkit.datasets import make_rus_classification
from alignkit.pid import PIDBiasWarning, PIDEstimator, pid_from_joint
from alignkit.pid._discretize import assign_information_clusters, information_clusters
from alignkit.pid._posteriors import (
    Whitener,
    best_out_of_fold_posteriors,
    candidate_classifiers,
    loglik_bound,
    row_loglik,
)
from alignkit.utils import entropy


def test_whitener_gives_unit_covariance_drops_constant_axes_and_ignores_scale(rng):
    X = rng.normal(size=(500, 3)) @ np.array([[1.0, 0, 0], [0.5, 0.01, 0], [0, 0, 1e-3]])
    X = np.column_stack([X, X[:, 0] + X[:, 1], np.full(500, 7.0)])  # dependent and constant
    whitener = Whitener().fit(X)
    Z = whitener.transform(X)
    assert Z.shape == (500, 3)
    np.testing.assert_allclose(np.cov(Z, rowvar=False), np.eye(3), atol=1e-8)
    for scale in [1e-150, 1e150]:
        np.testing.assert_allclose(Whitener().fit(X * scale).transform(X * scale), Z, atol=1e-8)
    constant = Whitener().fit(np.ones((10, 2)))
    np.testing.assert_array_equal(constant.transform(np.ones((3, 2))), np.zeros((3, 1)))


def test_candidates_depend_on_width_and_class_sizes(rng):
    y = np.repeat([0, 1], 50)
    assert list(candidate_classifiers(rng.normal(size=(100, 4)), y, 0)) == [
        "logistic", "quadratic", "network"]
    assert list(candidate_classifiers(rng.normal(size=(100, 11)), y, 0)) == ["logistic", "network"]
    assert list(candidate_classifiers(rng.normal(size=(99, 4)), y[1:], 0)) == [
        "logistic", "quadratic"]


def test_the_candidate_with_the_tightest_bound_is_chosen(rng):
    # XOR of two signs: invisible to a linear model, exact for the quadratic one.
    X = rng.normal(size=(1000, 2))
    y = ((X[:, 0] > 0) ^ (X[:, 1] > 0)).astype(int)
    name, _, posteriors = best_out_of_fold_posteriors(
        candidate_classifiers(X, y, 0), X, y, None, 0)
    assert name in {"quadratic", "network"}
    linear = best_out_of_fold_posteriors(
        {"logistic": LogisticRegression()}, X, y, None, 0)[2]
    bounds = [loglik_bound(row_loglik(p, y), y) / np.log(2) for p in (posteriors, linear)]
    assert bounds[0] > 0.8 and abs(bounds[1]) < 0.02


def _soft_information(posteriors, groups):
    """I(code; Y) when each sample's y follows its posterior, in nats."""
    h_y = entropy(posteriors.mean(axis=0))
    weights = np.bincount(groups) / len(groups)
    means = [posteriors[groups == g].mean(axis=0) for g in range(groups.max() + 1)]
    return h_y - sum(w * entropy(m) for w, m in zip(weights, means) if w > 0)


def test_information_clusters_lose_the_mean_kl_and_less_than_kmeans_of_logs(rng):
    posteriors = rng.dirichlet(np.full(3, 0.3), size=2000)
    posteriors = np.maximum(posteriors, 1e-9)
    posteriors /= posteriors.sum(axis=1, keepdims=True)
    everything = _soft_information(posteriors, np.arange(len(posteriors)))
    losses = []
    for k in (1, 4, 16, 64):
        centroids = information_clusters(posteriors, k, 0)
        groups = assign_information_clusters(posteriors, centroids)
        assert len(centroids) == k
        # The loss is exactly the mean KL(p_i || centroid of its group).
        kl = np.mean(np.sum(posteriors * np.log(posteriors / centroids[groups]), axis=1))
        loss = everything - _soft_information(posteriors, groups)
        assert loss == pytest.approx(kl, rel=1e-3, abs=1e-9)
        losses.append(loss)
    assert losses[0] == pytest.approx(everything) and np.all(np.diff(losses) < 0)
    assert losses[-1] < 0.02 * everything
    kmeans = KMeans(16, n_init=3, random_state=0).fit_predict(np.log(posteriors))
    assert everything - _soft_information(posteriors, kmeans) > 2 * losses[2]


def test_information_clusters_stop_at_the_distinct_posteriors():
    posteriors = np.repeat([[0.9, 0.1], [0.2, 0.8], [0.5, 0.5]], 10, axis=0)
    centroids = information_clusters(posteriors, 20, 0)
    np.testing.assert_allclose(np.sort(centroids[:, 0]), [0.2, 0.5, 0.9])


@pytest.mark.parametrize("redundancy", [0, 4])
def test_default_is_within_tolerance_on_the_redundancy_generator(redundancy):
    # Issue 11: the former default (KMeans of normalised rows) named the wrong
    # regime on this generator. Four label bits: at r = 4 all are shared.
    data = make_rus_classification(2048, redundancy=redundancy, n_shared=4, n_unique=2,
                                   return_joint=True, random_state=0)
    truth = pid_from_joint(data.joint, units="bits").atoms
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PIDBiasWarning)  # the joint bound is 0.02 bits short
        est = PIDEstimator(modality_dims=data.modality_dims, random_state=0).fit(data.X, data.y)
    assert np.argmax(est.atoms_) == np.argmax(truth)
    np.testing.assert_allclose(est.atoms_, truth, atol=0.05)
    assert est.coders_[0].n_codes_ == 14  # "auto": 1 + 0.02 * 2048 // 3
