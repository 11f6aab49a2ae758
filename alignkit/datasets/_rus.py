"""The controllable redundancy / uniqueness / heterogeneity generator of
Tjandrasuwita et al. (ICML 2025), with its exact joint distribution."""

import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions, validate_params

from ..utils import entropy, mutual_information
from ..utils._random import draw_seeds
from ._base import apply_transforms, heterogeneity_transforms, modality_bunch

# The emergence paper's template config: features_seed=1, weights_seed=2,
# transforms_seed=0 (numpy legacy seeding for the first two, torch for the last).
_PAPER_SEEDS = (1, 2, 0)
# Iterative proportional scaling of p(y|x) towards a uniform p(y), as in the paper.
_BALANCE_ATOL = 0.01
_BALANCE_MAX_ROUNDS = 100
# 2**20 latent states keep p(y | x) within tens of megabytes.
_MAX_LATENT_BITS = 20


@validate_params(
    {
        "n_samples": [Interval(Integral, 1, None, closed="left")],
        "redundancy": [Interval(Integral, 0, None, closed="left")],
        "heterogeneity": [Interval(Integral, 0, None, closed="left"), None],
        "heterogeneity_on": [StrOptions({"second", "both"})],
        "n_shared": [Interval(Integral, 1, None, closed="left")],
        "n_unique": [Interval(Integral, 1, None, closed="left")],
        "n_classes": [Interval(Integral, 2, None, closed="left")],
        "temperature": [Interval(Real, 0, None, closed="neither")],
        "as_frame": ["boolean"],
        "return_joint": ["boolean"],
        "random_state": ["random_state", StrOptions({"paper"})],
    },
    prefer_skip_nested_validation=True,
)
def make_rus_classification(
    n_samples=65536,
    *,
    redundancy=4,
    heterogeneity=0,
    heterogeneity_on="second",
    n_shared=8,
    n_unique=4,
    n_classes=4,
    temperature=0.05,
    as_frame=False,
    return_joint=False,
    random_state=None,
):
    r"""Two-modality classification data with controlled redundancy and heterogeneity.

    The generator of *Understanding the Emergence of Multimodal Representation
    Alignment* (Tjandrasuwita, Ekbote, Ziyin, Liang; ICML 2025), reproduced
    exactly. Every sample has ``n_shared`` shared bits :math:`x_c` and
    ``n_unique`` unique bits :math:`x_{u1}`, :math:`x_{u2}` per modality, all
    independent and uniform; the modalities are :math:`x_1 = [x_c, x_{u1}]`
    and :math:`x_2 = [x_c, x_{u2}]`. The label depends on ``n_shared`` of
    these bits: ``redundancy`` :math:`r` shared bits (seen by both
    modalities), :math:`u_1 = \lfloor(n_{shared} - r)/2\rfloor` bits of
    :math:`x_{u1}` and :math:`u_2 = n_{shared} - r - u_1` bits of
    :math:`x_{u2}`, each subset drawn at random. With
    :math:`f` those bits and :math:`W \in \mathbb{R}^{n_{shared} \times
    n_{classes}}` drawn from U(0, 1) with L2-normalised rows,
    :math:`p(y|x) = \mathrm{softmax}(f^\top W / T)`, rescaled by iterative
    proportional scaling (at most 100 rounds, until every class has
    probability within 0.01 of uniform); labels are drawn from it.

    Heterogeneity ``d`` passes modality 2 (or both) through a random,
    untrained ``Linear(k, k)`` followed by ``d`` x [``Tanh``, ``Linear(k, k)``]
    (``k = n_shared + n_unique``); modality 1 keeps its raw bits.

    Parameters
    ----------
    n_samples : int, default=65536
        Number of samples (the paper uses :math:`2^{16}`).
    redundancy : int, default=4
        Number :math:`r` of label-relevant shared bits, ``0 <= r <= n_shared``.
        Requires ``n_unique >= ceil((n_shared - r) / 2)``.
    heterogeneity : int or None, default=0
        Depth ``d`` of the random transform; ``None`` leaves both modalities
        as raw bits.
    heterogeneity_on : {"second", "both"}, default="second"
        Which modalities are transformed (the paper's "uni" and "multi"
        settings).
    n_shared : int, default=8
        Shared bits, which is also the number of label-relevant bits.
    n_unique : int, default=4
        Unique bits per modality.
    n_classes : int, default=4
        Number of classes.
    temperature : float, default=0.05
        Softmax temperature :math:`T`; lower makes labels more deterministic.
    as_frame : bool, default=False
        Return ``X`` as a pandas DataFrame with ``x1__j`` / ``x2__j`` columns
        (the prefixes from which alignkit estimators infer the modalities)
        and ``y`` as a Series.
    return_joint : bool, default=False
        Return a :class:`~sklearn.utils.Bunch` with the exact distribution
        and information content instead of ``(X, y)``.
    random_state : int, RandomState instance, None or "paper", default=None
        Seeds three independent streams: the relevant-bit subsets, ``W``
        followed by the samples, and (a ``torch.Generator``, never the global
        torch seed) the transforms. ``W`` and the transforms do not depend on
        ``redundancy``, so a fixed seed varies redundancy alone.
        ``"paper"`` reproduces the paper's draws: numpy's legacy
        ``RandomState(1)`` for the subsets, ``RandomState(2)`` for ``W`` and
        then the samples, torch seed 0 for the transforms, which are built
        for every depth from 0 up to ``heterogeneity`` in turn as the paper's
        script does (this is done for every seed, so a seed's transform at
        depth ``d`` does not depend on anything else). With the default sizes
        :math:`I(X_1, X_2; Y)` = 1.1588 nats, the ``mi=1.159`` of the paper's
        data file names.

    Returns
    -------
    X : ndarray or DataFrame of shape (n_samples, 2 * (n_shared + n_unique))
        Modality 1 then modality 2, ``n_shared + n_unique`` columns each.
        Standardising with training-set statistics is left to the user: put
        a :class:`~sklearn.preprocessing.StandardScaler` in a
        :class:`~sklearn.pipeline.Pipeline`.
    y : ndarray or Series of shape (n_samples,)
        Integer class labels.
    bunch : :class:`~sklearn.utils.Bunch`
        Only with ``return_joint=True``, with keys:

        - ``X``, ``y``: as above;
        - ``modality_dims``, ``modality_names`` (``["x1", "x2"]``),
          ``input_shapes``, ``feature_names``;
        - ``bits``: int ndarray (n_samples, n_shared + 2 n_unique), the
          untransformed :math:`[x_c, x_{u1}, x_{u2}]`;
        - ``joint``: ndarray (2**(r + u1), 2**(r + u2), n_classes), the exact
          :math:`P(c_1, c_2, y)` where :math:`c_m` is the code of modality
          :math:`m`'s label-relevant bits (binary, most significant first, in
          the order of ``relevant_bits``). :math:`y` depends on
          :math:`(x_1, x_2)` only through :math:`(c_1, c_2)` and each
          :math:`x_m` on :math:`y` only through :math:`c_m`, so every
          :math:`I(\cdot; Y)` and the PID of :math:`(X_1, X_2, Y)` are those
          of this table, which is small enough for a PID solver;
        - ``codes``: int ndarray (n_samples, 2), each sample's
          :math:`(c_1, c_2)`;
        - ``joint_latent``: ndarray (2**n_shared, 2**n_unique, 2**n_unique,
          n_classes), the exact :math:`P(x_c, x_{u1}, x_{u2}, y)`; the full
          :math:`P(x_1, x_2, y)` is this table re-indexed;
        - ``mutual_info``: dict of exact ``"I(X1;Y)"``, ``"I(X2;Y)"``,
          ``"I(X1,X2;Y)"`` and ``"I(X1;X2)"`` in nats;
        - ``bayes_accuracy``: dict of the exact population accuracy of the
          Bayes classifier on ``"X1"``, ``"X2"`` and ``"X1,X2"``: the
          ceiling no model of those inputs can pass (the heterogeneity
          transform is almost surely invertible, so it leaves them
          unchanged); :func:`bayes_accuracy` gives them on a sample;
        - ``weights`` (``W``), ``relevant_bits`` (dict of the indices drawn
          into ``x_c``, ``x_u1``, ``x_u2``, rows of ``W`` in that order),
          ``transforms`` (per modality, the torch module or None), ``DESCR``.

    See Also
    --------
    bayes_accuracy : The best accuracy any model reaches on such data.
    make_multimodal_classification : Continuous modalities with set redundancy,
        uniqueness and synergy.

    References
    ----------
    M. Tjandrasuwita, C. Ekbote, L. Ziyin, P. P. Liang. "Understanding the
    Emergence of Multimodal Representation Alignment", ICML 2025.
    https://github.com/MeganTj/multimodal_alignment

    Examples
    --------
    >>> from alignkit.datasets import make_rus_classification
    >>> X, y = make_rus_classification(1000, redundancy=4, heterogeneity=3, random_state=0)
    >>> X.shape, sorted(set(y.tolist()))
    ((1000, 24), [0, 1, 2, 3])

    Standardise with training statistics inside a pipeline:

    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> model = make_pipeline(StandardScaler(), LogisticRegression()).fit(X[:800], y[:800])
    >>> 0.25 < model.score(X[800:], y[800:]) <= 1
    True

    The exact information content, with the paper's own draws:

    >>> info = make_rus_classification(16, redundancy=8, return_joint=True,
    ...                                random_state="paper").mutual_info
    >>> print({k: round(v, 4) for k, v in info.items()})
    {'I(X1;Y)': 1.1588, 'I(X2;Y)': 1.1588, 'I(X1,X2;Y)': 1.1588, 'I(X1;X2)': 5.5452}
    """
    r = redundancy
    if n_shared + 2 * n_unique > _MAX_LATENT_BITS:
        raise ValueError(
            f"n_shared + 2 * n_unique = {n_shared + 2 * n_unique} latent bits: the exact "
            f"distribution over 2**{n_shared + 2 * n_unique} states is too large; keep it "
            f"at most {_MAX_LATENT_BITS} (the paper uses 8 + 2 * 4 = 16)."
        )
    if r > n_shared:
        raise ValueError(
            f"redundancy={r} exceeds n_shared={n_shared}: at most n_shared of the "
            "label-relevant bits can be shared."
        )
    u1 = (n_shared - r) // 2
    u2 = n_shared - r - u1
    if u2 > n_unique:
        raise ValueError(
            f"redundancy={r} needs {u2} label-relevant unique bits per modality, but "
            f"n_unique={n_unique}; use n_unique >= {u2} or a larger redundancy."
        )
    if random_state == "paper":
        subset_seed, weight_seed, torch_seed = _PAPER_SEEDS
    else:
        subset_seed, weight_seed, torch_seed = draw_seeds(random_state, size=3)

    # Drawn in the paper's order, from its legacy generators.
    subset_rng = np.random.RandomState(subset_seed)
    relevant = {
        "x_c": subset_rng.choice(n_shared, size=r, replace=False),
        "x_u1": subset_rng.choice(n_unique, size=u1, replace=False),
        "x_u2": subset_rng.choice(n_unique, size=u2, replace=False),
    }
    weight_rng = np.random.RandomState(weight_seed)
    weights = weight_rng.uniform(0, 1, size=(n_shared, n_classes))
    weights /= np.linalg.norm(weights, axis=1, keepdims=True)

    shared_bits, unique_bits = _all_bit_patterns(n_shared), _all_bit_patterns(n_unique)
    p_y_given_x = _label_distribution(shared_bits, unique_bits, relevant, weights, temperature)

    # Sampling continues the weights' stream, as in the paper.
    latent_sizes = p_y_given_x.shape[:3]
    xc, xu1, xu2 = (
        weight_rng.choice(size, size=n_samples, p=np.full(size, 1.0 / size))
        for size in latent_sizes
    )
    y = _inverse_cdf(p_y_given_x[xc, xu1, xu2], weight_rng.random_sample(n_samples))

    raw = [
        np.hstack([shared_bits[xc], unique_bits[xu1]]),
        np.hstack([shared_bits[xc], unique_bits[xu2]]),
    ]
    k = n_shared + n_unique
    transforms = heterogeneity_transforms([k, k], heterogeneity, heterogeneity_on, torch_seed)
    bunch = modality_bunch(apply_transforms(raw, transforms), y, ["x1", "x2"], as_frame=as_frame)
    if not return_joint:
        return bunch.X, bunch.y

    joint_latent = p_y_given_x / np.prod(latent_sizes)
    code_sizes, code_of_state, codes = _relevant_codes(
        shared_bits, unique_bits, relevant, (xc, xu1, xu2)
    )
    joint = np.zeros(code_sizes + (n_classes,))
    np.add.at(joint, code_of_state, joint_latent)
    bunch.update(
        bits=np.hstack([shared_bits[xc], unique_bits[xu1], unique_bits[xu2]]),
        joint=joint,
        codes=codes,
        joint_latent=joint_latent,
        mutual_info=_latent_mutual_info(joint_latent),
        bayes_accuracy=bayes_accuracy(joint),
        weights=weights,
        relevant_bits=relevant,
        transforms=transforms,
        DESCR=_describe(r, u1, u2, heterogeneity, heterogeneity_on, random_state),
    )
    return bunch


