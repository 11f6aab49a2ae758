"""The ``alignkit`` command line: one sub-command per module in this package.

Each sub-command module defines ``NAME``, ``HELP``, ``FLAGS``,
``add_arguments(parser)`` and ``run(args) -> int``. A :class:`CLIError`, or
an estimator's or metric's own ``ValueError``, becomes a one-line message and
exit code 2, never a traceback; ``FLAGS`` maps the Python parameter names in
such messages to the command's flags.
"""

import argparse
import importlib
import re
import sys

from .. import __version__

_COMMANDS = ["_demo", "_pid", "_align"]


class CLIError(Exception):
    """A bad file or argument, reported to the user in one line."""


def comma_list(cast, valid, expected):
    """An argparse ``type``: comma-separated values, each cast, the list checked by ``valid``."""

    def parse(text):
        try:
            values = [cast(v) for v in text.split(",") if v.strip()]
        except ValueError:
            values = []
        if not values or not valid(values):
            raise argparse.ArgumentTypeError(f"expected {expected}; got {text!r}")
        return values

    return parse


def flag_names(text, flags):
    """``text`` with the Python parameter names of ``flags`` replaced by their CLI flags."""
    # scikit-learn's "The 'n_clusters' parameter of PIDEstimator must be ..." -> "--n-clusters must be ..."
    text = re.sub(r"The '(\w+)' parameter of \w+ must",
                  lambda m: f"{flags[m.group(1)]} must" if m.group(1) in flags else m.group(0),
                  text)
    # "modality_dims=[3, 3]" -> "--modality-dims 3,3", as typed
    text = re.sub(r"\b(\w+)=\[([\d, ]+)\]",
                  lambda m: (f"{flags[m.group(1)]} {m.group(2).replace(' ', '')}"
                             if m.group(1) in flags else m.group(0)), text)
    if flags:
        names = "|".join(sorted(map(re.escape, flags), key=len, reverse=True))
        text = re.sub(rf"(?<![\w-])'?({names})'?(?![\w-])", lambda m: flags[m.group(1)], text)
    return text


def build_parser():
    parser = argparse.ArgumentParser(
        prog="alignkit",
        description="Measure and control multimodal representation alignment.",
    )
    parser.add_argument("--version", action="version", version=f"alignkit {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module_name in _COMMANDS:
        module = importlib.import_module(f"{__name__}.{module_name}")
        cmd = sub.add_parser(module.NAME, help=module.HELP, description=module.HELP)
        module.add_arguments(cmd)
        cmd.set_defaults(_run=module.run, _flags=module.FLAGS)
    return parser


def one_line(exc):
    """An exception's message on one line, its whitespace runs collapsed."""
    return " ".join(str(exc).split())


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args._run(args)
    except CLIError as exc:
        print(f"alignkit {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except (FileNotFoundError, ValueError) as exc:  # the estimator's own check, in flag names
        message = flag_names(one_line(exc), args._flags)
        print(f"alignkit {args.command}: error: {message}", file=sys.stderr)
        return 2
