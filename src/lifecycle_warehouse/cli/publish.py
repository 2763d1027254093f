"""`lw publish`: audit an existing build (every layer's dbt tests and gates) and publish it."""

from __future__ import annotations

import argparse
from pathlib import Path

from lifecycle_warehouse.cli.arguments import add_build_arguments
from lifecycle_warehouse.cli.build import run as run_build


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "publish",
        help="audit an existing build (every layer's dbt tests and gates) and publish it",
        description=(
            "For a build database made by a plain `dbt build` (which runs dbt tests but no "
            "gates and never publishes): runs each layer's dbt tests and Great Expectations "
            "gate on the database as it is, then publishes the marts atomically, exactly as "
            "`lw build` does at its end. Nothing is built; a failing check leaves the "
            "serving file unchanged. Give the --sources / --vars the dbt build used. "
            "An audit tests whole tables (var test_scope: all), not only the rows the "
            "last run wrote."
        ),
    )
    p.add_argument("--sources", type=Path, metavar="FILE.yml",
                   help="the sources file the build was made from (default: the demo sources)")
    p.add_argument("--vars", metavar="YAML", help="the dbt vars the build was made with")
    p.add_argument("--database", type=Path, help="build database (default: LW_DUCKDB_PATH "
                   "or data/build/lifecycle.duckdb)")
    add_build_arguments(p)
    p.set_defaults(handler=run, source="synthetic", as_of_date=None, no_sample=True,
                   sample=False, full_refresh=False, no_publish=False,
                   whole_table_tests=True)


def run(args: argparse.Namespace) -> int:
    return run_build(args, audit_only=True)
