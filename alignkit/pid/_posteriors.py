"""Cross-fitted class posteriors ``p(y | x)`` and the classifiers behind them.

The posterior PID route and :class:`~alignkit.pid.BatchPIDEstimator` both
rest on out-of-fold posteriors: a classifier that saw a sample overstates
what its features say about ``y``, so every sample's posterior comes from a
model fitted on the other folds. ``H(Y)`` less the mean out-of-fold
``-log p(y_i | x_i)`` is then a lower bound on ``I(X; Y)``, which makes
classifiers comparable by it: the higher bound is the tighter one.
"""

import numpy as np
from scipy.linalg import svd
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import PolynomialFeatures, StandardScaler
from sklearn.utils.validation import check_is_fitted

from ..utils import entropy

__all__ = ["Whitener", "best_out_of_fold_posteriors", "candidate_classifiers",
           "default_classifier", "loglik_bound", "out_of_fold_posteriors", "row_loglik"]

# Posteriors are floored here so that every log-likelihood is finite.
PROB_FLOOR = 1e-9
# Most cross-fitting folds.
MAX_FOLDS = 5
# The network candidate needs this many samples of its rarest class: its
# early-stopping split holds out a tenth of each fold's training part.
MIN_CLASS_FOR_NETWORK = 50
# The quadratic candidate's widest input (10 columns: 65 products and squares).
MAX_QUADRATIC_FEATURES = 10


class Whitener(TransformerMixin, BaseEstimator):
    """Centre, rotate onto the principal axes and scale each to unit variance.

    Axes with no variance (below ``1e-10`` of the largest spread) are
    dropped. A modality seen through a random network (the heterogeneous
    setting of :func:`~alignkit.datasets.make_rus_classification`, whose
    smallest axis has 0.4 % of the largest's spread) is easier for the
    classifiers after this: there, logistic regression fits 8x faster and a
    network reads 0.05 bits more of ``I(X2; Y)`` than on standardised
    features (``benchmarks/bench_pid_posteriors.py``). The data are first
    divided by their largest
    magnitude, so that any scale from 1e-150 to 1e150 gives the same axes.
    """

    def fit(self, X, y=None):
        X = np.asarray(X, dtype=np.float64)
        largest = np.max(np.abs(X)) if X.size else 0.0
        self.scale_ = largest if largest > 0 else 1.0
        X = X / self.scale_
        self.mean_ = X.mean(axis=0)
        _, spread, axes = svd(X - self.mean_, full_matrices=False)
        keep = spread > 1e-10 * spread.max(initial=0.0)
        if np.any(keep):
            self.components_ = axes[keep] * (np.sqrt(max(len(X) - 1, 1)) / spread[keep, None])
        else:  # a constant modality: one axis of zeros
            self.components_ = np.zeros((1, X.shape[1]))
        return self

    def transform(self, X):
        check_is_fitted(self)
        return (np.asarray(X, dtype=np.float64) / self.scale_ - self.mean_) @ self.components_.T


def candidate_classifiers(X, y, random_state):
    """The classifiers the posterior route chooses from, by out-of-fold likelihood.

    On whitened features: logistic regression (calibrated, fast, exact when
    ``log p(y | x)`` is linear in ``x``); with at most
    ``MAX_QUADRATIC_FEATURES`` columns, logistic regression on the features
    and their pairwise products (exact for XOR-like interactions of a few
    features); with at least ``MIN_CLASS_FOR_NETWORK`` samples of the rarest
    class, a two-layer network (64 + 64 ReLU units, early stopping on a tenth
    of the training rows), which reads interactions and curved boundaries in
    any number of features.
    """
    def logistic():
        return LogisticRegression(C=10.0, max_iter=2000, random_state=random_state)

    candidates = {"logistic": make_pipeline(Whitener(), logistic())}
    if X.shape[1] <= MAX_QUADRATIC_FEATURES:
        candidates["quadratic"] = make_pipeline(Whitener(), PolynomialFeatures(2),
                                                StandardScaler(), logistic())
    if np.bincount(y).min() >= MIN_CLASS_FOR_NETWORK:
        # About 16 steps per epoch, so that early stopping sees progress on small data too.
        batch_size = int(np.clip(len(y) // 16, 32, 512))
        candidates["network"] = make_pipeline(Whitener(), MLPClassifier(
            (64, 64), batch_size=batch_size, learning_rate_init=1e-2, max_iter=100,
            early_stopping=True, n_iter_no_change=10, random_state=random_state))
    return candidates


def default_classifier(random_state):
    """:class:`~alignkit.pid.BatchPIDEstimator`'s classifier: logistic regression
    on standardised features and their pairwise products, calibrated, fast and
    able to represent XOR-like synergy."""
    return make_pipeline(StandardScaler(), PolynomialFeatures(2), StandardScaler(),
                         LogisticRegression(C=10.0, max_iter=2000, random_state=random_state))


def out_of_fold_posteriors(classifier, features, y, n_jobs, random_state):
    """``p(y | features)`` of each sample from a model that did not see it."""
    n_folds = min(MAX_FOLDS, int(np.bincount(y).min()))
    if n_folds < 2:
        raise ValueError(
            "Cross-fitting the classifiers needs at least 2 samples of "
            f"every class; the smallest class has {int(np.bincount(y).min())}."
        )
    folds = StratifiedKFold(n_folds, shuffle=True, random_state=random_state)
    posteriors = cross_val_predict(clone(classifier), features, y, cv=folds,
                                   method="predict_proba", n_jobs=n_jobs)
    posteriors = np.maximum(posteriors, PROB_FLOOR)
    return posteriors / posteriors.sum(axis=1, keepdims=True)


def best_out_of_fold_posteriors(candidates, features, y, n_jobs, random_state):
    """The candidate with the highest out-of-fold log-likelihood (the tightest
    bound on ``I(features; y)``), every candidate on the same folds.

    Returns ``(name, classifier, posteriors)``.
    """
    best = None
    for name, classifier in candidates.items():
        posteriors = out_of_fold_posteriors(classifier, features, y, n_jobs, random_state)
        loglik = float(np.mean(row_loglik(posteriors, y)))
        if best is None or loglik > best[0]:
            best = (loglik, name, classifier, posteriors)
    return best[1:]


def row_loglik(proba, y_codes):
    """Each row's ``log p(y_i | x_i)`` from class probabilities (floored, so never -inf)."""
    return np.log(np.maximum(proba[np.arange(len(y_codes)), y_codes], np.finfo(float).tiny))


def loglik_bound(loglik, y_codes):
    """``H(Y)`` less the cross-entropy of out-of-fold log-likelihoods (nats): a
    lower bound on the information of the classifier's features about ``y``."""
    return entropy(np.bincount(y_codes) / len(y_codes)) + float(np.mean(loglik))
