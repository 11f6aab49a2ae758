"""Regression tests for issue 12: valid-looking inputs that once gave a wrong number or a traceback."""

import re

import numpy as np
import pytest
import torch

from alignkit.metrics import cknna, linear_cka, mutual_knn, rbf_cka, svcca, unbiased_cka


@pytest.fixture
def pair(rng):
    A = rng.normal(size=(100, 6))
    return A, A @ rng.normal(size=(6, 4)) + rng.normal(size=(100, 4))


@pytest.mark.parametrize("metric", [linear_cka, unbiased_cka, cknna])
@pytest.mark.parametrize("scale", [1e-300, 1e-80, 1e-50, 1e40, 1e77, 1e300])
def test_cka_of_a_scaled_representation_with_itself_is_one(pair, metric, scale):
    A = pair[0] * scale
    assert metric(A, A) == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("scale", [1e-200, 1e200])
def test_mutual_knn_does_not_depend_on_scale(pair, scale):
    A, B = pair
    assert mutual_knn(A * scale, B) == mutual_knn(A, B)
    assert mutual_knn(A * scale, A) == 1.0


def test_mutual_knn_normalises_rows_of_any_magnitude(pair):
    A, B = pair
    # Rows from 1e-300 to 1e300: cosine neighbours do not change.
    assert mutual_knn(A * np.logspace(-300, 300, A.shape[0])[:, None], B) == mutual_knn(A, B)


def test_rbf_cka_is_translation_invariant(pair):
    A, B = (X + 1e8 - 1e8 for X in pair)  # representable after the shift, exactly
    for unbiased in (False, True):
        expected = rbf_cka(A, B, unbiased=unbiased)
        assert rbf_cka(A + 1e8, B - 1e8, unbiased=unbiased) == pytest.approx(expected, abs=1e-9)
        assert rbf_cka(A + 1e8, B, sigma=2.0, unbiased=unbiased) == pytest.approx(
            rbf_cka(A, B, sigma=2.0, unbiased=unbiased), abs=1e-9)


@pytest.mark.parametrize("sigma, word", [(1e-300, "overflows"), (1e300, "underflows")])
def test_rbf_cka_refuses_a_sigma_outside_the_float_range(pair, sigma, word):
    with pytest.raises(ValueError, match=re.escape(f"sigma={sigma!r} is out of range") + f".*{word}"):
        rbf_cka(*pair, sigma=sigma)
    with pytest.raises(ValueError, match=r"sigma_factor=1e-300 is out of range"):
        rbf_cka(*pair, sigma_factor=1e-300)


def test_rbf_cka_with_a_huge_sigma_tends_to_linear_cka(pair):
    # exp(-d / 2 sigma^2) - 1 ~ -d / 2 sigma^2, whose centred kernel is the linear one.
    for sigma in (1e100, 1e150):
        assert rbf_cka(*pair, sigma=sigma) == pytest.approx(linear_cka(*pair), abs=1e-12)
    assert rbf_cka(*pair, sigma=1e-100) == 1.0  # identity kernels: no row near another


def test_rbf_cka_sigma_is_in_the_units_of_the_data(pair):
    A, B = pair
    assert rbf_cka(A * 1e200, B * 1e200, sigma=3e200) == pytest.approx(rbf_cka(A, B, sigma=3.0), abs=1e-12)


def test_mutual_knn_and_cknna_on_bool_inputs_equal_numpy_and_torch():
    for seed in range(30):
        rng = np.random.default_rng(seed)
        n, d_a, d_b, k = (int(v) for v in rng.integers([20, 2, 2, 2], [300, 40, 40, 15]))
        A, B = rng.random((n, d_a)) > 0.5, rng.random((n, d_b)) > 0.5
        TA, TB = torch.from_numpy(A), torch.from_numpy(B)
        assert mutual_knn(A, B, k=k) == mutual_knn(TA, TB, k=k)
        assert cknna(A, B, k=k) == pytest.approx(cknna(TA, TB, k=k), abs=1e-12)


def test_svcca_is_scale_invariant_over_the_float_range(pair):
    A, B = pair
    for scale in (1e-300, 1e300):
        assert svcca(A * scale, B, n_components=4) == pytest.approx(svcca(A, B, n_components=4), abs=1e-12)
