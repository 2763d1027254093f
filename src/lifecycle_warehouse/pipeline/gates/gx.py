"""Great Expectations quality gates, one suite per layer (SPEC §7).

`run_gx_gate(layer, database, history=…, config=…, docs_dir=…)` measures the layer's
checks (`suites.py`) with SQL aggregates over a read-only DuckDB connection, puts them
in a one-row pandas frame (one column per check), validates it with the layer's GX
suite (`lw_<layer>`, one `expect_column_max_to_be_between` per column) through an
ephemeral context, stores the validation result as JSON and renders Data Docs into
`docs_dir` (index.html). GX's SQL path on DuckDB is broken in 1.x (duckdb_engine loses
results), hence pandas; aggregating first keeps the frame tiny at any data size.

`volume_snapshot(database, layer)` gives the row counts the runner stores after a
passing gate; the next run passes them back as `history` for the volume checks.

Great Expectations is imported only inside `run_gx_gate` (~5 s, ~260 MB).
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lifecycle_warehouse.pipeline.gates.config import (
    LAYERS,
    GateConfig,
    GateConfigError,
    load_gate_config,
)
from lifecycle_warehouse.pipeline.gates.suites import LAYER_CHECKS, Check, row_counts

__all__ = [
    "LAYERS",
    "CheckResult",
    "GateConfig",
    "GateConfigError",
    "GateReport",
    "load_gate_config",
    "run_gx_gate",
    "volume_snapshot",
]

log = logging.getLogger(__name__)

DATASOURCE = "lifecycle_warehouse"
STORE_DIR = "_store"  # JSON stores (suites, validation results) inside docs_dir


@dataclass
class CheckResult:
    """One check of a suite: what was measured, what was allowed, and whether it held."""

    suite: str
    expectation: str  # the GX expectation type, e.g. expect_column_max_to_be_between
    column_or_table: str  # schema.table, schema.table.column, or …column=value
    success: bool
    observed: float | None  # rows, a share, out-of-range rows, a lag in days
    expected: str  # e.g. "<= 0.05", "between 0.001 and 0.6"
    detail: str  # counts behind the number, or why the check was skipped
    check: str = ""  # kind: volume, null_rate, value_range, lifecycle_stage_share, …

    def describe(self) -> str:
        observed = "n/a" if self.observed is None else f"{self.observed:.6g}"
        verdict = "ok" if self.success else "FAILED"
        text = (f"[{verdict}] {self.check} {self.column_or_table}: observed {observed}, "
                f"expected {self.expected} ({self.detail})")
        if not self.success and self.check in SETTING_OF_CHECK:
            text += (f"; bound: {self.suite.removeprefix('lw_')}.{SETTING_OF_CHECK[self.check]} "
                     "in quality_gates.yml, or under gates: in the build's sources file")
        return text


# The quality_gates.yml key (under the layer) that holds the bound of each kind of check:
# a failing check names it, so the fix for a bound that does not fit a business is a
# one-line setting (docs/sources.md "Gates for your data").
SETTING_OF_CHECK = {
    "volume": "volume",
    "null_rate": "null_rates",
    "value_range": "value_ranges",
    "quarantine_share": "quarantine_share",
    "events_without_person_share": "events_without_person.max_share",
    "threshold": "thresholds",
    "lifecycle_stage_share": "lifecycle_stage_shares",
    "rfm_segment_share": "rfm_segment_shares",
    "negative_net_revenue_share": "negative_net_revenue.max_share",
    "freshness": "freshness.max_lag_days",
}


@dataclass
class GateReport:
    """Outcome of one layer's GX gate."""

    layer: str
    success: bool
    checks: list[CheckResult]
    seconds: float
    docs_index: Path | None
    suite: str = ""
    result_file: Path | None = None  # the GX validation result (JSON)
    result_page: Path | None = None  # its Data Docs page
    config_sources: tuple[Path, ...] = field(default_factory=tuple)

    @property
    def failures(self) -> list[CheckResult]:
        return [check for check in self.checks if not check.success]

    def format(self) -> str:
        """What the runner prints: the verdict, every failed check, where GX keeps it."""
        failed = self.failures
        head = (f"GX gate {self.layer} (suite {self.suite}): "
                f"{'passed' if self.success else 'FAILED'} — "
                f"{len(self.checks) - len(failed)}/{len(self.checks)} checks passed "
                f"in {self.seconds:.1f} s")
        lines = [head]
        lines += [f"  {check.describe()}" for check in failed]
        if self.result_file:
            lines.append(f"  GX result: {self.result_file}")
        if self.result_page:
            lines.append(f"  Data Docs page: {self.result_page}")
        if self.docs_index:
            lines.append(f"  Data Docs: {self.docs_index}")
        return "\n".join(lines)


