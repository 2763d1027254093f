"""`lw rollback`: serve a previous published version of the serving file again."""

from __future__ import annotations

import argparse
import sys

from lifecycle_warehouse.cli.arguments import add_serving_argument, serving_path
from lifecycle_warehouse.cli.versions import warn_stale_dashboard


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "rollback",
        help="serve a previous published version again (atomic)",
        description="Atomically replaces the serving file with a kept version: by default "
        "the one published before the version being served. Open readers keep what they "
        "have until they reconnect.",
    )
    add_serving_argument(p)
    p.add_argument("--to", metavar="BUILD_ID", help="build id to serve (see `lw versions`)")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from lifecycle_warehouse.pipeline.publish import PublishError, rollback

    serving = serving_path(args)
    try:
        result = rollback(serving, args.to)
    except PublishError as error:
        print(f"lw rollback failed: {error}", file=sys.stderr)
        return 1
    print(f"Serving build {result.build_id} at {result.serving_db} "
          f"({len(result.tables)} tables, {sum(result.tables.values()):,} rows). "
          "Readers see it when they reconnect.")
    if result.moved_wal:
        print(f"warning: a client had opened the serving file read-write; its WAL was moved "
              f"to {result.moved_wal} (BI must connect read-only)")
    warn_stale_dashboard(serving)
    return 0
