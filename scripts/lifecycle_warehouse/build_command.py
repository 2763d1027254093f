"""`lw build`: generate the default sample if needed, gated build, publish, summary.

Synthetic data goes through write–audit–publish (`gated_build`): staging, identity +
intermediate and marts are each built and gated (dbt tests + Great Expectations); the
marts are published atomically to the serving file only when every gate passed.

`lw build --source cdnow` builds the value / RFM / lifecycle marts from the CDNOW data
set of the lifetimes package instead, into its own database.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import sys
import time
from pathlib import Path

from lifecycle_warehouse.project import Paths
from lifecycle_warehouse.runner import (
    CDNOW_AS_OF_DATE,
    BuildError,
    build_cdnow,
    cdnow_database,
    cdnow_file,
    ensure_sample,
    format_summary,
)

log = logging.getLogger(__name__)

# The default sample `make build` generates when the landing directory is empty.
SAMPLE = {"seed": 42, "persons": 20_000, "days": 365, "start_date": "2025-01-01"}


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "build",
        help="build the warehouse with dbt (seed + models + tests) and summarise",
        description=(
            "Runs dbt seed and dbt build on the landing files and prints what was built. "
            "When the landing directory is empty, the default sample is generated first "
            f"(seed {SAMPLE['seed']}, {SAMPLE['persons']:,} persons, {SAMPLE['days']} days "
            f"from {SAMPLE['start_date']})."
        ),
    )
    p.add_argument("--source", choices=("synthetic", "cdnow"), default="synthetic",
                   help="synthetic: the landing files (default); cdnow: the CDNOW transactions "
                   "shipped with lifetimes (LW_CDNOW_PATH overrides the file), value / RFM / "
                   f"lifecycle marts as of {CDNOW_AS_OF_DATE}, into their own database")
    p.add_argument("--landing", type=Path, help="landing directory (default: LW_LANDING_DIR "
                   "or data/landing)")
    p.add_argument("--database", type=Path, help="DuckDB file to build (default: "
                   "LW_DUCKDB_PATH or data/build/lifecycle.duckdb; with --source cdnow: "
                   "LW_CDNOW_DUCKDB_PATH or data/build/cdnow.duckdb)")
    p.add_argument("--target", help="dbt target from profiles/profiles.yml (default: dev)")
    p.add_argument("--full-refresh", action="store_true", help="pass --full-refresh to dbt")
    p.add_argument("--serving", type=Path, help="published file BI reads (default: "
                   "LW_SERVING_PATH or data/serving/lifecycle.duckdb)")
    p.add_argument("--keep", type=int, default=5,
                   help="published versions kept for `lw rollback` (default 5)")
    p.add_argument("--no-publish", action="store_true",
                   help="build and gate, but do not publish")
    p.add_argument("--no-sample", action="store_true",
                   help="fail instead of generating the sample when landing data is missing")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    paths = Paths.default()
    if args.landing:
        paths = dataclasses.replace(paths, landing_dir=args.landing.resolve())
    if args.database:
        paths = dataclasses.replace(paths, database=args.database.resolve())
    started = time.perf_counter()
    if args.source == "cdnow":
        return _run_cdnow(args, paths, started)
    from lifecycle_warehouse.gated_build import format_gate_summary, gated_build
    from lifecycle_warehouse.publish_command import default_serving_path

    serving = (args.serving or default_serving_path()).resolve()
    try:
        if not args.no_sample:
            ensure_sample(paths, **SAMPLE)
        report = gated_build(paths, serving, keep=args.keep, target=args.target,
                             full_refresh=args.full_refresh, publish_result=not args.no_publish)
    except BuildError as error:
        print(f"lw build failed: {error}", file=sys.stderr)
        return 1
    steps = [report.seed, *(layer.dbt for layer in report.layers)]
    print(format_summary(paths, steps, time.perf_counter() - started))
    print()
    print(format_gate_summary(report))
    return 0


def _run_cdnow(args: argparse.Namespace, paths: Paths, started: float) -> int:
    paths = dataclasses.replace(
        paths, database=args.database.resolve() if args.database else cdnow_database()
    )
    try:
        source = f"CDNOW transactions in {cdnow_file()} (as of {CDNOW_AS_OF_DATE})"
        steps = build_cdnow(paths, target=args.target, full_refresh=args.full_refresh)
    except BuildError as error:
        print(f"lw build --source cdnow failed: {error}", file=sys.stderr)
        return 1
    print(format_summary(paths, steps, time.perf_counter() - started, source=source))
    return 0
