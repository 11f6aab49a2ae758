"""alignkit.metrics._stats: permutation tests, null calibration, bootstrap intervals; the clip keyword."""

import numpy as np
import pytest
from scipy import stats

from alignkit.metrics import cknna, linear_cka, mutual_knn, rbf_cka, unbiased_cka

from test_metrics import cka_reference, hsic_unbiased, rbf_gram

# ---------------------------------------------------------------------------
# clip: the unbiased estimators are unclipped by default


def independent_pairs(seeds, n, d1, d2):
    for seed in seeds:
        rng = np.random.default_rng(seed)
        yield rng.normal(size=(n, d1)), rng.normal(size=(n, d2))


def test_unclipped_unbiased_cka_is_centred_on_zero_for_independent_representations():
    values = np.array([unbiased_cka(A, B) for A, B in independent_pairs(range(300), 20, 3, 3)])
    clipped = np.array([unbiased_cka(A, B, clip=True) for A, B in independent_pairs(range(300), 20, 3, 3)])
    assert (values < 0).mean() > 0.3
    assert abs(values.mean()) < 3 * values.std() / np.sqrt(len(values))
    assert (clipped >= 0).all() and clipped.mean() > 5 * clipped.std() / np.sqrt(len(clipped))
    np.testing.assert_allclose(clipped, values.clip(0, None), rtol=1e-12, atol=0)


@pytest.mark.parametrize("clip", [False, True])
def test_clip_matches_the_gram_formulas(rng, clip):
    A, B = rng.normal(size=(12, 3)), rng.normal(size=(12, 2))
    expected = cka_reference(A @ A.T, B @ B.T, hsic_unbiased, clip=clip)
    assert unbiased_cka(A, B, clip=clip) == pytest.approx(expected, rel=1e-10, abs=1e-14)
    expected = cka_reference(rbf_gram(A, 1.0), rbf_gram(B, 1.0), hsic_unbiased, clip=clip)
    assert rbf_cka(A, B, sigma=1.0, unbiased=True, clip=clip) == pytest.approx(expected, rel=1e-10, abs=1e-14)


def test_clip_finds_negative_values_in_every_unbiased_estimator():
    found = {f: False for f in ("unbiased_cka", "rbf_cka")}
    for A, B in independent_pairs(range(40), 25, 3, 3):
        found["unbiased_cka"] |= unbiased_cka(A, B) < 0 <= unbiased_cka(A, B, clip=True)
        found["rbf_cka"] |= rbf_cka(A, B, unbiased=True) < 0 <= rbf_cka(A, B, unbiased=True, clip=True)
        assert cknna(A, B, k=5, clip=True) == max(cknna(A, B, k=5), 0.0)
    assert all(found.values()), found


def test_a_constant_representation_scores_zero_clipped_or_not(rng):
    A = rng.normal(size=(30, 4))
    constant = np.ones((30, 3))
    for clip in (False, True):
        assert unbiased_cka(A, constant, clip=clip) == 0.0
        assert rbf_cka(constant, A, unbiased=True, clip=clip) == 0.0
    assert linear_cka(A, constant) == 0.0
