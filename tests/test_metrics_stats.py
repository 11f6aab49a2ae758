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


# ---------------------------------------------------------------------------
# alignment_test: the fast permutation paths are the metric on permuted rows

from alignkit.metrics import AlignmentTestResult, adjust_pvalues, alignment_test  # noqa: E402
from alignkit.metrics._alignment import METRICS  # noqa: E402
from alignkit.metrics._stats import _FAST_NULLS  # noqa: E402

NEIGHBOUR_OPTIONS = {"mutual_knn": {"k": 5}, "cknna": {"k": 5}}


def shared_signal(rng, n, strength=1.0):
    z = rng.normal(size=(n, 2))
    A = z @ rng.normal(size=(2, 5)) + rng.normal(size=(n, 5))
    B = np.tanh(strength * z @ rng.normal(size=(2, 4))) + rng.normal(size=(n, 4))
    return A, B


@pytest.mark.parametrize("name", sorted(_FAST_NULLS))
@pytest.mark.parametrize("shape", [(50, 5, 4), (12, 9, 8)])  # and features outnumbering samples
def test_fast_null_equals_the_metric_on_permuted_rows(rng, name, shape):
    n, d1, d2 = shape
    A = rng.normal(size=(n, d1))
    B = A[:, :d2] + rng.normal(size=(n, d2))
    options = dict(NEIGHBOUR_OPTIONS.get(name, {}), **({"clip_quantile": 0.95}))
    permuted = _FAST_NULLS[name](A, B, **options)
    for perm in [np.arange(n)] + [rng.permutation(n) for _ in range(4)]:
        assert permuted(perm) == pytest.approx(METRICS[name](A, B[perm], **options), rel=1e-10, abs=1e-13)


@pytest.mark.parametrize("name", sorted(_FAST_NULLS))
def test_torch_inputs_give_the_numpy_test(rng, name):
    import torch

    A, B = shared_signal(rng, 40)
    options = dict(NEIGHBOUR_OPTIONS.get(name, {}), n_permutations=20, n_resamples=10,
                   random_state=0)
    expected = alignment_test(A, B, metric=name, **options)
    res = alignment_test(torch.tensor(A), torch.tensor(B), metric=name, **options)
    np.testing.assert_allclose(res.null_distribution, expected.null_distribution, rtol=1e-10)
    np.testing.assert_allclose(res.confidence_interval, expected.confidence_interval, rtol=1e-10)


def test_fast_null_of_a_constant_representation_is_zero(rng):
    A = rng.normal(size=(30, 3))
    res = alignment_test(A, np.ones((30, 2)), metric="mutual_knn", k=3, n_permutations=20,
                         confidence_level=None, random_state=0)
    assert res.statistic == 0.0 and res.pvalue == 1.0 and res.null_std == 0.0


def max_abs_correlation(A, B):
    C = np.corrcoef(A, B, rowvar=False)
    return float(np.abs(C[: A.shape[1], A.shape[1]:]).max())


@pytest.mark.parametrize("metric", sorted(METRICS) + [max_abs_correlation])
def test_every_metric_and_a_callable_detect_a_planted_signal(rng, metric):
    A = rng.normal(size=(80, 5))
    B = A[:, :4] @ rng.normal(size=(4, 4)) + 0.5 * rng.normal(size=(80, 4))
    options = NEIGHBOUR_OPTIONS.get(metric, {}) if isinstance(metric, str) else {}
    res = alignment_test(A, B, metric=metric, n_permutations=99, n_resamples=30, random_state=0, **options)
    assert isinstance(res, AlignmentTestResult)
    assert res.pvalue == pytest.approx(0.01)  # every permutation below: the +1 correction's floor
    assert res.statistic == pytest.approx(
        (METRICS[metric] if isinstance(metric, str) else metric)(A, B, **options), rel=1e-12)
    assert res.calibrated == pytest.approx(res.statistic - res.null_distribution.mean())
    low, high = res.confidence_interval
    assert low < res.statistic < high
    assert res.null_distribution.shape == (99,) and res.resample_distribution.shape == (30,)


def test_pvalue_alternatives_reproducibility_and_n_jobs(rng):
    A, B = shared_signal(rng, 40, strength=0.3)
    res = alignment_test(A, B, n_permutations=64, random_state=3, confidence_level=None)
    null = res.null_distribution
    assert res.pvalue == (1 + (null >= res.statistic).sum()) / 65
    less = alignment_test(A, B, n_permutations=64, random_state=3, alternative="less",
                          confidence_level=None)
    assert less.pvalue == (1 + (null <= res.statistic).sum()) / 65
    both = alignment_test(A, B, n_permutations=64, random_state=3, alternative="two-sided",
                          confidence_level=None)
    assert both.pvalue == min(1.0, 2 * min(res.pvalue, less.pvalue))
    again = alignment_test(A, B, n_permutations=64, random_state=3, n_jobs=2, n_resamples=20)
    np.testing.assert_array_equal(again.null_distribution, null)
    assert alignment_test(A, B, n_permutations=64, random_state=4).pvalue >= 1 / 65


