"""The Display objects draw what they are given: assertions on the artists."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from sklearn.datasets import make_classification  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from alignkit.plotting import AlignmentMatrixDisplay, LambdaSweepDisplay, PIDDisplay  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _cv_results():
    """cv_results_ in GridSearchCV's layout, candidates deliberately out of λ order."""
    lam = np.ma.MaskedArray([1.0, 0.0, 0.5, 4.0], dtype=object)
    return {
        "param_lam": lam,
        "mean_test_acc": np.array([0.80, 0.70, 0.85, 0.60]),
        "std_test_acc": np.array([0.01, 0.02, 0.01, 0.03]),
        "rank_test_acc": np.array([2, 3, 1, 4]),
        "mean_test_acc_m0": np.array([0.75, 0.65, 0.70, 0.55]),
        "mean_test_acc_m1": np.array([0.72, 0.60, 0.68, 0.50]),
        "mean_test_cka": np.array([0.50, 0.10, 0.30, 0.90]),
        "std_test_cka": np.array([0.05, 0.05, 0.05, 0.05]),
    }


def test_lambda_sweep_from_cv_results_sorts_lambda_and_marks_best():
    disp = LambdaSweepDisplay.from_cv_results(_cv_results())
    assert set(disp.lines_) == {"acc", "acc_m0", "acc_m1", "cka"}
    np.testing.assert_allclose(disp.lines_["acc"].get_xdata(), [0, 0.5, 1, 4])
    np.testing.assert_allclose(disp.lines_["acc"].get_ydata(), [0.70, 0.85, 0.80, 0.60])
    np.testing.assert_allclose(disp.lines_["acc_m1"].get_ydata(), [0.60, 0.68, 0.72, 0.50])
    np.testing.assert_allclose(disp.lines_["cka"].get_ydata(), [0.10, 0.30, 0.50, 0.90])
    # Performance and alignment on separate panels; λ* = 0.5 (rank 1) marked on both.
    assert disp.lines_["acc"].axes is disp.ax_
    assert disp.lines_["cka"].axes is disp.ax_alignment_
    assert disp.ax_alignment_ is not disp.ax_
    assert len(disp.best_lambda_lines_) == 2
    for line in disp.best_lambda_lines_:
        assert line.get_xdata()[0] == pytest.approx(0.5)
    assert disp.best_lambda == pytest.approx(0.5)
    # std bands are drawn for the curves that have one.
    assert len(disp.ax_.collections) == 1 and len(disp.ax_alignment_.collections) == 1
    assert disp.figure_ is disp.ax_.figure
    assert disp.ax_.get_xscale() == "symlog"


def test_lambda_sweep_on_one_axes_uses_a_twin_axis_and_custom_keys():
    _, ax = plt.subplots()
    disp = LambdaSweepDisplay.from_cv_results(
        _cv_results(), scores={"acc_m0": "image"}, alignment=["cka"], best_score="acc_m0",
        ax=ax, xscale="linear",
    )
    assert disp.ax_ is ax and disp.ax_alignment_ is not ax
    assert set(disp.lines_) == {"image", "cka"}
    assert disp.lines_["cka"].get_linestyle() == "--"
    # λ* follows best_score: acc_m0 is best at λ = 1 (no rank column, argmax).
    assert disp.best_lambda == pytest.approx(1.0)
    assert len(disp.best_lambda_lines_) == 1
    legend_texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend_texts == ["image", "λ* = 1", "CKA"]  # scorer keys in words


def test_lambda_sweep_from_a_real_grid_search_with_a_pipeline_parameter():
    X, y = make_classification(n_samples=120, n_features=6, random_state=0)
    grid = GridSearchCV(
        make_pipeline(StandardScaler(), LogisticRegression()),
        {"logisticregression__C": [0.01, 0.1, 1.0]},
        scoring={"acc": "accuracy", "alignment_proxy": "roc_auc"}, refit="acc", cv=3,
    ).fit(X, y)
    disp = LambdaSweepDisplay.from_cv_results(grid.cv_results_, param="C", alignment=[])
    assert disp.ax_alignment_ is None
    assert set(disp.lines_) == {"acc", "alignment_proxy"}
    np.testing.assert_allclose(
        disp.lines_["acc"].get_ydata(), grid.cv_results_["mean_test_acc"]
    )
    assert disp.best_lambda == grid.best_params_["logisticregression__C"]


