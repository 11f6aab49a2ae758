"""Scorers ``(estimator, X, y) -> float`` for ``GridSearchCV(scoring=...)``."""

from numbers import Integral

from sklearn.base import is_classifier
from sklearn.metrics import accuracy_score, r2_score
from sklearn.pipeline import Pipeline
from sklearn.utils._param_validation import Interval, StrOptions, validate_params

from ..utils import split_modalities
from ..utils._modalities import _prefix_runs, check_pair_index
from ._alignment import METRIC_CONSTRAINT, accepted_options, mean_pairwise_alignment, resolve_metric


def _multimodal_step(estimator, X):
    """The model that holds the modalities and ``X`` as it sees it.

    For a :class:`~sklearn.pipeline.Pipeline` that is its last step, fed with
    ``X`` passed through the steps before it.
    """
    while isinstance(estimator, Pipeline):
        estimator, X = estimator[-1], estimator[:-1].transform(X)
    return estimator, X


def _embedding_layout(estimator, n_columns):
    """Columns of each modality in ``estimator.transform(X)``.

    From the ``"<modality>__<feature>"`` names of ``get_feature_names_out()``
    where the estimator has it (the aligned estimators do); else
    ``len(modality_names_)`` blocks of equal width.
    """
    if hasattr(estimator, "get_feature_names_out"):
        names = list(estimator.get_feature_names_out())
        try:
            runs = _prefix_runs(names) if len(names) == n_columns else None
        except ValueError:
            runs = None
        if runs is None or len(runs[1]) < 2:
            raise ValueError(
                f"The modality layout of transform(X)'s {n_columns} columns comes from "
                f"{type(estimator).__name__}.get_feature_names_out(), which must name every "
                "column '<modality>__<feature>', each modality's columns side by side, for "
                f"at least 2 modalities; got {len(names)} names starting {names[:3]}."
            )
        return runs[1]
    n_modalities = len(estimator.modality_names_)
    width, remainder = divmod(n_columns, n_modalities)
    if remainder:
        raise ValueError(
            f"transform(X) has {n_columns} columns, which do not split into "
            f"{n_modalities} equal modality blocks; give the estimator a "
            "get_feature_names_out() naming the columns '<modality>__<feature>'."
        )
    return [width] * n_modalities


class _AlignmentScorer:
    """Alignment between the modality blocks of ``estimator.transform(X)``."""

    def __init__(self, metric, pair, metric_kwargs):
        self.metric = metric
        self.pair = pair
        self.metric_kwargs = metric_kwargs

    def __call__(self, estimator, X, y=None):
        estimator, X = _multimodal_step(estimator, X)
        embedding = estimator.transform(X)
        blocks = split_modalities(embedding, _embedding_layout(estimator, embedding.shape[1]))
        return mean_pairwise_alignment(
            blocks, resolve_metric(self.metric), self.metric_kwargs, self.pair
        )

    def __repr__(self):
        options = "".join(f", {k}={v!r}" for k, v in self.metric_kwargs.items())
        return f"make_alignment_scorer({self.metric!r}, pair={self.pair!r}{options})"


@validate_params(
    {"metric": METRIC_CONSTRAINT, "pair": ["array-like", None]},
    prefer_skip_nested_validation=True,
)
def make_alignment_scorer(metric="unbiased_cka", *, pair=None, **metric_kwargs):
    """Make a scorer of the alignment between a fitted model's modality embeddings.

    The scorer calls ``estimator.transform(X)`` (on a
    :class:`~sklearn.pipeline.Pipeline`, its last step's), splits its columns into
    one embedding per modality and measures their alignment, so
    ``GridSearchCV`` reports alignment next to accuracy for every candidate
    (e.g. every ``lam``). The modality of each column comes from the
    estimator's ``get_feature_names_out()``, whose names are
    ``"<modality>__<feature>"`` (as for
    :class:`~alignkit.AlignedMultimodalClassifier`); an estimator without
    that method has its columns split into ``len(estimator.modality_names_)``
    blocks of equal width.

    Parameters
    ----------
    metric : str or callable, default="unbiased_cka"
        One of ``"linear_cka"``, ``"unbiased_cka"``, ``"rbf_cka"``,
        ``"mutual_knn"``, ``"cknna"``, ``"svcca"``, or a callable
        ``(A, B) -> float``.
    pair : tuple of int, default=None
        The two modalities to compare. ``None`` averages the metric over
        every pair ``i < j`` (just the one pair for two modalities).
    **metric_kwargs : dict
        Passed to the metric (``k``, ``n_components``, ``clip_quantile``, ...).

    Returns
    -------
    scorer : callable
        ``scorer(estimator, X, y=None) -> float``; higher means more aligned.

    See Also
    --------
    modality_scorer : A score of one modality's unimodal model.
    CKAScorer : Alignment between the modalities of ``X`` itself.

    Examples
    --------
    >>> import numpy as np
    >>> from alignkit.metrics import make_alignment_scorer
    >>> class Embedder:  # any fitted model following the transform contract
    ...     modality_names_ = ["img", "txt"]
    ...     def transform(self, X):
    ...         return np.hstack([X, 2 * X])
    >>> scorer = make_alignment_scorer("linear_cka")
    >>> X = np.random.default_rng(0).normal(size=(50, 3))
    >>> round(scorer(Embedder(), X), 6)
    1.0
    """
    func = resolve_metric(metric)
    if pair is not None:
        pair = check_pair_index(pair)
    unknown = set(metric_kwargs) - set(accepted_options(func, metric_kwargs))
    if unknown:
        raise TypeError(f"metric {metric!r} does not take the option(s) {sorted(unknown)}.")
    return _AlignmentScorer(metric, pair, metric_kwargs)


