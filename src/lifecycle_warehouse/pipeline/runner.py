"""Runs the dbt project through dbtRunner and reports what was built.

`lw build` = `dbt seed` + `dbt build` on the landing directory, then a summary read
from the run results and the built database (row counts per layer, reconciliation
of raw vs staged + quarantined + duplicates, RFM segments). The write-audit-publish
gates of a later issue hook in here, layer by layer.

`lw build --source cdnow` (sources/cdnow.yml through the gated build) builds the marts
from the real CDNOW transactions shipped with `lifetimes` into their own database
(default data/build/cdnow.duckdb), never the synthetic one.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import re
import sys
import threading
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lifecycle_warehouse.pipeline.project import (
    LANDING_FOLDER_OF_SOURCE,
    PROFILES_DIR,
    PROJECT_ROOT,
    Paths,
    missing_landing_sources,
)

log = logging.getLogger(__name__)

# Schemas the summary lists (those that exist in the database: a CDNOW build has no
# identity schema).
SUMMARY_SCHEMAS = ("staging", "identity", "intermediate", "marts")

# CDNOW (SPEC §3): the data set ends on 1998-06-30, the observation end of the
# lifetimes reference; the marts the CDNOW build makes, with all their parents.
CDNOW_AS_OF_DATE = "1998-06-30"
CDNOW_DECLARATION = PROJECT_ROOT / "sources" / "cdnow.yml"
DEMO_DECLARATION = PROJECT_ROOT / "sources" / "demo.yml"


class BuildError(RuntimeError):
    """A build step failed; the message says which and where to look. tests_failed: dbt
    data tests failed (their rows are in schema test_failures), not only a model."""

    def __init__(self, message: str, *, tests_failed: bool = False) -> None:
        super().__init__(message)
        self.tests_failed = tests_failed


@dataclass
class StepResult:
    """Outcome of one dbt invocation."""

    command: str
    seconds: float
    statuses: Counter = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@contextmanager
def _environment(values: dict[str, str]):
    previous = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in previous.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _release_duckdb() -> None:
    """Closes the DuckDB database dbt-duckdb keeps open in this process.

    dbt-duckdb caches one read-write handle per process; while it lives, nobody else
    (not even a read-only connection of this process) may open the file.
    """
    try:
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    except ImportError:  # another adapter: nothing cached
        return
    environment = DuckDBConnectionManager._ENV
    if environment is not None:
        environment.close()
    DuckDBConnectionManager.close_all_connections()


def dbt_log_path(database: Path) -> Path:
    """Where `lw build` (without --verbose) writes dbt's log: next to the build database,
    `<database>.dbt.log` (e.g. data/build/lifecycle.duckdb.dbt.log)."""
    return database.with_name(database.name + ".dbt.log")


_ANSI_COLOUR = re.compile(r"\x1b\[[0-9;]*m")


class DbtProgress:
    """A dbtRunner callback: dbt's console lines to `log_file` (appended), and one
    progress line on stderr per dbt command (`label`): on a terminal a tqdm bar of the
    nodes done, elsewhere (a CI log, a pipe) the line "<label> <done>/<total> nodes in
    <s> s" when the command ends."""

    def __init__(self, log_file: Path, label: str, *, counts_nodes: bool = True) -> None:
        self.log = open(log_file, "a", encoding="utf-8")  # noqa: SIM115 - closed in close()
        # dbt calls back from its worker threads, and a text file object is not
        # thread-safe: unguarded, concurrent writes put garbage bytes into the log
        self.lock = threading.Lock()
        self.label, self.done, self.total = label, 0, 0
        self.started = time.perf_counter()
        self.bar = None
        self.counts_nodes = counts_nodes  # False (dbt parse): no bar, "<label> done in <s> s"
        if counts_nodes and sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=None, desc=f"{label:<12}", unit="node", file=sys.stderr,
                            dynamic_ncols=True, leave=True)

    def __call__(self, event: Any) -> None:
        with self.lock:
            self._record(event)

    def _record(self, event: Any) -> None:
        info = event.info
        if info.name == "NodeFinished":  # a model, test, seed, snapshot or unit test done
            self.done += 1
            if self.bar is not None:
                self.bar.update(1)
            return
        total = getattr(event.data, "total", 0) if info.name == "LogStartLine" else 0
        if total and total != self.total:
            self.total = total
            if self.bar is not None:
                self.bar.total = total
                self.bar.refresh()
        if info.level in ("info", "warn", "error") and info.msg:
            message = _ANSI_COLOUR.sub("", info.msg)  # a file, not a terminal
            self.log.write(f"{info.ts.ToDatetime():%H:%M:%S}  {message}\n")

    def close(self) -> None:
        self.log.close()
        if self.bar is not None:
            self.bar.close()
            return
        if not self.counts_nodes:
            print(f"{self.label:<12} done in {time.perf_counter() - self.started:.1f} s",
                  file=sys.stderr, flush=True)
            return
        print(f"{self.label:<12} {self.done}/{self.total or self.done} nodes in "
              f"{time.perf_counter() - self.started:.1f} s", file=sys.stderr, flush=True)


