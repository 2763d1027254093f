"""Options several subcommands share (no subcommand here): the serving file, the build's."""

from __future__ import annotations

import argparse
from pathlib import Path

from lifecycle_warehouse.pipeline.project import default_serving_path


def add_serving_argument(parser: argparse.ArgumentParser) -> None:
    """--serving: the published file a command reads (lw versions, rollback)."""
    parser.add_argument("--serving", type=Path, default=None,
                        help="serving file (default: LW_SERVING_PATH or "
                        "data/serving/lifecycle.duckdb)")


def serving_path(args: argparse.Namespace) -> Path:
    """--serving resolved, else default_serving_path()."""
    return args.serving.resolve() if args.serving else default_serving_path()


def add_build_arguments(p: argparse.ArgumentParser) -> None:
    """The options `lw build` and `lw publish` share: landing, dbt target, serving file."""
    p.add_argument("--landing", type=Path, help="landing directory (default: LW_LANDING_DIR "
                   "or data/landing)")
    p.add_argument("--target", help="dbt target from profiles/profiles.yml (default: dev)")
    p.add_argument("--serving", type=Path, help="published file BI reads (default: "
                   "LW_SERVING_PATH or data/serving/lifecycle.duckdb)")
    p.add_argument("--keep", type=int, default=5,
                   help="published versions kept for `lw rollback` (default 5)")
    p.add_argument("--verbose", dest="stream_dbt", action="store_true",
                   help="stream dbt's log to the terminal (default: one progress line per "
                   "layer; the full dbt log goes to <database>.dbt.log, named in the summary)")
