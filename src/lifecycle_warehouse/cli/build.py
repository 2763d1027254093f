"""`lw build`: generate the default sample if needed, gated build, publish, summary.

Synthetic data goes through write–audit–publish (`gated_build`): staging, identity +
intermediate and marts are each built and gated (dbt tests + Great Expectations); the
marts are published atomically to the serving file only when every gate passed.

`lw build --sources FILE.yml` builds the sources a declaration file names (docs/sources.md):
the file is checked before any model runs (lifecycle_warehouse.pipeline.sources), then the same
gated build publishes all 9 marts. `lw build --source cdnow` is that for sources/cdnow.yml
(the CDNOW data set of the lifetimes package) as of 1998-06-30, into its own database and
serving file.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import logging
import os
import sys
import time
from pathlib import Path

from lifecycle_warehouse.cli.arguments import add_build_arguments
from lifecycle_warehouse.pipeline.gated_build import BuildInputs
from lifecycle_warehouse.pipeline.project import PROJECT_ROOT, Paths
from lifecycle_warehouse.pipeline.runner import (
    CDNOW_AS_OF_DATE,
    CDNOW_DECLARATION,
    DEMO_DECLARATION,
    BuildError,
    cdnow_database,
    cdnow_serving_path,
    dbt_log_path,
    declaration_environ,
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
            "When the default landing directory (data/landing) is empty, the default sample "
            f"is generated first (seed {SAMPLE['seed']}, {SAMPLE['persons']:,} persons, "
            f"{SAMPLE['days']} days from {SAMPLE['start_date']}); a landing directory you "
            "name (--landing or LW_LANDING_DIR) must hold your files, unless --sample."
        ),
    )
    p.add_argument("--source", choices=("synthetic", "cdnow"), default="synthetic",
                   help="synthetic: the demo landing files (default); cdnow: the CDNOW "
                   "transactions shipped with lifetimes (LW_CDNOW_PATH overrides the file) as "
                   f"of {CDNOW_AS_OF_DATE}, into their own database and serving file "
                   "(= --sources sources/cdnow.yml)")
    p.add_argument("--sources", type=Path, metavar="FILE.yml",
                   help="build the sources this declaration file names (docs/sources.md); "
                   "checked before any model runs; default database data/build/<name>.duckdb "
                   "and serving file data/serving/<name>.duckdb (<name>: the file's, or its "
                   "folder's for a sources.yml)")
    p.add_argument("--as-of-date", metavar="YYYY-MM-DD",
                   help="pin as_of_date (default: the last complete day in the data)")
    p.add_argument("--database", type=Path, help="DuckDB file to build (default: "
                   "LW_DUCKDB_PATH or data/build/lifecycle.duckdb; with --source cdnow: "
                   "LW_CDNOW_DUCKDB_PATH or data/build/cdnow.duckdb)")
    add_build_arguments(p)
    p.add_argument("--full-refresh", action="store_true", help="pass --full-refresh to dbt")
    p.add_argument("--whole-table-tests", action="store_true",
                   help="run every data test on whole tables (var test_scope: all); without "
                   "it an incremental run tests the rows it wrote in each incremental model. "
                   "Run it weekly (docs/testing.md)")
    p.add_argument("--no-publish", action="store_true",
                   help="build and gate, but do not publish")
    p.add_argument("--no-sample", action="store_true",
                   help="fail instead of generating the sample when the default landing "
                   "directory is empty")
    p.add_argument("--sample", action="store_true",
                   help="generate the default sample into a named landing directory that is "
                   "empty or absent (without it, a named directory without data is an error)")
    p.add_argument("--vars", metavar="YAML",
                   help="dbt vars for this build, as for `dbt build --vars` (a YAML/JSON "
                   "mapping, e.g. '{as_of_date: 2025-06-30}'); they override the sources "
                   "file's and the project's")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace, *, audit_only: bool = False) -> int:
    paths = Paths.default()
    if args.landing:
        paths = dataclasses.replace(paths, landing_dir=args.landing.resolve())
    if args.database:
        paths = dataclasses.replace(paths, database=args.database.resolve())
    started = time.perf_counter()
    from lifecycle_warehouse.pipeline.gated_build import format_gate_summary, gated_build
    from lifecycle_warehouse.pipeline.project import default_serving_path

    declaration = args.sources
    if args.source == "cdnow":
        if declaration is not None:
            print("lw build: give --source cdnow or --sources, not both", file=sys.stderr)
            return 2
        declaration = CDNOW_DECLARATION
        args.as_of_date = args.as_of_date or CDNOW_AS_OF_DATE
        paths = dataclasses.replace(
            paths, database=args.database.resolve() if args.database else cdnow_database())
        args.serving = args.serving or cdnow_serving_path()
    elif declaration is not None:
        # a declared build never lands in (or publishes over) the demo's files
        name = declared_build_name(declaration)
        if not args.database:
            paths = dataclasses.replace(
                paths, database=(PROJECT_ROOT / "data" / "build" / f"{name}.duckdb").resolve())
        args.serving = args.serving or PROJECT_ROOT / "data" / "serving" / f"{name}.duckdb"
    serving = (args.serving or default_serving_path()).resolve()
    # dbt's log to a file and one progress line per layer, unless --verbose
    dbt_log = None if args.stream_dbt else dbt_log_path(paths.database)
    try:
        extra_vars = parse_vars(args.vars)
        if args.whole_table_tests:
            if extra_vars.get("test_scope", "all") != "all":
                raise BuildError("--whole-table-tests and --vars test_scope: "
                                 f"{extra_vars['test_scope']} contradict each other. "
                                 "Fix: give one of them")
            extra_vars["test_scope"] = "all"
        inputs = build_inputs(declaration, as_of_date=args.as_of_date, extra_vars=extra_vars)
        if declaration is None and not audit_only and should_generate_sample(args):
            ensure_sample(paths, **SAMPLE)
        report = gated_build(paths, serving, keep=args.keep, target=args.target,
                             full_refresh=args.full_refresh, publish_result=not args.no_publish,
                             inputs=inputs, audit_only=audit_only, dbt_log=dbt_log)
    except BuildError as error:
        print(f"lw {'publish' if audit_only else 'build'} failed: {error}", file=sys.stderr)
        log_file = getattr(error, "dbt_log", None)  # set once the build held its lock
        if log_file is not None and log_file.is_file() and log_file.stat().st_size:
            print(f"The full dbt log: {log_file}", file=sys.stderr)
        return 1
    steps = [step for step in (report.seed, *(layer.dbt for layer in report.layers)) if step]
    served = report.published.serving_db if report.published is not None else None
    print(format_summary(paths, steps, time.perf_counter() - started, serving=served))
    print()
    print(format_gate_summary(report))
    return 0


def declared_inputs(declaration: Path, *, as_of_date: str | None = None) -> BuildInputs:
    """A sources file checked and turned into what a gated build reads; BuildError with the
    file's problem (source, column, fix) before any model runs."""
    from lifecycle_warehouse.pipeline.sources import (
        SourceConfigError,
        check_declaration,
        dbt_vars,
        load_declaration,
    )

    declaration = declaration.resolve()
    try:
        decl = load_declaration(declaration, environ=declaration_environ(declaration))
        build_vars = dbt_vars(decl, check_declaration(decl))
    except SourceConfigError as error:
        raise BuildError(f"{declaration}: {error}") from None
    if as_of_date:
        build_vars["as_of_date"] = _checked_date(as_of_date)
    return BuildInputs(declaration=declaration, dbt_vars=build_vars, gates=decl.gates,
                       # one target dir per sources file: their manifests differ (under
                       # $DBT_TARGET_PATH when set, as dbt's own target dir is)
                       target_path=Path(os.environ.get("DBT_TARGET_PATH")
                                        or PROJECT_ROOT / "target")
                       / "sources" / f"{declaration.parent.name}-{declaration.stem}")


