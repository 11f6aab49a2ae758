"""Bayes ceilings of make_rus_classification, against an independent computation."""

import numpy as np
import pytest

from alignkit.datasets import bayes_accuracy, make_rus_classification


def _from_latent(joint_latent):
    """Bayes accuracy from P(x_c, x_u1, x_u2, y) directly, not from the code tables."""
    p1 = joint_latent.sum(axis=2)  # P(x_c, x_u1, y)
    p2 = joint_latent.sum(axis=1)
    return {"X1": p1.max(axis=-1).sum(), "X2": p2.max(axis=-1).sum(),
            "X1,X2": joint_latent.max(axis=-1).sum()}


@pytest.mark.parametrize("r", [0, 3, 8])
def test_population_ceilings_match_the_latent_joint(r):
    data = make_rus_classification(2000, redundancy=r, heterogeneity=2, return_joint=True,
                                   random_state=r)
    expected = _from_latent(data.joint_latent)
    assert data.bayes_accuracy.keys() == expected.keys()
    for key, value in expected.items():
        assert data.bayes_accuracy[key] == pytest.approx(value, abs=1e-12)
    acc = data.bayes_accuracy
    assert 0.25 <= min(acc["X1"], acc["X2"]) and max(acc["X1"], acc["X2"]) <= acc["X1,X2"] <= 1


def test_fully_redundant_modalities_share_one_ceiling():
    acc = make_rus_classification(16, redundancy=8, return_joint=True,
                                  random_state="paper").bayes_accuracy
    assert acc["X1"] == pytest.approx(acc["X2"]) == pytest.approx(acc["X1,X2"])


def test_sample_accuracy_is_the_bayes_rule_scored_on_the_sample():
    data = make_rus_classification(20000, redundancy=4, return_joint=True, random_state=1)
    sample = bayes_accuracy(data.joint, data.codes, data.y)
    # The Bayes rule of x1, evaluated by brute force over each sample's latent bits.
    rule = data.joint_latent.sum(axis=2).argmax(axis=-1)  # (x_c, x_u1) -> y
    n_unique = 4
    xc = data.bits[:, :8] @ (1 << np.arange(7, -1, -1))
    xu1 = data.bits[:, 8:8 + n_unique] @ (1 << np.arange(n_unique - 1, -1, -1))
    assert sample["X1"] == pytest.approx(np.mean(rule[xc, xu1] == data.y), abs=1e-12)
    for key, value in data.bayes_accuracy.items():  # within 4 binomial s.e. of the population
        assert abs(sample[key] - value) < 4 * np.sqrt(value * (1 - value) / len(data.y))
    assert bayes_accuracy(data.joint, data.codes[:1], data.y[:1])["X1,X2"] in (0.0, 1.0)


@pytest.mark.parametrize(
    "args, message",
    [
        ((np.ones((2, 2)),), "probability table"),
        ((np.full((2, 2, 2), 0.2),), "summing to 1"),
        ((np.full((2, 2, 2), 0.125), np.zeros((3, 2), int)), "without y"),
        ((np.full((2, 2, 2), 0.125), None, [0]), "without codes"),
        ((np.full((2, 2, 2), 0.125), np.zeros((3, 2), int), [0, 1]), r"shape \(n_samples, 2\)"),
        ((np.full((2, 2, 2), 0.125), np.full((1, 2), 2), [0]), "must index the joint"),
    ],
)
def test_bad_inputs_are_refused(args, message):
    with pytest.raises(ValueError, match=message):
        bayes_accuracy(*args)
