"""Turning one modality's features, or a target, into integer codes."""

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, KBinsDiscretizer, normalize
from sklearn.utils import check_random_state

from ._posteriors import PROB_FLOOR, best_out_of_fold_posteriors, candidate_classifiers

__all__ = ["ModalityCoder", "PosteriorCoder", "fit_target_coder"]


class _Categories:
    """Maps the values seen in ``fit`` to ``0..k-1``; anything else is an error."""

    def fit(self, values, what):
        self.categories_ = np.unique(values)
        self.n_codes_ = len(self.categories_)
        self.what = what
        return self

    def transform(self, values):
        codes = np.clip(np.searchsorted(self.categories_, values), 0, len(self.categories_) - 1)
        unseen = self.categories_[codes] != values
        if np.any(unseen):
            raise ValueError(
                f"{self.what} contains values not seen in fit, e.g. {values[unseen][0]!r}; "
                f"the fitted values are {self.categories_[:10].tolist()}"
                f"{' ...' if len(self.categories_) > 10 else ''}."
            )
        return codes


class _ScaleFree(TransformerMixin, BaseEstimator):
    """Divide by the largest magnitude seen in ``fit``.

    PCA, KMeans and quantiles give the same codes for ``c * X`` as for ``X``
    in exact arithmetic, but not in floating point far from scale 1 (their
    squares under- or overflow at ``|X| ~ 1e-160`` or ``1e160``): a data set
    is brought to scale 1 first, so its codes do not depend on its units.
    """

    def fit(self, X, y=None):
        largest = np.max(np.abs(X)) if X.size else 0.0
        self.scale_ = largest if largest > 0 else 1.0
        return self

    def transform(self, X):
        return X / self.scale_


def _unit_rows(X):
    """Rows L2-normalised without under- or overflow: each row is first divided
    by its largest magnitude (``sklearn.preprocessing.normalize`` squares it)."""
    largest = np.max(np.abs(X), axis=1, keepdims=True)
    return normalize(X / np.where(largest > 0, largest, 1.0))


class ModalityCoder:
    """Discretise one modality's block of columns into ``n_codes_`` codes.

    ``"kmeans"`` (Liang et al. 2023): rows L2-normalised (when ``row_normalize``
    and the modality has more than one column), PCA to ``n_components``, then
    KMeans with ``n_clusters``. ``"quantile"``: the same projection to one
    principal component, cut at its quantiles into ``n_clusters`` bins. ``None``:
    a single column of codes, used as they are. Otherwise a clusterer with
    ``fit`` and ``predict``, cloned. Clusters are capped at the number of
    distinct rows, so tiny data sets are well defined.
    """

    def __init__(self, discretizer, n_clusters, n_components, row_normalize, random_state, what):
        self.discretizer = discretizer
        self.n_clusters = n_clusters
        self.n_components = n_components
        self.row_normalize = row_normalize
        self.random_state = random_state
        self.what = what

    def _projection(self, X, n_components):
        steps = [_ScaleFree()]
        if self.row_normalize and X.shape[1] > 1:
            steps.append(FunctionTransformer(_unit_rows))
        n_components = min(n_components, *X.shape)
        if n_components < X.shape[1]:
            steps.append(PCA(n_components=n_components, random_state=self.random_state))
        return steps

    def fit(self, X):
        if self.discretizer is None:
            if X.shape[1] != 1:
                raise ValueError(
                    f"With discretizer=None each modality must be one column of discrete "
                    f"codes; {self.what} has {X.shape[1]} columns."
                )
            self.model_ = None
            self.labels_ = _Categories().fit(X[:, 0], self.what)
        else:
            n_distinct = len(np.unique(X, axis=0))
            k = min(self.n_clusters, n_distinct)
            if self.discretizer == "kmeans":
                last = KMeans(n_clusters=k, n_init="auto", random_state=self.random_state)
                steps = self._projection(X, self.n_components) + [last]
            elif self.discretizer == "quantile":
                last = KBinsDiscretizer(n_bins=max(k, 2), encode="ordinal", strategy="quantile",
                                        quantile_method="averaged_inverted_cdf")
                steps = self._projection(X, 1) + [last]
            else:
                steps = [clone(self.discretizer)]
            self.model_ = make_pipeline(*steps).fit(X)
            self.labels_ = _Categories().fit(self._raw(X), f"the clusters of {self.what}")
        self.n_codes_ = self.labels_.n_codes_
        return self

    def _raw(self, X):
        if self.model_ is None:
            return X[:, 0]
        if hasattr(self.model_, "predict"):
            return self.model_.predict(X)
        return self.model_.transform(X)[:, 0]

    def transform(self, X):
        return self.labels_.transform(self._raw(X))