@pytest.mark.parametrize("kwargs, message", [
    ({"n_permutations": 0}, r"'n_permutations' parameter .* must be an int in the range \[1, inf\)"),
    ({"alternative": "bigger"}, "'alternative' parameter .* must be a str among"),
    ({"confidence_level": 1.0},
     r"'confidence_level' parameter .* must be a float in the range \(0.0, 1.0\)"),
    ({"n_resamples": 5}, r"'n_resamples' parameter .* must be an int in the range \[10, inf\)"),
    ({"metric": "cosine"}, "'metric' parameter of alignment_test must be a str among"),
    ({"metric": "mutual_knn", "k": 20}, r"half of the rows \(15 of 30\)"),
])
def test_bad_options_are_refused_with_the_parameter_named(rng, kwargs, message):
    A, B = rng.normal(size=(30, 3)), rng.normal(size=(30, 3))
    with pytest.raises(ValueError, match=message):
        alignment_test(A, B, **kwargs)


def test_adjust_pvalues_against_the_definitions():
    p = np.array([[0.01, 0.2], [0.03, 0.04]])
    holm = adjust_pvalues(p, "holm")
    np.testing.assert_allclose(holm, [[0.04, 0.2], [0.09, 0.09]])
    bh = adjust_pvalues(p, "bh")
    np.testing.assert_allclose(bh, [[0.04, 0.2], [0.04 * 4 / 3, 0.04 * 4 / 3]])
    with pytest.raises(ValueError, match=r"'method' parameter of adjust_pvalues must be a str "
                                         r"among \{'(holm|bh)', '(holm|bh)'\}"):
        adjust_pvalues(p, "bonferroni")


# ---------------------------------------------------------------------------
# Calibration: statistics over many data sets, not single runs


@pytest.mark.parametrize("metric, n, options", [
    ("unbiased_cka", 30, {}),
    ("linear_cka", 30, {}),
    ("mutual_knn", 100, {"k": 10}),
])
def test_pvalues_are_uniform_under_independence(metric, n, options):
    pvalues = [
        alignment_test(A, B, metric=metric, n_permutations=99, confidence_level=None,
                       random_state=seed, **options).pvalue
        for seed, (A, B) in enumerate(independent_pairs(range(200), n, 3, 4))
    ]
    assert stats.kstest(pvalues, "uniform").pvalue > 0.01
    assert np.mean(np.array(pvalues) <= 0.05) <= 0.05 + 3 * np.sqrt(0.05 * 0.95 / 200)


def test_mutual_knn_null_mean_is_k_over_n_minus_one(rng):
    n, k = 60, 7
    A, B = shared_signal(rng, n)
    res = alignment_test(A, B, metric="mutual_knn", k=k, n_permutations=3000,
                         confidence_level=None, random_state=0)
    assert abs(res.null_mean - k / (n - 1)) < 4 * res.null_std / np.sqrt(3000)


def test_a_weak_planted_signal_is_detected_most_of_the_time():
    rejected = [
        alignment_test(*shared_signal(np.random.default_rng(seed), 60, strength=0.5),
                       metric=metric, n_permutations=99, confidence_level=None,
                       random_state=seed, **NEIGHBOUR_OPTIONS.get(metric, {})).pvalue <= 0.05
        for seed in range(20) for metric in ("unbiased_cka", "mutual_knn")
    ]
    assert np.mean(rejected) > 0.7


def gaussian_cka(cov, d_a):
    """Population linear CKA of a joint Gaussian: ||S_ab||^2 / (||S_aa|| ||S_bb||)."""
    S_aa, S_ab, S_bb = cov[:d_a, :d_a], cov[:d_a, d_a:], cov[d_a:, d_a:]
    return (S_ab**2).sum() / np.sqrt((S_aa**2).sum() * (S_bb**2).sum())


def test_half_sample_interval_covers_the_closed_form_cka_at_its_nominal_rate():
    rng = np.random.default_rng(0)
    M = rng.normal(size=(3, 2))
    noise = np.diag([1.0, 0.5])
    cov = np.block([[np.eye(3), M], [M.T, M.T @ M + noise]])  # B = A M + e
    truth = gaussian_cka(cov, 3)
    covered = []
    for seed in range(150):
        X = np.random.default_rng(seed).multivariate_normal(np.zeros(5), cov, size=120)
        res = alignment_test(X[:, :3], X[:, 3:], n_permutations=1, n_resamples=100,
                             random_state=seed)
        low, high = res.confidence_interval
        covered.append(low <= truth <= high)
    # benchmarks/bench_permutation.py --coverage measures it over 1000 data sets.
    assert abs(np.mean(covered) - 0.95) < 3 * np.sqrt(0.95 * 0.05 / 150)


