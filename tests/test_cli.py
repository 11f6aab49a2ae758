"""The ``alignkit`` command line: output of each sub-command and one-line errors."""

import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from alignkit._cli import main
from alignkit.metrics import linear_cka, mutual_knn, unbiased_cka


@pytest.fixture
def representations(tmp_path, rng):
    a = rng.normal(size=(200, 6))
    b = a @ rng.normal(size=(6, 4)) + 0.3 * rng.normal(size=(200, 4))
    c = rng.normal(size=(200, 3))
    path = tmp_path / "reps.npz"
    np.savez(path, image=a, text=b, audio=c)
    return path, (a, b, c)


def _run(argv, capsys):
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def _table(out):
    """Rows of a printed table after its header line: first cell, then floats."""
    lines = out.splitlines()
    header = next(k for k, line in enumerate(lines) if line.startswith(("pair", "component")))
    rows = {}
    for line in lines[header + 1:]:
        if not line.strip():
            break
        label, *cells = line.rsplit(maxsplit=len(lines[header].split()) - 1)
        if cells:
            rows[label.strip()] = cells
    return lines[header].split()[1:], rows


def test_align_prints_each_metric_for_each_modality_pair(representations, capsys):
    path, (a, b, c) = representations
    code, out, err = _run(["align", str(path)], capsys)
    assert code == 0 and err == ""
    assert "200 samples" in out and "image (6 columns)" in out
    metrics, rows = _table(out)
    assert metrics == ["linear_cka", "unbiased_cka", "mutual_knn"]
    assert set(rows) == {"image ~ text", "image ~ audio", "text ~ audio"}
    expected = [linear_cka(a, b), unbiased_cka(a, b), mutual_knn(a, b, k=10)]
    np.testing.assert_allclose([float(v) for v in rows["image ~ text"]], expected, atol=1e-4)


def test_align_metric_lists_dims_csv_prefixes_and_plot(tmp_path, representations, capsys):
    _, (a, b, _) = representations
    npz = tmp_path / "x.npz"
    np.savez(npz, X=np.hstack([a, b]))
    code, out, _ = _run(["align", str(npz), "--modality-dims", "6,4",
                         "--metric", "unbiased_cka", "--metric", "mutual_knn,linear_cka",
                         "-k", "5"], capsys)
    metrics, rows = _table(out)
    assert code == 0 and metrics == ["unbiased_cka", "mutual_knn", "linear_cka"]
    assert float(rows["m0 ~ m1"][1]) == pytest.approx(mutual_knn(a, b, k=5), abs=1e-4)

    frame = pd.DataFrame(np.hstack([a, b]),
                         columns=[f"img__{k}" for k in range(6)] + [f"txt__{k}" for k in range(4)])
    csv = tmp_path / "x.csv"
    frame.to_csv(csv, index=False)
    png = tmp_path / "align.png"
    code, out, _ = _run(["align", str(csv), "--metric", "linear_cka", "--plot", str(png)], capsys)
    _, rows = _table(out)
    assert code == 0 and float(rows["img ~ txt"][0]) == pytest.approx(linear_cka(a, b), abs=1e-4)
    assert png.stat().st_size > 0 and f"plot written to {png}" in out


def _write(tmp_path, name, content):
    path = tmp_path / name
    if isinstance(content, dict):
        np.savez(path, **content)
    else:
        path.write_text(content)
    return str(path)