@pytest.mark.parametrize(
    "change, match",
    [
        (dict(param="temperature"), "no column 'param_temperature'"),
        (dict(scores=["f1"]), r"no scorer \['f1'\]"),
        (dict(best_score="f1"), "best_score='f1'"),
        (dict(xscale="log"), "xscale='log' cannot show"),
        (dict(xscale="cubic"), "xscale must be one of"),
    ],
)
def test_lambda_sweep_rejects_bad_arguments(change, match):
    with pytest.raises(ValueError, match=match):
        LambdaSweepDisplay.from_cv_results(_cv_results(), **change)


def test_lambda_sweep_rejects_repeated_lambda_and_bad_curves():
    results = _cv_results()
    results["param_lam"] = np.ma.MaskedArray([0.0, 0.0, 0.5, 4.0], dtype=object)
    with pytest.raises(ValueError, match="other parameters vary too"):
        LambdaSweepDisplay.from_cv_results(results)
    with pytest.raises(ValueError, match=r"performance\['fused'\] must have shape \(3,\)"):
        LambdaSweepDisplay([0, 1, 2], {"fused": [0.5, 0.6]}).plot()
    with pytest.raises(ValueError, match="strictly increasing"):
        LambdaSweepDisplay([1, 0], [0.5, 0.6]).plot()
    with pytest.raises(ValueError, match="match no curve"):
        LambdaSweepDisplay([0, 1], {"a": [1, 2]}, performance_std={"b": [0, 0]}).plot()


def test_pid_display_stacks_components_per_dataset():
    disp = PIDDisplay(
        [0.5, 0.1], [[0.1, 0.2], [0.6, 0.0]], [0.3, 0.05], names=["redundant", "unique"],
    ).plot()
    heights = np.array([[b.get_height() for b in bars] for bars in disp.bars_.values()])
    bottoms = {k: [b.get_y() for b in bars] for k, bars in disp.bars_.items()}
    assert list(disp.bars_) == ["redundancy", "uniqueness1", "uniqueness2", "synergy"]
    np.testing.assert_allclose(heights, [[0.5, 0.1], [0.1, 0.6], [0.2, 0.0], [0.3, 0.05]])
    # Each segment sits on the sum of those below it: R, then U1, U2, S.
    assert bottoms["synergy"] == pytest.approx([0.8, 0.7])
    assert bottoms["uniqueness2"] == pytest.approx([0.6, 0.7])
    assert [t.get_text() for t in disp.ax_.get_xticklabels()] == ["redundant", "unique"]
    assert [t.get_text() for t in disp.ax_.texts] == ["1.1", "0.75"]
    assert disp.ax_.get_ylabel() == "information (bits)"


class _FittedPID:
    """Stands in for a fitted PIDEstimator: the attributes the display reads."""

    def __init__(self, r, u, s, units="nats", modality_names_=("img", "txt")):
        self.redundancy_, self.uniqueness_, self.synergy_ = r, np.asarray(u), s
        self.units, self.modality_names_ = units, list(modality_names_)


