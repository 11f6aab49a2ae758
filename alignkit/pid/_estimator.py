"""PIDEstimator: the partial information decomposition of two modalities of ``X``."""

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import (
    _check_feature_names_in,
    check_consistent_length,
    check_is_fitted,
    column_or_1d,
    validate_data,
)

from .._training import resolve_device
from ..utils import entropy, fit_modality_layout, mutual_information, split_modalities
from ..utils._modalities import check_pair_index
from ._batch import fit_batch_pid
from ._decomposition import UNIT_SCALE, histogram, pid_of_codes
from ._discretize import ModalityCoder, fit_target_coder

__all__ = ["PIDEstimator"]


class PIDEstimator(TransformerMixin, BaseEstimator):
    """Partial information decomposition of two modalities about a target.

    Splits the information ``I(X1, X2; Y)`` that two modalities carry about
    ``y`` into redundancy (carried by both), uniqueness (by one only) and
    synergy (by their combination only), with the BROJA definition. Which
    atom dominates says whether aligning the modalities' representations
    should help (redundancy), hurt (uniqueness) or needs tuning (synergy).

    Each modality is discretised on its own (by default as Liang et al. 2023
    do: rows L2-normalised, PCA to ``n_components``, KMeans into
    ``n_clusters``); the plug-in histogram of the two codes and the target is
    decomposed by :func:`~alignkit.pid.pid_from_joint`.

    ``estimator="batch"`` (Liang et al.'s batch estimator, for large continuous
    data) does not discretise. Cross-fitted classifiers give ``p(y | x1)``,
    ``p(y | x2)`` and ``p(y | x1, x2)`` per sample; in a batch of
    ``batch_size`` samples, each its own symbol, a network scores every pair
    ``(x1_i, x2_j)`` per class, Sinkhorn scaling and an exact rounding make the
    scores a table ``Q`` with the batch's ``(x1, y)`` and ``(x2, y)``
    marginals, and training minimises ``I_Q(X1, X2; Y)``. On each batch it
    gets within about 0.001 bits of the exact minimum (which this package's
    solver computes), but that minimum over a finite batch lies above the
    population's: ``min I_Q`` is overstated, so redundancy and synergy are
    understated and uniqueness overstated, by less the larger the batch (on a
    continuous AND gate with 20 000 samples, by 0.026, 0.019 and 0.015 bits at
    batches of 64, 128 and 256).

    The plug-in estimate is biased upwards, almost entirely in synergy (about
    ``(K1 K2 - 1)(|Y| - 1) / (2 N ln 2)`` bits for ``K1 x K2`` clusters and
    ``N`` samples when ``y`` is independent of ``X``); ``fit`` warns with a
    :class:`~alignkit.pid.PIDBiasWarning` when there are fewer than 5 samples
    per histogram cell. ``bias_`` and ``corrected_`` give the estimated bias
    and bias-corrected atoms, from a shuffled-label null when
    ``n_permutations > 0`` (see :func:`~alignkit.pid.pid_from_samples`).

    Parameters
    ----------
    modality_dims : list of int, default=None
        Columns of each modality in ``X``, in order. ``None``: from the
        ``name__`` prefixes of a DataFrame's columns, else two halves.
    pair : tuple of two int, default=(0, 1)
        The two modalities to decompose when there are more.
    estimator : {"plugin", "batch"}, default="plugin"
        ``"plugin"``: discretise, then decompose the joint histogram exactly.
        ``"batch"``: the neural batch estimator (above); the options from
        ``discretizer`` to ``n_permutations`` and ``tol``, ``max_iter`` are
        the plug-in route's, ``classifier`` to ``device`` the batch route's.
    discretizer : {"kmeans", "quantile"}, estimator or None, default="kmeans"
        How each modality becomes codes. ``"kmeans"``: optional row
        normalisation, PCA, KMeans. ``"quantile"``: the same normalisation,
        the first principal component, ``n_clusters`` quantile bins. An
        estimator with ``fit`` and ``predict`` (a clusterer) is cloned per
        modality. ``None``: each modality is one column of discrete codes.
    n_clusters : int, default=20
        Codes per modality; capped at the number of distinct rows.
    n_components : int, default=5
        PCA components before KMeans; capped at the modality's width.
    row_normalize : bool, default=True
        L2-normalise each row of a modality (wider than one column) first.
    n_bins_y : int, default=None
        Cut a continuous target into this many quantile bins.
    y_threshold : float, default=None
        Binarise a continuous target: class 1 where ``y >= y_threshold`` (the
        MOSEI convention with 0). At most one of ``n_bins_y`` and
        ``y_threshold`` may be set; with neither, ``y`` holds class labels.
    units : {"bits", "nats"}, default="bits"
        Units of every fitted information quantity.
    n_permutations : int, default=0
        Shuffled-label null draws for ``null_distribution_``, ``pvalues_``
        and a null-based ``bias_``.
    n_jobs : int, default=None
        Parallel jobs (joblib) for the permutations.
    tol : float, default=1e-10
        Certified duality-gap tolerance (nats) of the solver.
    max_iter : int, default=200
        Most interior-point iterations per solve.
    classifier : estimator with ``predict_proba``, default=None
        Cloned for each of ``p(y | x1)``, ``p(y | x2)`` and ``p(y | x1, x2)``,
        which are predicted out of fold (up to 5 stratified folds). ``None``:
        logistic regression on the standardised features and their pairwise
        products.
    batch_size : int, default=256
        Samples per batch of the batch estimator; larger is less biased (see
        above) and costs ``batch_size**2 * n_classes`` per step.
    max_epochs : int, default=10
        Training epochs of the batch estimator's network (Adam). It needs on
        the order of a hundred steps (``max_epochs * n_samples / batch_size``):
        give small data sets more epochs; ``net_.history`` shows the loss.
    lr : float, default=3e-3
        Its learning rate.
    device : {"cpu", "cuda", "auto"}, default="cpu"
        Where the batch estimator's network trains and runs; ``"auto"`` picks
        CUDA when available.
    random_state : int, RandomState instance or None, default=None
        Seeds the discretisers and the permutations, or the batch estimator's
        folds, network and batches.

    Attributes
    ----------
    redundancy_ : float
        Redundancy ``R``.
    uniqueness_ : ndarray of shape (2,)
        Unique information ``U1``, ``U2`` of the two modalities of ``pair``.
    synergy_ : float
        Synergy ``S``.
    mutual_info_ : float
        ``I(X1, X2; Y) = R + U1 + U2 + S`` under the fitted discretisation.
    joint_ : ndarray of shape (n_codes_1, n_codes_2, n_classes)
        The plug-in joint distribution of the codes and the target. This and
        the attributes down to ``coders_`` are the plug-in route's.
    pid_ : PIDResult
        The full result: the optimal joint, ``n_iter``, ``duality_gap``, ...
    n_iter_ : int
        Interior-point iterations of the solve, or the batch estimator's epochs.
    duality_gap_ : float
        Certified bound on the solver error of each atom, in ``units``.
    bias_ : ndarray of shape (4,)
        Estimated plug-in bias of (R, U1, U2, S).
    corrected_ : ndarray of shape (4,)
        Bias-corrected (R, U1, U2, S).
    null_distribution_ : ndarray of shape (n_permutations, 4)
        (R, U1, U2, S) of each shuffled-label draw; only when
        ``n_permutations > 0``.
    pvalues_ : ndarray of shape (4,)
        Permutation p-value of each atom; only when ``n_permutations > 0``.
    pair_ : list of two int
        The validated ``pair``.
    coders_ : list of two fitted discretisers
        One per modality of ``pair``; ``coders_[m].model_`` is the fitted
        scikit-learn pipeline (None when ``discretizer=None``).
    net_ : skorch.NeuralNet
        The batch estimator's trained pair-scoring network (``net_.history``
        holds ``train_loss``, each batch's ``I_Q`` in nats); batch route only.
    classifiers_ : list of three estimators
        ``classifier`` refitted on all the data of the first modality, the
        second and both (for ``transform`` and ``score``); batch route only.
    target_coder_ : object
        Maps ``y`` to class codes (its classes, quantile bins or threshold).
    modality_dims_ : list of int
        Columns per modality of ``X``.
    modality_names_ : list of str
        Modality names (``name__`` prefixes, else ``"m0"``, ``"m1"``, ...).
    n_features_in_ : int
        Number of columns of ``X``.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Column names of ``X``, when it had string column names.

    See Also
    --------
    alignkit.pid.pid_from_joint : The PID of a probability table.
    alignkit.pid.pid_from_samples : The PID of discrete samples.

    References
    ----------
    N. Bertschinger, J. Rauh, E. Olbrich, J. Jost, N. Ay. Quantifying unique
    information. Entropy 16, 2014.

    P. P. Liang et al. Quantifying & modeling multimodal interactions: an
    information decomposition framework. NeurIPS 2023.

    Examples
    --------
    >>> import numpy as np
    >>> from alignkit.pid import PIDEstimator
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 2, size=2000)                    # both modalities see y
    >>> shared = y[:, None] + 0.3 * rng.normal(size=(2000, 1))
    >>> X = np.hstack([shared + 0.1 * rng.normal(size=(2000, 3)),    # modality 0
    ...                shared + 0.1 * rng.normal(size=(2000, 2))])   # modality 1
    >>> est = PIDEstimator(modality_dims=[3, 2], n_clusters=4, row_normalize=False,
    ...                    random_state=0).fit(X, y)
    >>> print(np.round([est.redundancy_, *est.uniqueness_, est.synergy_], 2))
    [0.76 0.01 0.   0.02]
    >>> est.transform(X[:3])
    array([[0, 1],
           [3, 1],
           [3, 1]])
    >>> batch = PIDEstimator(modality_dims=[3, 2], estimator="batch", batch_size=125,
    ...                      max_epochs=25, random_state=0).fit(X[:500], y[:500])
    >>> print(np.round([batch.redundancy_, *batch.uniqueness_, batch.synergy_], 2))
    [0.79 0.02 0.02 0.  ]
    """

    _parameter_constraints = {
        "modality_dims": ["array-like", None],
        "pair": ["array-like"],
        "estimator": [StrOptions({"plugin", "batch"})],
        "discretizer": [StrOptions({"kmeans", "quantile"}), HasMethods(["fit", "predict"]), None],
        "n_clusters": [Interval(Integral, 1, None, closed="left")],
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "row_normalize": ["boolean"],
        "n_bins_y": [Interval(Integral, 2, None, closed="left"), None],
        "y_threshold": [Real, None],
        "units": [StrOptions(set(UNIT_SCALE))],
        "n_permutations": [Interval(Integral, 0, None, closed="left")],
        "n_jobs": [Integral, None],
        "tol": [Interval(Real, 0, None, closed="neither")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "classifier": [HasMethods(["fit", "predict_proba"]), None],
        "batch_size": [Interval(Integral, 2, None, closed="left")],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "device": [StrOptions({"cpu", "cuda", "auto"})],
        "random_state": ["random_state"],
    }

    def __init__(self, modality_dims=None, *, pair=(0, 1), estimator="plugin",
                 discretizer="kmeans", n_clusters=20, n_components=5, row_normalize=True,
                 n_bins_y=None, y_threshold=None, units="bits", n_permutations=0, n_jobs=None,
                 tol=1e-10, max_iter=200, classifier=None, batch_size=256, max_epochs=10,
                 lr=3e-3, device="cpu", random_state=None):
        self.modality_dims = modality_dims
        self.pair = pair
        self.estimator = estimator
        self.discretizer = discretizer
        self.n_clusters = n_clusters
        self.n_components = n_components
        self.row_normalize = row_normalize
        self.n_bins_y = n_bins_y
        self.y_threshold = y_threshold
        self.units = units
        self.n_permutations = n_permutations
        self.n_jobs = n_jobs
        self.tol = tol
        self.max_iter = max_iter
        self.classifier = classifier
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.lr = lr
        self.device = device
        self.random_state = random_state

    def _check_y_options(self, y):
        if self.n_bins_y is not None and self.y_threshold is not None:
            raise ValueError(
                "Set at most one of n_bins_y (quantile bins) and y_threshold (binarise); "
                f"got n_bins_y={self.n_bins_y} and y_threshold={self.y_threshold}."
            )
        if self.n_bins_y is None and self.y_threshold is None and type_of_target(y) == "continuous":
            raise ValueError(
                "y is continuous; PID needs a discrete target. Set n_bins_y to cut it into "
                "quantile bins or y_threshold to binarise it."
            )

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Discretise the two modalities and decompose their information about ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, sum(modality_dims))
            The modalities' features side by side.
        y : array-like of shape (n_samples,)
            Class labels, or a continuous target with ``n_bins_y`` or
            ``y_threshold``.

        Returns
        -------
        self : PIDEstimator
            The fitted estimator.
        """
        X, y = validate_data(self, X, y, reset=True, ensure_min_samples=2)
        dims = fit_modality_layout(self)
        self.pair_ = pair = list(check_pair_index(self.pair, len(dims)))
        self._check_y_options(y)
        blocks = split_modalities(X, dims)
        seeds = check_random_state(self.random_state).randint(np.iinfo(np.int32).max, size=3)
        self.target_coder_ = fit_target_coder(y, self.n_bins_y, self.y_threshold)
        y_codes = self.target_coder_.transform(y)
        if len(np.unique(y_codes)) < 2:
            raise ValueError(
                "y has 1 class after discretisation; the PID of a constant target is empty "
                "(need 2 or more classes)."
            )
        if self.estimator == "batch":
            return self._fit_batch(blocks, y_codes, seeds[0])
        self.coders_ = [
            ModalityCoder(self.discretizer, self.n_clusters, self.n_components,
                          self.row_normalize, seed, f"modality {self.modality_names_[m]!r}")
            .fit(blocks[m])
            for m, seed in zip(pair, seeds)
        ]
        codes = self._codes(blocks)
        shape = (self.coders_[0].n_codes_, self.coders_[1].n_codes_, self.target_coder_.n_codes_)
        result = pid_of_codes(codes[:, 0], codes[:, 1], y_codes, shape, units=self.units,
                              n_permutations=self.n_permutations, random_state=seeds[2],
                              n_jobs=self.n_jobs, tol=self.tol, max_iter=self.max_iter)
        self.pid_ = result
        self.redundancy_ = result.redundancy
        self.uniqueness_ = result.uniqueness
        self.synergy_ = result.synergy
        self.mutual_info_ = result.mutual_info
        self.joint_ = result.joint
        self.n_iter_ = result.n_iter
        self.duality_gap_ = result.duality_gap
        self.bias_ = result.bias
        self.corrected_ = result.corrected
        if self.n_permutations:
            self.null_distribution_ = result.null_distribution
            self.pvalues_ = result.pvalues
        return self

    def _fit_batch(self, blocks, y_codes, seed):
        if self.n_permutations:
            raise ValueError(
                f"n_permutations={self.n_permutations} is for estimator='plugin'; the batch "
                "estimator has no plug-in bias to measure (set n_permutations=0)."
            )
        first, second = (blocks[m] for m in self.pair_)
        terms, self.net_, self.classifiers_ = fit_batch_pid(
            first, second, y_codes, classifier=self.classifier, batch_size=self.batch_size,
            max_epochs=self.max_epochs, lr=self.lr, device=resolve_device(self.device),
            n_jobs=self.n_jobs, seed=seed,
        )
        info_1, info_2, min_info, joint_info = UNIT_SCALE[self.units] * np.asarray(terms)
        # As in pid_from_joint: U1 = min I_Q - I(X2; Y) and so on.
        self.uniqueness_ = np.array([min_info - info_2, min_info - info_1])
        self.redundancy_ = info_1 - self.uniqueness_[0]
        self.synergy_ = joint_info - min_info
        self.mutual_info_ = joint_info
        self.n_iter_ = len(self.net_.history)
        return self

    def _codes(self, blocks):
        return np.column_stack(
            [coder.transform(blocks[m]) for coder, m in zip(self.coders_, self.pair_)]
        )

    def transform(self, X):
        """What the estimate is built on, per modality of ``pair``: its discrete
        code, or with ``estimator="batch"`` its class probabilities.

        Parameters
        ----------
        X : array-like of shape (n_samples, sum(modality_dims))
            The modalities' features side by side.

        Returns
        -------
        Xt : ndarray of shape (n_samples, 2) or (n_samples, 2 * n_classes)
            Integer codes in ``[0, joint_.shape[m])`` for the two modalities,
            or ``p(y | x1)`` then ``p(y | x2)`` from ``classifiers_``.
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False)
        blocks = split_modalities(X, self.modality_dims_)
        if self.estimator == "batch":
            return np.hstack([clf.predict_proba(blocks[m])
                              for clf, m in zip(self.classifiers_, self.pair_)])
        return self._codes(blocks)

    def score(self, X, y):
        """``I(X1, X2; Y)`` of ``(X, y)`` under the fitted model.

        With ``estimator="plugin"``, the plug-in mutual information of the
        fitted discretisation; with ``"batch"``, ``H(Y) - CE``, the target's
        entropy less the cross-entropy of the joint classifier (a lower bound).

        Parameters
        ----------
        X : array-like of shape (n_samples, sum(modality_dims))
            The modalities' features side by side.
        y : array-like of shape (n_samples,)
            Targets, coded as in ``fit``.

        Returns
        -------
        score : float
            The estimate, in ``units``.
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False)
        y = column_or_1d(y, warn=True)
        check_consistent_length(X, y)
        y_codes = self.target_coder_.transform(y)
        blocks = split_modalities(X, self.modality_dims_)
        if self.estimator == "batch":
            both = np.hstack([blocks[m] for m in self.pair_])
            proba = self.classifiers_[2].predict_proba(both)[np.arange(len(y_codes)), y_codes]
            cross_entropy = -np.mean(np.log(np.maximum(proba, np.finfo(float).tiny)))
            info = entropy(np.bincount(y_codes) / len(y_codes)) - cross_entropy
        else:
            codes = self._codes(blocks)
            P = histogram(codes[:, 0], codes[:, 1], y_codes, self.joint_.shape)
            info = mutual_information(P, (0, 1), 2)
        return UNIT_SCALE[self.units] * info

    def get_feature_names_out(self, input_features=None):
        """Names of the output columns: ``<modality name>_code``, or with
        ``estimator="batch"`` ``<modality name>_proba<k>`` for class code ``k``.

        Parameters
        ----------
        input_features : array-like of str, default=None
            Checked against the names seen in ``fit``; otherwise unused.

        Returns
        -------
        feature_names_out : ndarray of str
        """
        check_is_fitted(self)
        _check_feature_names_in(self, input_features)
        names = [self.modality_names_[m] for m in self.pair_]
        if self.estimator == "batch":
            n_classes = self.target_coder_.n_codes_
            return np.array([f"{name}_proba{k}" for name in names for k in range(n_classes)],
                            dtype=object)
        return np.array([f"{name}_code" for name in names], dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        tags.transformer_tags.preserves_dtype = []
        return tags