class _ModalityScorer:
    """A score of one modality's unimodal model inside a multimodal estimator."""

    def __init__(self, modality, score_func, response_method, sign, kwargs):
        self.modality = modality
        self.score_func = score_func
        self.response_method = response_method
        self.sign = sign
        self.kwargs = kwargs

    def __call__(self, estimator, X, y):
        estimator, X = _multimodal_step(estimator, X)
        if self.response_method == "predict_proba":
            response = estimator.predict_proba_modality(X, self.modality)
            if response.ndim == 2 and response.shape[1] == 2:
                response = response[:, 1]  # binary metrics take P(positive class)
        else:
            response = estimator.predict_modality(X, self.modality)
        score_func = self.score_func
        if score_func is None:
            score_func = accuracy_score if is_classifier(estimator) else r2_score
        return self.sign * float(score_func(y, response, **self.kwargs))

    def __repr__(self):
        name = getattr(self.score_func, "__name__", "default")
        return f"modality_scorer({self.modality}, {name}, response_method={self.response_method!r})"


@validate_params(
    {
        "modality": [Interval(Integral, 0, None, closed="left"), str],
        "score_func": [callable, None],
        "response_method": [StrOptions({"predict", "predict_proba"})],
        "greater_is_better": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def modality_scorer(modality, score_func=None, *, response_method="predict",
                    greater_is_better=True, **kwargs):
    """Make a scorer of one modality's unimodal model.

    Multimodal estimators such as
    :class:`~alignkit.AlignedMultimodalClassifier` keep a task head per
    modality; this scorer evaluates head ``modality`` alone through
    ``estimator.predict_modality(X, modality)`` (or
    ``predict_proba_modality``; on a :class:`~sklearn.pipeline.Pipeline`,
    its last step's), so a grid search over ``lam`` shows how
    alignment changes each modality's own performance.

    Parameters
    ----------
    modality : int or str
        Index of the modality, in the estimator's modality order, or its name
        (an entry of the estimator's ``modality_names_``, such as a
        ``name__`` column prefix); checked when scoring.
    score_func : callable, default=None
        ``score_func(y_true, y_pred, **kwargs) -> float``. ``None`` uses
        accuracy for classifiers and R^2 for regressors.
    response_method : {"predict", "predict_proba"}, default="predict"
        What ``score_func`` receives: predictions, or class probabilities
        (for two classes, the positive class's column).
    greater_is_better : bool, default=True
        ``False`` negates the score (for losses), as in
        :func:`sklearn.metrics.make_scorer`.
    **kwargs : dict
        Passed to ``score_func``.

    Returns
    -------
    scorer : callable
        ``scorer(estimator, X, y) -> float``.

    See Also
    --------
    make_alignment_scorer : The alignment between the modalities' embeddings.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.base import BaseEstimator, ClassifierMixin
    >>> from alignkit.metrics import modality_scorer
    >>> class TwoHeads(ClassifierMixin, BaseEstimator):  # follows the contract
    ...     def predict_modality(self, X, m):
    ...         return (X[:, m] > 0).astype(int)
    >>> X = np.array([[1.0, -1.0], [-1.0, -1.0], [2.0, 3.0]])
    >>> y = np.array([1, 0, 1])
    >>> modality_scorer(0)(TwoHeads(), X, y), round(modality_scorer(1)(TwoHeads(), X, y), 3)
    (1.0, 0.667)
    """
    return _ModalityScorer(modality, score_func, response_method,
                           1.0 if greater_is_better else -1.0, kwargs)