def test_pid_display_from_estimators_converts_units_and_names_modalities():
    ests = {"a": _FittedPID(np.log(2), [0.0, np.log(2)], 0.0),
            "b": _FittedPID(0.0, [0.0, 0.0], 2 * np.log(2))}
    disp = PIDDisplay.from_estimators(ests, units="bits")
    np.testing.assert_allclose(disp.values_, [[1, 0, 1, 0], [0, 0, 0, 2]], atol=1e-12)
    labels = [t.get_text() for t in disp.ax_.get_legend().get_texts()]
    assert labels == ["synergy S", "unique U2 (txt)", "unique U1 (img)", "redundancy R"]  # as stacked
    # Own units kept by default; a dict (an exact decomposition) works too.
    one = PIDDisplay.from_estimator(ests["a"], name="a")
    assert one.units == "nats" and one.values_[0, 0] == pytest.approx(np.log(2))
    exact = PIDDisplay.from_estimator({"redundancy": 1.0, "uniqueness": [0, 0], "synergy": 0.0})
    assert exact.units == "bits" and exact.values_.tolist() == [[1.0, 0.0, 0.0, 0.0]]
    # An estimate beside the truth.
    both = PIDDisplay.from_estimator(ests["a"], units="bits", reference={
        "redundancy": 0.9, "uniqueness": [0, 1], "synergy": 0.0, "units": "bits"})
    np.testing.assert_allclose(both.values_, [[1, 0, 1, 0], [0.9, 0, 1, 0]], atol=1e-12)
    assert [t.get_text() for t in both.ax_.get_xticklabels()] == ["estimate", "truth"]


def test_pid_display_errors():
    with pytest.raises(ValueError, match="different units"):
        PIDDisplay.from_estimators([_FittedPID(1, [0, 0], 0), _FittedPID(1, [0, 0], 0, "bits")])
    with pytest.raises(ValueError, match="has no PID values"):
        PIDDisplay.from_estimator(object())
    with pytest.raises(ValueError, match=r"uniqueness must have shape \(2,\) for one"):
        PIDDisplay([0.1, 0.2], [0.1, 0.2], [0.0, 0.0]).plot()
    with pytest.raises(ValueError, match="units must be one of"):
        PIDDisplay(0.1, [0, 0], 0, units="bans").plot()
    with pytest.raises(ValueError, match="finite"):
        PIDDisplay(np.nan, [0, 0], 0).plot()


def test_alignment_matrix_display_values_and_best_pair():
    matrix = np.array([[0.1, 0.2, 0.3], [0.4, 0.9, 0.5]])
    disp = AlignmentMatrixDisplay(
        matrix, row_labels=["a0", "a1"], col_labels=["b0", "b1", "b2"], metric="CKA",
        row_name="image", col_name="text",
    ).plot()
    np.testing.assert_allclose(disp.im_.get_array(), matrix)
    assert disp.max_index_ == (1, 1)
    assert disp.max_marker_.get_xy() == (0.5, 0.5)
    assert disp.text_[1, 1].get_text() == "0.90"
    assert [t.get_text() for t in disp.ax_.get_yticklabels()] == ["a0", "a1"]
    assert disp.ax_.get_xlabel() == "text"
    assert disp.figure_.axes[-1].get_ylabel() == "CKA"  # the colorbar
    bare = AlignmentMatrixDisplay(matrix).plot(include_values=False, mark_max=False,
                                              colorbar=False)
    assert bare.text_ is None and bare.max_marker_ is None and len(bare.figure_.axes) == 1


def test_alignment_matrix_from_representations_with_a_callable(rng):
    base = rng.normal(size=(50, 4))
    rows = [base, rng.normal(size=(50, 3))]
    cols = [rng.normal(size=(50, 2)), base[:, :3], base]

    def shared_columns(a, b):
        return float(np.mean([np.any(np.all(np.isclose(a, c[:, None]), axis=0)) for c in b.T]))

    disp = AlignmentMatrixDisplay.from_representations(rows, cols, metric=shared_columns)
    np.testing.assert_allclose(disp.im_.get_array(), [[0, 1, 1], [0, 0, 0]])
    assert disp.max_index_ == (0, 1)
    assert [t.get_text() for t in disp.ax_.get_xticklabels()] == ["layer 0", "layer 1", "layer 2"]
    assert disp.figure_.axes[-1].get_ylabel() == "shared_columns"


