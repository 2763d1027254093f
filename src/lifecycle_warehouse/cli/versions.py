"""`lw versions`: the kept published versions of the serving file, newest first."""

from __future__ import annotations

import argparse
from pathlib import Path

from lifecycle_warehouse.cli.arguments import add_serving_argument, serving_path


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "versions",
        help="list the kept published versions of the serving file",
        description="Lists versions/<name>-<build_id>.duckdb next to the serving file, "
        "newest first; * marks the one being served.",
    )
    add_serving_argument(p)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from lifecycle_warehouse.pipeline.publish import list_versions

    serving = serving_path(args)
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
    warn_stale_dashboard(serving)
    return 0


def warn_stale_dashboard(serving: Path) -> None:
    from lifecycle_warehouse.report.render import dashboard_status

    if status := dashboard_status(serving):
        print(f"warning: {status}")


