"""`lw spark-build`: build the project on Apache Spark and compare its marts with DuckDB."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from lifecycle_warehouse.engines.spark.build import (
    FLOAT_RTOL,
    build,
    compare_marts,
    spark_dir_default,
)
from lifecycle_warehouse.pipeline.project import Paths


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "spark-build",
        help="build the project on Apache Spark (dbt-spark) and compare its marts with DuckDB",
        description=(
            "Runs dbt seed + dbt build (models and data tests) with the `spark` target of "
            "profiles/profiles.yml on a local Spark session (pip install -e '.[spark]', Java "
            "17+). With --compare-with, every mart is compared with the marts of a DuckDB "
            "build of the same landing files."
        ),
    )
    p.add_argument("--source", choices=("synthetic", "cdnow"), default="synthetic",
                   help="synthetic: the landing files (default); cdnow: the CDNOW marts, as "
                   "`lw build --source cdnow` (compare with data/build/cdnow.duckdb)")
    p.add_argument("--landing", type=Path, help="landing directory (default: LW_LANDING_DIR "
                   "or data/landing)")
    p.add_argument("--spark-dir", type=Path, default=None,
                   help="metastore + warehouse directory (default: LW_SPARK_DIR or data/spark)")
    p.add_argument("--full-refresh", action="store_true", help="pass --full-refresh to dbt")
    p.add_argument("--compare-with", type=Path, default=None, metavar="DUCKDB_FILE",
                   help="a DuckDB build (or serving file) of the same landing files: compare "
                   "every mart; exit 1 on any difference")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from lifecycle_warehouse.pipeline.runner import BuildError, require_landing

    paths = Paths.default()
    landing = (args.landing or paths.landing_dir).resolve()
    spark_dir = (args.spark_dir or spark_dir_default()).resolve()
    try:
        if args.source == "synthetic":
            require_landing(Paths(landing, paths.database, paths.temp_dir))
        seconds = build(landing, spark_dir, full_refresh=args.full_refresh, source=args.source)
    except BuildError as error:
        print(f"lw spark-build failed: {error}", file=sys.stderr)
        return 1
    built = landing if args.source == "synthetic" else "CDNOW"
    print(f"Spark build of {built} into {spark_dir}: {seconds:.1f} s")
    if args.compare_with is None:
        return 0
    compare_with = args.compare_with.resolve()
    if not compare_with.is_file():
        print(f"lw spark-build: no DuckDB file at {compare_with} (build it with `lw build "
              f"--landing {landing}` first)", file=sys.stderr)
        return 2
    results = compare_marts(compare_with, spark_dir)
    print(f"Marts compared with {compare_with} (doubles within {FLOAT_RTOL:g} relative):")
    for result in results:
        verdict = "same" if result.ok else "DIFFERENT"
        print(f"  {result.table:<28} {result.rows:>9,} rows  {verdict}")
        for difference in result.differences:
            print(f"      {difference}")
    return 0 if results and all(r.ok for r in results) else 1