@validate_params(
    {"joint": ["array-like"], "codes": ["array-like", None], "y": ["array-like", None]},
    prefer_skip_nested_validation=True,
)
def bayes_accuracy(joint, codes=None, y=None):
    """Accuracy of the Bayes classifiers of one modality and of both.

    The Bayes classifier of inputs ``C`` predicts ``argmax_y P(C, y)``; no
    model of ``C`` has a higher expected accuracy, so these are the ceilings
    of unimodal and fused models.

    Parameters
    ----------
    joint : array-like of shape (n_codes_1, n_codes_2, n_classes)
        Exact joint ``P(c1, c2, y)``, e.g. the ``joint`` of
        ``make_rus_classification(return_joint=True)``.
    codes : array-like of int of shape (n_samples, 2), default=None
        Each sample's ``(c1, c2)`` (the bunch's ``codes``). None: the
        population accuracies, ``sum_c max_y P(c, y)``.
    y : array-like of shape (n_samples,), default=None
        The samples' labels (class indices), required with ``codes``: the
        accuracies are then those of the Bayes rules' predictions on this
        sample, which scatter around the population values.

    Returns
    -------
    accuracy : dict
        ``{"X1": ..., "X2": ..., "X1,X2": ...}``, floats in [0, 1].

    See Also
    --------
    make_rus_classification : Data whose joint table it reads.

    Examples
    --------
    >>> from alignkit.datasets import bayes_accuracy, make_rus_classification
    >>> data = make_rus_classification(4096, redundancy=8, return_joint=True,
    ...                                random_state="paper")
    >>> {k: round(v, 3) for k, v in data.bayes_accuracy.items()}
    {'X1': 0.906, 'X2': 0.906, 'X1,X2': 0.906}
    >>> sample = bayes_accuracy(data.joint, data.codes, data.y)
    >>> abs(sample["X1"] - data.bayes_accuracy["X1"]) < 0.03
    True
    """
    joint = np.asarray(joint, dtype=np.float64)
    if joint.ndim != 3 or np.any(joint < 0) or not np.isclose(joint.sum(), 1.0):
        raise ValueError(
            "joint must be a probability table P(c1, c2, y) of shape (n_codes_1, "
            f"n_codes_2, n_classes) with non-negative entries summing to 1; got shape "
            f"{joint.shape} summing to {joint.sum():.6g}."
        )
    tables = {"X1": joint.sum(axis=1), "X2": joint.sum(axis=0),
              "X1,X2": joint.reshape(-1, joint.shape[2])}
    if codes is None:
        if y is not None:
            raise ValueError("y was given without codes; pass both (a sample) or neither.")
        return {name: float(table.max(axis=1).sum()) for name, table in tables.items()}
    if y is None:
        raise ValueError("codes were given without y; pass the samples' labels too.")
    codes, y = np.asarray(codes), np.asarray(y)
    if codes.ndim != 2 or codes.shape[1] != 2 or len(codes) != len(y) or len(y) == 0:
        raise ValueError(
            f"codes must have shape (n_samples, 2) and y shape (n_samples,) with n_samples "
            f">= 1; got {codes.shape} and {y.shape}."
        )
    if (codes < 0).any() or (codes >= joint.shape[:2]).any():
        raise ValueError(f"codes must index the joint's first two axes {joint.shape[:2]}.")
    rows = {"X1": codes[:, 0], "X2": codes[:, 1],
            "X1,X2": codes[:, 0] * joint.shape[1] + codes[:, 1]}
    return {name: float(np.mean(tables[name].argmax(axis=1)[rows[name]] == y))
            for name in tables}