def information_clusters(posteriors, n_clusters, random_state, n_init=3, max_iter=100):
    """Centroids of at most ``n_clusters`` groups of posteriors that lose the
    least information about ``y``.

    Coding the samples of a group by one symbol replaces their posteriors by
    the group's mean ``c``, and loses ``I(X; Y) - I(code; Y)`` = the mean of
    ``KL(p_i || c)`` over the samples. Lloyd's iterations with that divergence
    (Dhillon, Mallela & Kumar 2003) lower it at every step: assign each
    sample to the centroid ``argmax_k sum_y p_iy log c_ky``, move each
    centroid to its group's mean. Seeded by k-means++ on ``sqrt(p)`` (the
    Hellinger embedding, whose squared distances are close to that loss);
    the best of ``n_init`` seeds. KMeans of ``log p`` spends its codes on the
    logarithms of small probabilities instead, which carry almost nothing.
    """
    rng = check_random_state(random_state)
    roots = np.sqrt(posteriors)
    best = None
    for _ in range(n_init):
        centres = [roots[rng.randint(len(roots))]]
        gaps = np.sum((roots - centres[0]) ** 2, axis=1)
        while len(centres) < n_clusters and gaps.sum() > 0:
            centres.append(roots[rng.choice(len(roots), p=gaps / gaps.sum())])
            gaps = np.minimum(gaps, np.sum((roots - centres[-1]) ** 2, axis=1))
        centroids = np.array(centres) ** 2
        labels = None
        for _ in range(max_iter):
            new_labels = assign_information_clusters(posteriors, centroids)
            if labels is not None and np.array_equal(new_labels, labels):
                break
            labels = new_labels
            sizes = np.bincount(labels, minlength=len(centroids))
            sums = np.zeros_like(centroids)
            np.add.at(sums, labels, posteriors)
            centroids = sums[sizes > 0] / sizes[sizes > 0, None]
            labels = np.cumsum(sizes > 0)[labels] - 1
        loss = -np.sum(posteriors * np.log(centroids[labels]))
        if best is None or loss < best[0]:
            best = (loss, centroids)
    return best[1]


def assign_information_clusters(posteriors, centroids):
    """The centroid of each posterior with the smallest ``KL(p || c)``."""
    return np.argmax(posteriors @ np.log(centroids).T, axis=1).astype(np.intp)


class PosteriorCoder:
    """Discretise one modality by grouping its class posteriors ``p(y | x)``.

    ``p(y | x)`` is a sufficient statistic of ``x`` for ``y``, so codes that
    keep it keep the ``(x, y)`` marginal that R, U1 and U2 depend on; the
    groups are those of :func:`information_clusters`, which lose the least
    of it. The codes ``fit`` returns group out-of-fold posteriors (a
    classifier that saw a sample would overstate what its code says about
    ``y``); ``transform`` uses the classifier refitted on all of the data.
    ``classifier=None`` takes the candidate of :func:`candidate_classifiers`
    with the highest out-of-fold likelihood (``classifier_name_``).
    """

    def __init__(self, classifier, n_clusters, n_jobs, random_state):
        self.classifier = classifier
        self.n_clusters = n_clusters
        self.n_jobs = n_jobs
        self.random_state = random_state

    def fit(self, X, y_codes):
        """Fit; return the codes of ``X`` from its out-of-fold posteriors."""
        candidates = (candidate_classifiers(X, y_codes, self.random_state) if self.classifier is None
                      else {"classifier": self.classifier})
        self.classifier_name_, classifier, posteriors = best_out_of_fold_posteriors(
            candidates, X, y_codes, self.n_jobs, self.random_state)
        self.centroids_ = information_clusters(posteriors, self.n_clusters, self.random_state)
        self.model_ = clone(classifier).fit(X, y_codes)
        self.n_codes_ = len(self.centroids_)
        return assign_information_clusters(posteriors, self.centroids_)

    def transform(self, X):
        posteriors = np.maximum(self.model_.predict_proba(X), PROB_FLOOR)
        return assign_information_clusters(posteriors / posteriors.sum(axis=1, keepdims=True),
                                           self.centroids_)


class _ThresholdCoder:
    n_codes_ = 2

    def __init__(self, threshold):
        self.threshold = threshold

    def transform(self, y):
        return (np.asarray(y, dtype=np.float64) >= self.threshold).astype(np.intp)


class _BinCoder:
    def __init__(self, n_bins, y):
        self.bins = KBinsDiscretizer(n_bins=n_bins, encode="ordinal", strategy="quantile",
                                     quantile_method="averaged_inverted_cdf")
        self.bins.fit(np.asarray(y, dtype=np.float64).reshape(-1, 1))
        self.n_codes_ = int(self.bins.n_bins_[0])

    def transform(self, y):
        return self.bins.transform(np.asarray(y, dtype=np.float64).reshape(-1, 1))[:, 0].astype(np.intp)


def fit_target_coder(y, n_bins, threshold):
    """A coder for the target: thresholded, quantile-binned, or its classes."""
    if threshold is not None:
        return _ThresholdCoder(threshold)
    if n_bins is not None:
        return _BinCoder(n_bins, y)
    return _Categories().fit(y, "y")
