"""Regression tests for issue 12: valid-looking inputs that once gave a wrong number or a traceback."""

import re
import warnings

import numpy as np
import pytest
import torch

from conftest import SMALL_NET
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


# -- layouts ------------------------------------------------------------------------------

def _prefixed_frame(rng, n=40):
    import pandas as pd

    columns = ["a__0", "a__1", "b__0", "b__1", "b__2", "b__3"]
    return pd.DataFrame(rng.normal(size=(n, 6)), columns=columns)


def test_a_halves_layout_warns_and_pandas_output_keeps_the_prefixes(rng):
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from alignkit import CKAScorer

    X = _prefixed_frame(rng)
    with pytest.warns(UserWarning, match=r"split into two halves \[3, 3\].*set_output"):
        make_pipeline(StandardScaler(), CKAScorer()).fit(X)
    pipe = make_pipeline(StandardScaler(), CKAScorer()).set_output(transform="pandas")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pipe.fit(X)
    assert pipe[-1].modality_dims_ == [2, 4] and pipe[-1].modality_names_ == ["a", "b"]


def test_explicit_modality_dims_win_over_prefixes(rng):
    from alignkit.utils import resolve_modalities

    names = ["a__0", "a__1", "b__0", "x", "y", "z"]  # some columns without a prefix
    assert resolve_modalities(6, [3, 3], names) == ([3, 3], ["m0", "m1"])
    prefixed = ["a__0", "a__1", "b__0", "b__1", "b__2", "b__3"]
    assert resolve_modalities(6, [2, 4], prefixed) == ([2, 4], ["a", "b"])  # prefixes name them
    assert resolve_modalities(6, [3, 3], prefixed) == ([3, 3], ["m0", "m1"])  # widths win
    with pytest.raises(ValueError, match="either every column name"):
        resolve_modalities(6, None, names)


# -- estimators ---------------------------------------------------------------------------

def _small(estimator_class, **params):
    return estimator_class(**{**SMALL_NET, "batch_size": 16}, max_epochs=2, random_state=0,
                           modality_dims=[2, 2], **params)


@pytest.fixture
def small_data(rng):
    X = rng.normal(size=(40, 4))
    return X, (X[:, 0] + X[:, 2] > 0).astype(int)


def test_x_beyond_the_float32_range_is_refused(small_data):
    from alignkit import AlignedMultimodalClassifier

    X, y = small_data
    with pytest.raises(ValueError, match="beyond the float32 range"):
        _small(AlignedMultimodalClassifier).fit(X * 1e39, y)
    clf = _small(AlignedMultimodalClassifier).fit(X, y)
    with pytest.raises(ValueError, match="beyond the float32 range"):
        clf.predict_proba(X * 1e39)


def test_regressor_standardises_huge_targets_safely(small_data):
    from alignkit import AlignedMultimodalRegressor

    X, _ = small_data
    target = X[:, 0] + X[:, 2]
    for scale in (1e-300, 1.0, 1e300):
        reg = _small(AlignedMultimodalRegressor).fit(X, target * scale)
        assert reg.y_mean_[0] == pytest.approx(target.mean() * scale, rel=1e-12)
        assert reg.y_scale_[0] == pytest.approx(target.std() * scale, rel=1e-12)
        predicted = reg.predict(X)
        assert np.all(np.isfinite(predicted))
        np.testing.assert_allclose(predicted / scale, _small(AlignedMultimodalRegressor).fit(
            X, target).predict(X), rtol=1e-6)


@pytest.mark.parametrize("n, message", [
    (6, "fewer than the 2 classes each stratified part needs"),
    (2, "leaves 1 training and 1 validation"),
])
def test_early_stopping_on_tiny_data_names_its_parameters(rng, n, message):
    from alignkit import AlignedMultimodalClassifier

    X, y = rng.normal(size=(n, 4)), np.arange(n) % 2
    with pytest.raises(ValueError, match=rf"early_stopping=True .*validation_fraction=0.1.*{message}"):
        _small(AlignedMultimodalClassifier, early_stopping=True).fit(X, y)


def test_early_stopping_with_a_singleton_class_names_it(small_data):
    from alignkit import AlignedMultimodalClassifier

    X, y = small_data
    y = y.copy()
    y[0] = 2
    with pytest.raises(ValueError, match=r"early_stopping=True .*class 2 has 1 sample"):
        _small(AlignedMultimodalClassifier, early_stopping=True).fit(X, y)


def test_early_stopping_regressor_needs_two_training_samples(rng):
    from alignkit import AlignedMultimodalRegressor

    with pytest.raises(ValueError, match="early_stopping=True .*leaves 1 training"):
        _small(AlignedMultimodalRegressor, early_stopping=True).fit(rng.normal(size=(2, 4)), [0.0, 1.0])


@pytest.mark.parametrize("hidden_dims", [[0], (8, -1), (2.5,)])
def test_hidden_dims_must_be_positive(small_data, hidden_dims):
    from alignkit import AlignedMultimodalClassifier

    clf = _small(AlignedMultimodalClassifier)
    clf.set_params(hidden_dims=hidden_dims)
    with pytest.raises(ValueError, match="hidden_dims must hold positive ints"):
        clf.fit(*small_data)


