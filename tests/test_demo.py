import re

import pytest

from alignkit._cli import main


def test_demo_prints_the_sweep_table_and_saves_the_plot(tmp_path, capsys):
    out_png = tmp_path / "sweep.png"
    code = main(["demo", "--redundancy", "0,8", "--lams", "0,1", "--n-samples", "512",
                 "--max-epochs", "2", "--output", str(out_png), "--no-progress"])
    assert code == 0
    out = capsys.readouterr().out
    rows = re.findall(r"^\s+([08])\s+([01])\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+(-?[\d.]+)", out, re.M)
    assert [(r, lam) for r, lam, *_ in rows] == [("0", "0"), ("0", "1"), ("8", "0"), ("8", "1")]
    for *_, fused, m0, m1, cka in rows:
        assert all(0.0 <= float(v) <= 1.0 for v in (fused, m0, m1))
        assert -1.0 <= float(cka) <= 1.0
    assert len(re.findall(r"λ\* = [01] for r = [08]", out)) == 2
    assert f"plot written to {out_png}" in out
    assert out_png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    "argv, message",
    [
        (["demo", "--lams", "1,0"], "increasing non-negative numbers"),
        (["demo", "--redundancy", "9"], "redundancy levels in 0..8"),
        (["demo", "--n-samples", "10"], "--n-samples must be at least 64"),
    ],
)
def test_demo_rejects_bad_arguments_in_one_line(argv, message, capsys):
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's own usage errors
        code = exc.code
    assert code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_demo_reports_an_unwritable_plot_path_in_one_line(tmp_path, capsys):
    code = main(["demo", "--redundancy", "8", "--lams", "0", "--n-samples", "256",
                 "--max-epochs", "1", "--output", str(tmp_path / "missing" / "sweep.png"),
                 "--no-progress"])
    assert code == 2
    err = capsys.readouterr().err
    assert "cannot write the plot to" in err and "Traceback" not in err