def _all_bit_patterns(n_bits):
    """Row v holds the bits of v, most significant first (itertools.product order)."""
    return (np.arange(2**n_bits)[:, None] >> np.arange(n_bits - 1, -1, -1)) & 1


def _label_distribution(shared_bits, unique_bits, relevant, weights, temperature):
    """p(y | x_c, x_u1, x_u2), shape (2**n_shared, 2**n_unique, 2**n_unique, n_classes)."""
    n_c, n_u = len(shared_bits), len(unique_bits)
    # f = [x_c[rel_c], x_u1[rel_u1], x_u2[rel_u2]] for every latent state.
    parts = [
        shared_bits[:, relevant["x_c"]][:, None, None, :],
        unique_bits[:, relevant["x_u1"]][None, :, None, :],
        unique_bits[:, relevant["x_u2"]][None, None, :, :],
    ]
    f = np.concatenate([np.broadcast_to(b, (n_c, n_u, n_u, b.shape[-1])) for b in parts], axis=-1)
    logits = (f.reshape(n_c * n_u * n_u, -1) @ weights) / temperature
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    uniform = np.full(p.shape[1], 1.0 / p.shape[1])
    # The latent states are equiprobable, so p(y) is the mean over states.
    for _ in range(_BALANCE_MAX_ROUNDS):
        p_y = p.mean(axis=0)
        if np.allclose(p_y, uniform, atol=_BALANCE_ATOL):
            break
        p *= uniform / p_y
        p /= p.sum(axis=1, keepdims=True)
    else:
        p_y = p.mean(axis=0)
        if not np.allclose(p_y, uniform, atol=_BALANCE_ATOL):
            warnings.warn(
                f"temperature={temperature!r}: the labels could not be balanced to a "
                f"uniform p(y) within {_BALANCE_ATOL} (p(y) = {np.round(p_y, 3).tolist()}); "
                "near-deterministic labels leave little to reweight. Raise the "
                "temperature for balanced classes.",
                UserWarning,
                stacklevel=3,
            )
    return p.reshape(n_c, n_u, n_u, -1)


