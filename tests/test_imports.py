"""Light imports: the numpy-only parts of alignkit and its command line start without torch."""

import subprocess
import sys

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
