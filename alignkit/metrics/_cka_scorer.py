"""CKAScorer: alignment between the modalities of X as a scikit-learn estimator."""

from itertools import combinations
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, _fit_context
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted, validate_data

from ..utils import fit_modality_layout, split_modalities
from ..utils._docstrings import Substitution
from ._alignment import (
    METRIC_CONSTRAINT,
    accepted_options,
    alignment_matrix,
    mean_pairwise_alignment,
    resolve_metric,
)
from ._array import SHARED_CONSTRAINTS
from ._stats import alignment_test
from ._streaming import (
    STREAMING_METRICS,
    AlignmentAccumulator,
    min_samples,
    refuse_clip_quantile,
)


@Substitution()
class CKAScorer(BaseEstimator):
    """Alignment between the modalities' representations held side by side in ``X``.

    ``X`` holds every modality's features side by side (see
    :mod:`alignkit.utils`); ``fit`` measures how aligned the modality blocks
    are, ``score`` does the same on new samples. It works on raw features
    or on learned embeddings (e.g. ``AlignedMultimodalClassifier.transform``),
    and as the last step of a :class:`~sklearn.pipeline.Pipeline`.

    Parameters
    ----------
    metric : {"unbiased_cka", "linear_cka", "rbf_cka", "mutual_knn", "cknna", \
            "svcca"} or callable, default="unbiased_cka"
        The alignment metric (see :mod:`alignkit.metrics`), or a callable
        ``(A, B) -> float``.
    {modality_dims}
    k : int, default=10
        Neighbours for ``"mutual_knn"`` and ``"cknna"``.
    n_components : int, default=10
        Singular directions kept by ``"svcca"``.
    sigma : float, default=None
        RBF width for ``"rbf_cka"``; ``None`` uses the median heuristic.
    clip_quantile : float in (0, 1], default=None
        Clamp each block's entries to this quantile of absolute values first.
    normalize : bool, default=False
        L2-normalise the rows of each block first (``"mutual_knn"`` always
        compares rows by cosine).
    n_permutations : int, default=0
        Permutations of the test of each pair of modalities against chance
        (see :func:`~alignkit.metrics.alignment_test`); 0 skips the test and
        its attributes.
    confidence_level : float in (0, 1) or None, default=0.95
        Level of the half-sample bootstrap interval, computed with the test;
        ``None`` skips it.
    random_state : int, RandomState instance or None, default=None
        Seeds the permutations and resamples.
    n_jobs : int, default=None
        Threads for the permutations and resamples.

    Attributes
    ----------
    score_ : float
        Alignment on the training data: the metric between the two
        modalities, or its mean over all pairs ``i < j`` when there are more.
    scores_ : ndarray of shape (n_modalities, n_modalities)
        The metric between every pair of modalities on the training data
        (the diagonal compares each modality with itself).
    pvalue_ : float or ndarray of shape (n_pairs,)
        Permutation p-value of the alignment on the training data (one per
        pair ``i < j``, in :func:`itertools.combinations` order, when there
        are more than two modalities). Only with ``n_permutations > 0``.
    null_mean_ : float or ndarray of shape (n_pairs,)
        The metric's mean over random re-pairings of the rows: its chance
        level at this sample size. Only with ``n_permutations > 0``.
    calibrated_score_ : float or ndarray of shape (n_pairs,)
        ``score - null_mean_``, per pair. Only with ``n_permutations > 0``.
    confidence_interval_ : tuple of float or ndarray of shape (n_pairs, 2)
        ``(low, high)`` half-sample bootstrap interval at
        ``confidence_level``. Only with ``n_permutations > 0`` and a
        ``confidence_level``.
    modality_dims_ : list of int
        Columns per modality.
    modality_names_ : list of str
        Name of each modality.
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during ``fit``, when ``X`` has string column
        names.
    accumulators_ : dict of (int, int) to AlignmentAccumulator
        After :meth:`partial_fit` only: the streaming statistics of every
        pair of modalities ``i <= j``.

    See Also
    --------
    alignkit.metrics.make_alignment_scorer : The same measure for a fitted
        model's embeddings, as a ``GridSearchCV`` scorer.

    Notes
    -----
    :meth:`partial_fit` measures ``"linear_cka"``, ``"unbiased_cka"`` and
    ``"svcca"`` exactly over batches of rows (see
    :class:`~alignkit.metrics.AlignmentAccumulator`): ``score_`` after the
    last batch equals ``fit`` on all the rows. ``fit`` starts afresh.

    Whether data is too small depends on the metric: the unbiased HSIC
    needs at least 4 samples, the k-NN metrics more than ``k``, SVCCA more
    than ``n_components``; otherwise ``fit`` and ``score`` raise a
    ``ValueError`` saying so. A constant modality scores 0.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from alignkit import CKAScorer
    >>> rng = np.random.default_rng(0)
    >>> shared = rng.normal(size=(300, 4))
    >>> X = np.hstack([shared, shared @ rng.normal(size=(4, 6))])
    >>> round(CKAScorer(modality_dims=[4, 6]).fit(X).score_, 2)
    0.77
    >>> pipe = make_pipeline(StandardScaler(),
    ...                      CKAScorer(metric="mutual_knn", modality_dims=[4, 6]))
    >>> round(pipe.fit(X).score(X), 2)
    0.58
    """

    _parameter_constraints = {
        "metric": METRIC_CONSTRAINT,
        "modality_dims": ["array-like", None],
        "k": [Interval(Integral, 1, None, closed="left")],
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "sigma": [Interval(Real, 0, None, closed="neither"), None],
        "clip_quantile": SHARED_CONSTRAINTS["clip_quantile"],
        "normalize": SHARED_CONSTRAINTS["normalize"],
        "n_permutations": [Interval(Integral, 0, None, closed="left")],
        "confidence_level": [Interval(Real, 0, 1, closed="neither"), None],
        "random_state": ["random_state"],
        "n_jobs": [Integral, None],
    }

    def __init__(self, metric="unbiased_cka", *, modality_dims=None, k=10, n_components=10,
                 sigma=None, clip_quantile=None, normalize=False, n_permutations=0,
                 confidence_level=0.95, random_state=None, n_jobs=None):
        self.metric = metric
        self.modality_dims = modality_dims
        self.k = k
        self.n_components = n_components
        self.sigma = sigma
        self.clip_quantile = clip_quantile
        self.normalize = normalize
        self.n_permutations = n_permutations
        self.confidence_level = confidence_level
        self.random_state = random_state
        self.n_jobs = n_jobs

    def _metric_and_options(self):
        func = resolve_metric(self.metric)
        options = dict(k=self.k, n_components=self.n_components, sigma=self.sigma,
                       clip_quantile=self.clip_quantile, normalize=self.normalize)
        return func, accepted_options(func, options)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Measure the alignment between the modality blocks of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, sum(modality_dims))
            Every modality's features side by side.
        y : None
            Ignored.

        Returns
        -------
        self : CKAScorer
            Fitted, with ``score_`` and ``scores_``.
        """
        X = validate_data(self, X, reset=True, dtype=np.float64)
        fit_modality_layout(self)
        self.__dict__.pop("accumulators_", None)
        func, options = self._metric_and_options()
        blocks = split_modalities(X, self.modality_dims_)
        self.scores_ = alignment_matrix(blocks, metric=func, **options)
        self.score_ = float(self.scores_[np.triu_indices(len(blocks), 1)].mean())
        if self.n_permutations:
            self._test_pairs(blocks, options)
        return self

    def _test_pairs(self, blocks, options):
        """The permutation test and interval of every pair of modalities."""
        results = [
            alignment_test(blocks[i], blocks[j], metric=self.metric,
                           n_permutations=self.n_permutations,
                           confidence_level=self.confidence_level,
                           random_state=self.random_state, n_jobs=self.n_jobs, **options)
            for i, j in combinations(range(len(blocks)), 2)
        ]
        one = len(results) == 1

        def collect(values):
            return values[0] if one else np.array(values, dtype=np.float64)

        self.pvalue_ = collect([r.pvalue for r in results])
        self.null_mean_ = collect([r.null_mean for r in results])
        self.calibrated_score_ = collect([r.calibrated for r in results])
        if self.confidence_level is not None:
            self.confidence_interval_ = collect([r.confidence_interval for r in results])

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None):
        """Add a batch of rows to the alignment measured over every batch so far.

        Exact for ``"linear_cka"``, ``"unbiased_cka"`` and ``"svcca"``:
        after any sequence of batches, ``score_`` and ``scores_`` equal what
        ``fit`` gives on all their rows, in memory independent of the
        number of rows.

        Parameters
        ----------
        X : array-like of shape (n_rows, sum(modality_dims))
            A batch of rows, every modality's features side by side.
        y : None
            Ignored.

        Returns
        -------
        self : CKAScorer
            With ``score_`` and ``scores_`` over every row seen, once there
            are enough rows for the metric (4 for ``"unbiased_cka"``, 2
            otherwise).
        """
        if not isinstance(self.metric, str) or self.metric not in STREAMING_METRICS:
            raise ValueError(
                f"partial_fit streams the metrics {STREAMING_METRICS}, whose statistics add "
                f"up across batches; got metric={self.metric!r}, which needs every row at "
                "once: use fit."
            )
        refuse_clip_quantile(self.clip_quantile, "partial_fit")
        first = not hasattr(self, "accumulators_")
        X = validate_data(self, X, reset=first, dtype=np.float64)
        if first:
            fit_modality_layout(self)
            self.accumulators_ = {
                (i, j): AlignmentAccumulator(self.metric, n_components=self.n_components,
                                             normalize=self.normalize)
                for i in range(len(self.modality_dims_)) for j in range(i, len(self.modality_dims_))
            }
        blocks = split_modalities(X, self.modality_dims_)
        for (i, j), accumulator in self.accumulators_.items():
            accumulator.partial_fit(blocks[i], blocks[j])
        if accumulator.n_samples_seen_ >= min_samples(self.metric):
            scores = np.empty((len(blocks), len(blocks)))
            for (i, j), accumulator in self.accumulators_.items():
                scores[i, j] = scores[j, i] = accumulator.score()
            self.scores_ = scores
            self.score_ = float(scores[np.triu_indices(len(blocks), 1)].mean())
        return self

    def score(self, X, y=None):
        """Alignment between the modality blocks of new samples.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features_in_)
            Every modality's features side by side, in the fitted layout.
        y : None
            Ignored.

        Returns
        -------
        score : float
            The metric between the two modalities (mean over pairs when
            there are more than two).
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float64)
        func, options = self._metric_and_options()
        return mean_pairwise_alignment(split_modalities(X, self.modality_dims_), func, options)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = False
        return tags