def _inverse_cdf(probabilities, uniforms):
    """Categorical draws, one per row, as numpy's legacy ``choice(k, p=row)``."""
    cdf = np.cumsum(probabilities, axis=1)
    cdf /= cdf[:, -1:]
    return (cdf <= uniforms[:, None]).sum(axis=1)


def _bits_to_int(bits):
    """Rows of bits, most significant first, as integers (0 for no bits)."""
    return bits @ (1 << np.arange(bits.shape[-1] - 1, -1, -1))


def _relevant_codes(shared_bits, unique_bits, relevant, sample_states):
    """Codes of each modality's label-relevant bits, for every latent state and sample."""
    r = len(relevant["x_c"])
    code_c = _bits_to_int(shared_bits[:, relevant["x_c"]])
    code_u = [_bits_to_int(unique_bits[:, relevant[k]]) for k in ("x_u1", "x_u2")]
    widths = [len(relevant[k]) for k in ("x_u1", "x_u2")]
    code_sizes = tuple(2 ** (r + w) for w in widths)
    c1 = (code_c[:, None] << widths[0]) + code_u[0][None, :]  # (x_c, x_u1) -> c1
    c2 = (code_c[:, None] << widths[1]) + code_u[1][None, :]  # (x_c, x_u2) -> c2
    code_of_state = (c1[:, :, None], c2[:, None, :])
    xc, xu1, xu2 = sample_states
    codes = np.column_stack([c1[xc, xu1], c2[xc, xu2]])
    return code_sizes, code_of_state, codes


