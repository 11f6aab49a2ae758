"""The synthetic generators: the emergence paper's exact R/U/heterogeneity data
and the continuous redundant/unique/synergistic generator."""

import math

import numpy as np
import pytest
import torch
from scipy.stats import norm
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import PolynomialFeatures, StandardScaler
from torch import nn

from alignkit.datasets import make_multimodal_classification, make_rus_classification
from alignkit.datasets._base import random_transform
from alignkit.utils import mutual_information, resolve_modalities

PAPER_MI = 1.1588  # nats; the "mi=1.159" of the paper's data file names


@pytest.fixture(scope="module")
def paper_bunches():
    return {
        r: make_rus_classification(redundancy=r, heterogeneity=1, return_joint=True, random_state="paper")
        for r in (0, 4, 8)
    }


@pytest.mark.parametrize("r", [0, 4, 8])
def test_paper_draws_give_the_papers_information(paper_bunches, r):
    info = paper_bunches[r].mutual_info
    assert info["I(X1,X2;Y)"] == pytest.approx(PAPER_MI, abs=5e-5)
    assert info["I(X1;X2)"] == pytest.approx(8 * math.log(2), abs=1e-12)


def test_paper_draws_are_the_papers_samples(paper_bunches):
    # Fingerprint of redundancy=4, heterogeneity=1, taken after checking these
    # draws bit for bit against the paper's generate_prob_data.py (labels,
    # x1 and x2, depths 0-3, "uni" and "multi" settings).
    b = paper_bunches[4]
    assert b.y[:12].tolist() == [3, 3, 0, 3, 2, 1, 0, 3, 3, 1, 3, 2]
    assert int(b.y.sum()) == 97994
    assert b.bits[0].tolist() == [1, 0, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 1, 0]
    np.testing.assert_allclose(
        b.X[0, 12:15], [-0.1432301551103592, 0.04252298176288605, -0.5840691924095154], rtol=0
    )
    assert [v.tolist() for v in b.relevant_bits.values()] == [[7, 2, 1, 6], [3, 2], [2, 3]]


def test_full_information_is_the_same_for_every_redundancy():
    values = [
        make_rus_classification(16, redundancy=r, return_joint=True, random_state=3).mutual_info
        for r in range(9)
    ]
    joint_info = [v["I(X1,X2;Y)"] for v in values]
    np.testing.assert_allclose(joint_info, joint_info[0], rtol=0, atol=1e-9)
    # ... while the unimodal information moves with r.
    assert len({round(v["I(X1;Y)"], 6) for v in values}) > 3


def test_full_redundancy_makes_each_modality_sufficient(paper_bunches):
    info = paper_bunches[8].mutual_info
    assert info["I(X1;Y)"] == pytest.approx(info["I(X1,X2;Y)"], abs=1e-10)
    assert info["I(X2;Y)"] == pytest.approx(info["I(X1,X2;Y)"], abs=1e-10)
    low = paper_bunches[0].mutual_info
    assert low["I(X1;Y)"] < 0.5 * low["I(X1,X2;Y)"] and low["I(X2;Y)"] < 0.5 * low["I(X1,X2;Y)"]


@pytest.mark.parametrize("r", [0, 4, 8])
def test_relevant_code_joint_is_exact_and_sufficient(paper_bunches, r):
    b = paper_bunches[r]
    u1 = (8 - r) // 2
    assert b.joint.shape == (2 ** (r + u1), 2 ** (8 - u1), 4)
    assert b.joint.sum() == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_allclose(b.joint.sum(axis=(0, 1)), 0.25, atol=0.01)  # balanced p(y)
    for axes, key in [(0, "I(X1;Y)"), (1, "I(X2;Y)"), ((0, 1), "I(X1,X2;Y)")]:
        assert mutual_information(b.joint, axes, 2) == pytest.approx(b.mutual_info[key], abs=1e-10)
    np.testing.assert_allclose(b.joint_latent.sum(axis=3), 1 / 2**16, rtol=1e-12)


