import re

import pytest

from alignkit._cli import main
from alignkit.datasets import make_rus_classification

# A reduced setting: 2 redundancy levels x 2 λ x 2 seeds x 2 variants, one epoch each.
SMALL = ["--redundancy", "0,8", "--lams", "0,1", "--seeds", "2", "--n-train", "64",
         "--n-test", "64", "--max-epochs", "1", "--n-jobs", "1", "--no-progress"]
CELL = r"([+-]?\d\.\d{3})±(\d\.\d{3})"


def test_demo_prints_paired_differences_ceilings_and_saves_the_plot(tmp_path, capsys):
    out_png = tmp_path / "sweep.png"
    assert main(["demo", *SMALL, "--output", str(out_png)]) == 0
    out = capsys.readouterr().out
    for r in (0, 8):
        ceilings = make_rus_classification(16, redundancy=r, heterogeneity=2, return_joint=True,
                                           random_state="paper").bayes_accuracy
        assert (f"Bayes ceilings: fused {ceilings['X1,X2']:.3f}, m0 {ceilings['X1']:.3f}, "
                f"m1 {ceilings['X2']:.3f}") in out
    rows = re.findall(rf"^\s*([08])\s+([01])\s+(\S+)\s+(\d\.\d{{3}})\s+{CELL}\s*(\S*)\s+{CELL}\s*(\S*)"
                      rf"\s+{CELL}\s*(\S*)\s+(-?\d\.\d{{3}})$", out, re.M)
    assert [(r, lam, variant) for r, lam, variant, *_ in rows] == [
        (r, lam, variant) for r in "08"
        for lam, variant in [("0", "-"), ("1", "symmetric"), ("1", "stop_gradient=[0]")]
    ]
    for r, lam, variant, fused, *cells, cka in rows:
        assert 0 <= float(fused) <= 1 and -1 <= float(cka) <= 1
        verdicts = cells[2::3]
        assert all(v in ("", "n.s.", "up", "down") for v in verdicts)
        if variant.startswith("stop_gradient"):
            # modality 0's encoder and head train exactly as at λ = 0
            assert cells[3:5] == ["+0.000", "0.000"]
    assert "λ > 0 that raises fused accuracy beyond noise" in out
    assert "Regularisation vs transfer at λ = 1: m0 under symmetric alignment (r = 0: " in out
    assert re.search(r"r = 8, stop_gradient=\[0\]: fused .*; m0 no change beyond noise; m1 ", out)
    assert f"plot written to {out_png}" in out
    assert out_png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    "argv, message",
    [
        (["demo", "--lams", "1,0"], "increasing non-negative numbers starting at 0"),
        (["demo", "--lams", "0.5,1"], "increasing non-negative numbers starting at 0"),
        (["demo", "--redundancy", "9"], "redundancy levels in 0..8"),
        (["demo", "--seeds", "1"], "--seeds must be at least 2"),
        (["demo", "--n-train", "10"], "--n-train and --n-test must be at least 16"),
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
    argv = [a for a in SMALL]
    argv[argv.index("--redundancy") + 1] = "8"
    code = main(["demo", *argv, "--output", str(tmp_path / "missing" / "sweep.png")])
    assert code == 2
    err = capsys.readouterr().err
    assert "cannot write the plot to" in err and "Traceback" not in err
