"""The documentation: the API page lists every public name, and the site builds.

The build test runs sphinx with warnings as errors and the examples not
executed (``ALIGNKIT_DOCS_FAST=1``); ``-m docs`` selects it, ``-m "not docs"``
leaves it out. The full build, examples included, is
``.venv/bin/python -m sphinx -W --keep-going -b html docs docs/_build/html``.
"""

import importlib
import importlib.util
import os
import pkgutil
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import alignkit

DOCS = Path(__file__).resolve().parent.parent / "docs"
_DOCS_PACKAGES = ("sphinx", "sphinx_gallery", "numpydoc", "pydata_sphinx_theme",
                  "sphinx-mathjax-offline")


def _public_modules():
    yield alignkit
    for info in pkgutil.walk_packages(alignkit.__path__, "alignkit."):
        if not any(part.startswith("_") for part in info.name.split(".")):
            yield importlib.import_module(info.name)


def _documented_entries():
    """``(module, name)`` for every autosummary entry of api.rst."""
    entries, module = [], None
    for line in (DOCS / "api.rst").read_text().splitlines():
        if match := re.match(r"\.\. currentmodule:: (\S+)", line):
            module = match.group(1)
        elif module and re.match(r"   [A-Za-z_]\w*$", line):
            entries.append((module, line.strip()))
    return entries


def test_api_reference_lists_every_public_name():
    entries = _documented_entries()
    not_public = [f"{m}.{n}" for m, n in entries
                  if n not in getattr(importlib.import_module(m), "__all__", [])]
    assert not_public == [], "docs/api.rst lists names that are not public"
    # A name re-exported by several modules (alignkit.CKAScorer) is documented once.
    documented = {id(getattr(importlib.import_module(m), n)) for m, n in entries}
    undocumented = [f"{module.__name__}.{name}" for module in _public_modules()
                    for name in getattr(module, "__all__", [])
                    if id(getattr(module, name)) not in documented]
    assert undocumented == [], "add these to docs/api.rst"


@pytest.mark.docs
@pytest.mark.timeout(600)
def test_docs_build_without_warnings(tmp_path):
    missing = [name for name in _DOCS_PACKAGES if importlib.util.find_spec(name) is None]
    if missing:
        pytest.skip(f"the docs extras are not installed (missing {missing}); "
                    "pip install -e '.[docs]'")
    env = {**os.environ, "ALIGNKIT_DOCS_FAST": "1", "MPLBACKEND": "Agg"}
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-E", "-q", "-b", "html",
         "-d", str(tmp_path / "doctrees"), str(DOCS), str(tmp_path / "html")],
        capture_output=True, text=True, env=env, timeout=600,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    html = tmp_path / "html"
    for page in ["index", "install", "quick_start", "user_guide", "api", "benchmarks",
                 "auto_examples/index", "generated/alignkit.plotting.LambdaSweepDisplay"]:
        assert (html / f"{page}.html").is_file(), page
    assert "from_cv_results" in (
        html / "generated/alignkit.plotting.LambdaSweepDisplay.html"
    ).read_text()
    # The math renders offline: MathJax comes from the build, not from a CDN.
    guide = (html / "user_guide.html").read_text()
    assert "_static/mathjax/tex-chtml.js" in guide and "cdn.jsdelivr" not in guide
    assert (html / "_static/mathjax/tex-chtml.js").is_file()


ROOT = DOCS.parent
# Inline commands; a bare ``alignkit FILE`` in prose names a placeholder, not a command.
_COMMAND_START = r"(?:\.venv/bin/|python3? -m )"


def _shell_lines(path):
    """The shell command lines a page shows: code blocks and inline commands."""
    text = path.read_text()
    if path.suffix == ".md":
        blocks = re.findall(r"```bash\n(.*?)```", text, re.S)
        inline = re.findall(rf"`({_COMMAND_START}[^`]+)`", text)
    else:
        blocks = re.findall(r"\.\. code-block:: bash\n\n((?:    .*\n|\n)+)", text)
        inline = re.findall(rf"``({_COMMAND_START}[^`]+)``", text)
        blocks += ["\n".join(re.findall(r"^    \$ (.*)$", b, re.M)) for b in
                   re.findall(r"\.\. code-block:: console\n\n((?:    .*\n|\n)+)", text)]
    lines = [line.split(" #")[0].strip() for block in blocks for line in block.splitlines()]
    return [line for line in lines + inline if line]


def _setup_cfg():
    import configparser

    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    return config