# dbt options that choose nodes (and their values): what run_dbt leaves out when it
# re-runs the failed tests of a command with --store-failures.
_SELECTION_OPTIONS = {"--select", "-s", "--models", "-m", "--exclude", "--selector",
                      "--resource-type", "--resource-types", "--exclude-resource-type",
                      "--exclude-resource-types", "--indirect-selection"}
_SELECTION_SWITCHES = {"--full-refresh", "--fail-fast", "-x"}


def _without_selection(args: list[str]) -> list[str]:
    """args (after the dbt verb) minus node selection, keeping vars, target path, ..."""
    kept: list[str] = []
    skipping = False
    for arg in args:
        if arg.startswith("-"):
            skipping = arg in _SELECTION_OPTIONS
            if not skipping and arg not in _SELECTION_SWITCHES:
                kept.append(arg)
        elif not skipping:
            kept.append(arg)
    return kept


def parse_project(args: list[str], paths: Paths, target: str | None = None, *,
                  log_file: Path | None = None) -> Any:
    """`dbt parse` once (args: vars, target path); returns the Manifest that run_dbt(...,
    manifest=) reuses, so the commands of one build share one parse instead of each
    loading the project again (DECISIONLOG "One parse per build; failing rows stored
    only for failing tests")."""
    step_args = ["parse", *args]
    outcome = _invoke(step_args, paths, target, log_file=log_file, label="parse",
                      counts_nodes=False)
    if not outcome.success or outcome.result is None:
        raise BuildError(f"`dbt parse` failed: {outcome.exception or 'see the dbt log'}"
                         + (f" ({log_file})" if log_file else ""))
    return outcome.result


def _invoke(full_args: list[str], paths: Paths, target: str | None, *,
            log_file: Path | None, label: str | None, manifest: Any = None,
            counts_nodes: bool = True) -> Any:
    """One dbtRunner invocation in the build's environment; the dbtRunnerResult."""
    from dbt.cli.main import dbtRunner

    full_args = [*full_args, "--project-dir", str(PROJECT_ROOT),
                 "--profiles-dir", str(PROFILES_DIR)]
    if target:
        full_args += ["--target", target]
    progress = None
    if log_file is not None:
        # console quiet; dbt's own debug file log (logs/dbt.log) stays as it was (dbt would
        # otherwise give the file the console's level)
        full_args += ["--log-level", "none"]
        if "DBT_LOG_LEVEL_FILE" not in os.environ:
            full_args += ["--log-level-file", "debug"]
        progress = DbtProgress(log_file, label or full_args[0], counts_nodes=counts_nodes)
    paths.database.parent.mkdir(parents=True, exist_ok=True)
    paths.temp_dir.mkdir(parents=True, exist_ok=True)
    with _environment(paths.dbt_env()):
        try:
            runner = dbtRunner(manifest=manifest, callbacks=[progress] if progress else None)
            return runner.invoke(full_args)
        finally:
            _release_duckdb()
            if progress is not None:
                progress.close()


def _node_message(node_result: Any, status: str) -> str:
    node = node_result.node
    where = getattr(node, "relation_name", None) or node.original_file_path
    failures = getattr(node_result, "failures", None)
    detail = f"{failures} failing rows" if failures else (node_result.message or "")
    return f"{node.resource_type} {node.name}: {status} — {detail} ({where})"


