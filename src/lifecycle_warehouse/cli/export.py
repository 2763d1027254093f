"""`lw export`: the served build's audiences to the destinations of destinations.yml."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from lifecycle_warehouse.activation.export import DEFAULT_CONFIG_PATH, ExportError, export_all


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "export",
        help="send the served build's audiences to the destinations of destinations.yml",
        description="Exports the audience changes (or members) of the build in the serving "
        "file to each destination of destinations.yml: CSV / JSON lines files, or batched "
        "webhook POSTs (retried, resumable, an Idempotency-Key per batch). Holdout persons "
        "are never exported; only persons reachable on a destination's channel are; raw "
        "email / phone only where contact_fields asks (hashes otherwise). See "
        "docs/activation.md (Export) and examples/destinations.yml.",
    )
    p.add_argument("--serving", type=Path, default=None,
                   help="serving file (default: LW_SERVING_PATH or "
                   "data/serving/lifecycle.duckdb, where lw build publishes)")
    p.add_argument("--destinations", type=Path, default=None,
                   help=f"destinations config (default: {DEFAULT_CONFIG_PATH.name} in the "
                   "project root; example: examples/destinations.yml)")
    p.add_argument("--only", action="append", metavar="NAME",
                   help="export only this destination (repeatable)")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from lifecycle_warehouse.pipeline.project import default_serving_path

    serving = args.serving.resolve() if args.serving else default_serving_path()
    config = args.destinations or DEFAULT_CONFIG_PATH
    try:
        summary = export_all(serving, config, only=args.only,
                             progress=lambda line: print(line, flush=True))
    except ExportError as error:
        print(f"lw export: {error}", file=sys.stderr)
        return 1
    print(summary.line())
    for error in summary.errors:
        print(f"lw export: {error}", file=sys.stderr)
    return 0 if summary.ok else 1
