"""Dagster definitions of the gated build: dbt assets, the gates as blocking asset checks,
the publish as an asset, and a daily schedule. Optional: `pip install -e '.[orchestration]'`.

The same write–audit–publish as `lw build` (`gated_build`), expressed as assets:

    dbt_seeds ─▶ dbt_staging ─▶ [gx_gate] ─▶ dbt_intermediate ─▶ [gx_gate] ─▶ dbt_marts
                                                                   ─▶ [gx_gate] ─▶ published_marts

- one asset per dbt seed and model (`@dbt_assets`, four multi-assets: seeds and the three
  layers of `gated_build.LAYERS`, each one `dbt build` with `--indirect-selection
  buildable`, without unit tests like `lw build`); the data tests run inside those builds
  and appear as asset checks (dagster-dbt), and an error-severity failure fails the step;
- one `gx_gate` asset check per model of a layer, all evaluated by one op per layer that
  calls `gates.run_gx_gate` (the same suites, `quality_gates.yml`, `LW_GATES_CONFIG`, Data
  Docs). The checks are *blocking*: when the layer's gate fails, no downstream asset runs
  and the run fails;
- `published_marts` calls `publish.publish` (atomic rename onto the serving file) after the
  marts gate, then stores the volumes as the next run's baseline (`gated_build.save_history`).

A failed gate or dbt test therefore leaves the serving file as it was, as with `lw build`.
All steps run in one process, one after another (`in_process_executor`): DuckDB allows one
writer, and dbt itself runs as a subprocess per layer.

Paths come from the `warehouse` resource, whose unset fields fall back to the environment
variables `lw build` reads (LW_LANDING_DIR, LW_DUCKDB_PATH, LW_DUCKDB_TEMP_DIR,
LW_SERVING_PATH, LW_GX_DOCS_DIR). The dbt manifest is parsed into `$DBT_TARGET_PATH/dagster`
(default target/dagster) when it is missing or older than a project file.

`lifecycle_warehouse.orchestration.definitions` holds `defs = build_definitions()` for
`dagster dev`; this module has no import-time side effects.
"""

# No `from __future__ import annotations`: Dagster inspects the context / resource type hints.
import logging
import os
import shutil
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

try:
    import dagster as dg
    from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets
    from dagster_dbt.errors import DagsterDbtCliRuntimeError
except ImportError as error:  # pragma: no cover - depends on the installed extras
    raise ImportError(
        "lifecycle_warehouse.orchestration needs Dagster: install the optional extra with "
        "`pip install -e '.[orchestration]'` (dagster, dagster-dbt, dagster-webserver)."
    ) from error

from lifecycle_warehouse.pipeline.gated_build import (
    LAYERS,
    Layer,
    default_docs_dir,
    default_target_path,
    load_history,
    save_history,
    write_report_after_publish,
)
from lifecycle_warehouse.pipeline.project import PROFILES_DIR, PROJECT_ROOT, Paths
from lifecycle_warehouse.pipeline.runner import (
    BuildError,
    _environment,
    _release_duckdb,
    require_landing,
    run_dbt,
)

log = logging.getLogger(__name__)

JOB_NAME = "lifecycle_warehouse_build"
SCHEDULE_NAME = "lifecycle_warehouse_daily"
CRON_ENV, TIMEZONE_ENV = "LW_SCHEDULE_CRON", "LW_SCHEDULE_TIMEZONE"
DEFAULT_CRON, DEFAULT_TIMEZONE = "15 3 * * *", "UTC"
GATE_CHECK = "gx_gate"
PUBLISHED_ASSET = dg.AssetKey("published_marts")
SEEDS_GROUP, SERVING_GROUP = "seeds", "serving"
LAYER_EXCLUDE = "resource_type:seed resource_type:unit_test"
# Files whose change alters the dbt manifest (dbt_packages: none, no dbt Hub here).
_PROJECT_SOURCES = ("models", "macros", "seeds", "tests", "analyses", "snapshots")
_PROJECT_FILES = ("dbt_project.yml", "profiles/profiles.yml")


# ----------------------------------------------------------------------- configuration


class LifecycleWarehouse(dg.ConfigurableResource):
    """Where one deployment keeps its data; unset fields use the `lw build` environment."""

    landing_dir: str | None = None
    database: str | None = None
    temp_dir: str | None = None
    serving: str | None = None
    docs_dir: str | None = None
    keep: int = 5
    full_refresh: bool = False
    # every data test on whole tables (var test_scope: all), as `lw build --whole-table-tests`
    whole_table_tests: bool = False

    def paths(self) -> Paths:
        default = Paths.default()
        return Paths(
            landing_dir=Path(self.landing_dir).resolve() if self.landing_dir
            else default.landing_dir,
            database=Path(self.database).resolve() if self.database else default.database,
            temp_dir=Path(self.temp_dir).resolve() if self.temp_dir else default.temp_dir,
        )

    def serving_path(self) -> Path:
        from lifecycle_warehouse.pipeline.project import default_serving_path

        return Path(self.serving).resolve() if self.serving else default_serving_path()

    def docs_path(self) -> Path:
        return Path(self.docs_dir).resolve() if self.docs_dir else default_docs_dir()