@pytest.mark.parametrize(
    "make_argv, message",
    [
        (lambda t: ["align", str(t / "missing.npz")], "no such file"),
        (lambda t: ["align", _write(t, "a.txt", "1,2\n")], "unsupported file type .txt"),
        (lambda t: ["align", _write(t, "bad.npz", "not a zip")], "not a .npz archive"),
        (lambda t: ["align", _write(t, "one.npz", {"only": np.ones((5, 2))})],
         "expected an array 'X' or one array per modality"),
        (lambda t: ["align", _write(t, "rows.npz", {"a": np.ones((5, 2)), "b": np.ones((4, 2))})],
         "same number of rows"),
        (lambda t: ["align", _write(t, "nan.npz", {"X": np.full((5, 4), np.nan)})],
         "NaN or infinite"),
        (lambda t: ["align", _write(t, "x.npz", {"X": np.ones((5, 4))}), "--modality-dims", "3,3"],
         r"--modality-dims 3,3 sums to 6 columns but X has 4"),
        (lambda t: ["align", _write(t, "x.npz", {"X": np.ones((5, 4))}), "--metric", "cosine"],
         "unknown metric \\['cosine'\\]"),
        (lambda t: ["align", _write(t, "x.npz", {"X": np.ones((5, 4))}), "-k", "10"],
         r"--neighbors must satisfy 1 <= --neighbors < n_samples .*got --neighbors = 10"),
        (lambda t: ["align", _write(t, "s.csv", "a__x,b__y\n1,z\n2,w\n")],
         "non-numeric feature columns"),
        (lambda t: ["align", _write(t, "x.npz", {"X": np.ones((5, 4))}), "--metric",
                    "linear_cka", "--plot", str(t / "no" / "dir.png")], "cannot write the plot"),
    ],
)
def test_align_errors_are_one_line_with_exit_code_2(tmp_path, capsys, make_argv, message):
    code, out, err = _run(make_argv(tmp_path), capsys)
    assert code == 2
    err = "".join(line for line in err.splitlines(True) if not line.startswith("note: "))  # a halves layout
    assert len(err.strip().splitlines()) == 1 and err.startswith("alignkit align: error: ")
    assert re.search(message, err), err


def test_bad_arguments_exit_2_and_every_command_has_help(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["align", "x.npz", "--modality-dims", "3,x"])
    assert exc.value.code == 2
    assert "expected comma-separated positive integers" in capsys.readouterr().err
    for command in ["align", "pid"]:
        with pytest.raises(SystemExit) as exc:
            main([command, "--help"])
        assert exc.value.code == 0
        assert f"usage: alignkit {command}" in capsys.readouterr().out