def _check_layer(layer: str) -> None:
    if layer not in LAYERS:
        raise ValueError(f"unknown layer {layer!r}: expected one of {', '.join(LAYERS)}")


def _connect(database: Path):
    import duckdb

    if not Path(database).is_file():
        raise FileNotFoundError(f"database {database} not found")
    return duckdb.connect(str(database), read_only=True)


def volume_snapshot(database: Path, layer: str) -> dict[str, int]:
    """Row counts per "schema.table" of the layer (identity belongs to intermediate)."""
    _check_layer(layer)
    with _connect(database) as con:
        return row_counts(con, layer)


# ---------------------------------------------------------------- Great Expectations


def _quiet_gx() -> None:
    """No usage statistics (no network here), no progress bars, no INFO chatter."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    logging.getLogger("great_expectations").setLevel(logging.WARNING)


def _context(docs_dir: Path):
    """An ephemeral GX context whose suites and results persist as JSON in docs_dir."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    def filesystem(store_class: str, folder: str) -> dict[str, Any]:
        return {
            "class_name": store_class,
            "store_backend": {
                "class_name": "TupleFilesystemStoreBackend",
                "base_directory": str(docs_dir / STORE_DIR / folder),
            },
        }

    stores = InMemoryStoreBackendDefaults(init_temp_docs_sites=False).stores
    stores["expectations_store"] = filesystem("ExpectationsStore", "expectations")
    stores["validation_results_store"] = filesystem("ValidationResultsStore", "validations")
    config = DataContextConfig(
        store_backend_defaults=None,
        stores=stores,
        expectations_store_name="expectations_store",
        validation_results_store_name="validation_results_store",
        checkpoint_store_name="checkpoint_store",
        data_docs_sites={
            "lifecycle_warehouse": {
                "class_name": "SiteBuilder",
                "show_how_to_buttons": False,
                "store_backend": {
                    "class_name": "TupleFilesystemStoreBackend",
                    "base_directory": str(docs_dir),
                },
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            }
        },
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False),
    )
    context = gx.get_context(mode="ephemeral", project_config=config)
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return context


def _prune_results(docs_dir: Path, suite: str, keep: int) -> None:
    """Keeps the newest `keep` stored results of a suite (JSON and page) and drops older."""
    for kind, root in (("json", docs_dir / STORE_DIR / "validations" / suite),
                       ("html", docs_dir / "validations" / suite)):
        if not root.is_dir():
            continue
        runs = sorted((run for run_name in root.iterdir() if run_name.is_dir()
                       for run in run_name.iterdir() if run.is_dir()),
                      key=lambda path: path.name)
        for old in runs[: max(0, len(runs) - keep)]:
            log.debug("pruning old GX %s result %s", kind, old)
            shutil.rmtree(old, ignore_errors=True)


