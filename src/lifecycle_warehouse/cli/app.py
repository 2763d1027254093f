"""`lw`, the command line: the top-level parser, the entry point and what every command shares.

Each subcommand is a module of this package with the same two functions:
`add_parser(sub)` registers it (its options, `handler=run`) and `run(args) -> int`
runs it; `SUBCOMMANDS` lists them in the order `lw --help` shows. A subcommand module
imports what it runs lazily, so `lw --help` stays fast.

`main` is the entry point (`[project.scripts] lw`): it parses, sets up logging, hides
the FutureWarnings / DeprecationWarnings of the third-party libraries named in
`QUIET_WARNING_MODULES`, and ends quietly when stdout is closed early (`lw versions |
head`).
"""

from __future__ import annotations

import argparse
import copy
import importlib
import logging
import os
import sys
import warnings
from collections.abc import Sequence

# (subcommand module of lifecycle_warehouse.cli, in `lw --help` order)
SUBCOMMANDS = ("generate", "build", "publish", "versions", "rollback", "query", "report",
               "export", "clv_holdout", "clv_scale", "bench", "spark_build")

# Libraries whose FutureWarnings / DeprecationWarnings are theirs to fix, not the user's:
# pyspark warns about pandas 3 whenever Great Expectations imports it (every gate).
QUIET_WARNING_MODULES = r"(pyspark|great_expectations|lifetimes|autograd)(\.|$)"

# Exit status after stdout was closed by its reader: 128 + SIGPIPE, as a shell reports
# a process that SIGPIPE ended.
BROKEN_PIPE_STATUS = 141


class DefaultsHelpFormatter(argparse.HelpFormatter):
    """Help with each option's default, "(default: …)", unless its text already names it
    or there is none to show (None, False)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        default = action.default
        if (default in (None, False, argparse.SUPPRESS) or "default" in text.lower()
                or not action.option_strings):
            return action.help
        return f"{text} (default: %(default)s)".lstrip()

    def _format_action(self, action: argparse.Action) -> str:
        if action.help is None and action.default not in (None, False, argparse.SUPPRESS):
            action = copy.copy(action)  # an option without help text still shows its default
            action.help = ""
            action.help = self._get_help_string(action)
        return super()._format_action(action)


class LwArgumentParser(argparse.ArgumentParser):
    """The parser of `lw` and of each subcommand: the defaults formatter everywhere."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("formatter_class", DefaultsHelpFormatter)
        super().__init__(*args, **kwargs)


def build_parser() -> LwArgumentParser:
    parser = LwArgumentParser(prog="lw", description="Lifecycle Warehouse tooling")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=LwArgumentParser)
    for name in SUBCOMMANDS:
        importlib.import_module(f"lifecycle_warehouse.cli.{name}").add_parser(sub)
    return parser


def quiet_third_party_warnings() -> None:
    """Hide FutureWarning / DeprecationWarning raised from QUIET_WARNING_MODULES only."""
    for category in (FutureWarning, DeprecationWarning):
        warnings.filterwarnings("ignore", category=category, module=QUIET_WARNING_MODULES)


def parse(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> argparse.Namespace:
    """parse_args, but an unknown option is reported with the subcommand's usage
    (argparse's own message shows the top-level usage)."""
    args, extras = parser.parse_known_args(argv)
    if extras:
        sub = next(action for action in parser._actions
                   if isinstance(action, argparse._SubParsersAction))
        sub.choices[args.command].error(f"unrecognized arguments: {' '.join(extras)}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    quiet_third_party_warnings()
    args = parse(build_parser(), argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    try:
        status = int(args.handler(args))
        sys.stdout.flush()  # a closed pipe shows here, not at interpreter exit
    except BrokenPipeError:
        # the reader went away (`lw versions | head`): no traceback, and no second
        # error when Python flushes stdout at exit
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return BROKEN_PIPE_STATUS
    return status


if __name__ == "__main__":
    sys.exit(main())