# ---------------------------------------------------------------------------
# Wired through: CKAScorer


def test_cka_scorer_carries_the_test_of_each_pair(rng):
    from alignkit import CKAScorer

    A, B = shared_signal(rng, 60)
    X = np.hstack([A, B])
    scorer = CKAScorer(metric="mutual_knn", k=5, modality_dims=[5, 4], n_permutations=99,
                       random_state=0).fit(X)
    expected = alignment_test(A, B, metric="mutual_knn", k=5, n_permutations=99, random_state=0)
    assert scorer.pvalue_ == expected.pvalue == pytest.approx(0.01)
    assert scorer.null_mean_ == expected.null_mean
    assert scorer.calibrated_score_ == pytest.approx(scorer.score_ - expected.null_mean)
    assert scorer.confidence_interval_ == expected.confidence_interval
    noise = rng.normal(size=(60, 3))
    three = CKAScorer(modality_dims=[5, 4, 3], n_permutations=49, confidence_level=None,
                      random_state=0).fit(np.hstack([A, B, noise]))
    assert three.pvalue_.shape == (3,) and three.pvalue_[0] == pytest.approx(0.02)
    assert not hasattr(three, "confidence_interval_")
    assert not hasattr(CKAScorer(modality_dims=[5, 4]).fit(X), "pvalue_")


# ---------------------------------------------------------------------------
# Wired through: AlignmentMatrixDisplay hatches the cells not above chance


def test_alignment_matrix_display_hatches_cells_not_above_chance(rng):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from alignkit.plotting import AlignmentMatrixDisplay

    A, B = shared_signal(rng, 60)
    noise = rng.normal(size=(60, 3))
    disp = AlignmentMatrixDisplay.from_representations(
        [A, noise], [B], metric="unbiased_cka", n_permutations=99, random_state=0)
    assert disp.significant_.tolist() == [[True], [False]]
    assert len(disp.nonsignificant_markers_) == 1
    assert disp.nonsignificant_markers_[0].get_xy() == (-0.5, 0.5)
    np.testing.assert_array_equal(disp.matrix, [[unbiased_cka(A, B)], [unbiased_cka(noise, B)]])
    # Holm over the matrix is stricter than each cell alone; BH in between.
    pvalues = np.array([[0.01, 0.02], [0.03, 0.5]])
    holm = AlignmentMatrixDisplay(np.zeros((2, 2)), pvalues=pvalues).plot()
    bh = AlignmentMatrixDisplay(np.zeros((2, 2)), pvalues=pvalues).plot(correction="bh")
    assert holm.significant_.sum() == 1 and bh.significant_.sum() == 3
    with pytest.raises(ValueError, match=r"pvalues has shape \(1, 2\)"):
        AlignmentMatrixDisplay(np.zeros((2, 2)), pvalues=[[0.1, 0.2]]).plot()
    plt.close("all")


# ---------------------------------------------------------------------------
# Wired through: alignkit align --permutations


def test_cli_align_prints_pvalues_chance_levels_and_intervals(tmp_path, rng, capsys):
    from alignkit._cli import main

    A, B = shared_signal(rng, 80)
    path = tmp_path / "x.npz"
    np.savez(path, img=A, txt=B)
    assert main(["align", str(path), "--permutations", "49", "--metric", "unbiased_cka,mutual_knn",
                 "-k", "5"]) == 0
    out = capsys.readouterr().out
    assert "against chance (49 permutations of the rows, seed 0; 95% half-sample" in out
    rows = [line.split() for line in out.splitlines() if line.startswith("img ~ txt  ")]
    tested = {row[3]: row[4:] for row in rows if len(row) > 4}
    for metric, options in [("unbiased_cka", {}), ("mutual_knn", {"k": 5})]:
        res = alignment_test(A, B, metric=metric, n_permutations=49, random_state=0, **options)
        value, chance, pvalue, low, high = tested[metric]
        assert float(value) == pytest.approx(res.statistic, abs=1e-4)
        assert float(chance) == pytest.approx(res.null_mean, abs=1e-4)
        assert float(pvalue) == pytest.approx(res.pvalue, abs=1e-4) == pytest.approx(0.02)
        assert float(low.strip("[,")) == pytest.approx(res.confidence_interval[0], abs=1e-4)
        assert float(high.strip("]")) == pytest.approx(res.confidence_interval[1], abs=1e-4)
    assert main(["align", str(path), "--permutations", "-1"]) == 2
    # alignment_test's own check, in the flag's name
    err = capsys.readouterr().err
    assert "--permutations must be an int in the range [1, inf). Got -1 instead." in err