def _store_failing_rows(names: list[str], args: list[str], paths: Paths, target: str | None,
                        *, log_file: Path | None, manifest: Any) -> dict[str, Any]:
    """Runs the named tests again with --store-failures (and the vars and paths of `args`,
    never writing run_results.json over the command's own); their node results by name,
    only those that failed or warned again, i.e. whose rows are now in test_failures."""
    rerun_args = ["test", "--select", *names, "--store-failures",
                  *_without_selection(args[1:])]
    if "--no-write-json" not in rerun_args:
        rerun_args.append("--no-write-json")
    outcome = _invoke(rerun_args, paths, target, log_file=log_file, label="failing rows",
                      manifest=manifest)
    if outcome.exception is not None:
        log.warning("could not store the failing rows of %s: %s", ", ".join(names),
                    outcome.exception)
    return {result.node.name: result for result in getattr(outcome.result, "results", None) or []
            if str(getattr(result.status, "value", result.status)) in {"fail", "warn"}}


def run_dbt(args: list[str], paths: Paths, target: str | None = None, *,
            log_file: Path | None = None, label: str | None = None,
            manifest: Any = None, results_file: Path | None = None) -> StepResult:
    """Runs one dbt command in-process; raises BuildError when it does not succeed.

    log_file None: dbt logs to the terminal as usual. Given: dbt's console lines are
    appended to log_file instead, and a progress bar named `label` counts the nodes.
    manifest: a parse_project() result to run on instead of parsing the project again.
    results_file: the command runs with --no-write-json (dbt then rewrites neither
    manifest.json, which the parse wrote, nor run_results.json: ~3 s a command here);
    when it fails, run_dbt writes its run results there, for whoever looks into it.

    Failing rows: data tests do not store their rows on the way (a table per test costs
    about as much as the test itself); when a `build` or `test` has failing or warning
    tests, those tests alone run again with --store-failures, so their rows are in schema
    test_failures as before (DECISIONLOG "One parse per build; failing rows
    stored only for failing tests")."""
    started = time.perf_counter()
    if results_file is not None:
        args = [*args, "--no-write-json"]
    outcome = _invoke(args, paths, target, log_file=log_file, label=label, manifest=manifest)
    if results_file is not None and not outcome.success and hasattr(outcome.result, "write"):
        results_file.parent.mkdir(parents=True, exist_ok=True)
        outcome.result.write(str(results_file))
    step = StepResult(command=" ".join(arg for arg in args if arg != "--no-write-json"),
                      seconds=time.perf_counter() - started)
    results = getattr(outcome.result, "results", None) or []
    failed_tests = [node_result for node_result in results
                    if node_result.node.resource_type == "test"
                    and str(getattr(node_result.status, "value", node_result.status))
                    in {"fail", "warn"}]
    stored: dict[str, Any] | None = None  # None: no re-run (nothing failed, or stored already)
    if failed_tests and args[0] in {"build", "test"} and "--store-failures" not in args:
        stored = _store_failing_rows(sorted({r.node.name for r in failed_tests}), args,
                                     paths, target, log_file=log_file, manifest=manifest)
        step.seconds = time.perf_counter() - started
    for node_result in results:
        status = str(getattr(node_result.status, "value", node_result.status))
        step.statuses[status] += 1
        if status in {"error", "fail", "runtime error", "warn"}:
            rerun = (stored or {}).get(node_result.node.name)
            message = _node_message(rerun or node_result, status)
            if (stored is not None and rerun is None and status in {"fail", "warn"}
                    and node_result.node.resource_type == "test"):
                message += " (its rows could not be stored: see the dbt log)"
            (step.warnings if status == "warn" else step.failures).append(message)
    if not outcome.success:
        if outcome.exception is not None:
            raise BuildError(f"`dbt {step.command}` could not run: {outcome.exception}")
        raise BuildError(
            f"`dbt {step.command}` failed:\n  "
            + "\n  ".join(step.failures or [f"see {log_file or 'logs/dbt.log'}"])
            + (f"\nFailing test rows are stored in schema test_failures of {paths.database}."
               if failed_tests else ""),
            tests_failed=bool(failed_tests),
        )
    return step


