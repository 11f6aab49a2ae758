"""PIDEstimator and BatchPIDEstimator: the partial information decomposition of
two modalities of ``X`` about a target."""

import warnings
from abc import ABCMeta, abstractmethod
from numbers import Integral, Real

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import (
    _check_feature_names_in,
    check_consistent_length,
    check_is_fitted,
    column_or_1d,
    validate_data,
)

from ..utils import fit_modality_layout, mutual_information, split_modalities
from ..utils._modalities import check_pair_index
from ..utils._random import draw_seeds
from ..utils._torch import resolve_device
from ..utils._docstrings import Substitution
from ._batch import fit_batch_pid
from ._decomposition import UNIT_SCALE, PIDBiasWarning, decompose, histogram, pid_of_codes
from ._discretize import ModalityCoder, PosteriorCoder, fit_target_coder
from ._posteriors import (
    best_out_of_fold_posteriors,
    candidate_classifiers,
    loglik_bound,
    out_of_fold_posteriors,
    row_loglik,
)

__all__ = ["BatchPIDEstimator", "PIDEstimator"]

# Negative batch-estimator atoms beyond this (nats) are reported; smaller ones are
# within the sampling noise of the batch averages on a few hundred samples.
_NEGATIVE_ATOL = 1e-2
# n_clusters="auto": KMeans and quantile codes per modality; for the posterior
# codes, the most per modality and the plug-in bias allowed in I(code; Y), nats.
_AUTO_CLUSTERS = 20
_AUTO_MAX_CODES = 64
_AUTO_BIAS = 0.01
# PIDEstimator warns when its codes keep less than this share of the reference's I(X1, X2; Y).
_RETAINED_WARN = 0.5


