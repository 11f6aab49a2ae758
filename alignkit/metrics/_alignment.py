"""Metric look-up and alignment over sets of representations (layers, modalities)."""

import inspect
from itertools import combinations

import numpy as np
from sklearn.utils._param_validation import HasMethods, StrOptions, validate_params

from ..utils._modalities import check_pair_index
from ._cka import linear_cka, rbf_cka, unbiased_cka
from ._knn import cknna, mutual_knn
from ._svcca import svcca

METRICS = {
    "linear_cka": linear_cka,
    "unbiased_cka": unbiased_cka,
    "rbf_cka": rbf_cka,
    "mutual_knn": mutual_knn,
    "cknna": cknna,
    "svcca": svcca,
}
# A metric parameter: a name in METRICS or a callable (A, B) -> float.
METRIC_CONSTRAINT = [StrOptions(set(METRICS)), callable]


def resolve_metric(metric):
    """The metric function for a name in ``METRICS`` or a callable ``(A, B) -> float``."""
    if callable(metric):
        return metric
    if isinstance(metric, str) and metric in METRICS:
        return METRICS[metric]
    raise ValueError(
        f"metric must be one of {sorted(METRICS)} or a callable (A, B) -> float; "
        f"got {metric!r}."
    )


def accepted_options(metric_func, options):
    """The subset of ``options`` that ``metric_func`` takes as keyword arguments."""
    parameters = inspect.signature(metric_func).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        return dict(options)
    return {name: value for name, value in options.items() if name in parameters}


def _as_list_of_representations(layers, name):
    if hasattr(layers, "shape") and len(layers.shape) == 2:
        raise TypeError(
            f"{name} must be a list of 2-D arrays (one per layer); got a single 2-D "
            f"array of shape {tuple(layers.shape)}. Wrap it in a list."
        )
    layers = list(layers)
    if not layers:
        raise ValueError(f"{name} must hold at least one representation; got none.")
    return layers


# prefer_skip_nested_validation=False: the metric validates the options forwarded to it.
@validate_params(
    {"layers_a": ["array-like"], "layers_b": ["array-like", None], "metric": METRIC_CONSTRAINT},
    prefer_skip_nested_validation=False,
)
def alignment_matrix(layers_a, layers_b=None, *, metric="unbiased_cka", **metric_kwargs):
    """Alignment between every pair of representations of the same samples.

    One metric call per pair: ``layers_a`` against ``layers_b``, or the
    unordered pairs of ``layers_a`` when ``layers_b`` is ``None``.

    Parameters
    ----------
    layers_a : list of array-like or torch.Tensor of shape (n_samples, n_features_l)
        Representations of the samples, e.g. every hidden layer of one
        encoder; widths may differ.
    layers_b : list of array-like, default=None
        A second list (e.g. the other modality's layers); ``None`` compares
        ``layers_a`` with itself, computing each unordered pair once.
    metric : str or callable, default="unbiased_cka"
        One of ``"linear_cka"``, ``"unbiased_cka"``, ``"rbf_cka"``,
        ``"mutual_knn"``, ``"cknna"``, ``"svcca"``, or a callable
        ``(A, B) -> float``.
    **metric_kwargs : dict
        Passed to the metric (``k``, ``n_components``, ``clip_quantile``, ...).

    Returns
    -------
    matrix : ndarray of shape (len(layers_a), len(layers_b))
        ``matrix[i, j] = metric(layers_a[i], layers_b[j])``; with
        ``layers_b=None`` the square matrix over ``layers_a`` (the entry for
        ``i <= j`` mirrored). Its ``.max()`` is the "best layer pair"
        alignment of Tjandrasuwita et al. (2025).

    See Also
    --------
    layer_alignment_matrix : The same over a fitted model's encoder layers.
    model_alignment_matrix : The same over live torch models, streamed.

    Examples
    --------
    >>> import numpy as np
    >>> from alignkit.metrics import alignment_matrix
    >>> rng = np.random.default_rng(0)
    >>> h1 = rng.normal(size=(200, 8))
    >>> h2 = np.tanh(h1 @ rng.normal(size=(8, 4)))
    >>> alignment_matrix([h1, h2], [h1], metric="linear_cka").round(2)
    array([[1.  ],
           [0.49]])
    """
    func = resolve_metric(metric)
    layers_a = _as_list_of_representations(layers_a, "layers_a")
    if layers_b is None:
        matrix = np.empty((len(layers_a), len(layers_a)))
        for i, j in combinations(range(len(layers_a)), 2):
            matrix[i, j] = matrix[j, i] = func(layers_a[i], layers_a[j], **metric_kwargs)
        for i, layer in enumerate(layers_a):
            matrix[i, i] = func(layer, layer, **metric_kwargs)
        return matrix
    layers_b = _as_list_of_representations(layers_b, "layers_b")
    return np.array(
        [[func(a, b, **metric_kwargs) for b in layers_b] for a in layers_a], dtype=np.float64
    )


def mean_pairwise_alignment(blocks, func, metric_kwargs, pair=None):
    """Alignment of ``blocks[i]`` and ``blocks[j]`` for ``pair``, or its mean over all ``i < j``."""
    pairs = [check_pair_index(pair, len(blocks))] if pair is not None else list(
        combinations(range(len(blocks)), 2)
    )
    return float(np.mean([func(blocks[i], blocks[j], **metric_kwargs) for i, j in pairs]))


@validate_params(
    {
        "estimator": [HasMethods(["transform_layers"])],
        "X": ["array-like"],
        "pair": ["array-like"],
        "metric": METRIC_CONSTRAINT,
    },
    prefer_skip_nested_validation=False,
)
def layer_alignment_matrix(estimator, X, *, pair=(0, 1), metric="unbiased_cka", **metric_kwargs):
    """Layer-by-layer alignment between two modalities' encoders of a fitted model.

    :func:`alignment_matrix` over the hidden representations that
    ``estimator.transform_layers(X)`` returns for the two modalities of ``pair``.

    Parameters
    ----------
    estimator : fitted estimator with ``transform_layers``
        E.g. a fitted :class:`~alignkit.AlignedMultimodalClassifier`;
        ``transform_layers(X)`` returns, per modality, the list of its
        encoder's hidden representations (the last being the embedding).
    X : array-like of shape (n_samples, n_features)
        The multimodal input.
    pair : tuple of int, default=(0, 1)
        The two modalities to compare.
    metric : str or callable, default="unbiased_cka"
        As in :func:`alignment_matrix`.
    **metric_kwargs : dict
        Passed to the metric.

    Returns
    -------
    matrix : ndarray of shape (n_layers_i, n_layers_j)
        ``matrix[p, q]`` aligns layer ``p`` of modality ``i`` with layer
        ``q`` of modality ``j``; ``matrix.max()`` is the best-pair alignment.

    See Also
    --------
    alignment_matrix : The same over any lists of representations.

    Examples
    --------
    >>> import numpy as np
    >>> from alignkit.metrics import layer_alignment_matrix
    >>> class TwoLayerEncoders:  # any object with transform_layers
    ...     def transform_layers(self, X):
    ...         return [[X[:, :3], np.tanh(X[:, :3])], [X[:, 3:]]]
    >>> X = np.random.default_rng(0).normal(size=(100, 6))
    >>> layer_alignment_matrix(TwoLayerEncoders(), X).shape
    (2, 1)
    """
    layers = estimator.transform_layers(X)
    i, j = check_pair_index(pair, len(layers))
    return alignment_matrix(layers[i], layers[j], metric=metric, **metric_kwargs)
