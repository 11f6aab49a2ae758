"""Light imports: the numpy-only parts of alignkit and its command line start without torch."""

import subprocess
import sys

import pytest

import alignkit


def _run(code):
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)


def test_import_alignkit_leaves_torch_out():
    result = _run("import sys, alignkit; print('torch' in sys.modules, 'skorch' in sys.modules)")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "False"]


def test_top_level_names_resolve_on_first_use():
    from alignkit._aligned import AlignedMultimodalClassifier

    assert alignkit.AlignedMultimodalClassifier is AlignedMultimodalClassifier
    assert set(alignkit.__all__) <= set(dir(alignkit))
    assert alignkit.metrics.__name__ == "alignkit.metrics"


def test_cli_help_and_version_leave_torch_out():
    result = _run("import sys; from alignkit._cli import main\n"
                  "try:\n    main(['--version'])\nexcept SystemExit as exc:\n"
                  "    print(exc.code, 'torch' in sys.modules)")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [f"alignkit", alignkit.__version__, "0", "False"]
    result = _run("import sys; from alignkit._cli import build_parser; build_parser(); "
                  "print('torch' in sys.modules)")
    assert result.stdout.split() == ["False"], result.stderr


def test_numpy_functions_of_pid_and_metrics_leave_torch_out():
    result = _run(
        "import sys, numpy as np\n"
        "from alignkit.pid import pid_from_joint, pid_from_samples, PIDSolverError\n"
        "from alignkit.metrics import (alignment_matrix, alignment_test, cknna, linear_cka,\n"
        "    mutual_knn, rbf_cka, svcca, unbiased_cka)\n"
        "A = np.random.default_rng(0).normal(size=(40, 3))\n"
        "pid_from_joint(np.full((2, 2, 2), 1 / 8)); unbiased_cka(A, A); mutual_knn(A, A, k=3)\n"
        "print('torch' in sys.modules)"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False"]


def test_torch_backed_names_resolve_lazily_to_their_classes():
    from alignkit.metrics import AlignmentAccumulator, CKAScorer
    from alignkit.metrics._cka_scorer import CKAScorer as defined
    from alignkit.pid import BatchPIDEstimator, PIDEstimator

    assert CKAScorer is defined is alignkit.CKAScorer
    assert PIDEstimator is alignkit.PIDEstimator and BatchPIDEstimator is alignkit.BatchPIDEstimator
    assert {"AlignmentAccumulator", "CKAScorer"} <= set(dir(alignkit.metrics))
    assert AlignmentAccumulator.__module__ == "alignkit.metrics._streaming"
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        alignkit.metrics.nope  # noqa: B018