class _BasePID(TransformerMixin, BaseEstimator, metaclass=ABCMeta):
    """What both PID estimators share: the modality layout and ``pair``, the
    target's coding, the units, the seeds, and the fitted atoms.

    Subclasses implement ``_fit_pair(first, second, y_codes, seeds)``, which
    returns (R, U1, U2, S) in ``units``, ``transform``, ``score`` and
    ``_output_suffixes`` (the names of each modality's output columns).
    """

    _parameter_constraints = {
        "modality_dims": ["array-like", None],
        "pair": ["array-like"],
        "n_bins_y": [Interval(Integral, 2, None, closed="left"), None],
        "y_threshold": [Real, None],
        "units": [StrOptions(set(UNIT_SCALE))],
        "n_jobs": [Integral, None],
        "random_state": ["random_state"],
    }

    @abstractmethod
    def __init__(self, *, modality_dims=None, pair=(0, 1), n_bins_y=None, y_threshold=None,
                 units="bits", n_jobs=None, random_state=None):
        self.modality_dims = modality_dims
        self.pair = pair
        self.n_bins_y = n_bins_y
        self.y_threshold = y_threshold
        self.units = units
        self.n_jobs = n_jobs
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
        """Decompose the information the two modalities of ``pair`` carry about ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, sum(modality_dims))
            The modalities' features side by side.
        y : array-like of shape (n_samples,)
            Class labels, or a continuous target with ``n_bins_y`` or
            ``y_threshold``.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        X, y = validate_data(self, X, y, reset=True, ensure_min_samples=2)
        dims = fit_modality_layout(self)
        self.pair_ = pair = list(check_pair_index(self.pair, len(dims)))
        self._check_y_options(y)
        blocks = split_modalities(X, dims)
        self.target_coder_ = fit_target_coder(y, self.n_bins_y, self.y_threshold)
        y_codes = self.target_coder_.transform(y)
        if len(np.unique(y_codes)) < 2:
            raise ValueError(
                "y has 1 class after discretisation; the PID of a constant target is empty "
                "(need 2 or more classes)."
            )
        seeds = draw_seeds(self.random_state, size=3)
        atoms = self._fit_pair(blocks[pair[0]], blocks[pair[1]], y_codes, seeds)
        self.atoms_ = atoms
        self.redundancy_, self.synergy_ = atoms[0], atoms[3]
        self.uniqueness_ = atoms[1:3].copy()
        self.mutual_info_ = float(atoms.sum())
        return self

    @abstractmethod
    def _fit_pair(self, first, second, y_codes, seeds):
        """Fit on the two modalities' blocks with three seeds; return (R, U1, U2, S)."""

    def _pair_blocks(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, reset=False)
        blocks = split_modalities(X, self.modality_dims_)
        return [blocks[m] for m in self.pair_]

    def get_feature_names_out(self, input_features=None):
        """Get the names of the output columns of :meth:`transform`.

        Parameters
        ----------
        input_features : array-like of str, default=None
            Checked against the names seen in ``fit``; otherwise unused.

        Returns
        -------
        feature_names_out : ndarray of str
            ``"<modality>_<suffix>"`` for each modality of ``pair_`` and each
            of its output columns.
        """
        check_is_fitted(self)
        _check_feature_names_in(self, input_features)
        names = [self.modality_names_[m] for m in self.pair_]
        suffixes = self._output_suffixes()
        return np.array([f"{name}_{suffix}" for name in names for suffix in suffixes],
                        dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        tags.transformer_tags.preserves_dtype = []
        return tags


# What both estimators document alike, filled into their docstrings by Substitution.
_SHARED_DOCS = Substitution(
    pid_parameters="""{modality_dims}
pair : tuple of two int, default=(0, 1)
    The two modalities to decompose when there are more.""",
    pid_atoms="""atoms_ : ndarray of shape (4,)
    (R, U1, U2, S), in ``units``.
redundancy_ : float
    Redundancy ``R``.
uniqueness_ : ndarray of shape (2,)
    Unique information ``U1``, ``U2`` of the two modalities of ``pair``.
synergy_ : float
    Synergy ``S``.""",
    pid_attributes="""pair_ : list of two int
    The validated ``pair``.
target_coder_ : object
    Maps ``y`` to class codes (its classes, quantile bins or threshold).
{layout_attributes}""",
)


@_SHARED_DOCS
class PIDEstimator(_BasePID):
    """Partial information decomposition of two modalities about a target (plug-in).

    Splits the information ``I(X1, X2; Y)`` that two modalities carry about
    ``y`` into redundancy (carried by both), uniqueness (by one only) and
    synergy (by their combination only), with the BROJA definition. Which
    atom dominates says whether aligning the modalities' representations
    should help (redundancy), hurt (uniqueness) or needs tuning (synergy).

    Each modality is discretised on its own and the plug-in histogram of the
    two codes and the target is decomposed by
    :func:`~alignkit.pid.pid_from_joint`. By default (``discretizer=
    "posterior"``) a modality's code groups its cross-fitted class posterior
    ``p(y | x_m)``, which keeps what the modality says about ``y``, so R, U1
    and U2 come out close to those of the continuous data; synergy comes from
    a classifier of ``y`` from both modalities. On every generator with a
    known PID (see the accuracy table in the user guide) this names the
    dominant atom and keeps every atom within 0.1 bits or 10 % of
    ``I(X1, X2; Y)`` at 8 192 samples; its cost is the cross-fitted
    classifiers (seconds to a minute). ``discretizer="kmeans"`` is the
    unsupervised discretisation of Liang et al. 2023 (rows L2-normalised,
    PCA, KMeans), which can lose most of the information about ``y``.
    :class:`BatchPIDEstimator` does not discretise.

    The plug-in estimate is biased upwards (about ``(K1 K2 - 1)(|Y| - 1) /
    (2 N ln 2)`` bits of synergy for ``K1 x K2`` clusters and ``N`` samples
    when ``y`` is independent of ``X``, and ``(K - 1)(|Y| - 1) / (2 N ln 2)``
    in each ``I(X_m; Y)``); ``fit`` warns with a
    :class:`~alignkit.pid.PIDBiasWarning` when there are fewer than 5 samples
    per histogram cell where synergy is plug-in. ``bias_`` and ``corrected_``
    give the estimated bias and bias-corrected atoms, from a shuffled-label
    null when ``n_permutations > 0`` (see :func:`~alignkit.pid.pid_from_samples`).

    Parameters
    ----------
    {pid_parameters}
    discretizer : {"posterior", "kmeans", "quantile"}, estimator or None, \
            default="posterior"
        How each modality becomes codes. ``"posterior"``: the modality's
        out-of-fold class posterior ``p(y | x)`` (a sufficient statistic of
        ``x`` for ``y``, so the ``(x, y)`` marginals that R, U1 and U2
        depend on are kept) is grouped into ``n_clusters`` codes by the
        clustering that loses the least information about ``y``
        (Kullback-Leibler k-means), and ``S = I(X1, X2; Y) - min I_Q`` with
        ``I(X1, X2; Y)`` from the joint classifier's cross-fitted bound
        ``joint_info_bound_`` instead of the sparse plug-in histogram (0
        where the bound lies below ``min I_Q``, with a warning when by more
        than the codes' plug-in bias and 0.01 nats); ``n_components`` and
        ``row_normalize`` are unused.
        ``"kmeans"``: optional row normalisation, PCA, KMeans.
        ``"quantile"``: the same normalisation, the first principal
        component, ``n_clusters`` quantile bins. An estimator with ``fit``
        and ``predict`` (a clusterer) is cloned per modality. ``None``: each
        modality is one column of discrete codes.
    n_clusters : int or "auto", default="auto"
        Codes per modality; capped at the number of distinct rows (or
        posteriors). ``"auto"``: 20 for ``"kmeans"``, ``"quantile"`` and a
        clusterer; for ``"posterior"``, the most codes (up to 64) that keep
        the plug-in bias of each ``I(X_m; Y)``, ``(K - 1)(|Y| - 1) / (2N)``
        nats, within 0.01 nats, and at least two per class (55 at ``N`` =
        8 192 with 4 classes, 8 at ``N`` = 1 000; 20 for 10 classes at
        ``N`` = 2 000).
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
        Parallel jobs (joblib) for the permutations and bootstrap resamples.
    tol : float, default=1e-10
        Certified duality-gap tolerance (nats) of the solver.
    max_iter : int, default=200
        Most interior-point iterations per solve.
    n_bootstrap : int, default=0
        Bootstrap resamples of the (codes, target) rows for
        ``confidence_intervals_``: the spread of each atom over data sets
        like this one, with the fitted discretisation held fixed. It measures
        sampling noise, not the plug-in bias (see ``bias_``) nor what the
        discretisation loses (see ``reference``).
    confidence_level : float, default=0.95
        Nominal coverage of the bootstrap intervals.
    reference : "logistic", estimator with ``predict_proba`` or None, default=None
        How much of ``I(X1, X2; Y)`` the discretisation keeps is measured
        against a classifier of ``y`` from both modalities, predicted out of
        fold (up to 5 stratified folds): ``H(Y)`` less its cross-entropy is a
        lower bound on ``I(X1, X2; Y)``, ``reference_info_``, and
        ``information_retained_`` the share of it the bias-corrected plug-in
        ``I`` of the codes reaches. ``"logistic"``: logistic regression on
        the standardised features, fast and calibrated but blind to what no
        linear model reads (XOR-like synergy; pass a richer classifier for
        that, it stays a lower bound). ``fit`` warns when less than half is
        kept: then the atoms describe the codes, not the data. ``None``: not
        measured (it costs the cross-fitted classifier).
    classifier : estimator with ``predict_proba``, default=None
        For ``discretizer="posterior"``: cloned for ``p(y | x1)``,
        ``p(y | x2)`` and ``p(y | x1, x2)``, predicted out of fold (up to 5
        stratified folds). ``None``: for each of the three, the better by
        out-of-fold likelihood (the tighter bound on the information) of
        logistic regression and a two-layer network (64 + 64 units, early
        stopping; only with 50 samples or more of every class), both on
        whitened features; ``coders_[m].classifier_name_`` and
        ``joint_classifier_name_`` say which. Otherwise unused.
    random_state : int, RandomState instance or None, default=None
        Seeds the discretisers, the permutations and the reference's folds.

    Attributes
    ----------
    {pid_atoms}
    mutual_info_ : float
        ``I(X1, X2; Y) = R + U1 + U2 + S`` under the fitted discretisation.
    joint_ : ndarray of shape (n_codes_1, n_codes_2, n_classes)
        The plug-in joint distribution of the codes and the target.
    pid_ : PIDResult
        The full result: the optimal joint, ``n_iter``, ``duality_gap``, ...
    n_iter_ : int
        Interior-point iterations of the solve.
    duality_gap_ : float
        Certified bound on the solver error of each atom, in ``units``.
    bias_ : ndarray of shape (4,)
        Estimated plug-in bias of (R, U1, U2, S) (0 for S with
        ``discretizer="posterior"``, whose S is not a plug-in estimate; the S
        column of the null is then the codes' plug-in synergy, which makes
        its p-value conservative).
    corrected_ : ndarray of shape (4,)
        Bias-corrected (R, U1, U2, S).
    null_distribution_ : ndarray of shape (n_permutations, 4)
        (R, U1, U2, S) of each shuffled-label draw; only when
        ``n_permutations > 0``.
    pvalues_ : ndarray of shape (4,)
        Permutation p-value of each atom; only when ``n_permutations > 0``.
    confidence_intervals_ : ndarray of shape (4, 2)
        Lower and upper bounds of (R, U1, U2, S): the percentiles of the
        resamples' spread about their mean, placed at the estimate (a
        resample's plug-in bias is larger than the data's); only when
        ``n_bootstrap > 0``.
    bootstrap_distribution_ : ndarray of shape (n_bootstrap, 4)
        (R, U1, U2, S) of each resample; only when ``n_bootstrap > 0``.
    joint_info_bound_ : float
        ``H(Y)`` less the joint classifier's out-of-fold cross-entropy, a
        lower bound on ``I(X1, X2; Y)``; only with ``discretizer="posterior"``.
    joint_classifier_name_ : str
        The joint classifier chosen (``"logistic"``, ``"network"``, or
        ``"classifier"`` when passed); only with ``discretizer="posterior"``.
    reference_info_ : float
        The reference's lower bound on ``I(X1, X2; Y)``; only with
        ``reference``.
    information_retained_ : float
        Bias-corrected plug-in ``I`` of the codes over ``reference_info_``;
        only with ``reference``.
    coders_ : list of two fitted discretisers
        One per modality of ``pair``; ``coders_[m].model_`` is the fitted
        scikit-learn pipeline (None when ``discretizer=None``).
    {pid_attributes}

    See Also
    --------
    BatchPIDEstimator : The neural batch estimator, without discretisation.
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
    >>> from sklearn.linear_model import LogisticRegression
    >>> est = PIDEstimator(modality_dims=[3, 2], classifier=LogisticRegression(),
    ...                    random_state=0).fit(X, y)             # a linear classifier suffices here
    >>> print(np.round(est.atoms_, 2))
    [0.84 0.01 0.   0.  ]
    >>> est.transform(X[:3])
    array([[34,  9],
           [26,  4],
           [13,  4]])
    """

    _parameter_constraints = {
        **_BasePID._parameter_constraints,
        "discretizer": [StrOptions({"kmeans", "quantile", "posterior"}),
                        HasMethods(["fit", "predict"]), None],
        "classifier": [HasMethods(["fit", "predict_proba"]), None],
        "n_clusters": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "row_normalize": ["boolean"],
        "n_permutations": [Interval(Integral, 0, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="neither")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "n_bootstrap": [Interval(Integral, 0, None, closed="left")],
        "confidence_level": [Interval(Real, 0, 1, closed="neither")],
        "reference": [StrOptions({"logistic"}), HasMethods(["fit", "predict_proba"]), None],
    }

    def __init__(self, *, modality_dims=None, pair=(0, 1), discretizer="posterior", n_clusters="auto",
                 n_components=5, row_normalize=True, n_bins_y=None, y_threshold=None,
                 units="bits", n_permutations=0, n_jobs=None, tol=1e-10, max_iter=200,
                 n_bootstrap=0, confidence_level=0.95, reference=None, classifier=None,
                 random_state=None):
        super().__init__(modality_dims=modality_dims, pair=pair, n_bins_y=n_bins_y,
                         y_threshold=y_threshold, units=units, n_jobs=n_jobs,
                         random_state=random_state)
        self.discretizer = discretizer
        self.classifier = classifier
        self.n_clusters = n_clusters
        self.n_components = n_components
        self.row_normalize = row_normalize
        self.n_permutations = n_permutations
        self.tol = tol
        self.max_iter = max_iter
        self.n_bootstrap = n_bootstrap
        self.confidence_level = confidence_level
        self.reference = reference

    def _fit_pair(self, first, second, y_codes, seeds):
        joint_loglik = None
        if self.discretizer == "posterior":
            n_codes = self._n_codes(len(y_codes))
            self.coders_ = [PosteriorCoder(self.classifier, n_codes, self.n_jobs, int(s))
                            for s in seeds[:2]]
            codes = np.column_stack([coder.fit(block, y_codes)
                                     for coder, block in zip(self.coders_, (first, second))])
            both = np.hstack([first, second])
            candidates = (candidate_classifiers(both, y_codes, int(seeds[2])) if self.classifier is None
                          else {"classifier": self.classifier})
            self.joint_classifier_name_, _, posteriors = best_out_of_fold_posteriors(
                candidates, both, y_codes, self.n_jobs, int(seeds[2]))
            joint_loglik = row_loglik(posteriors, y_codes)
        else:
            self.coders_ = [
                ModalityCoder(self.discretizer, self._n_codes(len(y_codes)), self.n_components,
                              self.row_normalize, s, f"modality {self.modality_names_[m]!r}")
                .fit(block)
                for block, m, s in zip((first, second), self.pair_, seeds)
            ]
            codes = self._codes([first, second])
        shape = (self.coders_[0].n_codes_, self.coders_[1].n_codes_, self.target_coder_.n_codes_)
        with warnings.catch_warnings():
            if joint_loglik is not None:
                # The sparse-histogram warning concerns the plug-in synergy, not used here.
                warnings.simplefilter("ignore", PIDBiasWarning)
            result = pid_of_codes(codes[:, 0], codes[:, 1], y_codes, shape, units=self.units,
                                  n_permutations=self.n_permutations, random_state=seeds[2],
                                  n_jobs=self.n_jobs, tol=self.tol, max_iter=self.max_iter)
        atoms, bias = np.asarray(result.atoms, dtype=float), np.asarray(result.bias, dtype=float)
        if joint_loglik is not None:
            scale = UNIT_SCALE[self.units]
            self.joint_info_bound_ = scale * loglik_bound(joint_loglik, y_codes)
            atoms = _with_bound_synergy(atoms, self.joint_info_bound_)
            # The codes' marginals overstate I(X_m; Y) by their plug-in bias,
            # so min I_Q may exceed the bound by that much when S = 0.
            marginal_bias = sum(_code_bias(k, shape[2], len(y_codes)) for k in shape[:2])
            if self.joint_info_bound_ < atoms[:3].sum() - (_NEGATIVE_ATOL + marginal_bias) * scale:
                warnings.warn(
                    f"The joint classifier's bound on I(X1, X2; Y) "
                    f"({self.joint_info_bound_:.3g} {self.units}) lies below the minimum "
                    f"I_Q(X1, X2; Y) = {atoms[:3].sum():.3g} over the tables with the codes' "
                    "marginals, which I(X1, X2; Y) cannot: synergy is set to 0 and "
                    "mutual_info_ to that minimum. The classifier underfits the joint, beyond "
                    "the codes' plug-in bias; pass a richer one (classifier).",
                    PIDBiasWarning, stacklevel=4,
                )
            # The cross-fitted bound is not biased upwards: only R, U1 and U2
            # (plug-in, from the codes' marginals) carry a bias estimate.
            bias[3] = 0.0
        self.pid_ = result
        self.joint_ = result.joint
        self.n_iter_ = result.n_iter
        self.duality_gap_ = result.duality_gap
        self.bias_ = bias
        self.corrected_ = atoms - bias
        if self.n_permutations:
            self.null_distribution_ = result.null_distribution
            self.pvalues_ = result.pvalues
        if self.n_bootstrap:
            self._bootstrap(codes, y_codes, shape, atoms, seeds[2], joint_loglik)
        if self.reference is not None:
            self._measure_retained(np.hstack([first, second]), y_codes, seeds[2])
        return atoms

    def _n_codes(self, n_samples):
        """``n_clusters``, or for ``"auto"`` the number of codes per modality."""
        if self.n_clusters != "auto":
            return self.n_clusters
        if self.discretizer != "posterior":
            return _AUTO_CLUSTERS
        # The most codes whose _code_bias stays within _AUTO_BIAS (the joint
        # histogram's cells do not matter here, as synergy comes from the
        # joint classifier), but at least two codes per class: fewer would
        # cap I(code; Y) below H(Y).
        n_classes = self.target_coder_.n_codes_
        within_bias = 1 + int(2 * _AUTO_BIAS * n_samples // (n_classes - 1))
        return min(_AUTO_MAX_CODES, max(2 * n_classes, within_bias))

    def _bootstrap(self, codes, y_codes, shape, atoms, seed, joint_loglik=None):
        rng = np.random.default_rng(seed)
        n_samples = len(y_codes)
        resamples = [rng.integers(0, n_samples, n_samples) for _ in range(self.n_bootstrap)]
        self.bootstrap_distribution_ = UNIT_SCALE[self.units] * np.array(
            Parallel(n_jobs=self.n_jobs)(
                delayed(_atoms_of_rows)(codes[rows], y_codes[rows], shape, self.tol, self.max_iter,
                                        None if joint_loglik is None else joint_loglik[rows])
                for rows in resamples
            )
        )
        # A resample repeats rows, so its histogram is sparser and its plug-in
        # bias larger (S by ~0.06 bits at 20x20x4 cells and n = 8 192): the
        # percentiles are taken of the resamples' spread about their own mean,
        # placed at the estimate.
        spread = self.bootstrap_distribution_ - self.bootstrap_distribution_.mean(axis=0)
        tail = 50 * (1 - self.confidence_level)
        self.confidence_intervals_ = (np.asarray(atoms)[:, None]
                                      + np.percentile(spread, [tail, 100 - tail], axis=0).T)

    def _measure_retained(self, both, y_codes, seed):
        classifier = (make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
                      if self.reference == "logistic" else self.reference)
        posteriors = out_of_fold_posteriors(classifier, both, y_codes, self.n_jobs, int(seed))
        self.reference_info_ = UNIT_SCALE[self.units] * loglik_bound(
            row_loglik(posteriors, y_codes), y_codes)
        kept = float(np.sum(self.corrected_))
        # A reference at or below 0 (a classifier no better than the class
        # frequencies) bounds nothing: everything it can see is kept.
        self.information_retained_ = (kept / self.reference_info_ if self.reference_info_ > 0
                                      else 1.0)
        if self.information_retained_ < _RETAINED_WARN:
            warnings.warn(
                f"The discretisation keeps {100 * self.information_retained_:.0f}% of the "
                f"information about y that a classifier finds in both modalities "
                f"({kept:.3g} of at least {self.reference_info_:.3g} {self.units}): the atoms "
                "describe the codes, not the data. Use discretizer='posterior' (the "
                "default: codes that keep what predicts y), BatchPIDEstimator, or more "
                "clusters (n_clusters)"
                + ("." if self.n_permutations else " with n_permutations for the bias."),
                PIDBiasWarning, stacklevel=5,
            )

    def _codes(self, pair_blocks):
        return np.column_stack([coder.transform(b) for coder, b in zip(self.coders_, pair_blocks)])

    def transform(self, X):
        """The discrete code of each modality of ``pair``.

        Parameters
        ----------
        X : array-like of shape (n_samples, sum(modality_dims))
            The modalities' features side by side.

        Returns
        -------
        Xt : ndarray of shape (n_samples, 2)
            Integer codes in ``[0, joint_.shape[m])`` for the two modalities.
        """
        return self._codes(self._pair_blocks(X))

    def score(self, X, y):
        """The plug-in ``I(X1, X2; Y)`` of ``(X, y)`` under the fitted discretisation.

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
        codes = self.transform(X)
        y_codes = _target_codes(self, X, y)
        P = histogram(codes[:, 0], codes[:, 1], y_codes, self.joint_.shape)
        return UNIT_SCALE[self.units] * mutual_information(P, (0, 1), 2)

    def _output_suffixes(self):
        return ["code"]


@_SHARED_DOCS
class BatchPIDEstimator(_BasePID):
    """Partial information decomposition by the neural batch estimator.

    Liang et al.'s (2023) batch estimator for large continuous data: the same
    decomposition as :class:`PIDEstimator` (BROJA redundancy, uniqueness and
    synergy of two modalities about ``y``), without discretising.
    Cross-fitted classifiers give ``p(y | x1)``, ``p(y | x2)`` and
    ``p(y | x1, x2)`` per sample; in a batch of ``batch_size`` samples, each
    its own symbol, a network scores every pair ``(x1_i, x2_j)`` per class,
    Sinkhorn scaling and an exact rounding make the scores a table ``Q`` with
    the batch's ``(x1, y)`` and ``(x2, y)`` marginals, and training minimises
    ``I_Q(X1, X2; Y)``. On each batch it gets within about 0.001 bits of the
    exact minimum (which this package's solver computes), but that minimum
    over a finite batch lies above the population's: ``min I_Q`` is
    overstated, so redundancy and synergy are understated and uniqueness
    overstated, by less the larger the batch (on a continuous AND gate with
    20 000 samples, by 0.026, 0.019 and 0.015 bits at batches of 64, 128 and
    256).

    Parameters
    ----------
    {pid_parameters}
    classifier : estimator with ``predict_proba``, default=None
        Cloned for each of ``p(y | x1)``, ``p(y | x2)`` and ``p(y | x1, x2)``,
        which are predicted out of fold (up to 5 stratified folds). ``None``:
        logistic regression on the standardised features and their pairwise
        products.
    batch_size : int, default=256
        Samples per batch; larger is less biased (see above) and costs
        ``batch_size**2 * n_classes`` per step.
    max_epochs : int, default=10
        Training epochs of the pair-scoring network (Adam). It needs on the
        order of a hundred steps (``max_epochs * n_samples / batch_size``):
        give small data sets more epochs; ``net_.history`` shows the loss.
    lr : float, default=3e-3
        Its learning rate.
    device : {"cpu", "cuda", "auto"}, default="cpu"
        Where the network trains and runs; ``"auto"`` picks CUDA when
        available.
    n_bins_y : int, default=None
        Cut a continuous target into this many quantile bins.
    y_threshold : float, default=None
        Binarise a continuous target: class 1 where ``y >= y_threshold``. At
        most one of ``n_bins_y`` and ``y_threshold`` may be set.
    units : {"bits", "nats"}, default="bits"
        Units of every fitted information quantity.
    n_jobs : int, default=None
        Parallel jobs (joblib) for the cross-fitted classifiers.
    random_state : int, RandomState instance or None, default=None
        Seeds the folds, the network and the batches.

    Attributes
    ----------
    {pid_atoms}
    mutual_info_ : float
        ``I(X1, X2; Y) = R + U1 + U2 + S``, from the joint classifier.
    n_iter_ : int
        Epochs the network trained.
    net_ : skorch.NeuralNet
        The trained pair-scoring network (``net_.history`` holds
        ``train_loss``, each batch's ``I_Q`` in nats).
    classifiers_ : list of three estimators
        ``classifier`` refitted on all the data of the first modality, the
        second and both (for ``transform`` and ``score``).
    {pid_attributes}

    See Also
    --------
    PIDEstimator : The plug-in estimator on discretised modalities.

    References
    ----------
    P. P. Liang et al. Quantifying & modeling multimodal interactions: an
    information decomposition framework. NeurIPS 2023.

    Examples
    --------
    >>> import numpy as np
    >>> from alignkit.pid import BatchPIDEstimator
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 2, size=2000)                    # both modalities see y
    >>> shared = y[:, None] + 0.3 * rng.normal(size=(2000, 1))
    >>> X = np.hstack([shared + 0.1 * rng.normal(size=(2000, 3)),
    ...                shared + 0.1 * rng.normal(size=(2000, 2))])
    >>> batch = BatchPIDEstimator(modality_dims=[3, 2], batch_size=125, max_epochs=25,
    ...                           random_state=0).fit(X[:500], y[:500])
    >>> print(np.round(batch.atoms_, 2))
    [0.79 0.02 0.02 0.  ]
    """

    _parameter_constraints = {
        **_BasePID._parameter_constraints,
        "classifier": [HasMethods(["fit", "predict_proba"]), None],
        "batch_size": [Interval(Integral, 2, None, closed="left")],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "device": [StrOptions({"cpu", "cuda", "auto"})],
    }

    def __init__(self, *, modality_dims=None, pair=(0, 1), classifier=None, batch_size=256,
                 max_epochs=10, lr=3e-3, device="cpu", n_bins_y=None, y_threshold=None,
                 units="bits", n_jobs=None, random_state=None):
        super().__init__(modality_dims=modality_dims, pair=pair, n_bins_y=n_bins_y,
                         y_threshold=y_threshold, units=units, n_jobs=n_jobs,
                         random_state=random_state)
        self.classifier = classifier
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.lr = lr
        self.device = device

    def _fit_pair(self, first, second, y_codes, seeds):
        n_samples = len(y_codes)
        if self.batch_size > n_samples:
            warnings.warn(
                f"batch_size={self.batch_size} exceeds the {n_samples} samples: every batch is "
                f"the whole data set, whose minimum of I_Q lies furthest above the population's "
                "(redundancy and synergy understated). Use more samples or PIDEstimator.",
                PIDBiasWarning, stacklevel=4,
            )
        terms, self.net_, self.classifiers_ = fit_batch_pid(
            first, second, y_codes, classifier=self.classifier, batch_size=self.batch_size,
            max_epochs=self.max_epochs, lr=self.lr, device=resolve_device(self.device),
            n_jobs=self.n_jobs, seed=seeds[0],
        )
        info_1, info_2, min_info, joint_info = UNIT_SCALE[self.units] * np.asarray(terms)
        self.n_iter_ = len(self.net_.history)
        # As in pid_from_joint: U1 = min I_Q - I(X2; Y) and so on.
        u1, u2 = min_info - info_2, min_info - info_1
        atoms = np.array([info_1 - u1, u1, u2, joint_info - min_info])
        if np.any(atoms < -_NEGATIVE_ATOL * UNIT_SCALE[self.units]):
            names = [n for n, v in zip(["R", "U1", "U2", "S"], atoms)
                     if v < -_NEGATIVE_ATOL * UNIT_SCALE[self.units]]
            warnings.warn(
                f"Negative atoms {', '.join(names)} = {np.round(atoms, 4).tolist()} "
                f"({self.units}): "
                f"the network has not reached the minimum of I_Q (trained {self.n_iter_} epochs "
                f"of {max(1, n_samples // min(self.batch_size, n_samples))} batches) or the "
                "joint classifier understates I(X1, X2; Y). Train longer (max_epochs), use "
                "more samples, or use PIDEstimator; do not read these atoms.",
                PIDBiasWarning, stacklevel=4,
            )
        return atoms

    def transform(self, X):
        """Each modality of ``pair``'s class probabilities, from ``classifiers_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, sum(modality_dims))
            The modalities' features side by side.

        Returns
        -------
        Xt : ndarray of shape (n_samples, 2 * n_classes)
            ``p(y | x1)`` then ``p(y | x2)``.
        """
        blocks = self._pair_blocks(X)
        return np.hstack([clf.predict_proba(b) for clf, b in zip(self.classifiers_, blocks)])

    def score(self, X, y):
        """Lower-bound ``I(X1, X2; Y)`` on ``(X, y)`` by ``H(Y) - CE``.

        ``H(Y) - CE`` is the target's entropy less the cross-entropy of the
        joint classifier.

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
        both = np.hstack(self._pair_blocks(X))
        y_codes = _target_codes(self, X, y)
        loglik = row_loglik(self.classifiers_[2].predict_proba(both), y_codes)
        return UNIT_SCALE[self.units] * loglik_bound(loglik, y_codes)

    def _output_suffixes(self):
        return [f"proba{k}" for k in range(self.target_coder_.n_codes_)]


def _atoms_of_rows(codes, y_codes, shape, tol, max_iter, joint_loglik=None):
    P = histogram(codes[:, 0], codes[:, 1], y_codes, shape)
    atoms = np.asarray(decompose(P, "nats", tol, max_iter).atoms, dtype=float)
    if joint_loglik is None:
        return atoms
    return _with_bound_synergy(atoms, loglik_bound(joint_loglik, y_codes))


def _code_bias(n_codes, n_classes, n_samples):
    """The plug-in bias of ``I(code; Y)`` with independent codes and target,
    ``(K - 1)(|Y| - 1) / (2 N)`` nats (Miller-Madow)."""
    return (n_codes - 1) * (n_classes - 1) / (2 * n_samples)


def _with_bound_synergy(atoms, joint_info):
    """(R, U1, U2, S) with ``S = I(X1, X2; Y) - min I_Q`` from a bound on
    ``I(X1, X2; Y)``; 0 where the bound lies below ``min I_Q`` (which
    ``I(X1, X2; Y)`` never does, so the bound is the looser of the two)."""
    atoms = atoms.copy()
    atoms[3] = max(joint_info - atoms[:3].sum(), 0.0)
    return atoms


def _target_codes(est, X, y):
    y = column_or_1d(y, warn=True)
    check_consistent_length(X, y)
    return est.target_coder_.transform(y)

