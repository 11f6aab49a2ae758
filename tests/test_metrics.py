"""alignkit.metrics against direct O(n^2) formulas, invariances and bad input."""

import numpy as np
import pytest
import torch

from alignkit.metrics import (
    alignment_matrix,
    cknna,
    layer_alignment_matrix,
    linear_cka,
    mutual_knn,
    rbf_cka,
    svcca,
    unbiased_cka,
)

# ---------------------------------------------------------------------------
# Reference formulas, written from the papers with full n x n matrices.


def hsic_biased(K, L):
    n = K.shape[0]
    H = np.eye(n) - 1.0 / n
    return np.trace(K @ H @ L @ H) / (n - 1) ** 2


def hsic_unbiased(K, L):
    """Song et al. (2012), eq. 5, on kernels with zeroed diagonals."""
    n = K.shape[0]
    K, L = K - np.diag(np.diag(K)), L - np.diag(np.diag(L))
    one = np.ones(n)
    return (
        np.trace(K @ L)
        + (one @ K @ one) * (one @ L @ one) / ((n - 1) * (n - 2))
        - 2.0 / (n - 2) * (one @ K @ L @ one)
    ) / (n * (n - 3))


def cka_reference(K, L, hsic, clip=False):
    kl, kk, ll = (max(hsic(P, Q), 0.0) if clip else hsic(P, Q) for P, Q in ((K, L), (K, K), (L, L)))
    return 0.0 if kk <= 0 or ll <= 0 else kl / np.sqrt(kk * ll)


def rbf_gram(X, sigma):
    sq = ((X[:, None, :] - X[None, :, :]) ** 2).sum(-1)
    return np.exp(-sq / (2 * sigma**2))