def test_modality_scorer_accepts_modality_names(rng):
    from alignkit import AlignedMultimodalClassifier
    from alignkit.metrics import modality_scorer

    X = _prefixed_frame(rng)
    y = (X["a__0"] > 0).astype(int)
    clf = AlignedMultimodalClassifier(max_epochs=2, random_state=0, **SMALL_NET).fit(X, y)
    assert modality_scorer("a")(clf, X, y) == modality_scorer(0)(clf, X, y)
    assert modality_scorer("b")(clf, X, y) == modality_scorer(1)(clf, X, y)
    with pytest.raises(ValueError, match=r"one of \['a', 'b'\]"):
        modality_scorer("c")(clf, X, y)


# -- command line, loaders, generator -----------------------------------------------------

def _cli_error(argv, capsys):
    from alignkit._cli import main

    code = main(argv)
    err = capsys.readouterr().err
    return code, err


@pytest.fixture
def table(rng):
    X = rng.normal(size=(40, 4))
    return X, (X[:, 0] > 0).astype(int)


def _write_cases(tmp_path, X, y):
    import zipfile

    import pandas as pd

    cases = {}
    path = tmp_path / "short_names.npz"
    np.savez(path, X=X, y=y, modality_dims=[2, 2], modality_names=["a"])
    cases["short_names"] = (path, r"short_names\.npz: 'modality_names' has 1 entries but the layout has 2")
    path = tmp_path / "member.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("X.npy", b"not an npy file")
    cases["member"] = (path, r"member\.npz: member 'X' is not a valid \.npy array")
    path = tmp_path / "ragged.csv"
    path.write_text("a__0,a__1,b__0,t\n1,2,3,0\n1,2,3,4,5\n" + "1,2,3,1\n" * 10)
    cases["ragged"] = (path, r"ragged\.csv: not a readable \.csv file \(.*Expected 4 fields in line 3, saw 5\)")
    path = tmp_path / "complex.npz"
    np.savez(path, X=X + 1j, y=y)
    cases["complex"] = (path, r"complex\.npz: array 'X' holds complex numbers")
    frame = pd.DataFrame(X, columns=["a__0", "a__1", "b__0", "b__1"]).assign(t=y.astype(float))
    frame.loc[3, "t"] = np.nan
    path = tmp_path / "nan_target.csv"
    frame.to_csv(path, index=False)
    cases["nan_target"] = (path, r"nan_target\.csv: target column 't' has 1 missing \(NaN\) value\(s\), first in row 3")
    frame = frame.fillna(0.0)
    frame.loc[5, "b__1"] = np.inf
    path = tmp_path / "inf_feature.csv"
    frame.to_csv(path, index=False)
    cases["inf_feature"] = (path, r"inf_feature\.csv: feature column 'b__1' contains NaN or infinite")
    return cases


@pytest.mark.parametrize("case", ["short_names", "member", "ragged", "complex", "nan_target", "inf_feature"])
@pytest.mark.parametrize("command", ["align", "pid"])
def test_malformed_files_give_one_line_naming_file_and_column_and_exit_2(tmp_path, table, capsys, case, command):
    path, message = _write_cases(tmp_path, *table)[case]
    code, err = _cli_error([command, str(path), "--target", "t"] if path.suffix == ".csv" and command == "pid"
                           else [command, str(path)], capsys)
    if command == "align" and case == "nan_target":
        message = r"nan_target\.csv: feature column 't' contains NaN"  # align has no target
    assert code == 2
    assert len(err.strip().splitlines()) == 1, err
    assert re.search(message, err), err


def test_cli_notes_a_halves_layout_in_one_line(tmp_path, table, capsys):
    path = tmp_path / "plain.npz"
    np.savez(path, X=table[0])
    from alignkit._cli import main

    assert main(["align", str(path)]) == 0
    err = capsys.readouterr().err
    assert re.fullmatch(r"note: plain\.npz: no modality layout given .* two halves \[2, 2\]\. "
                        r"Set the layout with --modality-dims\.\n", err), err  # flags, not parameters


def test_cli_explicit_modality_dims_win_over_prefixes(tmp_path, table, capsys):
    import pandas as pd

    from alignkit._cli import main

    frame = pd.DataFrame(table[0], columns=["a__0", "a__1", "x", "y"])
    path = tmp_path / "partial.csv"
    frame.to_csv(path, index=False)
    assert main(["align", str(path), "--modality-dims", "2,2"]) == 0


def test_load_multibench_names_a_truncated_pickle(tmp_path):
    import pickle

    from alignkit.datasets import load_multibench

    path = tmp_path / "mosei_senti_data.pkl"
    path.write_bytes(pickle.dumps({"train": {"vision": np.zeros((3, 50, 35))}})[:40])
    with pytest.raises(ValueError, match=rf"{re.escape(str(path))} is not a readable MultiBench 'mosei' pickle "
                                         r"\((UnpicklingError|EOFError).*expected MultiBench's processed file"):
        load_multibench("mosei", path)


def test_make_rus_classification_warns_when_balancing_fails():
    from alignkit.datasets import make_rus_classification

    with pytest.warns(UserWarning, match=r"temperature=1e-300: the labels could not be balanced .*within 0\.01"):
        make_rus_classification(n_samples=256, temperature=1e-300, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _, y = make_rus_classification(n_samples=4096, random_state=0)
    assert np.abs(np.bincount(y) / len(y) - 0.25).max() < 0.03