def test_labels_follow_the_exact_joint():
    b = make_rus_classification(redundancy=0, heterogeneity=None, return_joint=True, random_state=0)
    empirical = np.zeros_like(b.joint)
    np.add.at(empirical, (b.codes[:, 0], b.codes[:, 1], b.y), 1 / len(b.y))
    assert 0.5 * np.abs(empirical - b.joint).sum() < 0.03  # total variation
    # With no transform, X is the raw bits: x1 = [x_c, x_u1], x2 = [x_c, x_u2].
    bits = b.bits
    np.testing.assert_array_equal(b.X, np.hstack([bits[:, :12], bits[:, :8], bits[:, 12:]]))


def test_seeding_is_local_and_reproducible():
    torch_state, numpy_state = torch.get_rng_state(), np.random.get_state()[1].copy()
    X_a, y_a = make_rus_classification(500, heterogeneity=2, random_state=7)
    X_b, y_b = make_rus_classification(500, heterogeneity=2, random_state=7)
    np.testing.assert_array_equal(X_a, X_b)
    np.testing.assert_array_equal(y_a, y_b)
    assert torch.equal(torch_state, torch.get_rng_state())
    np.testing.assert_array_equal(numpy_state, np.random.get_state()[1])
    X_c, _ = make_rus_classification(500, heterogeneity=2, random_state=8)
    assert not np.array_equal(X_a, X_c)


def test_random_transform_matches_torch_default_initialisation():
    generator = torch.Generator().manual_seed(0)
    ours = [random_transform(12, d, generator) for d in range(3)]
    torch.manual_seed(0)
    for depth, module in enumerate(ours):
        layers = [nn.Linear(12, 12)]
        for _ in range(depth):
            layers += [nn.Tanh(), nn.Linear(12, 12)]
        for p, q in zip(module.parameters(), nn.Sequential(*layers).parameters()):
            assert torch.equal(p, q)


def test_heterogeneity_transforms_the_chosen_modalities():
    raw, _ = make_rus_classification(300, heterogeneity=None, random_state=1)
    second, _ = make_rus_classification(300, heterogeneity=3, random_state=1)
    both, _ = make_rus_classification(300, heterogeneity=3, heterogeneity_on="both", random_state=1)
    np.testing.assert_array_equal(second[:, :12], raw[:, :12])
    assert not np.allclose(second[:, 12:], raw[:, 12:])
    assert not np.allclose(both[:, :12], raw[:, :12])
    assert np.isin(raw, [0.0, 1.0]).all() and raw.dtype == np.float64


def test_as_frame_carries_modality_prefixes():
    b = make_rus_classification(50, as_frame=True, return_joint=True, random_state=0)
    assert list(b.X.columns[:2]) == ["x1__0", "x1__1"] and b.X.columns[-1] == "x2__11"
    assert resolve_modalities(b.X.shape[1], None, b.X.columns) == ([12, 12], ["x1", "x2"])
    assert b.y.name == "y" and b.modality_dims == [12, 12]
    X, y = make_rus_classification(50, as_frame=True, random_state=0)
    np.testing.assert_array_equal(X.to_numpy(), b.X.to_numpy())


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(redundancy=9), "redundancy=9 exceeds n_shared=8"),
        (dict(redundancy=0, n_unique=3), "needs 4 label-relevant unique bits per modality"),
        (dict(heterogeneity_on="first"), "heterogeneity_on"),
        (dict(random_state="papers"), "random_state"),
        (dict(temperature=0), "temperature"),
        (dict(n_shared=10, n_unique=6), "22 latent bits"),
    ],
)
def test_rus_bad_parameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_rus_classification(10, **kwargs)


def test_rus_sizes_are_knobs():
    b = make_rus_classification(
        100, redundancy=2, n_shared=4, n_unique=2, n_classes=3, return_joint=True, random_state=0
    )
    assert b.X.shape == (100, 12) and b.joint.shape == (2**3, 2**3, 3)
    assert b.weights.shape == (4, 3)
    np.testing.assert_allclose(np.linalg.norm(b.weights, axis=1), 1.0)


# --- make_multimodal_classification ------------------------------------------------


def _held_out_accuracies(X, y, model, dims):
    """Accuracy of `model` on modality 1, modality 2 and both, on a held-out half."""
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.5, random_state=0)
    blocks = [slice(0, dims[0]), slice(dims[0], None), slice(None)]
    return [model.fit(X_tr[:, b], y_tr).score(X_te[:, b], y_te) for b in blocks]