def _latent_mutual_info(joint_latent):
    """Exact information of the modalities x1 = (x_c, x_u1), x2 = (x_c, x_u2) about y."""
    h = {
        axes: entropy(joint_latent.sum(axis=tuple(set(range(4)) - set(axes))))
        for axes in [(0, 1), (0, 2), (0, 1, 2)]
    }
    return {
        "I(X1;Y)": mutual_information(joint_latent, (0, 1), 3),
        "I(X2;Y)": mutual_information(joint_latent, (0, 2), 3),
        "I(X1,X2;Y)": mutual_information(joint_latent, (0, 1, 2), 3),
        # x1 and x2 overlap in x_c, so this is H(X1) + H(X2) - H(X1, X2).
        "I(X1;X2)": h[(0, 1)] + h[(0, 2)] - h[(0, 1, 2)],
    }


def _describe(r, u1, u2, heterogeneity, heterogeneity_on, random_state):
    transform = (
        "none (raw bits)"
        if heterogeneity is None
        else f"Linear + {heterogeneity} x [Tanh, Linear] on "
        + ("both modalities" if heterogeneity_on == "both" else "modality 2")
    )
    return (
        "Synthetic redundancy/uniqueness data of Tjandrasuwita et al. (ICML 2025).\n"
        f"Label-relevant bits: {r} shared, {u1} unique to x1, {u2} unique to x2.\n"
        f"Heterogeneity transform: {transform}. random_state={random_state!r}."
    )