def table_row_counts(database: Path, schemas: tuple[str, ...]) -> list[tuple[str, str, int]]:
    """(schema, table, rows) for every base table of the given schemas."""
    import duckdb

    with duckdb.connect(str(database), read_only=True) as con:
        tables = con.execute(
            "select schema_name, table_name from duckdb_tables() "
            f"where schema_name in ({', '.join('?' for _ in schemas)}) "
            "order by schema_name, table_name",
            list(schemas),
        ).fetchall()
        return [
            (schema, table, con.execute(f'select count(*) from "{schema}"."{table}"').fetchone()[0])
            for schema, table in tables
            if "__cc_" not in table
        ]


def reconciliation(database: Path) -> list[tuple[Any, ...]]:
    """Raw vs staged + quarantined + duplicates per landing source."""
    import duckdb

    with duckdb.connect(str(database), read_only=True) as con:
        return con.execute(
            "select source, raw_rows, staged_rows, quarantined_rows, duplicate_rows "
            "from staging.stg_landing__row_counts order by source"
        ).fetchall()


def require_landing(paths: Paths, sources: tuple[str, ...] | None = None) -> None:
    """Fails with the fix when a landing folder is missing or holds no data file.

    sources: the demo sources the build reads (default: all six)."""
    wanted = None if sources is None else {LANDING_FOLDER_OF_SOURCE[name] for name in sources}
    missing = [name for name in missing_landing_sources(paths.landing_dir)
               if wanted is None or name in wanted]
    if missing:
        where = (f"{paths.landing_dir}" if paths.landing_dir.is_dir()
                 else f"{paths.landing_dir}, which does not exist")
        raise BuildError(
            f"No landing data for {', '.join(missing)} under {where}. "
            "Fix: point --landing / LW_LANDING_DIR at your files (layout: "
            "docs/landing_contract.md), or put the demo sample there with `lw generate "
            f"--out {paths.landing_dir}` (or `lw build --sample`)."
        )


def cdnow_file() -> Path:
    """CDNOW_master.txt: env LW_CDNOW_PATH, else the copy inside the installed lifetimes."""
    if os.environ.get("LW_CDNOW_PATH"):
        path = Path(os.environ["LW_CDNOW_PATH"]).resolve()
    else:
        # find_spec locates the installed package without importing it (and pandas)
        spec = importlib.util.find_spec("lifetimes")
        if spec is None or spec.origin is None:
            raise BuildError(
                "`lw build --source cdnow` reads CDNOW_master.txt from the lifetimes package, "
                "which is not installed: `pip install lifetimes` or set LW_CDNOW_PATH."
            )
        path = Path(spec.origin).parent / "datasets" / "CDNOW_master.txt"
    if not path.is_file():
        raise BuildError(f"CDNOW file {path} not found: set LW_CDNOW_PATH to CDNOW_master.txt.")
    return path


def cdnow_database() -> Path:
    """The CDNOW build's own DuckDB file: env LW_CDNOW_DUCKDB_PATH or data/build/cdnow.duckdb.

    Deliberately not LW_DUCKDB_PATH: a CDNOW build must never replace the synthetic one.
    """
    default = PROJECT_ROOT / "data" / "build" / "cdnow.duckdb"
    return Path(os.environ.get("LW_CDNOW_DUCKDB_PATH", default)).resolve()


def cdnow_serving_path() -> Path:
    """Where the CDNOW build publishes: env LW_CDNOW_SERVING_PATH or data/serving/cdnow.duckdb
    (never the demo's serving file)."""
    default = PROJECT_ROOT / "data" / "serving" / "cdnow.duckdb"
    return Path(os.environ.get("LW_CDNOW_SERVING_PATH", default)).resolve()


def declaration_environ(declaration: Path) -> dict[str, str]:
    """The environment a sources file's ${VAR}s are expanded in: this process's, plus
    LW_CDNOW_PATH (cdnow_file) for sources/cdnow.yml."""
    environ = dict(os.environ)
    if Path(declaration).resolve() == CDNOW_DECLARATION.resolve():
        environ["LW_CDNOW_PATH"] = str(cdnow_file())
    return environ


