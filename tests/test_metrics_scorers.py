"""Scorers for GridSearchCV and the CKAScorer estimator."""

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.exceptions import NotFittedError
from sklearn.metrics import f1_score, log_loss, mean_absolute_error, r2_score
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from conftest import SMALL_NET
from alignkit import CKAScorer
from alignkit.metrics import (
    layer_alignment_matrix,
    linear_cka,
    make_alignment_scorer,
    modality_scorer,
    mutual_knn,
    unbiased_cka,
)


class _FakeMultimodal(BaseEstimator):
    """Follows the estimators' contract with fixed, inspectable maps.

    Modality m's embedding is its input block times a fixed matrix, plus
    ``noise`` times a fixed random block (so ``noise`` tunes alignment); its
    unimodal model thresholds its first column.
    """

    def __init__(self, modality_dims=(3, 3), noise=0.0):
        self.modality_dims = modality_dims
        self.noise = noise

    def fit(self, X, y=None):
        self.modality_names_ = [f"m{m}" for m in range(len(self.modality_dims))]
        return self

    def transform(self, X):
        bounds = np.cumsum([0, *self.modality_dims])
        rng = np.random.default_rng(1)
        return np.hstack([
            X[:, bounds[m]:bounds[m + 1]] @ rng.normal(size=(self.modality_dims[m], 4))
            + self.noise * rng.normal(size=(X.shape[0], 4))
            for m in range(len(self.modality_dims))
        ])

    def _first_column(self, X, m):
        return X[:, int(np.sum(self.modality_dims[:m]))]

    def predict_modality(self, X, m):
        return (self._first_column(X, m) > 0).astype(int)

    def predict_proba_modality(self, X, m):
        p = 1.0 / (1.0 + np.exp(-self._first_column(X, m)))
        return np.column_stack([1 - p, p])


class FakeClassifier(ClassifierMixin, _FakeMultimodal):
    def predict(self, X):
        return self.predict_modality(X, 0)


class FakeRegressor(RegressorMixin, _FakeMultimodal):
    def predict_modality(self, X, m):
        return self._first_column(X, m)

    def predict(self, X):
        return self.predict_modality(X, 0)


@pytest.fixture
def two_views(rng):
    shared = rng.normal(size=(120, 3))
    X = np.hstack([shared, shared + 0.3 * rng.normal(size=(120, 3))])
    return X, (shared[:, 0] > 0).astype(int)


# ---------------------------------------------------------------------------
# make_alignment_scorer


def test_alignment_scorer_measures_the_modality_blocks_of_transform(two_views):
    X, y = two_views
    est = FakeClassifier().fit(X, y)
    Z = est.transform(X)
    assert make_alignment_scorer()(est, X, y) == unbiased_cka(Z[:, :4], Z[:, 4:])
    scorer = make_alignment_scorer("mutual_knn", k=5)
    assert scorer(est, X) == mutual_knn(Z[:, :4], Z[:, 4:], k=5)


def test_alignment_scorer_averages_pairs_or_takes_the_one_asked_for(rng):
    X = rng.normal(size=(60, 6))
    est = FakeClassifier(modality_dims=(2, 2, 2), noise=0.5).fit(X)
    blocks = np.split(est.transform(X), 3, axis=1)
    pairs = [linear_cka(blocks[i], blocks[j]) for i, j in ((0, 1), (0, 2), (1, 2))]
    assert make_alignment_scorer("linear_cka")(est, X) == pytest.approx(np.mean(pairs), rel=1e-14)
    assert make_alignment_scorer("linear_cka", pair=(2, 0))(est, X) == linear_cka(blocks[2], blocks[0])
    with pytest.raises(ValueError, match=r"pair must be two distinct modality indices in \[0, 3\)"):
        make_alignment_scorer("linear_cka", pair=(1, 3))(est, X)