def test_python_dash_m_runs_the_command_line(representations):
    path, _ = representations
    result = subprocess.run([sys.executable, "-m", "alignkit", "align", str(path) + "x"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"alignkit align: error: no such file: {path}x"
    ]


@pytest.fixture
def redundant_data(rng):
    """Both modalities see the label: PID mostly redundancy."""
    y = rng.integers(0, 2, size=600)
    shared = y[:, None] + 0.3 * rng.normal(size=(600, 1))
    X = np.hstack([shared + 0.1 * rng.normal(size=(600, 3)),
                   shared + 0.1 * rng.normal(size=(600, 2)),
                   rng.normal(size=(600, 2))])
    return X, y


def test_pid_table_matches_the_estimator(tmp_path, redundant_data, capsys):
    from alignkit import PIDEstimator

    X, y = redundant_data
    path = tmp_path / "data.npz"
    np.savez(path, X=X, y=y, modality_dims=[3, 2, 2])
    png = tmp_path / "pid.png"
    code, out, _ = _run(["pid", str(path), "--n-clusters", "4", "--plot", str(png)], capsys)
    assert code == 0 and "600 samples, 2 classes" in out
    _, rows = _table(out)
    est = PIDEstimator(modality_dims=[3, 2, 2], n_clusters=4, random_state=0).fit(X, y)
    expected = est.atoms_
    printed = [float(rows[k][0]) for k in
               ["redundancy R", "unique U1 (m0)", "unique U2 (m1)", "synergy S"]]
    np.testing.assert_allclose(printed, expected, atol=1e-4)
    assert float(rows["total I(X1,X2;Y)"][0]) == pytest.approx(sum(expected), abs=1e-3)
    assert float(rows["synergy S"][1]) == pytest.approx(est.corrected_[3], abs=1e-4)
    assert "share: of the plug-in atoms" in out and out.splitlines()[-2].startswith("regime: ")
    assert "information retained by the discretisation: " in out
    assert png.stat().st_size > 0

    # The third modality is noise: against it, modality 0's information is unique.
    code, out, _ = _run(["pid", str(path), "--n-clusters", "4", "--pair", "0,2",
                         "--units", "nats"], capsys)
    _, rows = _table(out)
    assert code == 0 and "nats" in out
    assert float(rows["unique U1 (m0)"][0]) > 5 * float(rows["redundancy R"][0])


def test_pid_batch_estimator_table_matches_the_estimator(tmp_path, redundant_data, capsys):
    from alignkit import BatchPIDEstimator

    X, y = redundant_data
    path = tmp_path / "data.npz"
    np.savez(path, X=X[:, :5], y=y, modality_dims=[3, 2])
    code, out, _ = _run(["pid", str(path), "--estimator", "batch"], capsys)
    assert code == 0 and "bias-corrected" not in out
    _, rows = _table(out)
    est = BatchPIDEstimator(modality_dims=[3, 2], random_state=0).fit(X[:, :5], y)
    printed = [float(rows[k][0]) for k in
               ["redundancy R", "unique U1 (m0)", "unique U2 (m1)", "synergy S"]]
    np.testing.assert_allclose(printed, est.atoms_, atol=1e-4)
    code, _, err = _run(["pid", str(path), "--estimator", "batch", "--permutations", "3"], capsys)
    assert code == 2 and "--permutations is for --estimator plugin" in err


def test_pid_bins_a_continuous_target(tmp_path, redundant_data, capsys):
    X, y = redundant_data
    path = tmp_path / "reg.npz"
    np.savez(path, X=X[:, :5], y=y + 0.2 * X[:, 5], modality_dims=[3, 2])
    code, out, _ = _run(["pid", str(path), "--n-clusters", "4", "--y-threshold", "0.5"], capsys)
    assert code == 0 and "2 classes" in out
    code, out, _ = _run(["pid", str(path), "--n-clusters", "4", "--n-bins-y", "3"], capsys)
    assert code == 0 and float(_table(out)[1]["redundancy R"][0]) > 0.2


def test_pid_reads_a_csv_with_target_and_prefixes(tmp_path, redundant_data, capsys):
    X, y = redundant_data
    frame = pd.DataFrame(X[:, :5], columns=["img__a", "img__b", "img__c", "txt__a", "txt__b"])
    frame.insert(2, "label", y)
    path = tmp_path / "data.csv"
    frame.to_csv(path, index=False)
    code, out, err = _run(["pid", str(path), "--target", "label", "--n-clusters", "4"], capsys)
    assert code == 0
    _, rows = _table(out)
    assert {"unique U1 (img)", "unique U2 (txt)"} <= set(rows)
    assert float(rows["redundancy R"][0]) > 0.3


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--n-clusters", "4"], "has no target"),
        (["--target", "lab"], "no column 'lab' for --target"),
        (["--target", "label", "--pair", "0,5"], "the file has 2 modalities"),
        (["--target", "label", "--n-clusters", "0"], "--n-clusters must be an int in the range [1, inf)"),
        (["--target", "label", "--n-bins-y", "1"], "--n-bins-y must be an int in the range [2, inf)"),
        (["--target", "label", "--drop", "nope"], "no column 'nope' for --drop"),
        (["--target", "score"], "y is continuous; PID needs a discrete target. Set --n-bins-y"),
    ],
)
def test_pid_errors_are_one_line_with_exit_code_2(tmp_path, redundant_data, capsys, argv, message):
    X, y = redundant_data
    frame = pd.DataFrame(X[:, :4], columns=["a__0", "a__1", "b__0", "b__1"])
    if "score" in argv:
        frame["score"] = X[:, 0] + 0.1
    else:
        frame["label"] = y
    path = tmp_path / "d.csv"
    frame.to_csv(path, index=False)
    code, _, err = _run(["pid", str(path), *argv], capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert err.startswith("alignkit pid: error: ") and message in err


def test_pid_bad_pair_is_an_argument_error(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["pid", "x.npz", "--pair", "1,1"])
    assert exc.value.code == 2
    assert "expected two different modality indices" in capsys.readouterr().err


def test_align_csv_label_column_target_drop_and_the_halves_note(tmp_path, representations, capsys):
    _, (a, b, _) = representations
    frame = pd.DataFrame(np.hstack([a[:, :3], b[:, :3]]))
    frame["label"] = np.arange(len(frame)) % 2
    frame["id"] = np.arange(len(frame))
    path = tmp_path / "plain.csv"
    frame.to_csv(path, index=False)
    code, out, err = _run(["align", str(path), "--metric", "linear_cka"], capsys)
    # Split by default: the label and id columns land in the second half, and the note says so.
    assert code == 0 and "m0 (4 columns), m1 (4 columns)" in out
    assert err.startswith("note: plain.csv: ") and "two halves [4, 4]" in err
    for flag in ["--modality-dims", "--target COLUMN", "--drop COLUMN"]:
        assert flag in err
    assert "modality_dims" not in err
    code, out, err = _run(["align", str(path), "--target", "label", "--drop", "id",
                           "--metric", "linear_cka"], capsys)
    _, rows = _table(out)
    assert code == 0 and "m0 (3 columns), m1 (3 columns)" in out
    assert float(rows["m0 ~ m1"][0]) == pytest.approx(linear_cka(a[:, :3], b[:, :3]), abs=1e-4)
    code, _, err = _run(["align", str(path), "--drop", "label", "--drop", "id",
                         "--modality-dims", "3,3", "--metric", "linear_cka"], capsys)
    assert code == 0 and err == ""
    code, _, err = _run(["align", str(representations[0]), "--drop", "image"], capsys)
    assert code == 2 and "--target and --drop name columns of a .csv" in err


def test_align_prints_every_metrics_chance_level_without_permutations(tmp_path, rng, capsys):
    from alignkit.metrics import alignment_test

    a = rng.normal(size=(30, 5)) * [1, 2, 3, 4, 5]
    b = a[:, :3] + rng.normal(size=(30, 3))
    path = tmp_path / "small.npz"
    np.savez(path, a=a, b=b)
    code, out, _ = _run(["align", str(path), "-k", "1", "--metric",
                         "linear_cka,unbiased_cka,mutual_knn,svcca"], capsys)
    assert code == 0
    chance_block = out[out.index("chance level"):]
    _, rows = _table(chance_block)
    linear, unbiased, knn, svcca = (float(v) for v in rows["a ~ b"])
    assert knn == pytest.approx(1 / 29, abs=1e-4) and "k/(n-1) = 1/29" in out
    assert unbiased == 0.0
    # The closed form against a long permutation null (s.e. about 3e-4).
    null = alignment_test(a, b, metric="linear_cka", n_permutations=4000,
                          confidence_level=None, random_state=0).null_mean
    assert linear == pytest.approx(null, abs=1.5e-3) and linear > 0.05
    assert svcca > 0 and "mean of 50 re-pairings" in out


def test_pid_with_permutations_shares_and_plot_from_corrected_atoms(tmp_path, redundant_data,
                                                                   capsys, monkeypatch):
    from alignkit import PIDEstimator
    from alignkit.plotting import PIDDisplay

    X, y = redundant_data
    path = tmp_path / "data.npz"
    np.savez(path, X=X[:200, :5], y=y[:200], modality_dims=[3, 2])
    drawn = {}
    plot = PIDDisplay.plot
    monkeypatch.setattr(PIDDisplay, "plot", lambda self, **kw: drawn.setdefault("d", plot(self, **kw)))
    argv = ["pid", str(path), "--n-clusters", "8", "--permutations", "10", "--plot",
            str(tmp_path / "p.png")]
    code, out, err = _run(argv, capsys)
    assert code == 0
    est = PIDEstimator(modality_dims=[3, 2], n_clusters=8, n_permutations=10,
                       random_state=0).fit(X[:200, :5], y[:200])
    shown = np.maximum(est.corrected_, 0)
    _, rows = _table(out)
    shares = [float(rows[k][2].rstrip("%")) for k in
              ["redundancy R", "unique U1 (m0)", "unique U2 (m1)", "synergy S"]]
    np.testing.assert_allclose(shares, 100 * shown / shown.sum(), atol=0.06)
    np.testing.assert_allclose(drawn["d"].values_[0], shown)
    assert "share: of the bias-corrected atoms (10 shuffled-label permutations)" in out
    for label, value in zip(["redundancy R", "unique U1", "unique U2", "synergy S"], est.corrected_):
        assert (f"{label} is negative after correction" in out) == (value < 0)
    assert out.splitlines()[-2].startswith("regime: redundant") and "user guide" in out
    assert "n_permutations" not in err and "n_clusters" not in err