def median_sigma(X):
    sq = ((X[:, None, :] - X[None, :, :]) ** 2).sum(-1)
    upper = sq[np.triu_indices(len(X), 1)]
    upper = np.sort(upper[upper > 0])
    return np.sqrt(upper[(len(upper) - 1) // 2])


def neighbour_sets(X, k):
    """k nearest rows by cosine, self excluded, ties to the lower index."""
    Xn = X / np.linalg.norm(X, axis=1, keepdims=True)
    S = Xn @ Xn.T
    np.fill_diagonal(S, -np.inf)
    order = np.argsort(-S, axis=1, kind="stable")[:, :k]
    return [set(row) for row in order]


def mutual_knn_reference(A, B, k):
    return np.mean([len(a & b) / k for a, b in zip(neighbour_sets(A, k), neighbour_sets(B, k))])


def cknna_reference(A, B, k):
    """Huh et al. (2024): unbiased HSIC of the kernels masked by (mutual) neighbours."""
    K, L = A @ A.T, B @ B.T

    def mask(S):
        S = S.copy()
        np.fill_diagonal(S, -np.inf)
        M = np.zeros_like(S)
        np.put_along_axis(M, np.argsort(-S, axis=1, kind="stable")[:, :k], 1.0, axis=1)
        return M

    def hsic_sparse(P, Q):  # P, Q need not be symmetric: tr term is sum P_ij Q_ji
        n = P.shape[0]
        return ((P * Q.T).sum() + P.sum() * Q.sum() / ((n - 1) * (n - 2))
                - 2 * (P @ Q).sum() / (n - 2)) / (n * (n - 3))

    MK, ML = mask(K), mask(L)
    kl = hsic_sparse(MK * ML * K, MK * ML * L)
    kk, ll = hsic_sparse(MK * K, MK * K), hsic_sparse(ML * L, ML * L)
    return 0.0 if kk <= 0 or ll <= 0 else kl / np.sqrt(kk * ll)


def svcca_reference(A, B, n_components):
    """Raghu et al. (2017) via whitened cross-covariance of the SVD-reduced data."""
    def reduce(X):
        X = X - X.mean(0)
        U, s, _ = np.linalg.svd(X, full_matrices=False)
        return U[:, :n_components] * s[:n_components]

    Ra, Rb = reduce(A), reduce(B)

    def inv_sqrt(C):
        w, V = np.linalg.eigh(C)
        return V @ np.diag(w**-0.5) @ V.T

    T = inv_sqrt(Ra.T @ Ra) @ (Ra.T @ Rb) @ inv_sqrt(Rb.T @ Rb)
    return np.linalg.svd(T, compute_uv=False).mean()


def correlated_pair(rng, n, d1, d2, offset=0.0):
    """Two representations sharing a 2-D signal, plus noise and a mean offset."""
    shared = rng.normal(size=(n, 2))
    A = shared @ rng.normal(size=(2, d1)) + 0.5 * rng.normal(size=(n, d1)) + offset
    B = np.tanh(shared @ rng.normal(size=(2, d2))) + 0.5 * rng.normal(size=(n, d2)) - offset
    return A, B


SHAPES = [(8, 3, 2), (40, 6, 9), (30, 70, 45)]  # few samples, and d > n

# ---------------------------------------------------------------------------
# Values against the references


@pytest.mark.parametrize("n, d1, d2", SHAPES)
def test_linear_and_unbiased_cka_equal_the_gram_formulas(rng, n, d1, d2):
    A, B = correlated_pair(rng, n, d1, d2, offset=2.0)
    K, L = A @ A.T, B @ B.T
    assert linear_cka(A, B) == pytest.approx(cka_reference(K, L, hsic_biased), rel=1e-10)
    expected = cka_reference(K, L, hsic_unbiased)
    assert expected > 0.05
    assert unbiased_cka(A, B) == pytest.approx(expected, rel=1e-10)


@pytest.mark.parametrize("unbiased", [False, True])
def test_rbf_cka_equals_the_gram_formula_in_any_chunking(rng, unbiased):
    A, B = correlated_pair(rng, 37, 4, 3)
    hsic = hsic_unbiased if unbiased else hsic_biased
    given = cka_reference(rbf_gram(A, 1.5), rbf_gram(B, 1.5), hsic)
    median = cka_reference(rbf_gram(A, 0.8 * median_sigma(A)), rbf_gram(B, 0.8 * median_sigma(B)), hsic)
    for chunk_size in (None, 1, 7, 36):
        assert rbf_cka(A, B, sigma=1.5, unbiased=unbiased, chunk_size=chunk_size) == pytest.approx(given, rel=1e-10)
        assert rbf_cka(A, B, sigma_factor=0.8, unbiased=unbiased, chunk_size=chunk_size) == pytest.approx(median, rel=1e-10)


def test_rbf_median_heuristic_uses_evenly_spaced_rows_beyond_2000(rng):
    from alignkit.metrics._cka import _median_squared_distance

    X = rng.normal(size=(2001, 2))
    X[5] = X[4]  # a duplicate row: its zero distance is left out
    assert _median_squared_distance(X) == pytest.approx(median_sigma(X[::2]) ** 2, rel=1e-12)
    assert _median_squared_distance(X[:40]) == pytest.approx(median_sigma(X[:40]) ** 2, rel=1e-12)


def test_mutual_knn_equals_the_full_argsort_in_any_chunking(rng):
    A, B = correlated_pair(rng, 60, 5, 4)
    for k in (1, 5, 59):
        expected = mutual_knn_reference(A, B, k)
        for chunk_size in (None, 1, 13):
            assert mutual_knn(A, B, k=k, chunk_size=chunk_size) == pytest.approx(expected, abs=1e-15)


def test_mutual_knn_breaks_ties_towards_the_lower_index(rng):
    # Repeated rows make many exactly tied similarities.
    A = np.repeat(rng.normal(size=(6, 3)), 4, axis=0)
    B = np.repeat(rng.normal(size=(8, 2)), 3, axis=0)
    for k in (2, 5):
        expected = mutual_knn_reference(A, B, k)
        assert mutual_knn(A, B, k=k, chunk_size=5) == pytest.approx(expected, abs=1e-15)
        assert mutual_knn(torch.tensor(A), torch.tensor(B), k=k) == pytest.approx(expected, abs=1e-15)


def test_cknna_equals_the_dense_masked_formula(rng):
    A, B = correlated_pair(rng, 50, 5, 4)
    for k in (2, 10, 49):
        expected = cknna_reference(A, B, k)
        for chunk_size in (None, 7):
            assert cknna(A, B, k=k, chunk_size=chunk_size) == pytest.approx(expected, rel=1e-10, abs=1e-14)
    assert cknna_reference(A, B, 10) > 0.1


def test_svcca_equals_the_whitened_cca_formula(rng):
    A, B = correlated_pair(rng, 80, 8, 6)
    for n_components in (1, 3, 6):
        assert svcca(A, B, n_components=n_components) == pytest.approx(
            svcca_reference(A, B, n_components), rel=1e-10)


def test_clip_quantile_and_normalize_match_manual_preparation(rng):
    A, B = correlated_pair(rng, 50, 6, 5)
    A[3, 2] = 40.0  # an outlier that clipping removes

    def prepare(X, q):
        threshold = np.sort(np.abs(X).ravel())[int(q * X.size)]
        X = np.clip(X, -threshold, threshold)
        return X / np.linalg.norm(X, axis=1, keepdims=True)

    Ap, Bp = prepare(A, 0.9), prepare(B, 0.9)
    options = dict(clip_quantile=0.9, normalize=True)
    for func in (linear_cka, unbiased_cka, rbf_cka, cknna, svcca):
        assert func(A, B, **options) == pytest.approx(func(Ap, Bp), rel=1e-12)
    assert mutual_knn(A, B, clip_quantile=0.9) == mutual_knn(Ap, Bp)
    assert linear_cka(A, B, clip_quantile=1.0) == pytest.approx(linear_cka(A, B), rel=1e-12)
    assert linear_cka(A, B, clip_quantile=0.9) != pytest.approx(linear_cka(A, B), rel=1e-3)


# ---------------------------------------------------------------------------
# Invariances and known values

ALL_METRICS = [linear_cka, unbiased_cka, rbf_cka, mutual_knn, cknna, svcca]


@pytest.mark.parametrize("func", [linear_cka, unbiased_cka, rbf_cka, svcca])
def test_cka_family_ignores_orthogonal_maps_scaling_and_shifts(rng, func):
    A, B = correlated_pair(rng, 60, 6, 4)
    Q, _ = np.linalg.qr(rng.normal(size=(6, 6)))
    assert func(A, B) == pytest.approx(func(7.5 * A @ Q + 3.0, B), rel=1e-9)


@pytest.mark.parametrize("func", [mutual_knn, cknna])
def test_neighbour_metrics_ignore_row_scaling(rng, func):
    A, B = correlated_pair(rng, 60, 6, 4)
    scales = rng.uniform(0.1, 10.0, size=(60, 1))
    # cknna ranks by inner product, so it is row-scale free on normalised rows.
    options = {"normalize": True} if func is cknna else {}
    assert func(scales * A, B, **options) == pytest.approx(func(A, B, **options), rel=1e-12)


@pytest.mark.parametrize("func", ALL_METRICS)
def test_a_representation_is_perfectly_aligned_with_itself(rng, func):
    A = rng.normal(size=(50, 7))
    assert func(A, A) == pytest.approx(1.0, abs=1e-12)


def test_unbiased_cka_is_near_zero_for_independent_features_where_linear_cka_is_not(rng):
    A, B = rng.normal(size=(100, 200)), rng.normal(size=(100, 150))
    assert abs(unbiased_cka(A, B)) < 0.02
    assert linear_cka(A, B) > 0.5  # the biased estimator's drift when d > n


@pytest.mark.parametrize("func", ALL_METRICS)
def test_torch_inputs_give_the_numpy_value(rng, func):
    A, B = correlated_pair(rng, 40, 5, 3)
    expected = func(A, B)
    tensors = torch.tensor(A, dtype=torch.float32, requires_grad=True), torch.tensor(B)
    value = func(*tensors)
    assert type(value) is float
    assert value == pytest.approx(func(A.astype(np.float32).astype(np.float64), B), rel=1e-10)
    assert func(torch.tensor(A), B) == pytest.approx(expected, rel=1e-10)  # mixed inputs


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("func", ALL_METRICS)
def test_cuda_tensors_give_the_numpy_value(rng, func):
    A, B = correlated_pair(rng, 40, 5, 3)
    assert func(torch.tensor(A, device="cuda"), torch.tensor(B, device="cuda")) == pytest.approx(
        func(A, B), rel=1e-10)


def test_float32_and_integer_inputs_are_computed_in_float64(rng):
    A = rng.integers(0, 5, size=(30, 4))
    B = A + rng.normal(size=(30, 4))
    assert unbiased_cka(A, B) == pytest.approx(unbiased_cka(A.astype(float), B), rel=1e-14)
    assert unbiased_cka(A.astype(np.float32), B) == pytest.approx(unbiased_cka(A.astype(float), B), rel=1e-14)


# ---------------------------------------------------------------------------
# Bad and degenerate input


@pytest.mark.parametrize("func", ALL_METRICS)
def test_different_sample_counts_are_rejected(rng, func):
    with pytest.raises(ValueError, match=r"same samples.*n_samples = 20.*n_samples = 21"):
        func(rng.normal(size=(20, 3)), rng.normal(size=(21, 3)))


@pytest.mark.parametrize("func", ALL_METRICS)
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_nan_and_inf_are_rejected_for_numpy_and_torch(rng, func, bad):
    A, B = rng.normal(size=(20, 3)), rng.normal(size=(20, 3))
    A[4, 1] = bad
    with pytest.raises(ValueError, match="A contains (NaN|infinity)"):
        func(A, B)
    with pytest.raises(ValueError, match="A contains NaN or infinity"):
        func(torch.tensor(A), torch.tensor(B))


@pytest.mark.parametrize("func", ALL_METRICS)
def test_one_dimensional_input_is_rejected(rng, func):
    with pytest.raises(ValueError, match="Expected 2D array"):
        func(rng.normal(size=20), rng.normal(size=(20, 2)))
    with pytest.raises(ValueError, match=r"B must be a 2-D.*reshape\(-1, 1\)"):
        func(torch.ones(20, 2), torch.ones(20))


@pytest.mark.parametrize("func", [unbiased_cka, cknna])
def test_unbiased_hsic_needs_four_samples(func):
    with pytest.raises(ValueError, match="at least 4 samples; got n_samples = 3"):
        func(np.eye(3), np.eye(3))
    with pytest.raises(ValueError, match="at least 4 samples"):
        rbf_cka(np.eye(3), np.eye(3), unbiased=True)


@pytest.mark.parametrize("func, k", [(mutual_knn, 20), (cknna, 25)])
def test_neighbour_counts_outside_the_valid_range_are_rejected(rng, func, k):
    with pytest.raises(ValueError, match=rf"k < n_samples.*got k = {k} with n_samples = 20"):
        func(rng.normal(size=(20, 3)), rng.normal(size=(20, 3)), k=k)


@pytest.mark.parametrize("func, k, low", [(mutual_knn, 0, 1), (mutual_knn, 2.5, 1), (cknna, 1, 2)])
def test_neighbour_counts_below_the_minimum_or_not_int_are_rejected(rng, func, k, low):
    match = rf"'k' parameter of {func.__name__} must be an int in the range \[{low}, inf\)"
    with pytest.raises(TypeError, match=match):  # an InvalidParameterError: also a ValueError
        func(rng.normal(size=(20, 3)), rng.normal(size=(20, 3)), k=k)


@pytest.mark.parametrize("func", ALL_METRICS)
def test_constant_representations_score_zero_not_nan(rng, func):
    A = rng.normal(size=(30, 4))
    constant = np.full((30, 3), 0.1)  # 0.1 is not exactly representable: no rounding residue
    assert func(A, constant) == 0.0
    assert func(np.zeros((30, 2)), np.zeros((30, 2))) == 0.0


@pytest.mark.parametrize("func", [linear_cka, unbiased_cka, svcca])
def test_constant_columns_are_ignored(rng, func):
    A, B = correlated_pair(rng, 30, 4, 3)
    padded = np.hstack([A, np.full((30, 2), 0.3)])
    assert func(padded, B) == pytest.approx(func(A, B), rel=1e-12)


def test_invalid_options_are_rejected_with_their_name(rng):
    A = rng.normal(size=(20, 3))
    with pytest.raises(ValueError, match=r"'clip_quantile' parameter of linear_cka must be a float "
                                         r"in the range \(0.0, 1.0\] or None. Got 0 instead"):
        linear_cka(A, A, clip_quantile=0)
    with pytest.raises(ValueError, match=r"'sigma' parameter of rbf_cka must be a float in the "
                                         r"range \(0.0, inf\) or None. Got -1.0"):
        rbf_cka(A, A, sigma=-1.0)
    with pytest.raises(ValueError, match=r"'sigma_factor' parameter of rbf_cka must be a float in "
                                         r"the range \(0.0, inf\)"):
        rbf_cka(A, A, sigma_factor=0)
    with pytest.raises(ValueError, match=r"'chunk_size' parameter of mutual_knn must be an int in "
                                         r"the range \[1, inf\) or None"):
        mutual_knn(A, A, k=2, chunk_size=0)
    with pytest.raises(ValueError, match=r"'n_components' parameter of svcca must be an int in the "
                                         r"range \[1, inf\). Got 0 instead"):
        svcca(A, A, n_components=0)
    with pytest.raises(TypeError, match="complex"):
        linear_cka(torch.ones(20, 3, dtype=torch.complex64), A)


# ---------------------------------------------------------------------------
# Matrices over layers


def test_alignment_matrix_holds_every_pair(rng):
    layers = [rng.normal(size=(40, d)) for d in (3, 5, 2)]
    square = alignment_matrix(layers, metric="linear_cka")
    assert square.shape == (3, 3)
    np.testing.assert_allclose(square, square.T)
    np.testing.assert_allclose(np.diag(square), 1.0)
    assert square[0, 2] == linear_cka(layers[0], layers[2])
    rect = alignment_matrix(layers, layers[:2], metric="mutual_knn", k=3)
    assert rect.shape == (3, 2)
    assert rect[2, 1] == mutual_knn(layers[2], layers[1], k=3)
    custom = alignment_matrix(layers, metric=lambda A, B: A.shape[1] * B.shape[1])
    np.testing.assert_array_equal(custom[0], [9, 15, 6])


def test_alignment_matrix_rejects_bad_layer_lists(rng):
    with pytest.raises(TypeError, match="list of 2-D arrays.*Wrap it in a list"):
        alignment_matrix(rng.normal(size=(10, 3)))
    with pytest.raises(ValueError, match="at least one representation"):
        alignment_matrix([])
    with pytest.raises(ValueError, match="'metric' parameter of alignment_matrix must be a str among"):
        alignment_matrix([np.eye(5)], metric="cosine")


class LayeredEncoders:
    """Anything with transform_layers: modality m's layers, last one the embedding."""

    def transform_layers(self, X):
        return [[X[:, :3], np.tanh(X[:, :3])], [X[:, 3:5], X[:, 3:5] ** 2, X[:, 5:]]]


def test_layer_alignment_matrix_compares_two_encoders_layer_by_layer(rng):
    X = rng.normal(size=(50, 6))
    matrix = layer_alignment_matrix(LayeredEncoders(), X, metric="linear_cka")
    assert matrix.shape == (2, 3)
    assert matrix[1, 2] == linear_cka(np.tanh(X[:, :3]), X[:, 5:])
    with pytest.raises(ValueError, match=r"pair must be two distinct modality indices in \[0, 2\)"):
        layer_alignment_matrix(LayeredEncoders(), X, pair=(0, 2))
