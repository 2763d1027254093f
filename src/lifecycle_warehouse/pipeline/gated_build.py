"""Write–audit–publish: build layer by layer, gate each layer, publish only a clean build.

    seed → staging → gate → identity + intermediate → gate → marts → gate → publish

A gate is the dbt tests of the layer (run by `dbt build` with the layer's models; an
error-severity failure stops the build, warnings are reported) and the Great
Expectations suite of the layer (`lifecycle_warehouse.pipeline.gates.gx`). The first failing gate
stops the build with a `GateFailed` that names the layer, the checks, the failing rows
and where to look; the serving file is not touched. Only after every gate passed are
the marts published atomically (`lifecycle_warehouse.pipeline.publish`) and the volumes of this
build stored as the baseline of the next run's volume checks.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lifecycle_warehouse.pipeline.project import PROJECT_ROOT, Paths
from lifecycle_warehouse.pipeline.runner import (
    BuildError,
    StepResult,
    parse_project,
    require_landing,
    run_dbt,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Layer:
    """One gated layer: the dbt selection that builds it and the GX suite that audits it."""

    name: str
    select: tuple[str, ...]


LAYERS = (
    Layer("staging", ("path:models/staging",)),
    Layer("intermediate", ("path:models/intermediate",)),
    # the semantic layer's time spine (models/semantic) is built with the marts so that
    # `mf query` works after every build; it is not published. Nor are the restricted
    # contact points (models/restricted), which publishing copies to restricted/ only.
    Layer("marts", ("path:models/marts", "path:models/semantic", "path:models/restricted")),
)


@dataclass(frozen=True)
class BuildInputs:
    """What a build reads when it is not the demo default: a sources file's dbt vars
    (lifecycle_warehouse.pipeline.sources.preflight, plus as_of_date when pinned), its own dbt
    target path (the manifest differs) and its gate bounds (the file's gates: section)."""

    declaration: Path
    dbt_vars: dict
    target_path: Path
    gates: dict = field(default_factory=dict)

    @property
    def demo_sources(self) -> tuple[str, ...]:
        return tuple(self.dbt_vars.get("demo_sources", ()))

    @property
    def declared_kinds(self) -> tuple[str, ...]:
        """The kinds of declared source the build has (transaction_sources, …)."""
        return tuple(kind for kind in ("transaction_sources", "event_sources", "profile_sources")
                     if self.dbt_vars.get(kind))

    def dbt_args(self) -> list[str]:
        return ["--vars", json.dumps(self.dbt_vars, sort_keys=True, default=str),
                "--target-path", str(self.target_path)]


class GateFailed(BuildError):
    """A gate rejected the build. `layer` and `checks` say where and what."""

    def __init__(self, layer: str, kind: str, checks: list[str], hint: str) -> None:
        self.layer, self.kind, self.checks, self.hint = layer, kind, checks, hint
        lines = "\n  ".join(checks)
        super().__init__(f"gate failed at layer '{layer}' ({kind}):\n  {lines}\n{hint}")


@dataclass
class LayerReport:
    """What one layer did: dbt results and the GX gate."""

    layer: str
    dbt: StepResult | None = None
    gx_checks_passed: int = 0
    gx_checks_failed: int = 0
    gx_seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)


@dataclass
class BuildReport:
    """Everything `lw build` prints at the end."""

    paths: Paths
    serving: Path
    seed: StepResult | None = None
    layers: list[LayerReport] = field(default_factory=list)
    published: object | None = None  # lifecycle_warehouse.pipeline.publish.PublishResult
    publish_seconds: float = 0.0
    docs_index: Path | None = None
    report_page: Path | None = None  # the dashboard written after the publish
    report_error: str | None = None
    dbt_log: Path | None = None  # dbt's log when it is not streamed (lw build without --verbose)
    # dbt test name -> why its warning is expected (the demo sample's planted defects)
    intended_warnings: dict[str, str] = field(default_factory=dict)


def default_target_path() -> Path:
    """dbt's target path of a demo build: env DBT_TARGET_PATH, else target/ (dbt's own rule)."""
    root = Path(os.environ.get("DBT_TARGET_PATH") or PROJECT_ROOT / "target")
    return root if root.is_absolute() else PROJECT_ROOT / root


