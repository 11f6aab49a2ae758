"""PIDEstimator on continuous and discrete multimodal data."""

import pickle

import numpy as np
import pandas as pd
import pytest
from joblib import parallel_config
from sklearn.cluster import KMeans
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from alignkit import PIDEstimator
from alignkit.pid import PIDBiasWarning, pid_from_joint, pid_from_samples
from pid_corpus import GATES, gate_table

N = 1500


def noisy_copy(bits, rng, width, noise=0.15):
    """A continuous modality whose rows cluster around -1 or +1 by the given bits."""
    centres = 2.0 * np.asarray(bits, dtype=float)[:, None] - 1.0
    return centres + noise * rng.normal(size=(len(bits), width))


def atoms(est):
    return np.array([est.redundancy_, *est.uniqueness_, est.synergy_])


@pytest.mark.parametrize(
    "regime, dominant",
    [("redundant", 0), ("unique", (1, 2)), ("synergistic", 3)],
)
def test_regimes_of_continuous_data(regime, dominant):
    rng = np.random.default_rng(0)
    a, b = rng.integers(0, 2, size=(2, N))
    if regime == "redundant":
        m0, m1, y = noisy_copy(a, rng, 3), noisy_copy(a, rng, 2), a
    elif regime == "unique":
        m0, m1, y = noisy_copy(a, rng, 3), noisy_copy(b, rng, 2), 2 * a + b
    else:
        m0, m1, y = noisy_copy(a, rng, 3), noisy_copy(b, rng, 2), a ^ b
    est = PIDEstimator(modality_dims=[3, 2], n_clusters=2, row_normalize=False,
                       random_state=0).fit(np.hstack([m0, m1]), y)
    values = atoms(est)
    # One bit in the dominant atom(s), close to nothing elsewhere.
    expected = np.zeros(4)
    expected[list(np.atleast_1d(dominant))] = 1.0
    np.testing.assert_allclose(values, expected, atol=0.02)
    assert est.mutual_info_ == pytest.approx(values.sum(), abs=1e-9)
    assert est.joint_.shape == (2, 2, len(np.unique(y)))
    assert est.joint_.sum() == pytest.approx(1.0)


def test_discrete_codes_match_pid_from_samples(rng):
    x1, x2, y = rng.integers(0, 3, size=(3, 600))
    X = np.column_stack([x1 * 2.0, x2 - 5.0])
    est = PIDEstimator(discretizer=None, n_permutations=5, random_state=0).fit(X, y)
    res = pid_from_samples(x1, x2, y)
    np.testing.assert_allclose(atoms(est), res.atoms, atol=1e-12)
    np.testing.assert_array_equal(est.transform(X), np.column_stack([x1, x2]))
    assert est.null_distribution_.shape == (5, 4)
    assert est.pvalues_.shape == (4,)
    np.testing.assert_allclose(est.corrected_, atoms(est) - est.bias_)


def test_discrete_codes_must_be_one_column_and_seen_in_fit(rng):
    X = rng.integers(0, 3, size=(100, 4)).astype(float)
    with pytest.raises(ValueError, match="one column of discrete codes; modality 'm0' has 2"):
        PIDEstimator(discretizer=None).fit(X, X[:, 0] > 1)
    est = PIDEstimator(discretizer=None).fit(X[:, :2], X[:, 0] > 1)
    with pytest.raises(ValueError, match="modality 'm1' contains values not seen in fit"):
        est.transform(np.array([[0.0, 7.0]]))