def build_inputs(declaration: Path | None, *, as_of_date: str | None,
                 extra_vars: dict) -> BuildInputs | None:
    """What the gated build reads: the sources file's (None: the demo default), with
    as_of_date pinned and --vars applied; None when nothing differs from the demo default."""
    if "as_of_date" in extra_vars:
        if as_of_date:
            raise BuildError("as_of_date is given twice (--as-of-date and --vars). "
                             "Fix: give it once")
        as_of_date = str(extra_vars.pop("as_of_date"))
    if declaration is None and not as_of_date and not extra_vars:
        return None
    inputs = declared_inputs(declaration or DEMO_DECLARATION, as_of_date=as_of_date)
    inputs.dbt_vars.update(extra_vars)
    return inputs


def parse_vars(text: str | None) -> dict:
    """--vars as dbt reads it: a YAML (or JSON) mapping."""
    if not text:
        return {}
    import yaml

    try:
        parsed = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise BuildError(f"--vars {text!r} is not YAML ({error.problem}). "
                         "Fix: give a mapping, e.g. --vars '{as_of_date: 2025-06-30}'") from None
    if not isinstance(parsed, dict):
        raise BuildError(f"--vars {text!r} is not a mapping. "
                         "Fix: give a mapping, e.g. --vars '{as_of_date: 2025-06-30}'")
    return parsed


def should_generate_sample(args: argparse.Namespace) -> bool:
    """The default sample is generated only into the default landing directory
    (data/landing), or into a named one with --sample: a directory named by --landing
    or LW_LANDING_DIR that holds no data is an error (a typo must never publish
    synthetic data over the serving file)."""
    if args.no_sample:
        return False
    return args.sample or (args.landing is None and "LW_LANDING_DIR" not in os.environ)


def declared_build_name(declaration: Path) -> str:
    """The default file name of a declared build: the sources file's name, or its folder's
    when the file is called sources.yml (examples/my_shop/sources.yml -> my_shop)."""
    declaration = declaration.resolve()
    return declaration.parent.name if declaration.stem == "sources" else declaration.stem


def _checked_date(value: str) -> str:
    try:
        return datetime.date.fromisoformat(value).isoformat()
    except ValueError:
        raise BuildError(f"--as-of-date {value!r} is not a date. Fix: give YYYY-MM-DD") from None
