"""A continuous two-modality generator with separate redundant, unique and
synergistic label factors."""

from numbers import Integral, Real

import numpy as np
from scipy.special import erf, erfinv, ndtri
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions, validate_params

from ..utils._random import draw_seeds
from ._base import apply_transforms, heterogeneity_transforms, modality_bunch

_COUNT_OR_PAIR = [Interval(Integral, 0, None, closed="left"), "array-like"]


@validate_params(
    {
        "n_samples": [Interval(Integral, 1, None, closed="left")],
        "n_redundant": [Interval(Integral, 0, None, closed="left")],
        "n_unique": _COUNT_OR_PAIR,
        "n_synergistic": [Interval(Integral, 0, None, closed="left")],
        "n_noise": _COUNT_OR_PAIR,
        "n_classes": [Interval(Integral, 2, None, closed="left")],
        "flip_y": [Interval(Real, 0, 1, closed="both")],
        "rotate": ["boolean"],
        "heterogeneity": [Interval(Integral, 0, None, closed="left"), None],
        "heterogeneity_on": [StrOptions({"second", "both"})],
        "as_frame": ["boolean"],
        "return_bunch": ["boolean"],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_multimodal_classification(
    n_samples=1000,
    *,
    n_redundant=2,
    n_unique=(1, 1),
    n_synergistic=0,
    n_noise=(0, 0),
    n_classes=2,
    flip_y=0.0,
    rotate=True,
    heterogeneity=None,
    heterogeneity_on="second",
    as_frame=False,
    return_bunch=False,
    random_state=None,
):
    r"""Two continuous modalities with redundant, unique and synergistic label information.

    Every latent is an independent standard normal. Modality :math:`m` observes
    ``[z_r, z_um, s_m, e_m]``: the ``n_redundant`` redundant latents
    :math:`z_r` (seen by both modalities), its ``n_unique[m]`` unique latents,
    ``n_synergistic`` synergy latents :math:`s_m` and ``n_noise[m]``
    label-free noise latents, then (``rotate``) a random rotation of its own.

    The label is a function of the label factors :math:`h = [z_r, z_{u1},
    z_{u2}, t]`, where each synergistic factor
    :math:`t_k = \mathrm{sign}(s_{1k})\,\mathrm{sign}(s_{2k})\, G^{-1}(\{G(|s_{1k}|) + G(|s_{2k}|)\})`
    combines one latent from each modality (:math:`G` the half-normal CDF,
    :math:`\{\cdot\}` the fractional part): its sign is the XOR of the two
    signs and its magnitude a modular sum, so :math:`t_k` is a standard
    normal that the pair determines exactly and that is independent of either
    modality alone. The score :math:`h \cdot a`, with
    :math:`a_k = \pm 1/\sqrt{K}` (random signs, :math:`K` factors), is again
    a standard normal; ``y`` is its bin between the ``n_classes``-quantiles
    of :math:`N(0, 1)`, so the classes are balanced in expectation. A fraction
    ``flip_y`` of the labels is then replaced by uniformly random classes.

    Hence with only redundant factors either modality predicts ``y`` as well
    as both together; with only synergistic factors each modality alone is at
    chance (exactly, not just for linear models) while the pair is not; for
    ``n_classes=2`` and one synergistic factor, ``y`` is the XOR of the signs
    of :math:`s_1` and :math:`s_2`.

    The factor counts are not the PID atoms of ``y``: all factors meet in one
    score, and a label that thresholds a sum of factors from both modalities
    carries BROJA redundancy and synergy as well. Unique factors on one
    modality only (``n_unique=(u, 0)``) give a uniqueness-dominated label.

    Parameters
    ----------
    n_samples : int, default=1000
        Number of samples.
    n_redundant : int, default=2
        Label factors shared by both modalities.
    n_unique : int or pair of int, default=(1, 1)
        Label factors seen by one modality only (an int is used for both).
    n_synergistic : int, default=0
        Label factors that need both modalities (one latent in each).
    n_noise : int or pair of int, default=(0, 0)
        Label-free latents per modality.
    n_classes : int, default=2
        Number of classes.
    flip_y : float, default=0.0
        Fraction of labels replaced by a uniformly random class.
    rotate : bool, default=True
        Mix each modality's latents with a random orthogonal matrix of its
        own; ``False`` keeps the columns in the order redundant, unique,
        synergistic, noise.
    heterogeneity : int or None, default=None
        Depth ``d`` of a random untrained ``Linear`` + ``d`` x [``Tanh``,
        ``Linear``] applied after the rotation, as in
        :func:`make_rus_classification`; ``None`` applies none.
    heterogeneity_on : {"second", "both"}, default="second"
        Which modalities the transform is applied to.
    as_frame : bool, default=False
        Return ``X`` as a DataFrame with ``x1__j`` / ``x2__j`` columns and
        ``y`` as a Series.
    return_bunch : bool, default=False
        Return a :class:`~sklearn.utils.Bunch` instead of ``(X, y)``.
    random_state : int, RandomState instance or None, default=None
        Seeds every draw (torch through a local ``torch.Generator``).

    Returns
    -------
    X : ndarray or DataFrame of shape (n_samples, sum(modality_dims))
        Modality 1 then modality 2; modality :math:`m` has ``n_redundant +
        n_unique[m] + n_synergistic + n_noise[m]`` columns.
    y : ndarray or Series of shape (n_samples,)
        Integer class labels.
    bunch : :class:`~sklearn.utils.Bunch`
        Only with ``return_bunch=True``: ``X``, ``y``, ``modality_dims``,
        ``modality_names`` (``["x1", "x2"]``), ``input_shapes``,
        ``feature_names``, ``latents`` (dict of the ``"redundant"`` array
        and per-modality lists ``"unique"``, ``"synergistic"``, ``"noise"``),
        ``label_factors`` (:math:`h`), ``score`` (:math:`h \cdot a`),
        ``DESCR``.

    See Also
    --------
    make_rus_classification : The discrete generator of the emergence paper,
        with its exact joint distribution.

    Examples
    --------
    >>> from alignkit.datasets import make_multimodal_classification
    >>> bunch = make_multimodal_classification(
    ...     200, n_redundant=4, n_unique=(2, 2), n_synergistic=2, n_noise=1,
    ...     return_bunch=True, random_state=0)
    >>> bunch.X.shape, bunch.modality_dims
    ((200, 18), [9, 9])
    """
    n_unique = _count_pair(n_unique, "n_unique")
    n_noise = _count_pair(n_noise, "n_noise")
    n_factors = n_redundant + sum(n_unique) + n_synergistic
    if n_factors == 0:
        raise ValueError(
            "The label needs at least one factor: n_redundant, n_unique and "
            "n_synergistic are all zero."
        )
    dims = [n_redundant + n_unique[m] + n_synergistic + n_noise[m] for m in range(2)]
    if min(dims) == 0:
        raise ValueError(
            f"Modality {dims.index(0) + 1} would have no features: give it a "
            "redundant, unique, synergistic or noise latent."
        )
    rng = check_random_state(random_state)

    def normal(k):
        return rng.standard_normal((n_samples, k))

    redundant = normal(n_redundant)
    unique = [normal(k) for k in n_unique]
    synergy = [normal(n_synergistic), normal(n_synergistic)]
    noise = [normal(k) for k in n_noise]

    factors = np.hstack([redundant, *unique, _modular_xor(*synergy)])
    signs = rng.choice([-1.0, 1.0], size=n_factors)
    score = factors @ signs / np.sqrt(n_factors)
    y = np.searchsorted(ndtri(np.arange(1, n_classes) / n_classes), score)
    flip = rng.random_sample(n_samples) < flip_y
    y[flip] = rng.randint(n_classes, size=flip.sum())

    Xs = [np.hstack([redundant, unique[m], synergy[m], noise[m]]) for m in range(2)]
    if rotate:
        Xs = [x @ _random_rotation(x.shape[1], rng) for x in Xs]
    transforms = heterogeneity_transforms(
        dims, heterogeneity, heterogeneity_on, draw_seeds(rng)
    )
    bunch = modality_bunch(apply_transforms(Xs, transforms), y, ["x1", "x2"], as_frame=as_frame)
    if not return_bunch:
        return bunch.X, bunch.y
    bunch.update(
        latents={"redundant": redundant, "unique": unique, "synergistic": synergy, "noise": noise},
        label_factors=factors,
        score=score,
        transforms=transforms,
        DESCR=(
            "Continuous multimodal classification data: "
            f"{n_redundant} redundant, {n_unique} unique, {n_synergistic} synergistic "
            f"label factors, {n_noise} noise latents, {n_classes} classes."
        ),
    )
    return bunch


def _count_pair(value, name):
    if isinstance(value, Integral):
        return (int(value), int(value))
    pair = tuple(value)
    if len(pair) != 2 or not all(
        isinstance(v, Integral) and not isinstance(v, bool) and v >= 0 for v in pair
    ):
        raise ValueError(
            f"{name} must be a non-negative int or a pair of them (one per "
            f"modality); got {value!r}."
        )
    return tuple(int(v) for v in pair)


def _modular_xor(s1, s2):
    """A standard normal fixed by (s1, s2) jointly but independent of each alone."""

    def half_normal_cdf(a):
        return erf(a / np.sqrt(2))

    magnitude_quantile = np.mod(half_normal_cdf(np.abs(s1)) + half_normal_cdf(np.abs(s2)), 1.0)
    return np.sign(s1) * np.sign(s2) * np.sqrt(2) * erfinv(magnitude_quantile)


def _random_rotation(dim, rng):
    """A Haar-distributed orthogonal matrix (QR of a Gaussian, signs fixed)."""
    q, r = np.linalg.qr(rng.standard_normal((dim, dim)))
    return q * np.sign(np.diag(r))