def test_redundant_factors_make_each_modality_as_good_as_both():
    b = make_multimodal_classification(
        3000, n_redundant=4, n_unique=0, n_noise=2, return_bunch=True, random_state=0
    )
    acc1, acc2, joint = _held_out_accuracies(b.X, b.y, LogisticRegression(), b.modality_dims)
    assert joint > 0.95
    assert abs(acc1 - joint) < 0.02 and abs(acc2 - joint) < 0.02


def test_synergistic_factors_need_both_modalities():
    X, y = make_multimodal_classification(
        3000, n_redundant=0, n_unique=0, n_synergistic=1, n_noise=1, random_state=0
    )
    linear = _held_out_accuracies(X, y, LogisticRegression(), [2, 2])
    poly = make_pipeline(PolynomialFeatures(2), StandardScaler(), LogisticRegression())
    quadratic = _held_out_accuracies(X, y, poly, [2, 2])
    for acc in linear[:2] + quadratic[:2]:
        assert abs(acc - 0.5) < 0.04  # each modality alone is at chance
    assert quadratic[2] > 0.9  # XOR of the signs, learnt from the pair


def test_unique_factors_stay_in_their_modality():
    X, y = make_multimodal_classification(
        3000, n_redundant=0, n_unique=(3, 0), n_noise=(0, 3), random_state=0
    )
    acc1, acc2, joint = _held_out_accuracies(X, y, LogisticRegression(), [3, 3])
    assert abs(acc1 - joint) < 0.02 and joint > 0.95
    assert abs(acc2 - 0.5) < 0.04


def test_synergy_is_independent_of_each_latent_alone():
    b = make_multimodal_classification(
        20000, n_redundant=0, n_unique=0, n_synergistic=1, n_classes=4, return_bunch=True,
        random_state=0,
    )
    s1, s2 = (s[:, 0] for s in b.latents["synergistic"])
    t = b.label_factors[:, 0]
    assert np.mean(t) == pytest.approx(0, abs=0.03) and np.std(t) == pytest.approx(1, abs=0.03)
    for s in (s1, s2):  # class frequencies do not move with either latent alone
        low, high = np.abs(s) < 0.5, np.abs(s) > 1.5
        for part in (low, high, s > 0):
            np.testing.assert_allclose(np.bincount(b.y[part], minlength=4) / part.sum(), 0.25, atol=0.03)
    np.testing.assert_array_equal(np.sign(t), np.sign(s1) * np.sign(s2))


def test_classes_are_balanced_and_flip_y_is_honoured():
    b = make_multimodal_classification(20000, n_classes=5, return_bunch=True, random_state=0)
    np.testing.assert_allclose(np.bincount(b.y) / 20000, 0.2, atol=0.015)
    np.testing.assert_array_equal(np.searchsorted(norm.ppf([0.2, 0.4, 0.6, 0.8]), b.score), b.y)
    _, noisy = make_multimodal_classification(20000, n_classes=5, flip_y=0.5, random_state=0)
    assert np.mean(noisy != b.y) == pytest.approx(0.5 * 0.8, abs=0.02)


def test_unrotated_layout_and_heterogeneity():
    X, _ = make_multimodal_classification(
        200, n_redundant=2, n_unique=(1, 2), n_synergistic=1, rotate=False, random_state=0
    )
    np.testing.assert_array_equal(X[:, :2], X[:, 4:6])  # redundant latents in both
    H, _ = make_multimodal_classification(
        200, n_redundant=2, n_unique=(1, 2), n_synergistic=1, rotate=False, heterogeneity=2,
        random_state=0,
    )
    np.testing.assert_array_equal(H[:, :4], X[:, :4])
    assert not np.allclose(H[:, 4:], X[:, 4:])
    F, y = make_multimodal_classification(50, as_frame=True, random_state=0)
    assert resolve_modalities(F.shape[1], None, F.columns) == ([3, 3], ["x1", "x2"])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(n_unique=(1, 2, 3)), "n_unique must be a non-negative int or a pair"),
        (dict(n_redundant=0, n_unique=0), "at least one factor"),
        (dict(n_redundant=0, n_unique=(1, 0)), "Modality 2 would have no features"),
        (dict(flip_y=1.5), "flip_y"),
    ],
)
def test_continuous_bad_parameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_multimodal_classification(10, **kwargs)