def dagster_target_path() -> Path:
    """Where the orchestration's dbt artifacts go: $DBT_TARGET_PATH/dagster or target/dagster."""
    return default_target_path() / "dagster"


def _newest_project_change() -> float:
    newest = max((PROJECT_ROOT / name).stat().st_mtime for name in _PROJECT_FILES)
    for folder in _PROJECT_SOURCES:
        for path in (PROJECT_ROOT / folder).rglob("*"):
            if path.is_file():
                newest = max(newest, path.stat().st_mtime)
    return newest


def prepare_manifest(target_path: Path | None = None) -> Path:
    """`dbt parse` into the target path when its manifest is missing or stale; its path."""
    target_path = target_path or dagster_target_path()
    manifest = target_path / "manifest.json"
    if manifest.is_file() and manifest.stat().st_mtime >= _newest_project_change():
        return manifest
    log.info("parsing the dbt project into %s", target_path)
    try:
        run_dbt(["parse", "--target-path", str(target_path)], Paths.default())
    except BuildError as error:
        raise BuildError(
            f"Could not parse the dbt project for the Dagster definitions ({error}). Fix the "
            "project (`dbt parse --profiles-dir profiles` shows the same error) and reload."
        ) from error
    if not manifest.is_file():
        raise BuildError(f"`dbt parse` wrote no manifest at {manifest}.")
    return manifest


def schedule_settings() -> tuple[str, str]:
    """(cron, timezone) of the daily schedule: env LW_SCHEDULE_CRON / LW_SCHEDULE_TIMEZONE."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    cron = os.environ.get(CRON_ENV, "").strip() or DEFAULT_CRON
    timezone = os.environ.get(TIMEZONE_ENV, "").strip() or DEFAULT_TIMEZONE
    from dagster._utils.schedules import is_valid_cron_string

    if not is_valid_cron_string(cron):
        raise ValueError(
            f"{CRON_ENV}={cron!r} is not a cron expression: use five fields, minute hour "
            f"day-of-month month day-of-week, e.g. {DEFAULT_CRON!r} (daily at 03:15)."
        )
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError(
            f"{TIMEZONE_ENV}={timezone!r} is not an IANA time zone: use e.g. 'UTC' or "
            "'Europe/Berlin'."
        ) from error
    return cron, timezone


# ----------------------------------------------------------------------- dbt assets


def layer_of(props: Mapping[str, Any]) -> str | None:
    """The gated layer a dbt node belongs to (its `LAYERS` selection), or 'seeds'."""
    if props.get("resource_type") == "seed":
        return SEEDS_GROUP
    path = Path(props.get("original_file_path", ""))
    for layer in LAYERS:
        for select in layer.select:
            folder = Path(select.removeprefix("path:"))
            if path.is_relative_to(folder):
                return layer.name
    return None


class _Translator(DagsterDbtTranslator):
    """dagster-dbt's defaults (asset key = model name), grouped by gated layer."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return layer_of(dbt_resource_props) or super().get_group_name(dbt_resource_props)


def _dbt_executable() -> str:
    """The dbt next to this interpreter (a venv that is not activated), else `dbt` on PATH."""
    beside = Path(sys.executable).parent / "dbt"
    return str(beside) if beside.is_file() else (shutil.which("dbt") or "dbt")


def _dbt_build(
    context: dg.AssetExecutionContext,
    dbt: DbtCliResource,
    warehouse: LifecycleWarehouse,
    step: str,
    target_path: Path,
) -> Iterator[Any]:
    """One `dbt build` of this multi-asset's selection, in the warehouse's environment."""
    paths = warehouse.paths()
    require_landing(paths)
    paths.database.parent.mkdir(parents=True, exist_ok=True)
    paths.temp_dir.mkdir(parents=True, exist_ok=True)
    # every test stores its failing rows (schema test_failures), as dbt_project.yml says
    args = ["build", "--store-failures", *(["--full-refresh"] if warehouse.full_refresh else []),
            *(["--vars", "{test_scope: all}"] if warehouse.whole_table_tests else [])]
    # a test runs in the first layer where all its parents exist (as in `lw build`)
    environment = {**paths.dbt_env(), "DBT_INDIRECT_SELECTION": "buildable"}
    try:
        with _environment(environment):
            invocation = dbt.cli(args, context=context, target_path=target_path)
            yield from invocation.stream()
    except DagsterDbtCliRuntimeError as error:
        raise dg.Failure(
            description=(
                f"dbt build of {step} failed: a model or an error-severity dbt test failed. "
                f"Published marts are unchanged. Failing rows: schema test_failures of "
                f"{paths.database} (open it read-only with DuckDB); dbt log: "
                f"{target_path / 'dbt.log'}."
            ),
            metadata={"dbt_error": str(error)[-4000:]},
        ) from error
    finally:
        _release_duckdb()