def test_alignment_scorer_rejects_bad_settings_early(rng):
    with pytest.raises(ValueError, match="'metric' parameter of make_alignment_scorer must be a str among"):
        make_alignment_scorer("cca")
    with pytest.raises(ValueError, match="pair must be two distinct modality indices; got"):
        make_alignment_scorer(pair=(1, 1))
    with pytest.raises(TypeError, match=r"does not take the option\(s\) \['k'\]"):
        make_alignment_scorer("unbiased_cka", k=10)


def test_alignment_scorer_rejects_embeddings_that_do_not_split_evenly(rng):
    class Uneven(FakeClassifier):
        def transform(self, X):
            return X[:, :5]

    with pytest.raises(ValueError, match="5 columns, which do not split into 2 equal"):
        make_alignment_scorer()(Uneven().fit(rng.normal(size=(10, 6))), rng.normal(size=(10, 6)))


class _NamedBlocks(FakeClassifier):
    """Embeddings of unequal widths (3 and 5 columns), named '<modality>__<j>'."""

    widths = (3, 5)

    def transform(self, X):
        return np.hstack([X[:, :3], X[:, 3:] @ np.ones((3, 5)) + X[:, :1]])

    def get_feature_names_out(self, input_features=None):
        return np.array([f"{name}__e{j}" for name, w in zip(["img", "txt"], self.widths)
                         for j in range(w)], dtype=object)


def test_alignment_scorer_reads_unequal_modality_widths_from_the_feature_names(two_views):
    # Equal blocks would have compared columns 0-3 with 4-7: part of txt taken for img.
    X, y = two_views
    est = _NamedBlocks().fit(X, y)
    Z = est.transform(X)
    expected = linear_cka(Z[:, :3], Z[:, 3:])
    assert make_alignment_scorer("linear_cka")(est, X, y) == expected
    assert expected != pytest.approx(linear_cka(Z[:, :4], Z[:, 4:]), abs=1e-3)


def test_alignment_scorer_refuses_feature_names_without_a_modality_layout(two_views):
    X, y = two_views

    class Unprefixed(_NamedBlocks):
        def get_feature_names_out(self, input_features=None):
            return np.array([f"e{j}" for j in range(8)], dtype=object)

    class OneModality(_NamedBlocks):
        widths = (8, 0)

    for est in (Unprefixed(), OneModality()):
        with pytest.raises(ValueError, match=r"get_feature_names_out\(\), which must name every "
                                             r"column '<modality>__<feature>'"):
            make_alignment_scorer()(est.fit(X, y), X)


def test_scorers_pickle_and_print(two_views):
    X, y = two_views
    est = FakeClassifier().fit(X, y)
    for scorer in (make_alignment_scorer("mutual_knn", k=3), modality_scorer(1, f1_score)):
        clone = pickle.loads(pickle.dumps(scorer))
        assert clone(est, X, y) == scorer(est, X, y)
    assert repr(make_alignment_scorer("mutual_knn", k=3)) == "make_alignment_scorer('mutual_knn', pair=None, k=3)"


# ---------------------------------------------------------------------------
# modality_scorer


def test_modality_scorer_defaults_to_accuracy_and_r2(two_views):
    X, y = two_views
    clf = FakeClassifier().fit(X, y)
    assert modality_scorer(0)(clf, X, y) == 1.0  # modality 0 thresholds the label's own column
    assert modality_scorer(1)(clf, X, y) == np.mean((X[:, 3] > 0) == y)
    target = X[:, 0] + 0.1
    reg = FakeRegressor().fit(X, target)
    assert modality_scorer(1)(reg, X, target) == r2_score(target, X[:, 3])


def test_modality_scorer_takes_a_user_metric_probabilities_and_losses(two_views):
    X, y = two_views
    clf = FakeClassifier().fit(X, y)
    proba = clf.predict_proba_modality(X, 1)
    assert modality_scorer(1, f1_score, average="macro")(clf, X, y) == f1_score(
        y, clf.predict_modality(X, 1), average="macro")
    loss = modality_scorer(1, log_loss, response_method="predict_proba", greater_is_better=False)
    assert loss(clf, X, y) == -log_loss(y, proba[:, 1])
    reg = FakeRegressor().fit(X, X[:, 0])
    assert modality_scorer(0, mean_absolute_error, greater_is_better=False)(reg, X, X[:, 0]) == 0.0