def _problems(command, config):
    """What in one simple command does not exist in this repository or environment."""
    import importlib.metadata
    import shlex

    from alignkit._cli import build_parser

    tokens = shlex.split(command)
    exe, args = tokens[0].removeprefix(".venv/bin/"), tokens[1:]
    extras = set(config["options.extras_require"])
    scripts = config["options.entry_points"]["console_scripts"]
    if exe == "python3" and args[:2] == ["-m", "venv"]:
        return []
    if exe == "pip":
        problems = [] if args[0] == "install" else [f"pip {args[0]}"]
        for flag, value in zip(args, args[1:] + [""]):
            if flag == "-c" and not (ROOT / value).is_file():
                problems.append(f"no constraints file {value}")
            if flag == "-e":
                spec = re.fullmatch(r"\.(?:\[(.*)\])?", value)
                if spec is None:
                    problems.append(f"pip install -e {value}: not this repository")
                    continue
                wanted = set(spec.group(1).split(",")) if spec.group(1) else set()
                problems += [f"no extra {e!r} in setup.cfg" for e in wanted - extras]
        names = [a for k, a in enumerate(args[1:], 1)
                 if not a.startswith("-") and args[k - 1] not in ("-c", "-e")]
        for name in names:
            try:
                importlib.metadata.distribution(name)
            except importlib.metadata.PackageNotFoundError:
                problems.append(f"pip package {name} is not installed here")
        return problems
    if exe == "python" and args[0] == "-m":
        module, rest = args[1], args[2:]
        if importlib.util.find_spec(module) is None:
            return [f"no module {module}"]
        if module == "sphinx":
            valued = {"-b", "-d", "-c", "-D", "-j", "-t", "-w"}  # options that take a value
            source = [a for k, a in enumerate(rest) if not a.startswith("-")
                      and (k == 0 or rest[k - 1] not in valued)][0]
            return [] if (ROOT / source / "conf.py").is_file() else [f"no sphinx source {source}"]
        if module == "alignkit":
            exe, args = "alignkit", rest
        else:
            return []
    if exe == "alignkit":
        if not scripts.strip().startswith("alignkit = alignkit._cli:main"):
            return ["no alignkit console script in setup.cfg"]
        if not args:  # the command named in prose ("python -m alignkit works too")
            return []
        try:
            build_parser().parse_args(args)
        except SystemExit as exc:
            return [] if exc.code == 0 else [f"alignkit rejects {args}"]
        return []
    return [f"unknown command {exe!r}"]


@pytest.mark.parametrize("page", ["README.md", "docs/install.rst", "docs/quick_start.rst",
                                  "docs/cli.rst"])
def test_documented_shell_commands_exist_as_written(page, capsys):
    """Every command line parses and names files, extras, packages and entry points that exist."""
    config = _setup_cfg()
    lines = _shell_lines(ROOT / page)
    assert lines, f"{page} shows no shell command"
    for line in lines:
        check = subprocess.run(["bash", "-n", "-c", line], capture_output=True, text=True)
        assert check.returncode == 0, f"{page}: {line!r} is not valid shell: {check.stderr}"
        for command in line.split("&&"):
            assert _problems(command.strip(), config) == [], f"{page}: {command.strip()!r}"
    # The cheap ones run: every sub-command's --help, and --version.
    from alignkit import __version__
    from alignkit._cli import main

    for sub in sorted({m.group(1) for line in lines
                       for m in re.finditer(r"alignkit (\w+)", line) if m.group(1) != "COMMAND"}):
        with pytest.raises(SystemExit) as exc:
            main([sub, "--help"])
        assert exc.value.code == 0 and f"usage: alignkit {sub}" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["--version"])
    assert capsys.readouterr().out.strip() == f"alignkit {__version__}"


def _python_blocks(page):
    return [textwrap.dedent(b) for b in re.findall(
        r"\.\. code-block:: python\n\n((?:    .*\n|\n)+)", (DOCS / page).read_text())]


def _console_blocks(page):
    """``(argv, expected output lines)`` of every ``$ alignkit ...`` transcript of a page."""
    import shlex

    runs = []
    for block in re.findall(r"\.\. code-block:: console\n\n((?:    .*\n|\n)+)",
                            (DOCS / page).read_text()):
        lines = textwrap.dedent(block).rstrip("\n").splitlines()
        runs.append((shlex.split(lines[0].removeprefix("$ "))[1:], lines[1:]))
    return runs


def test_cli_page_transcripts_are_what_the_commands_print(tmp_path, monkeypatch, capsys):
    """docs/cli.rst: its code writes the example files; each transcript is the real output."""
    import matplotlib

    from alignkit._cli import main

    matplotlib.use("Agg")
    monkeypatch.chdir(tmp_path)
    (block,) = _python_blocks("cli.rst")
    exec(compile(block, "cli.rst", "exec"), {})
    runs = _console_blocks("cli.rst")
    assert len(runs) == 3
    for argv, expected in runs:
        assert main(argv) == 0
        printed = capsys.readouterr().out.rstrip("\n").splitlines()
        assert printed == expected, argv
    assert (tmp_path / "pid.png").stat().st_size > 0


@pytest.mark.docs
@pytest.mark.timeout(900)
def test_quick_start_runs_as_written(tmp_path, monkeypatch, capsys):
    """The quick start's code blocks in order, its printed PID, then its command lines."""
    import matplotlib
    import torch

    from alignkit._cli import main

    matplotlib.use("Agg")
    torch.set_num_threads(1)
    monkeypatch.chdir(tmp_path)
    namespace = {}
    blocks = _python_blocks("quick_start.rst")
    exec(compile(blocks[0], "quick_start.rst", "exec"), namespace)
    printed = capsys.readouterr().out
    text = (DOCS / "quick_start.rst").read_text()
    shown = textwrap.dedent(re.search(r"The first step prints::\n\n((?:    .*\n)+)", text).group(1))
    assert printed.startswith(shown), printed
    for block in blocks[1:]:
        exec(compile(block, "quick_start.rst", "exec"), namespace)
    commands = [line.split()[1:] for line in _shell_lines(DOCS / "quick_start.rst")
                if line.startswith("alignkit ")]
    assert [argv[0] for argv in commands] == ["demo", "pid", "align"]
    for argv in commands[1:]:  # test_demo.py runs the demo, scaled down
        assert main(argv) == 0, argv