def default_docs_dir() -> Path:
    """Where GX Data Docs are rendered: env LW_GX_DOCS_DIR, else data/gx_docs."""
    return Path(os.environ.get("LW_GX_DOCS_DIR", PROJECT_ROOT / "data" / "gx_docs")).resolve()


def history_path(serving: Path) -> Path:
    """Volumes of the last build published to `serving`, next to it and named by it
    (`<stem>.gate_history.json`): serving files that share a directory (the default
    data/serving/lifecycle.duckdb and data/serving/cdnow.duckdb) each keep their own."""
    serving = Path(serving)
    return serving.with_name(f"{serving.stem}.gate_history.json")


def load_history(serving: Path) -> dict[str, dict[str, int]]:
    path = history_path(serving)
    if not path.exists():
        return {}
    return json.loads(path.read_text())


def save_history(serving: Path, volumes: dict[str, dict[str, int]]) -> None:
    path = history_path(serving)
    temporary = path.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(volumes, indent=2, sort_keys=True) + "\n")
    temporary.replace(path)


def _run(args: list[str], paths: Paths, target: str | None,
         inputs: BuildInputs | None, *, dbt_log: Path | None = None,
         label: str | None = None, manifest: Any = None, last: bool = True) -> StepResult:
    """run_dbt with the build's vars and target path; the summary shows the plain command.
    dbt_log: dbt's log goes there, with a progress line named `label` (run_dbt).
    manifest: the build's one parse (runner.parse_project). last: the build's last dbt
    command, the one that writes target/run_results.json (the others only when they fail)."""
    target_dir = inputs.target_path if inputs else default_target_path()
    results_file = None if last else target_dir / "run_results.json"
    if inputs is None:
        return run_dbt(args, paths, target, log_file=dbt_log, label=label, manifest=manifest,
                       results_file=results_file)
    try:
        step = run_dbt([*args, *inputs.dbt_args()], paths, target, log_file=dbt_log,
                       label=label, manifest=manifest, results_file=results_file)
    except BuildError as error:  # name the sources file, not its vars JSON
        raise BuildError(str(error).replace(
            " ".join(inputs.dbt_args()), f"(vars and target of {inputs.declaration})"),
            tests_failed=error.tests_failed) from None
    step.command = " ".join(args)
    return step


def _dbt_layer(layer: Layer, paths: Paths, target: str | None, full_refresh: bool,
               inputs: BuildInputs | None = None, verb: str = "build",
               dbt_log: Path | None = None, manifest: Any = None,
               last: bool = True) -> StepResult:
    """`dbt build` of the layer (verb "test": its data tests only, on what is built)."""
    # Unit tests check the SQL's logic on fixed inputs, not the data: they run in
    # `make test` (the plain `dbt build` of pytests/test_incremental.py), not in every
    # production build, where they cost more time than the models at small scale.
    args = [verb, "--select", *layer.select,
            "--exclude", "resource_type:seed", "resource_type:unit_test",
            # a test runs in the first layer where all its parents exist
            "--indirect-selection", "buildable"]
    if full_refresh and verb == "build":
        args.append("--full-refresh")
    try:
        return _run(args, paths, target, inputs, dbt_log=dbt_log, label=layer.name,
                    manifest=manifest, last=last)
    except BuildError as error:
        explained = []
        if layer.name == "staging":
            from lifecycle_warehouse.pipeline.landing_diagnosis import unstaged_files

            explained = unstaged_files(paths.database, paths.landing_dir,
                                       inputs.dbt_vars if inputs else None)
        raise GateFailed(
            layer.name, "dbt tests", [*explained, str(error)],
            "Published marts are unchanged."
            + (f" Failing rows: schema test_failures of {paths.database} (open it read-only "
               "with DuckDB, e.g. duckdb.connect(path, read_only=True))."
               if error.tests_failed else "")
        ) from error