def test_modality_scorer_rejects_bad_settings():
    with pytest.raises(ValueError, match=r"'modality' parameter of modality_scorer must be an int in "
                                         r"the range \[0, inf\) or an instance of 'str'"):
        modality_scorer(-1)
    with pytest.raises(ValueError, match=r"'response_method' parameter of modality_scorer must be "
                                         r"a str among \{'"):
        modality_scorer(0, response_method="decision_function")
    with pytest.raises(TypeError, match="'score_func' parameter of modality_scorer must be a callable"):
        modality_scorer(0, "accuracy")


def test_scorers_report_accuracy_and_alignment_per_candidate_in_grid_search(two_views):
    X, y = two_views
    grid = GridSearchCV(
        FakeClassifier(), {"noise": [0.0, 1.0, 10.0]}, cv=KFold(2), refit="acc_m0",
        scoring={"acc_m0": modality_scorer(0), "acc_m1": modality_scorer(1),
                 "cka": make_alignment_scorer("linear_cka")},
    ).fit(X, y)
    results = grid.cv_results_
    np.testing.assert_array_equal(results["mean_test_acc_m0"], 1.0)
    cka = results["mean_test_cka"]
    assert cka[0] > cka[1] > cka[2]  # more independent noise, less alignment
    Z = FakeClassifier(noise=1.0).transform(X[:60])  # the first fold's test half
    assert results["split0_test_cka"][1] == pytest.approx(linear_cka(Z[:, :4], Z[:, 4:]), rel=1e-12)


# ---------------------------------------------------------------------------
# CKAScorer


def test_cka_scorer_fits_and_scores_the_modality_blocks(two_views, rng):
    X, _ = two_views
    scorer = CKAScorer(modality_dims=[3, 3]).fit(X)
    assert scorer.score_ == unbiased_cka(X[:, :3], X[:, 3:])
    assert scorer.modality_names_ == ["m0", "m1"]
    assert scorer.scores_.shape == (2, 2)
    X_new = rng.normal(size=(40, 6))
    assert scorer.score(X_new) == unbiased_cka(X_new[:, :3], X_new[:, 3:])


def test_cka_scorer_passes_its_options_to_the_metric(two_views):
    X, _ = two_views
    assert CKAScorer(metric="mutual_knn", k=4, clip_quantile=0.9).fit(X).score_ == mutual_knn(
        X[:, :3], X[:, 3:], k=4, clip_quantile=0.9)
    assert CKAScorer(metric="linear_cka", normalize=True).fit(X).score(X) == linear_cka(
        X[:, :3], X[:, 3:], normalize=True)
    custom = CKAScorer(metric=lambda A, B: float(A.shape[1] - B.shape[1]), modality_dims=[4, 2])
    assert custom.fit(X).score_ == 2.0


def test_cka_scorer_gives_the_pairwise_matrix_for_more_modalities(rng):
    shared = rng.normal(size=(80, 2))
    rotation, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    X = np.hstack([shared @ rotation[:2], rng.normal(size=(80, 2)), shared])
    scorer = CKAScorer(metric="linear_cka", modality_dims=[3, 2, 2]).fit(X)
    matrix = scorer.scores_
    assert matrix.shape == (3, 3)
    np.testing.assert_allclose(matrix, matrix.T)
    np.testing.assert_allclose(np.diag(matrix), 1.0)
    assert matrix[0, 2] == pytest.approx(1.0)  # the same signal, isometrically embedded
    assert scorer.score_ == pytest.approx(matrix[np.triu_indices(3, 1)].mean(), rel=1e-14)
    assert scorer.score(X) == pytest.approx(scorer.score_, rel=1e-14)