def _validate(layer: str, checks: list[Check], docs_dir: Path, keep_runs: int):
    """Runs the layer's suite on the one-row metrics frame; returns (results, json, page)."""
    import great_expectations as gx
    import pandas as pd

    suite_name = f"lw_{layer}"
    frame = pd.DataFrame(
        {check.column: pd.Series([check.value], dtype="float64") for check in checks})
    context = _context(docs_dir)
    asset = context.data_sources.add_pandas(DATASOURCE).add_dataframe_asset(f"{layer}_metrics")
    batch = asset.add_batch_definition_whole_dataframe("one_row_of_aggregates")
    # the expectations are given to the constructor, and the suite is stored once: when
    # the suite's name is already in the store (the previous run's), each
    # suite.add_expectation writes the whole suite again (~40 % of a gate's time)
    suite = gx.ExpectationSuite(
        name=suite_name,
        expectations=[gx.expectations.ExpectColumnMaxToBeBetween(
            column=check.column, min_value=check.min_value, max_value=check.max_value,
            meta={"check": check.check, "subject": check.subject},
        ) for check in checks],
        meta={"notes": f"Quality gate of the {layer} layer: one column per check, measured "
                       "with SQL aggregates (lifecycle_warehouse.pipeline.gates.suites); "
                       "bounds from quality_gates.yml."},
    )
    suite = context.suites.add_or_update(suite)
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(name=f"{layer}_gate", data=batch, suite=suite))
    checkpoint = context.checkpoints.add(gx.Checkpoint(
        name=f"{layer}_gate", validation_definitions=[definition],
        actions=[gx.checkpoint.UpdateDataDocsAction(name="update_data_docs")],
        result_format="SUMMARY",
    ))
    _prune_results(docs_dir, suite_name, keep_runs - 1)
    outcome = checkpoint.run(batch_parameters={"dataframe": frame})
    identifier, validation = next(iter(outcome.run_results.items()))
    relative = Path(*identifier.to_tuple())
    result_file = docs_dir / STORE_DIR / "validations" / relative.with_suffix(".json")
    result_page = docs_dir / "validations" / relative.with_suffix(".html")
    by_column = {}
    for result in validation.results:
        column = result.expectation_config.kwargs.get("column")
        observed = (result.result or {}).get("observed_value")
        error = (result.exception_info or {}).get("exception_message")
        by_column[column] = (result.expectation_config.type, bool(result.success), observed,
                             error)
    return suite_name, by_column, result_file, result_page


def run_gx_gate(
    layer: str,
    database: Path,
    *,
    history: dict[str, int] | None,
    config: GateConfig,
    docs_dir: Path,
) -> GateReport:
    """Validates one layer of `database` against its GX suite; never writes the database.

    `history` is `volume_snapshot` of the previous successful run (None on the first:
    volume changes are then not checked, detail 'no previous run'). Data Docs go to
    `docs_dir` (index.html in `GateReport.docs_index`), the GX result JSON to
    `GateReport.result_file`.
    """
    _check_layer(layer)
    started = time.perf_counter()
    docs_dir = Path(docs_dir).resolve()
    docs_dir.mkdir(parents=True, exist_ok=True)
    with _connect(database) as con:
        checks = LAYER_CHECKS[layer](con, config.layer(layer), history)
    validated = [check for check in checks if check.skipped is None]
    _quiet_gx()
    suite, by_column, result_file, result_page = _validate(
        layer, validated, docs_dir, config.keep_runs)
    results = []
    for check in checks:
        if check.skipped is not None:
            results.append(CheckResult(suite, "skipped", check.subject, True, check.value,
                                       check.expected, check.skipped, check.check))
            continue
        expectation, success, observed, error = by_column.get(
            check.column, ("missing from the GX result", False, None, None))
        detail = check.detail if not error else f"{check.detail}; GX error: {error}"
        results.append(CheckResult(
            suite=suite,
            expectation=expectation,
            column_or_table=check.subject,
            success=success,
            observed=float(observed) if observed is not None else check.value,
            expected=check.expected,
            detail=detail,
            check=check.check,
        ))
    index = docs_dir / "index.html"
    return GateReport(
        layer=layer,
        success=all(result.success for result in results),
        checks=results,
        seconds=time.perf_counter() - started,
        docs_index=index if index.is_file() else None,
        suite=suite,
        result_file=result_file if result_file.is_file() else None,
        result_page=result_page if result_page.is_file() else None,
        config_sources=config.sources,
    )