def gated_build(
    paths: Paths,
    serving: Path,
    *,
    keep: int = 5,
    target: str | None = None,
    full_refresh: bool = False,
    publish_result: bool = True,
    docs_dir: Path | None = None,
    inputs: BuildInputs | None = None,
    audit_only: bool = False,
    dbt_log: Path | None = None,
) -> BuildReport:
    """Builds, gates and publishes; raises BuildError / GateFailed on the first failure.

    inputs: a sources file's build (lw build --sources); None: the demo sources in the
    landing directory. audit_only (`lw publish`): build nothing; run every layer's dbt
    tests and gates on the database as a plain `dbt build` left it, then publish.
    dbt_log: dbt's log is appended there and each dbt command shows one progress line
    (None: dbt logs to the terminal).
    One build per database at a time (lifecycle_warehouse.pipeline.build_lock):
    the lock is held from the first check to the publish."""
    from lifecycle_warehouse.pipeline.build_lock import build_lock

    with build_lock(paths.database):
        if dbt_log is not None:  # this build's log only; under the lock, so a refused
            dbt_log.write_text("", encoding="utf-8")  # second build keeps the first's
        try:
            return _gated_build(paths, serving, keep=keep, target=target,
                                full_refresh=full_refresh, publish_result=publish_result,
                                docs_dir=docs_dir, inputs=inputs, audit_only=audit_only,
                                dbt_log=dbt_log)
        except BuildError as error:
            error.dbt_log = dbt_log  # the caller names it with the error
            raise


def private_database(database: Path) -> None:
    """The build database holds raw PII (the quarantine's raw records): readable by its
    owner only. The file is created (an empty DuckDB database) before dbt opens it and set
    to 0o600, with its WAL; its directory to 0o700 when the directory holds nothing but
    build databases and their lock / WAL files (data/build; never a shared folder)."""
    import duckdb

    database.parent.mkdir(parents=True, exist_ok=True)
    if not database.exists():
        duckdb.connect(str(database)).close()
    for path in (database, database.with_name(database.name + ".wal")):
        if path.exists():
            path.chmod(0o600)
    folder = database.parent
    if (not folder.stat().st_mode & 0o1000  # not a sticky shared folder such as /tmp
            and all(".duckdb" in entry.name for entry in folder.iterdir())):
        folder.chmod(0o700)


def clear_failing_rows(database: Path) -> None:
    """Drops schema test_failures of the build database: it then holds the rows of this
    build's failing and warning tests only (run_dbt stores those alone; a table left by
    an earlier build's failure would otherwise look like this build's)."""
    import duckdb

    with duckdb.connect(str(database)) as con:
        con.execute("drop schema if exists test_failures cascade")