def test_quantile_and_custom_clusterer_discretizers(rng):
    a = rng.permutation(np.repeat([0, 1], N // 2))  # balanced, so the median splits a
    X = np.hstack([noisy_copy(a, rng, 1), noisy_copy(a, rng, 1)])
    quantile = PIDEstimator(discretizer="quantile", n_clusters=2, random_state=0).fit(X, a)
    assert quantile.redundancy_ == pytest.approx(1.0, abs=0.02)
    assert set(np.unique(quantile.transform(X))) == {0, 1}
    custom = PIDEstimator(discretizer=KMeans(n_clusters=2, n_init=1), random_state=0).fit(X, a)
    np.testing.assert_allclose(atoms(custom), atoms(quantile), atol=0.01)


def test_clusters_are_capped_on_tiny_data(rng):
    X = np.repeat(rng.normal(size=(3, 4)), 4, axis=0)  # three distinct rows
    y = np.tile([0, 1], 6)
    with pytest.warns(PIDBiasWarning):
        est = PIDEstimator(discretizer="kmeans", n_clusters=20, random_state=0).fit(X, y)
    assert est.joint_.shape[:2] == (3, 3)


def test_continuous_targets_are_binned_or_thresholded(rng):
    a = rng.integers(0, 2, N)
    X = np.column_stack([noisy_copy(a, rng, 2), noisy_copy(a, rng, 2)])
    sentiment = 3 * (a - 0.5) + 0.2 * rng.normal(size=N)
    thresholded = PIDEstimator(n_clusters=2, y_threshold=0.0, random_state=0).fit(X, sentiment)
    assert thresholded.joint_.shape[2] == 2
    assert thresholded.redundancy_ == pytest.approx(1.0, abs=0.02)
    binned = PIDEstimator(n_clusters=2, n_bins_y=4, random_state=0).fit(X, sentiment)
    assert binned.joint_.shape[2] == 4
    np.testing.assert_allclose(binned.joint_.sum(axis=(0, 1)), 0.25, atol=0.01)
    with pytest.raises(ValueError, match="y is continuous; PID needs a discrete target"):
        PIDEstimator().fit(X, sentiment)
    with pytest.raises(ValueError, match="Set at most one of n_bins_y"):
        PIDEstimator(n_bins_y=3, y_threshold=0.0).fit(X, sentiment)


def test_pair_picks_two_of_several_modalities(rng):
    a = rng.integers(0, 2, N)
    blocks = [noisy_copy(a, rng, 2), rng.normal(size=(N, 3)), noisy_copy(a, rng, 2)]
    X = np.hstack(blocks)
    est = PIDEstimator(modality_dims=[2, 3, 2], pair=(0, 2), n_clusters=2, random_state=0)
    est.fit(X, a)
    direct = PIDEstimator(modality_dims=[2, 2], n_clusters=2, random_state=0)
    direct.fit(np.hstack([blocks[0], blocks[2]]), a)
    np.testing.assert_allclose(atoms(est), atoms(direct), atol=1e-12)
    assert est.transform(X).shape == (N, 2)
    with pytest.raises(ValueError, match=r"pair must be two distinct modality indices in \[0, 3\); got \(1, 1\)"):
        est.set_params(pair=(1, 1)).fit(X, a)


def test_dataframe_names_and_pandas_output(rng):
    a = rng.integers(0, 2, 300)
    X = pd.DataFrame(np.hstack([noisy_copy(a, rng, 2), noisy_copy(a, rng, 3)]),
                     columns=["img__0", "img__1", "txt__0", "txt__1", "txt__2"])
    est = PIDEstimator(n_clusters=2, random_state=0).set_output(transform="pandas").fit(X, a)
    assert est.modality_dims_ == [2, 3] and est.modality_names_ == ["img", "txt"]
    codes = est.transform(X)
    assert list(codes.columns) == ["img_code", "txt_code"]


def test_pipeline_score_units_pickle_and_determinism(rng):
    a, b = rng.integers(0, 2, size=(2, N))
    X = np.hstack([noisy_copy(a, rng, 3), noisy_copy(a ^ b, rng, 2)]) * [1, 100, 1, 5, 1]
    y = 2 * a + b
    pipe = Pipeline([("scale", StandardScaler()), ("pid", PIDEstimator(n_clusters=4, random_state=0))])
    pipe.fit(X, y)
    est = pipe[-1]
    assert pipe.score(X, y) == pytest.approx(est.mutual_info_, abs=1e-12)
    assert est.mutual_info_ == pytest.approx(2.0, abs=0.02)  # (a, a^b) determines y
    nats = Pipeline([("scale", StandardScaler()),
                     ("pid", PIDEstimator(n_clusters=4, units="nats", random_state=0))]).fit(X, y)
    np.testing.assert_allclose(atoms(nats[-1]), atoms(est) * np.log(2), atol=1e-12)
    clone = pickle.loads(pickle.dumps(pipe))
    np.testing.assert_array_equal(clone.transform(X), pipe.transform(X))
    assert clone.score(X, y) == pipe.score(X, y)
    assert est.n_iter_ > 0 and est.duality_gap_ <= 1e-10


def test_independent_data_warns_and_its_corrected_synergy_is_near_zero():
    rng = np.random.default_rng(3)
    n = 800
    X, y = rng.normal(size=(n, 4)), rng.integers(0, 2, n)
    est = PIDEstimator(discretizer="kmeans", n_clusters=10, n_permutations=30, random_state=0)
    # With permutations on, the advice is to read their correction, not to turn them on.
    with pytest.warns(PIDBiasWarning, match="overstates synergy.*Read the bias-corrected atoms"):
        with parallel_config(backend="threading"):
            est.set_params(n_jobs=2).fit(X, y)
    # With 10 x 10 clusters the plug-in synergy is ~0.09 bits of pure bias...
    assert 0.05 < est.synergy_ < 0.15
    # ...which the shuffled-label null measures (at the Miller-Madow term) and
    # the correction removes, to within the null's spread.
    null_synergy = est.null_distribution_[:, 3]
    assert est.bias_[3] == pytest.approx(null_synergy.mean())
    assert est.bias_[3] == pytest.approx(99 / (2 * n * np.log(2)), rel=0.1)
    assert abs(est.corrected_[3]) < 3 * null_synergy.std()
    assert np.all(est.pvalues_ > 0.05)


@pytest.mark.parametrize(
    "X, y, match",
    [
        (np.ones((1, 4)), [1], r"Found array with 1 sample\(s\)"),
        (np.arange(12.0).reshape(3, 4), [1, 1, 1], "y has 1 class after discretisation"),
        (np.array([[0.0, np.nan], [1.0, 2.0]]), [0, 1], "Input X contains NaN"),
        (np.ones((3, 1)), [0, 1, 0], r"X has 1 feature\(s\), but at least 2 are needed"),
    ],
)
def test_bad_input_raises_clear_errors(X, y, match):
    with pytest.raises(ValueError, match=match):
        PIDEstimator().fit(X, y)


@pytest.mark.parametrize("row_normalize", [True, False])
def test_codes_do_not_depend_on_the_scale_of_x(row_normalize):
    # Issue 12: at X * 1e-200 or * 1e200 row normalisation under/overflowed and
    # every atom came out 0.
    rng = np.random.default_rng(0)
    a = rng.integers(0, 2, N)
    X = np.hstack([noisy_copy(a, rng, 3), noisy_copy(a, rng, 2)])
    est = PIDEstimator(modality_dims=[3, 2], n_clusters=4, row_normalize=row_normalize,
                       random_state=0)
    reference = est.fit(X, a).atoms_
    assert reference[0] > 0.9
    for scale in [1e-300, 1e-200, 1e-100, 1e100, 1e200, 1e300]:
        np.testing.assert_allclose(est.fit(X * scale, a).atoms_, reference, atol=1e-12)


def test_information_retained_against_a_cross_fitted_reference():
    rng = np.random.default_rng(0)
    a = rng.integers(0, 2, N)
    X = np.hstack([noisy_copy(a, rng, 3), noisy_copy(a, rng, 2)])
    est = PIDEstimator(modality_dims=[3, 2], discretizer="kmeans", n_clusters=2,
                       reference="logistic", random_state=0).fit(X, a)
    # y is a function of either modality: the bound is close to H(Y) = 1 bit
    # and two clusters per modality keep all of it.
    assert 0.95 < est.reference_info_ <= 1.0
    assert est.information_retained_ == pytest.approx(est.corrected_.sum() / est.reference_info_)
    assert est.information_retained_ == pytest.approx(1.0, abs=0.05)
    # One cluster keeps nothing, and says so with the remedy.
    with pytest.warns(PIDBiasWarning, match=r"keeps 0% of the information.*BatchPIDEstimator"):
        lossy = est.set_params(n_clusters=1).fit(X, a)
    assert lossy.information_retained_ == pytest.approx(0.0, abs=1e-9)
    assert not hasattr(PIDEstimator(n_clusters=2).fit(X, a), "information_retained_")


def test_bootstrap_intervals_cover_the_true_atoms():
    # A 2x2x2 table whose four atoms are all interior (0.043, 0.025, 0.013,
    # 0.178 bits); 20 data sets of 2 000 samples, 50 resamples each.
    P = np.array([[[0.0332, 0.1868], [0.005, 0.1406]], [[0.1241, 0.0061], [0.1145, 0.3896]]])
    P /= P.sum()
    truth = pid_from_joint(P).atoms
    covered, widths = [], []
    for seed in range(20):
        cells = np.random.default_rng(seed).choice(8, size=2000, p=P.ravel())
        x1, x2, y = np.unravel_index(cells, P.shape)
        est = PIDEstimator(discretizer=None, n_bootstrap=50, random_state=seed).fit(
            np.column_stack([x1, x2]), y)
        low, high = est.confidence_intervals_.T
        assert est.bootstrap_distribution_.shape == (50, 4)
        assert np.all(low <= est.atoms_) and np.all(est.atoms_ <= high)
        covered.append((low <= truth) & (truth <= high))
        widths.append(high - low)
    # Nominal 95 %; a bootstrap of a plug-in runs a little short.
    assert np.all(np.mean(covered, axis=0) >= 0.8)
    # Wide enough to tell 0.01 from 0.1: S's interval is about +-0.03 bits here.
    assert 0.02 < np.mean(widths, axis=0)[3] < 0.1


def _gates(n, seed=0):
    rng = np.random.default_rng(seed)
    b1, b2 = rng.integers(0, 2, size=(2, n))
    X = np.hstack([noisy_copy(b1, rng, 2), noisy_copy(b2, rng, 2)])
    return X, {gate: GATES[gate](b1, b2) for gate in ("AND", "XOR", "COPY")}


@pytest.mark.parametrize("gate", ["AND", "XOR", "COPY"])
def test_posterior_discretizer_recovers_the_gates(gate):
    X, labels = _gates(1000)
    y = labels[gate]
    table = gate_table(gate, n_y=4)
    truth = pid_from_joint(table[:, :, table.sum(axis=(0, 1)) > 0]).atoms
    est = PIDEstimator(modality_dims=[2, 2], discretizer="posterior", n_clusters=8,
                       n_bootstrap=10, random_state=0).fit(X, y)
    np.testing.assert_allclose(est.atoms_, truth, atol=0.05)
    # The identities hold with S from the joint classifier's bound.
    assert est.mutual_info_ == pytest.approx(est.atoms_.sum())
    assert est.synergy_ == pytest.approx(max(est.joint_info_bound_ - est.atoms_[:3].sum(), 0))
    assert est.bias_[3] == 0.0 and np.all(est.corrected_ <= est.atoms_ + 1e-12)
    np.testing.assert_array_equal(est.transform(X), np.column_stack(
        [c.transform(b) for c, b in zip(est.coders_, (X[:, :2], X[:, 2:]))]))
    assert est.transform(X).max() < 8 and est.confidence_intervals_.shape == (4, 2)


def test_posterior_discretizer_warns_when_the_joint_classifier_underfits():
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    X, labels = _gates(1000)
    # Reads only the first column: each modality's bit, but of both only b1.
    first_column = make_pipeline(FunctionTransformer(lambda Z: Z[:, :1]), LogisticRegression())
    est = PIDEstimator(modality_dims=[2, 2], discretizer="posterior", n_clusters=4,
                       classifier=first_column, random_state=0)
    with pytest.warns(PIDBiasWarning, match=r"bound on I\(X1, X2; Y\).*synergy is set to 0"):
        est.fit(X, labels["COPY"])
    assert est.joint_info_bound_ == pytest.approx(1.0, abs=0.05)
    assert est.synergy_ == 0.0
    np.testing.assert_allclose(est.atoms_, [0, 1, 1, 0], atol=0.05)