def test_alignment_matrix_with_alignkit_metrics(rng):
    from alignkit.metrics import mutual_knn, unbiased_cka

    a = rng.normal(size=(80, 6))
    b = a @ rng.normal(size=(6, 4)) + 0.5 * rng.normal(size=(80, 4))
    noise = rng.normal(size=(80, 5))
    disp = AlignmentMatrixDisplay.from_representations([a, noise], [b, a])
    expected = [[unbiased_cka(x, y) for y in (b, a)] for x in (a, noise)]
    np.testing.assert_allclose(disp.im_.get_array(), expected)
    assert disp.max_index_ == (0, 1) and disp.im_.get_array()[0, 1] == pytest.approx(1.0)
    knn = AlignmentMatrixDisplay.from_representations(
        [a], [b], metric="mutual_knn", metric_kwargs={"k": 5})
    assert knn.im_.get_array()[0, 0] == pytest.approx(mutual_knn(a, b, k=5))
    with pytest.raises(ValueError, match="'metric' parameter of alignment_matrix must be a str among"):
        AlignmentMatrixDisplay.from_representations([a], [b], metric="cosine")


def test_alignment_matrix_from_estimator_reads_every_layer_pair(rng):
    from alignkit import AlignedMultimodalClassifier

    X = rng.normal(size=(64, 6))
    y = (X[:, 0] + X[:, 3] > 0).astype(int)
    clf = AlignedMultimodalClassifier(hidden_dims=(5,), embed_dim=3, projection_dim=3,
                                      max_epochs=1, random_state=0).fit(X, y)
    layers = clf.transform_layers(X)

    def width_ratio(a, b):
        return a.shape[1] / b.shape[1]

    disp = AlignmentMatrixDisplay.from_estimator(clf, X, modalities=("m1", 0),
                                                 metric=width_ratio)
    expected = [[a.shape[1] / b.shape[1] for b in layers[0]] for a in layers[1]]
    np.testing.assert_allclose(disp.im_.get_array(), expected)
    assert disp.ax_.get_ylabel() == "m1 layer" and disp.ax_.get_xlabel() == "m0 layer"
    with pytest.raises(ValueError, match=r"modalities=\('m7', 0\): modality must be an index in "
                                         r"\[0, 2\) or one of \['m0', 'm1'\]; got 'm7'"):
        AlignmentMatrixDisplay.from_estimator(clf, X, modalities=("m7", 0), metric=width_ratio)
    with pytest.raises(ValueError, match=r"modalities=\(0, 5\): pair must be two distinct"):
        AlignmentMatrixDisplay.from_estimator(clf, X, modalities=(0, 5), metric=width_ratio)
    with pytest.raises(TypeError, match="no transform_layers"):
        AlignmentMatrixDisplay.from_estimator(object(), X)


def _renders_inside(figure, artists):
    """Every artist's extent lies inside the figure as ``savefig`` writes it (no clipping)."""
    figure.canvas.draw()
    box = figure.bbox
    for artist in artists:
        extent = artist.get_window_extent()
        assert extent.x0 >= box.x0 - 1 and extent.x1 <= box.x1 + 1, artist
        assert extent.y0 >= box.y0 - 1 and extent.y1 <= box.y1 + 1, artist


def test_alignment_matrix_masks_a_trivial_diagonal_from_zero_in_words():
    matrix = np.array([[1.0, 0.3, 0.6], [0.3, 1.0, 0.2], [0.6, 0.2, 1.0]])
    disp = AlignmentMatrixDisplay(matrix, metric="unbiased_cka").plot(
        mask_diagonal=True, text_kw={"fontsize": 7})
    assert disp.max_index_ == (0, 2) and disp.max_marker_.get_xy() == (1.5, -0.5)
    assert disp.diagonal_mask_.tolist() == np.eye(3, dtype=bool).tolist()
    assert all(disp.text_[k, k] is None for k in range(3))
    assert disp.text_[0, 1].get_text() == "0.30" and disp.text_[0, 1].get_fontsize() == 7
    assert disp.im_.get_clim() == (0.0, 0.6)  # from 0 to the largest off-diagonal entry
    assert disp.im_.get_array().mask.diagonal().all()
    assert disp.colorbar_.ax.get_ylabel() == "unbiased CKA"
    _renders_inside(disp.figure_, [disp.colorbar_.ax.yaxis.label, *disp.ax_.get_yticklabels()])
    # Without the mask the diagonal is the best pair; a negative entry lowers the floor.
    disp = AlignmentMatrixDisplay(matrix - 0.25).plot()
    assert disp.max_index_ == (0, 0) and disp.im_.get_clim() == pytest.approx((-0.05, 0.75))
    with pytest.raises(ValueError, match="mask_diagonal needs a square matrix"):
        AlignmentMatrixDisplay([[0.1, 0.2]]).plot(mask_diagonal=True)