def _gated_build(paths: Paths, serving: Path, *, keep: int, target: str | None,
                 full_refresh: bool, publish_result: bool, docs_dir: Path | None,
                 inputs: BuildInputs | None, audit_only: bool,
                 dbt_log: Path | None = None) -> BuildReport:
    from lifecycle_warehouse.pipeline.gates.config import (
        DEMO_DECLARATION,
        demo_gate_bounds,
        load_gate_config,
    )
    from lifecycle_warehouse.pipeline.gates.gx import run_gx_gate, volume_snapshot

    if audit_only and not paths.database.exists():
        raise BuildError(f"No build database at {paths.database}. Fix: build it first "
                         "(`dbt build`, or `lw build`, which also publishes)")
    private_database(paths.database)
    clear_failing_rows(paths.database)
    if publish_result:  # refuse now what could not be published after the build
        from lifecycle_warehouse.pipeline.publish import check_serving_target

        check_serving_target(serving)
    if inputs is None or inputs.demo_sources:
        demo_sources = inputs.demo_sources if inputs else None
        require_landing(paths, demo_sources)
        if not audit_only:  # every contract column in every file, before any model runs
            from lifecycle_warehouse.pipeline.landing_check import (
                check_landing_files,
                files_already_read,
            )

            check_landing_files(paths.landing_dir, demo_sources,
                                {} if full_refresh else files_already_read(paths.database))
    config = (load_gate_config(deployment=demo_gate_bounds(), deployment_source=DEMO_DECLARATION)
              if inputs is None else
              load_gate_config(deployment=inputs.gates, deployment_source=inputs.declaration,
                               demo_sources=inputs.demo_sources,
                               declared_kinds=inputs.declared_kinds))
    docs_dir = docs_dir or default_docs_dir()
    history = load_history(serving)
    report = BuildReport(paths=paths, serving=serving, dbt_log=dbt_log)
    if inputs is None or inputs.demo_sources:
        from lifecycle_warehouse.pipeline.landing_check import intended_test_warnings

        report.intended_warnings = intended_test_warnings(paths.landing_dir)
    # with a progress line per layer, the layer names need no log line of their own
    step_level = logging.INFO if dbt_log is None else logging.DEBUG
    # one parse serves the seeds and every layer (DECISIONLOG "One parse per build;
    # failing rows stored only for failing tests")
    manifest = parse_project(inputs.dbt_args() if inputs else [], paths, target,
                             log_file=dbt_log)
    if not audit_only:
        report.seed = _run(["seed", *(["--full-refresh"] if full_refresh else [])], paths,
                           target, inputs, dbt_log=dbt_log, label="seeds", manifest=manifest,
                           last=False)
    volumes: dict[str, dict[str, int]] = {}
    for layer in LAYERS:
        log.log(step_level, "layer %s: dbt build", layer.name)
        layer_report = LayerReport(layer.name)
        report.layers.append(layer_report)
        layer_report.dbt = _dbt_layer(layer, paths, target, full_refresh, inputs,
                                      verb="test" if audit_only else "build", dbt_log=dbt_log,
                                      manifest=manifest, last=layer is LAYERS[-1])
        layer_report.warnings = layer_report.dbt.warnings
        log.log(step_level, "layer %s: Great Expectations gate", layer.name)
        gate = run_gx_gate(layer.name, paths.database, history=history.get(layer.name),
                           config=config, docs_dir=docs_dir)
        report.docs_index = gate.docs_index or report.docs_index
        layer_report.gx_seconds = gate.seconds
        layer_report.gx_checks_passed = sum(check.success for check in gate.checks)
        layer_report.gx_checks_failed = sum(not check.success for check in gate.checks)
        if not gate.success:
            raise GateFailed(
                layer.name, "Great Expectations",
                [f"{check.suite} / {check.expectation}: {check.describe()}"
                 for check in gate.failures],
                "Published marts are unchanged. "
                f"GX result: {gate.result_file}; Data Docs: {gate.result_page or gate.docs_index}",
            )
        volumes[layer.name] = volume_snapshot(paths.database, layer.name)
        if layer.name == "staging" and inputs is not None and inputs.dbt_vars.get("as_of_date"):
            check_as_of_date(paths.database, str(inputs.dbt_vars["as_of_date"]))
    if publish_result:
        from lifecycle_warehouse.pipeline.publish import publish

        started = time.perf_counter()
        metadata = ({"landing_dir": str(paths.landing_dir)} if inputs is None else
                    {"sources_file": str(inputs.declaration),
                     "sources": [*inputs.demo_sources,
                                 *(source["name"] for kind in inputs.declared_kinds
                                   for source in inputs.dbt_vars[kind])]})
        report.published = publish(paths.database, serving, keep=keep, metadata=metadata)
        report.publish_seconds = time.perf_counter() - started
        save_history(serving, volumes)
        report.report_page, report.report_error = write_report_after_publish(serving)
    return report


def check_as_of_date(database: Path, as_of_date: str) -> None:
    """A pinned as_of_date must lie within the staged data: from the first event or order
    date to the end of the calendar month of the last one (reporting as of a month end
    is the usual pin, and a few quiet days change no stage). Later, everyone would be
    churned and every gate would pass; earlier, the build would fail at an unrelated
    test. BuildError naming the date and the range."""
    import calendar

    import duckdb

    with duckdb.connect(str(database), read_only=True) as con:
        first, last = con.execute("""
            select min(day), max(day) from (
                select event_date as day from staging.stg_contract__events
                union all
                select order_date from staging.stg_contract__orders
            ) as dated
        """).fetchone()
    if first is None:  # a profiles-only build: no dated rows to compare with
        return
    month_end = last.replace(day=calendar.monthrange(last.year, last.month)[1])
    if not first.isoformat() <= as_of_date <= month_end.isoformat():
        side = "after" if as_of_date > month_end.isoformat() else "before"
        raise BuildError(
            f"as_of_date {as_of_date} is {side} the data: its events and orders run from "
            f"{first} to {last} (a pinned date may go up to {month_end}, the end of that "
            "month). Published marts are unchanged. Fix: give an --as-of-date in that "
            "range, or none (the last complete day in the data)")


