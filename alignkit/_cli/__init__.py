"""The ``alignkit`` command line: one sub-command per module in this package.

Each sub-command module defines ``NAME``, ``HELP``, ``add_arguments(parser)``
and ``run(args) -> int``. A :class:`CLIError` becomes a one-line message and
exit code 2, never a traceback.
"""

import argparse
import importlib
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
        cmd.set_defaults(_run=module.run)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args._run(args)
    except (CLIError, FileNotFoundError, ValueError) as exc:
        print(f"alignkit {args.command}: error: {exc}", file=sys.stderr)
        return 2
