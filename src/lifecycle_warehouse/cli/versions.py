"""`lw versions` and `lw rollback`: the published versions of the serving file.

Publishing itself happens at the end of a fully gated `lw build` only; there is no
command that publishes an arbitrary database.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from lifecycle_warehouse.project import PROJECT_ROOT


def default_serving_path() -> Path:
    """The file BI reads: env LW_SERVING_PATH, else data/serving/lifecycle.duckdb."""
    default = PROJECT_ROOT / "data" / "serving" / "lifecycle.duckdb"
    return Path(os.environ.get("LW_SERVING_PATH", default)).resolve()


def _add_serving(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--serving", type=Path, default=None,
                        help="serving file (default: LW_SERVING_PATH or "
                        "data/serving/lifecycle.duckdb)")


def add_parsers(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "versions",
        help="list the kept published versions of the serving file",
        description="Lists versions/<name>-<build_id>.duckdb next to the serving file, "
        "newest first; * marks the one being served.",
    )
    _add_serving(p)
    p.set_defaults(handler=run_versions)

    p = sub.add_parser(
        "rollback",
        help="serve a previous published version again (atomic)",
        description="Atomically replaces the serving file with a kept version: by default "
        "the one published before the version being served. Open readers keep what they "
        "have until they reconnect.",
    )
    _add_serving(p)
    p.add_argument("--to", metavar="BUILD_ID", help="build id to serve (see `lw versions`)")
    p.set_defaults(handler=run_rollback)


def _serving(args: argparse.Namespace) -> Path:
    return args.serving.resolve() if args.serving else default_serving_path()


def run_versions(args: argparse.Namespace) -> int:
    from lifecycle_warehouse.publish import list_versions

    serving = _serving(args)
    versions = list_versions(serving)
    if not versions:
        print(f"No published versions of {serving} (publish with a passing `lw build`).")
        return 0
    print(f"Versions of {serving} (* = served)")
    print(f"  {'build id':<28} {'published at (UTC)':<20} {'as_of_date':<11} {'MB':>8}")
    for v in versions:
        published = f"{v.published_at:%Y-%m-%d %H:%M:%S}" if v.published_at else "?"
        as_of = str(v.as_of_date) if v.as_of_date else "?"
        mark = "*" if v.is_current else " "
        print(f"{mark} {v.build_id:<28} {published:<20} {as_of:<11} "
              f"{v.size_bytes / 1e6:>8.1f}")
    _warn_stale_dashboard(serving)
    return 0


def _warn_stale_dashboard(serving: Path) -> None:
    from lifecycle_warehouse.report import dashboard_status

    if status := dashboard_status(serving):
        print(f"warning: {status}")


def run_rollback(args: argparse.Namespace) -> int:
    from lifecycle_warehouse.publish import PublishError, rollback

    serving = _serving(args)
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
    _warn_stale_dashboard(serving)
    return 0
