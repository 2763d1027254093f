"""`lw query "<sql>"`: one SQL statement on the serving file, opened read-only.

What BI reads is the serving file (default data/serving/lifecycle.duckdb), never the
build database: this opens the serving file read-only, as a BI tool must, so it never
blocks a publish. No extra install (the duckdb CLI is not a dependency; the duckdb
Python package is). Without SQL it lists the published tables.
"""

from __future__ import annotations

import argparse
import sys

from lifecycle_warehouse.cli.arguments import add_serving_argument, serving_path

TABLES_SQL = ("select table_schema, table_name from information_schema.tables "
              "where table_schema in ('marts', 'meta') order by all")


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "query",
        help="run one SQL query on the serving file (read-only); no SQL: list its tables",
        description="Opens the serving file read-only (as BI does) and prints the result "
        "of one SQL statement, e.g. lw query \"select stage, count(*) from "
        "marts.fct_customer_lifecycle group by all\". Without SQL: the published tables.",
    )
    p.add_argument("sql", nargs="?", default=None,
                   help="the SQL statement (default: list the tables of schemas marts, meta)")
    add_serving_argument(p)
    p.add_argument("--max-rows", type=int, default=40, help="rows shown at most")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    import duckdb

    serving = serving_path(args)
    if not serving.is_file():
        print(f"lw query: no serving file at {serving}. Fix: build and publish first "
              "(`lw build`), or name one with --serving", file=sys.stderr)
        return 1
    try:
        with duckdb.connect(str(serving), read_only=True) as con:
            relation = con.sql(args.sql or TABLES_SQL)
            if relation is None:  # a statement without a result (e.g. SET)
                return 0
            relation.show(max_rows=args.max_rows)
    except duckdb.Error as error:
        print(f"lw query: {error} (the serving file is read-only: select only)",
              file=sys.stderr)
        return 1
    return 0