def test_lambda_sweep_axis_has_no_empty_stretch_and_keeps_bands_and_labels():
    disp = LambdaSweepDisplay(
        [0, 0.5, 2, 8], {"acc": [0.7, 0.8, 0.75, 0.6], "acc_m0": [0.6, 0.6, 0.62, 0.6]},
        {"unbiased_cka": [0.1, 0.3, 0.5, 0.7]},
        performance_std={"acc": [0.01] * 4}, alignment_err={"unbiased_cka": [0.02] * 4},
    ).plot()
    for ax in (disp.ax_, disp.ax_alignment_):
        scale = ax.xaxis.get_transform()
        left, right = scale.transform(np.reshape(ax.get_xlim(), (-1, 1))).ravel()
        first, last = scale.transform([[0.0], [8.0]]).ravel()
        # A margin of 5 % of the drawn span each side: the end markers are whole.
        assert (first - left) == pytest.approx(0.05 * (last - first))
        assert (right - last) == pytest.approx(0.05 * (last - first))
    assert set(disp.bands_) == {"acc"} and set(disp.errorbars_) == {"unbiased_cka"}
    assert disp.bands_["acc"].axes is disp.ax_
    assert disp.errorbars_["unbiased_cka"].lines[2][0].axes is disp.ax_alignment_
    legend = [t.get_text() for t in disp.ax_.get_legend().get_texts()]
    assert legend == ["fused", "modality m0"]
    assert [t.get_text() for t in disp.ax_alignment_.get_legend().get_texts()] == ["unbiased CKA"]
    _renders_inside(disp.figure_, [disp.ax_.yaxis.label, disp.ax_alignment_.xaxis.label])


def test_pid_display_default_figure_clips_nothing_and_hides_no_total():
    disp = PIDDisplay([0.5, 0.1], [[0.1, 0.2], [0.0, 0.4]], [0.3, 0.05],
                      names=["a", "b"], modality_names=("image", "text")).plot()
    _renders_inside(disp.figure_, [disp.ax_.yaxis.label, disp.legend_, *disp.totals_])
    legend_box = disp.legend_.get_window_extent()
    for total in disp.totals_:
        assert not legend_box.overlaps(total.get_window_extent())
    assert [t.get_text() for t in disp.totals_] == ["1.1", "0.55"]


def test_demo_figure_shares_y_axes_across_regimes_with_error_bars_and_words():
    import pandas as pd

    from alignkit._cli._demo import _draw

    rng = np.random.default_rng(0)
    lams = [0.0, 0.5, 2.0]

    def summary(shift):
        return pd.DataFrame([
            {"lam": lam, "scorer": s, "mean": 0.7 + shift * lam + rng.normal(0, 0.01),
             "sem": 0.01, "delta": shift * lam, "delta_sem": 0.005 * (lam > 0), "t": 1.0}
            for s in ["fused", "m0", "m1", "cka"] for lam in lams])

    results = {r: ({"symmetric": summary(0.01 * r), "stop_gradient=[0]": summary(-0.07)},
                   {"fused": 0.9, "m0": 0.8, "m1": 0.8}) for r in (0, 8)}
    display = _draw(results, lams)
    axes = np.array(display.figure_.axes).reshape(4, 2)
    for row in axes:
        assert row[0].get_ylim() == row[1].get_ylim()
    for ax in axes.ravel():
        legend = [t.get_text() for t in ax.get_legend().get_texts()]
        assert not any(key in legend for key in ("m0", "m1", "acc_m0", "modality 0"))
        # Every curve of the seeds has its ± s.e. (bars or a band).
        assert ax.containers or ax.collections
    assert "modality m0" in [t.get_text() for t in axes[0, 0].get_legend().get_texts()]