def cdnow_dbt_args() -> tuple[list[str], list[str]]:
    """The dbt arguments of a CDNOW build on any engine: (vars, selection).

    Vars: the declaration sources/cdnow.yml (the generic transactions adapter, checked
    by lifecycle_warehouse.pipeline.sources before dbt runs; the file is LW_CDNOW_PATH, else the
    installed lifetimes package's) and as_of_date=1998-06-30. Every model: all 9 marts.
    """
    from lifecycle_warehouse.pipeline.sources import SourceConfigError, preflight

    environ = declaration_environ(CDNOW_DECLARATION)
    try:
        declared = preflight(CDNOW_DECLARATION, environ=environ)
    except SourceConfigError as error:
        raise BuildError(f"{CDNOW_DECLARATION}: {error}") from None
    dbt_vars = json.dumps({**declared, "as_of_date": CDNOW_AS_OF_DATE})
    return ["--vars", dbt_vars], []


def _existing_tables(database: Path) -> set[tuple[str, str]]:
    import duckdb

    with duckdb.connect(str(database), read_only=True) as con:
        return set(con.execute("select schema_name, table_name from duckdb_tables()").fetchall())


def segment_distribution(database: Path) -> list[tuple[str, int, float]]:
    """(segment, buyers, share of buyers) of marts.fct_rfm, largest first."""
    import duckdb

    with duckdb.connect(str(database), read_only=True) as con:
        return con.execute(
            "select segment, count(*) as buyers, count(*) / sum(count(*)) over () as share "
            "from marts.fct_rfm group by segment order by buyers desc, segment"
        ).fetchall()


def format_summary(
    paths: Paths, steps: list[StepResult], seconds: float, source: str | None = None,
    serving: Path | None = None,
) -> str:
    """A human summary: where the result is, what it holds, how long it took.

    serving: the file the build was published to, named first (what BI and queries read);
    the build database is dbt's working file."""
    source = source or f"landing data in {paths.landing_dir}"
    lines = [f"Serving file (what BI reads, read-only): {serving}"] if serving else []
    lines += [f"Built {paths.database}", f"  from {source}", ""]
    lines.append(f"{'step':<40} {'seconds':>8}  results")
    for step in steps:
        results = ", ".join(f"{n} {s}" for s, n in sorted(step.statuses.items()))
        lines.append(f"{'dbt ' + step.command:<40.40} {step.seconds:>8.1f}  {results}")
    lines.append("")
    lines.append(f"{'table':<55} {'rows':>12}")
    for schema, table, rows in table_row_counts(paths.database, SUMMARY_SCHEMAS):
        lines.append(f"{schema + '.' + table:<55} {rows:>12,}")
    tables = _existing_tables(paths.database)
    if ("staging", "stg_landing__row_counts") in tables:
        lines.append("")
        lines.append("landing reconciliation (raw = staged + quarantined + duplicates)")
        header = ("source", "raw", "staged", "quarantined", "duplicates")
        lines.append(f"{header[0]:<15} " + " ".join(f"{h:>11}" for h in header[1:]))
        for name, raw, staged, quarantined, duplicates in reconciliation(paths.database):
            flag = "" if raw == staged + quarantined + duplicates else "  <-- does not reconcile"
            lines.append(
                f"{name:<15} {raw:>11,} {staged:>11,} {quarantined:>11,} {duplicates:>11,}{flag}"
            )
    if ("marts", "fct_rfm") in tables:
        lines.append("")
        lines.append(f"{'RFM segment':<25} {'buyers':>10} {'share':>7}")
        for segment, buyers, share in segment_distribution(paths.database):
            lines.append(f"{segment:<25} {buyers:>10,} {share:>7.1%}")
    lines.append("")
    lines.append(f"Total wall time {seconds:.1f} s. (The build database above is dbt's "
                 "working file; BI and queries read the published serving file below.)")
    return "\n".join(lines)


def ensure_sample(paths: Paths, seed: int, persons: int, days: int, start_date: str) -> bool:
    """Generates the default sample into the landing dir when it holds no data."""
    if not missing_landing_sources(paths.landing_dir):
        return False
    if paths.landing_dir.exists() and any(paths.landing_dir.iterdir()):
        raise BuildError(
            f"{paths.landing_dir} holds partial landing data (missing "
            f"{', '.join(missing_landing_sources(paths.landing_dir))}). Remove it or "
            "complete it; refusing to mix generated and existing files."
        )
    from lifecycle_warehouse.generate.generator import generate

    log.info("No landing data in %s: generating the default sample", paths.landing_dir)
    generate(Path(paths.landing_dir), seed=seed, persons=persons, days=days, start_date=start_date)
    return True
