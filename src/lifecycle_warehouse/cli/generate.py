"""`lw generate`: synthetic landing data of all sources plus manifest.json."""

from __future__ import annotations

import argparse
import datetime as dt


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "generate",
        help="generate synthetic landing data (docs/landing_contract.md)",
        description="Generate the landing files of all sources plus manifest.json.",
    )
    p.add_argument("--out", required=True, help="landing directory to write")
    p.add_argument("--seed", type=int, default=42,
                   help="random seed: same arguments, byte-identical files")
    size = p.add_mutually_exclusive_group()
    size.add_argument("--persons", type=int, help="number of persons (default 20000)")
    size.add_argument("--events", type=int,
                      help="approximate web+app+messaging rows; persons derived from a "
                           "measured events/person factor")
    p.add_argument("--days", type=int, default=365, help="days of activity generated")
    p.add_argument("--start-date", type=dt.date.fromisoformat, default=dt.date(2025, 1, 1),
                   metavar="YYYY-MM-DD", help="first day of the generated period")
    p.add_argument("--chunk-persons", type=int, default=10_000,
                   help="persons per chunk / output part (default 10000)")
    p.add_argument("--no-defects", action="store_true", help="inject no defects, no drift")
    p.add_argument("--no-traps", action="store_true",
                   help="no kiosk ids / exclusion-seed ids (over-merge traps)")
    p.add_argument("--overwrite", action="store_true",
                   help="replace existing landing data in --out")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from lifecycle_warehouse.generate.command import run

    return run(args)