def _build_dbt_assets(
    project: DbtProject, translator: DagsterDbtTranslator, name: str, select: str,
    exclude: str | None, target_path: Path,
) -> dg.AssetsDefinition:
    @dbt_assets(manifest=project.manifest_path, project=project, select=select, exclude=exclude,
                name=name, dagster_dbt_translator=translator)
    def _assets(context: dg.AssetExecutionContext, dbt: DbtCliResource,
                warehouse: LifecycleWarehouse):
        yield from _dbt_build(context, dbt, warehouse, name.removeprefix("dbt_"), target_path)

    return _assets


# ----------------------------------------------------------------------- gates


def _relation(assets_def: dg.AssetsDefinition, key: dg.AssetKey) -> str:
    """schema.table of a dbt asset, as the GX checks name their subjects."""
    spec = assets_def.specs_by_key[key]
    relation = str(spec.metadata.get("dagster/table_name", ""))  # database.schema.table
    return ".".join(relation.split(".")[-2:]) if relation else key.path[-1]


def _build_gate(layer: Layer, layer_assets: dg.AssetsDefinition) -> dg.AssetChecksDefinition:
    keys = sorted(layer_assets.keys, key=lambda key: key.to_user_string())
    relations = {key: _relation(layer_assets, key) for key in keys}
    description = (
        f"Great Expectations gate of the {layer.name} layer (suite lw_{layer.name}, bounds in "
        "quality_gates.yml): the layer passes or fails as a whole, like in `lw build`."
    )

    @dg.multi_asset_check(
        specs=[dg.AssetCheckSpec(GATE_CHECK, asset=key, blocking=True, description=description)
               for key in keys],
        name=f"gx_gate_{layer.name}",
        description=description,
    )
    def _gate(context: dg.AssetCheckExecutionContext, warehouse: LifecycleWarehouse):
        from lifecycle_warehouse.pipeline.gates.config import demo_gate_bounds, load_gate_config
        from lifecycle_warehouse.pipeline.gates.gx import run_gx_gate

        paths, serving = warehouse.paths(), warehouse.serving_path()
        report = run_gx_gate(layer.name, paths.database,
                             history=load_history(serving).get(layer.name),
                             config=load_gate_config(deployment=demo_gate_bounds()),
                             docs_dir=warehouse.docs_path())
        (context.log.info if report.success else context.log.error)(report.format())
        failed = [f"{check.suite} / {check.expectation}: {check.describe()}"
                  for check in report.failures]
        common = {
            "layer": layer.name,
            "checks_passed": len(report.checks) - len(failed),
            "checks_failed": len(failed),
            "gx_result": dg.MetadataValue.path(str(report.result_file or "")),
            "data_docs": dg.MetadataValue.path(str(report.result_page or report.docs_index
                                                   or "")),
        }
        if failed:
            common["failed_checks"] = dg.MetadataValue.md(
                "\n".join(f"- {line}" for line in failed))
        for key in keys:
            own = [check for check in report.checks
                   if check.column_or_table.startswith(relations[key] + ".")
                   or check.column_or_table == relations[key]]
            yield dg.AssetCheckResult(
                asset_key=key,
                check_name=GATE_CHECK,
                passed=report.success,
                severity=dg.AssetCheckSeverity.ERROR,
                description=(
                    f"{layer.name} gate passed" if report.success else
                    f"{layer.name} gate FAILED ({len(failed)} of {len(report.checks)} checks); "
                    "published marts are unchanged"
                ),
                metadata={
                    **common,
                    "table_checks": dg.MetadataValue.md(
                        "\n".join(f"- {check.describe()}" for check in own) or "(none)"),
                },
            )

    return _gate


# ----------------------------------------------------------------------- publish