def write_report_after_publish(serving: Path) -> tuple[Path | None, str | None]:
    """The dashboard from the file just published: (page, None), or (None, why not).

    The marts are already published (and correct) when this runs, so a failing report
    does not fail the build: the summary says what went wrong and `lw report` retries.
    """
    from lifecycle_warehouse.report.render import write_report

    try:
        return write_report(serving), None
    except Exception as error:  # noqa: BLE001 - reported in the summary, marts stay published
        log.exception("the lifecycle report could not be written")
        return None, f"{type(error).__name__}: {error}"


def format_gate_summary(report: BuildReport) -> str:
    """Per layer: dbt results and seconds, GX checks and seconds; then what was published."""
    lines = [f"{'layer':<14} {'dbt s':>7} {'dbt results':<42} {'GX checks':>10} {'GX s':>6}"]
    if report.seed is not None:
        seeded = ", ".join(f"{n} {s}" for s, n in sorted(report.seed.statuses.items()))
        lines.append(f"{'seeds':<14} {report.seed.seconds:>7.1f} {seeded:<42}")
    for layer in report.layers:
        results = ", ".join(f"{n} {s}" for s, n in sorted(layer.dbt.statuses.items()))
        checks = f"{layer.gx_checks_passed}/{layer.gx_checks_passed + layer.gx_checks_failed}"
        lines.append(f"{layer.layer:<14} {layer.dbt.seconds:>7.1f} {results:<42.42} "
                     f"{checks:>10} {layer.gx_seconds:>6.1f}")
        lines.extend(f"    warning: {warning}{_intended(warning, report.intended_warnings)}"
                     for warning in layer.warnings)
    if report.published is not None:
        lines.append(f"{'publish':<14} {report.publish_seconds:>7.1f}")
        lines.append("")
        lines.append(f"Published {report.published.serving_db} "
                     f"(build {report.published.build_id}; versions kept in "
                     f"{report.published.serving_db.parent / 'versions'})")
        query = query_command(report.published.serving_db)
        lines.append(f"  query it (read-only, as BI does): {query} \"{QUERY_EXAMPLE}\"")
        lines.append(f"    ({query} alone lists the tables; the build database is dbt's "
                     "working file: BI never opens it)")
        if report.published.moved_wal:
            lines.append(f"  warning: a client had opened the serving file read-write; its "
                         f"WAL was moved to {report.published.moved_wal} (BI must connect "
                         "read-only)")
        if report.report_page:
            lines.append(f"  dashboard: {report.report_page} (open it in a browser)")
        if report.report_error:
            lines.append(f"  dashboard NOT written ({report.report_error}); the page there "
                         "shows an older build and says so; retry: lw report")
    if report.docs_index:
        lines.append(f"  Data Docs (GX validation results): {report.docs_index}")
    if report.dbt_log:
        lines.append(f"  dbt log: {report.dbt_log} (`lw build --verbose` streams it instead)")
    return "\n".join(lines)


# The query the build summary suggests: every lifecycle stage and its persons.
QUERY_EXAMPLE = ("select lifecycle_stage, count(*) as persons from marts.fct_customer_lifecycle "
                 "group by all order by persons desc")


def query_command(serving: Path) -> str:
    """`lw query` on `serving` as the user can type it: the lw next to this Python (the
    venv's), relative to the working directory when inside it (.venv/bin/lw query), with
    --serving unless it is the default serving file."""
    import shlex

    from lifecycle_warehouse.pipeline.project import default_serving_path

    lw = Path(sys.executable).parent / "lw"
    if not lw.exists():
        command = "lw"
    else:
        try:
            command = str(lw.relative_to(Path.cwd()))
        except ValueError:
            command = str(lw)
    command += " query"
    if Path(serving).resolve() != default_serving_path():
        command += f" --serving {shlex.quote(str(serving))}"
    return command


def _intended(warning: str, intended: dict[str, str]) -> str:
    """' (intended: …)' when the warning's test is one the demo sample trips on purpose."""
    for test, why in intended.items():
        if warning.startswith(f"test {test}:"):
            return f" (intended: {why})"
    return ""