def test_cka_scorer_in_a_pipeline_after_standard_scaler(two_views):
    X, _ = two_views
    pipe = make_pipeline(StandardScaler(), CKAScorer(metric="mutual_knn", k=5)).fit(X)
    scaled = StandardScaler().fit_transform(X)
    assert pipe.score(X) == mutual_knn(scaled[:, :3], scaled[:, 3:], k=5)


def test_cka_scorer_reads_the_modalities_from_dataframe_prefixes(two_views):
    X, _ = two_views
    columns = ["img__a", "img__b", "txt__a", "txt__b", "txt__c", "txt__d"]
    scorer = CKAScorer(metric="linear_cka").fit(pd.DataFrame(X, columns=columns))
    assert scorer.modality_names_ == ["img", "txt"]
    assert scorer.modality_dims_ == [2, 4]
    assert scorer.score_ == pytest.approx(linear_cka(X[:, :2], X[:, 2:]), rel=1e-12)


def test_cka_scorer_explains_bad_input(two_views):
    X, _ = two_views
    with pytest.raises(NotFittedError):
        CKAScorer().score(X)
    with pytest.raises(ValueError, match="at least 4 samples; got n_samples = 3"):
        CKAScorer().fit(X[:3])
    with pytest.raises(ValueError, match=r"k < n_samples.*k = 10 with n_samples = 8"):
        CKAScorer(metric="mutual_knn").fit(X[:8])
    with pytest.raises(ValueError, match="modality_dims=.*sums to 5 columns but X has 6"):
        CKAScorer(modality_dims=[2, 3]).fit(X)
    with pytest.raises(ValueError, match="'metric' parameter of CKAScorer must be"):
        CKAScorer(metric="cosine").fit(X)
    with pytest.raises(ValueError, match="X has 5 features, but CKAScorer is expecting 6"):
        CKAScorer().fit(X).score(X[:, :5])


def test_grid_search_over_aligned_classifier_reports_alignment(two_views):
    from alignkit import AlignedMultimodalClassifier

    X, y = two_views
    grid = GridSearchCV(
        AlignedMultimodalClassifier(max_epochs=3, random_state=0, **SMALL_NET),
        {"lam": [0.0, 1.0]}, cv=2, refit="acc",
        scoring={"acc": "accuracy", "acc_m1": modality_scorer(1),
                 "cka": make_alignment_scorer("unbiased_cka")},
    ).fit(X, y)
    for key in ("mean_test_acc", "mean_test_acc_m1", "mean_test_cka"):
        values = grid.cv_results_[key]
        assert values.shape == (2,) and np.all((values >= 0) & (values <= 1))
    best = grid.best_estimator_
    Z = best.transform(X)
    assert make_alignment_scorer()(best, X, y) == unbiased_cka(Z[:, :8], Z[:, 8:])
    layers = layer_alignment_matrix(best, X)  # hidden layer and embedding of each encoder
    assert layers.shape == (2, 2)
    assert layers[-1, -1] == pytest.approx(unbiased_cka(Z[:, :8], Z[:, 8:]), rel=1e-12)


def test_scorers_reach_the_multimodal_step_of_a_pipeline(two_views):
    from alignkit import AlignedMultimodalClassifier

    X, y = two_views
    pipe = make_pipeline(StandardScaler(), AlignedMultimodalClassifier(
        max_epochs=3, random_state=0, **SMALL_NET)).fit(X, y)
    clf, Xs = pipe[-1], pipe[0].transform(X)
    assert modality_scorer(0)(pipe, X, y) == np.mean(clf.predict_modality(Xs, 0) == y)
    Z = clf.transform(Xs)
    assert make_alignment_scorer()(pipe, X, y) == unbiased_cka(Z[:, :8], Z[:, 8:])
    grid = GridSearchCV(pipe, {"alignedmultimodalclassifier__lam": [0.0, 1.0]}, cv=2,
                        scoring={"acc_m0": modality_scorer(0), "cka": make_alignment_scorer()},
                        refit=False).fit(X, y)
    assert np.all(np.isfinite(grid.cv_results_["mean_test_cka"]))