def _build_publish(
    mart_keys: Sequence[dg.AssetKey], required_keys: set[dg.AssetKey],
    gate_checks: set[dg.AssetCheckKey],
) -> dg.AssetsDefinition:
    @dg.asset(
        key=PUBLISHED_ASSET,
        deps=mart_keys,
        group_name=SERVING_GROUP,
        kinds={"duckdb"},
        description=(
            "The marts of a build whose every gate passed, published atomically to the "
            "serving file BI reads (LW_SERVING_PATH, default data/serving/lifecycle.duckdb)."
        ),
    )
    def published_marts(context: dg.AssetExecutionContext,
                        warehouse: LifecycleWarehouse) -> dg.MaterializeResult:
        from lifecycle_warehouse.pipeline.gates.config import LAYERS as GATED_LAYERS
        from lifecycle_warehouse.pipeline.gates.gx import volume_snapshot
        from lifecycle_warehouse.pipeline.publish import publish

        # Gates only order and block steps of the same run: a run that selects this asset
        # without rebuilding and gating every layer would publish unaudited tables.
        run = context.run
        missing = sorted(key.to_user_string() for key in required_keys
                         - set(run.asset_selection or required_keys))
        missing += sorted(key.to_user_string() for key in gate_checks
                          - set(run.asset_check_selection or gate_checks))
        if missing:
            raise dg.Failure(
                description=(
                    "published_marts publishes only in a run that builds and gates every "
                    f"layer; this run leaves out {len(missing)} of them (e.g. "
                    f"{', '.join(missing[:3])}). Materialize all assets (job {JOB_NAME}) "
                    "instead. Nothing was published."
                )
            )
        paths, serving = warehouse.paths(), warehouse.serving_path()
        result = publish(paths.database, serving, keep=warehouse.keep,
                         metadata={"landing_dir": str(paths.landing_dir),
                                   "orchestrator": "dagster", "dagster_run_id": run.run_id})
        # as in gated_build: the volumes become the baseline only once published
        save_history(serving, {layer: volume_snapshot(paths.database, layer)
                               for layer in GATED_LAYERS})
        page, report_error = write_report_after_publish(serving)
        if report_error:
            context.log.error(f"dashboard not written ({report_error}); retry: lw report")
        return dg.MaterializeResult(metadata={
            "serving_file": dg.MetadataValue.path(str(result.serving_db)),
            **({"dashboard": dg.MetadataValue.path(str(page))} if page else {}),
            "build_id": result.build_id,
            "version_file": dg.MetadataValue.path(str(result.version_path)),
            "tables": len(result.tables),
            "rows": sum(result.tables.values()),
            **{f"rows/{table}": rows for table, rows in sorted(result.tables.items())},
        })

    return published_marts


# ----------------------------------------------------------------------- definitions


def build_definitions(
    *, target_path: Path | None = None, warehouse: LifecycleWarehouse | None = None
) -> dg.Definitions:
    """Assets, gate checks, the build job and the daily schedule (see the module docstring)."""
    cron, timezone = schedule_settings()
    target_path = (target_path or dagster_target_path()).resolve()
    prepare_manifest(target_path)
    # every dbt build of a run shares one target folder (runs are sequential), so dbt
    # parses the project fully once and partially afterwards (~5 s per layer saved)
    build_target = target_path / "build"
    project = DbtProject(project_dir=PROJECT_ROOT, profiles_dir=PROFILES_DIR,
                         target_path=target_path)
    translator = _Translator()
    seeds = _build_dbt_assets(project, translator, "dbt_seeds", "resource_type:seed", None,
                              build_target)
    # as in `lw build`: unit tests check the SQL on fixed inputs, not the day's data; they
    # run in `make test` (a plain `dbt build`), not in every scheduled build
    layer_assets = {
        layer.name: _build_dbt_assets(project, translator, f"dbt_{layer.name}",
                                      " ".join(layer.select), LAYER_EXCLUDE, build_target)
        for layer in LAYERS
    }
    gates = [_build_gate(layer, layer_assets[layer.name]) for layer in LAYERS]
    required = set(seeds.keys).union(*(assets.keys for assets in layer_assets.values()))
    gate_checks = {key for gate in gates for key in gate.check_keys}
    published = _build_publish(sorted(layer_assets["marts"].keys), required, gate_checks)
    job = dg.define_asset_job(
        JOB_NAME,
        selection=dg.AssetSelection.all(),
        executor_def=dg.in_process_executor,
        description="seeds, then each layer built by dbt and gated (dbt tests + Great "
        "Expectations), then the marts published; any failed gate fails the run.",
    )
    schedule = dg.ScheduleDefinition(
        name=SCHEDULE_NAME,
        job=job,
        cron_schedule=cron,
        execution_timezone=timezone,
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description=f"The gated build and publish, daily ({CRON_ENV}={cron!r}, {timezone}).",
    )
    dbt = DbtCliResource(project_dir=project, profiles_dir=str(PROFILES_DIR),
                         dbt_executable=_dbt_executable())
    return dg.Definitions(
        assets=[seeds, *layer_assets.values(), published],
        asset_checks=gates,
        jobs=[job],
        schedules=[schedule],
        resources={"dbt": dbt, "warehouse": warehouse or LifecycleWarehouse()},
    )
