"""Great Expectations quality gates (lifecycle_warehouse.pipeline.gates.gx) on small DuckDB files.

Each test builds a tiny database with just the tables and columns the suites read (a
few hundred rows, made with SQL), optionally breaks one thing, and runs one layer's
gate. One test runs all three gates on a copy of the real build with the committed
quality_gates.yml.
"""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import duckdb
import pytest
import yaml

from lifecycle_warehouse.pipeline.gates.config import DEFAULT_CONFIG_PATH, OVERRIDE_ENV
from lifecycle_warehouse.pipeline.gates.gx import (
    CheckResult,
    GateConfigError,
    GateReport,
    load_gate_config,
    run_gx_gate,
    volume_snapshot,
)
from lifecycle_warehouse.pipeline.project import PROJECT_ROOT, Paths

# the default build (data/build/lifecycle.duckdb, or env LW_DUCKDB_PATH like `lw build`)
REAL_DATABASE = Paths.default().database
EXPECTATION = "expect_column_max_to_be_between"
AS_OF = date(2025, 12, 31)

# Bounds for the tiny databases: the same layout as quality_gates.yml, fewer columns.
TEST_CONFIG = {
    "defaults": {"volume": {"max_decrease": 0.2, "max_increase": 0.5, "min_previous_rows": 10}},
    "staging": {
        "null_rates": {"staging.stg_web__events": {"event_id": 0, "event_at": 0, "user_id": 0.9}},
        "value_ranges": {"staging.stg_web__events": {"amount": [0, None]}},
        "quarantine_share": {"max": 0.05},
    },
    "intermediate": {
        "null_rates": {"identity.int_persons": {"person_id": 0}},
        "value_ranges": {"intermediate.int_person_days": {"events": [1, None]}},
        "events_without_person": {"max_share": 0.05},
        "thresholds": {"dormant_days": [14, 60], "churned_days": [45, 180],
                       "repurchase_cycle_days": [7, 90]},
    },
    "marts": {
        "null_rates": {"marts.fct_customer_lifecycle": {"person_id": 0, "lifecycle_stage": 0}},
        "value_ranges": {"marts.fct_rfm": {"r_score": [1, 5], "f_score": [1, 5],
                                           "m_score": [1, 5]}},
        "lifecycle_stage_shares": {"min": 0.05, "max": 0.6,
                                   "expected": ["new", "active", "dormant", "churned"]},
        "rfm_segment_shares": {"min": 0.05, "max": 0.6,
                               "expected": ["champions", "loyal", "hibernating"]},
        "negative_net_revenue": {"max_share": 0.05},
        "freshness": {"max_lag_days": 2},
    },
    "docs": {"keep_runs": 3},
}


def make_database(
    path: Path,
    *,
    web_rows: int = 200,
    null_event_at: int = 0,
    quarantined_web: int = 10,
    negative_persons: int = 1,
    stage_skew: bool = False,
    newest_event: date = AS_OF,
    bad_score: bool = False,
) -> Path:
    """The tables and columns the suites read, 100 persons, healthy unless told."""
    stages = "['new', 'active', 'dormant', 'churned']"
    stage = ("case when i < 70 then 'churned' else 'new' end" if stage_skew
             else f"{stages}[i % 4 + 1]")
    with duckdb.connect(str(path)) as con:
        con.execute(f"""
            create schema staging; create schema identity;
            create schema intermediate; create schema marts;
            create table staging.stg_web__events as
              select 'e' || i as event_id,
                     case when i < {null_event_at} then null
                          else timestamp '2025-12-01' + i * interval 1 minute end as event_at,
                     case when i % 2 = 0 then 'u' || i end as user_id,
                     (i % 7)::decimal(18, 2) as amount
              from range({web_rows}) t(i);
            create table staging.stg_landing__row_counts as
              select * from (values ('web', {web_rows + quarantined_web}, {web_rows}, 0,
                                     {quarantined_web}),
                                    ('crm', 50, 50, 0, 0))
                t(source, raw_rows, staged_rows, duplicate_rows, quarantined_rows);
            create table staging.stg_landing__quarantined_rows as
              select 'web' as source, 'k' || i as record_key from range({quarantined_web}) t(i);
            create table identity.int_persons as
              select 'p' || i as person_id from range(100) t(i);
            create table intermediate.int_events_unioned as
              select case when i < 2 then null else 'p' || (i % 100) end as person_id,
                     date '{newest_event}' - (i % 30)::int as event_date,
                     true as is_user_initiated
              from range(300) t(i);
            create table intermediate.int_person_days as
              select 'p' || i as person_id, date '2025-12-01' as activity_date, 1 + i % 3 as events
              from range(100) t(i);
            create table intermediate.int_lifecycle_thresholds as
              select 17 as dormant_days, 45 as churned_days, 7 as repurchase_cycle_days;
            create table intermediate.int_as_of_date as
              select date '{AS_OF}' as as_of_date, date '{newest_event}' as latest_event_date;
            create table marts.fct_customer_lifecycle as
              select 'p' || i as person_id, {stage} as lifecycle_stage from range(100) t(i);
            create table marts.fct_rfm as
              select 'p' || i as person_id,
                     ['champions', 'loyal', 'hibernating'][i % 3 + 1] as segment,
                     case when {bad_score} and i = 0 then 6 else 1 + i % 5 end as r_score,
                     1 + i % 5 as f_score, 1 + i % 5 as m_score
              from range(60) t(i);
            create table marts.fct_customer_value as
              select 'p' || i as person_id,
                     (case when i < {negative_persons} then -10 else 25 end)::decimal(18, 2)
                       as net_revenue
              from range(60) t(i);
        """)
    return path


@pytest.fixture(autouse=True)
def _no_override(monkeypatch):
    monkeypatch.delenv(OVERRIDE_ENV, raising=False)


@pytest.fixture
def config_file(tmp_path) -> Path:
    path = tmp_path / "gates.yml"
    path.write_text(yaml.safe_dump(TEST_CONFIG))
    return path


@pytest.fixture
def config(config_file):
    return load_gate_config(config_file)


@pytest.fixture
def docs_dir(tmp_path) -> Path:
    return tmp_path / "gx_docs"


def gate(layer: str, database: Path, config, docs_dir: Path, history=None) -> GateReport:
    return run_gx_gate(layer, database, history=history, config=config, docs_dir=docs_dir)


def only_failure(report: GateReport) -> CheckResult:
    assert not report.success
    failures = report.failures
    assert len(failures) == 1, report.format()
    return failures[0]


@pytest.mark.parametrize("layer", ["staging", "intermediate", "marts"])
def test_healthy_layer_passes_with_and_without_history(layer, tmp_path, config, docs_dir):
    database = make_database(tmp_path / "ok.duckdb")
    first = gate(layer, database, config, docs_dir)
    assert first.success, first.format()
    volume = [c for c in first.checks if c.check == "volume"]
    assert volume and all(c.success and "no previous run" in c.detail for c in volume)

    again = gate(layer, database, config, docs_dir, history=volume_snapshot(database, layer))
    assert again.success, again.format()
    assert all("previous run" in c.detail for c in again.checks if c.check == "volume")
    assert again.suite == f"lw_{layer}"
    assert all(c.suite == again.suite for c in again.checks)


def test_volume_outside_tolerance_fails(tmp_path, config, docs_dir):
    database = make_database(tmp_path / "shrunk.duckdb", web_rows=100, quarantined_web=2)
    history = {"staging.stg_web__events": 200, "staging.stg_landing__row_counts": 2,
               "staging.stg_landing__quarantined_rows": 2}
    failure = only_failure(gate("staging", database, config, docs_dir, history=history))
    assert (failure.check, failure.column_or_table) == ("volume", "staging.stg_web__events")
    assert failure.expectation == EXPECTATION
    assert failure.observed == 100
    assert failure.expected == "between 160 and 300"
    assert "-50.0%" in failure.detail


def test_base_tables_are_left_out_of_the_volume_check(tmp_path, config, docs_dir):
    """A base_ table holds every raw row that landed: a file delivered twice doubles it,
    while the staged tables stay as they were (suites._is_raw)."""
    database = make_database(tmp_path / "raw.duckdb")
    with duckdb.connect(str(database)) as con:
        con.execute("create table staging.base_web__events as select 1 as row from range(400)")
    history = volume_snapshot(database, "staging") | {"staging.base_web__events": 200,
                                                      "staging.base_gone__lines": 500}
    report = gate("staging", database, config, docs_dir, history=history)
    assert report.success, report.format()
    checked = {c.column_or_table for c in report.checks if c.check == "volume"}
    assert "staging.stg_web__events" in checked
    assert not {"staging.base_web__events", "staging.base_gone__lines"} & checked


def test_table_gone_since_previous_run_fails(tmp_path, config, docs_dir):
    database = make_database(tmp_path / "ok.duckdb")
    history = volume_snapshot(database, "marts") | {"marts.fct_gone": 500}
    failure = only_failure(gate("marts", database, config, docs_dir, history=history))
    assert failure.column_or_table == "marts.fct_gone"
    assert failure.observed == 0 and "table missing" in failure.detail


def test_null_rate_fails(tmp_path, config, docs_dir):
    database = make_database(tmp_path / "nulls.duckdb", null_event_at=5)
    failure = only_failure(gate("staging", database, config, docs_dir))
    assert (failure.check, failure.column_or_table) == ("null_rate",
                                                       "staging.stg_web__events.event_at")
    assert failure.expectation == EXPECTATION
    assert failure.observed == pytest.approx(5 / 200)
    assert failure.detail == "5 of 200 rows null"


def test_quarantine_share_fails(tmp_path, config, docs_dir):
    database = make_database(tmp_path / "quarantine.duckdb", quarantined_web=50)
    failure = only_failure(gate("staging", database, config, docs_dir))
    assert failure.check == "quarantine_share"
    assert failure.column_or_table == "staging.stg_landing__row_counts[source=web]"
    assert failure.observed == pytest.approx(50 / 250)
    assert failure.expected == "<= 0.05"


def test_stage_share_out_of_bounds_fails(tmp_path, config, docs_dir):
    database = make_database(tmp_path / "skew.duckdb", stage_skew=True)
    report = gate("marts", database, config, docs_dir)
    failed = {c.column_or_table: c for c in report.failures}
    stage = "marts.fct_customer_lifecycle.lifecycle_stage="
    # 70 % churned is above 0.6; active and dormant vanished (0 < 0.05); new 30 % is fine
    assert set(failed) == {stage + "churned", stage + "active", stage + "dormant"}
    assert failed[stage + "churned"].observed == pytest.approx(0.7)
    assert failed[stage + "active"].observed == 0
    assert failed[stage + "churned"].check == "lifecycle_stage_share"
    assert failed[stage + "churned"].expected == "between 0.05 and 0.6"


def test_negative_net_revenue_share_fails(tmp_path, config, docs_dir):
    database = make_database(tmp_path / "negative.duckdb", negative_persons=6)
    failure = only_failure(gate("marts", database, config, docs_dir))
    assert failure.check == "negative_net_revenue_share"
    assert failure.observed == pytest.approx(0.1)
    assert failure.detail.startswith("6 of 60 persons with net revenue < 0")


def test_freshness_fails(tmp_path, config, docs_dir):
    database = make_database(tmp_path / "stale.duckdb", newest_event=date(2025, 12, 21))
    failure = only_failure(gate("marts", database, config, docs_dir))
    assert failure.check == "freshness"
    assert failure.observed == 10
    assert failure.expected == "<= 2"


def test_value_range_fails(tmp_path, config, docs_dir):
    database = make_database(tmp_path / "score.duckdb", bad_score=True)
    failure = only_failure(gate("marts", database, config, docs_dir))
    assert (failure.check, failure.column_or_table) == ("value_range", "marts.fct_rfm.r_score")
    assert failure.observed == 1
    assert "max 6" in failure.detail


def test_missing_table_fails_with_reason(tmp_path, config, docs_dir):
    database = make_database(tmp_path / "ok.duckdb")
    with duckdb.connect(str(database)) as con:
        con.execute("drop table intermediate.int_lifecycle_thresholds")
    report = gate("intermediate", database, config, docs_dir)
    failed = [c for c in report.failures if c.check == "threshold"]
    assert len(failed) == 3 and all("cannot measure" in c.detail for c in failed)


def test_override_file_forces_a_failure(tmp_path, config_file, docs_dir, monkeypatch):
    database = make_database(tmp_path / "ok.duckdb")
    override = tmp_path / "override.yml"
    override.write_text("intermediate:\n  events_without_person:\n    max_share: 0.001\n")
    monkeypatch.setenv(OVERRIDE_ENV, str(override))
    merged = load_gate_config(config_file)
    assert merged.sources[-1] == override.resolve()
    # deep merge: the rest of the intermediate section is still the base file's
    assert merged.layer("intermediate").thresholds["dormant_days"] == (14, 60)
    assert gate("staging", database, merged, docs_dir).success
    failure = only_failure(gate("intermediate", database, merged, docs_dir))
    assert failure.check == "events_without_person_share"
    assert failure.observed == pytest.approx(2 / 300)


def test_unknown_config_key_is_an_error(tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text("marts:\n  negative_net_revenu:\n    max_share: 0.01\n")
    with pytest.raises(GateConfigError, match="negative_net_revenu"):
        load_gate_config(bad)


def test_data_docs_and_result_file(tmp_path, config, docs_dir):
    database = make_database(tmp_path / "ok.duckdb", null_event_at=1)
    report = gate("staging", database, config, docs_dir)
    assert report.docs_index == docs_dir.resolve() / "index.html"
    assert "lw_staging" in report.docs_index.read_text()
    assert report.result_page is not None and report.result_page.is_file()
    result = json.loads(report.result_file.read_text())
    assert result["success"] is False
    assert result["meta"]["active_batch_definition"]["data_asset_name"] == "staging_metrics"
    text = report.format()
    assert "staging.stg_web__events.event_at" in text and str(report.result_file) in text
    for _ in range(3):  # keep_runs = 3: older results and pages are pruned
        gate("staging", database, config, docs_dir)
    assert len(list((docs_dir / "_store" / "validations" / "lw_staging").glob("*/*"))) == 3
    assert len(list((docs_dir / "validations" / "lw_staging").glob("*/*"))) == 3


def test_committed_thresholds_mirror_dbt_vars():
    if not DEFAULT_CONFIG_PATH.is_file():
        pytest.skip(f"{DEFAULT_CONFIG_PATH} does not exist")
    dbt_vars = yaml.safe_load((PROJECT_ROOT / "dbt_project.yml").read_text())["vars"]
    thresholds = load_gate_config().layer("intermediate").thresholds
    for name, bounds in thresholds.items():
        assert list(bounds) == dbt_vars[f"{name}_bounds"], name


def test_real_build_passes_every_gate(tmp_path, docs_dir):
    if not DEFAULT_CONFIG_PATH.is_file():
        pytest.skip(f"{DEFAULT_CONFIG_PATH} does not exist")
    if not REAL_DATABASE.is_file():
        pytest.skip(f"{REAL_DATABASE} not built (make build)")
    copy = tmp_path / "lifecycle.duckdb"
    shutil.copyfile(REAL_DATABASE, copy)
    with duckdb.connect(str(copy), read_only=True) as con:
        schemas = {row[0] for row in con.execute("select schema_name from duckdb_tables()")
                   .fetchall()}
    if "marts" not in schemas:
        pytest.skip(f"{REAL_DATABASE} predates the marts (schemas {sorted(schemas)}): make build")
    config = load_gate_config()
    for layer in ("staging", "intermediate", "marts"):
        report = gate(layer, copy, config, docs_dir)
        assert report.success, report.format()
        again = gate(layer, copy, config, docs_dir, history=volume_snapshot(copy, layer))
        assert again.success, again.format()


def test_serving_files_in_one_directory_keep_their_own_volume_history(tmp_path):
    """`lw build` then `lw build --source cdnow` publish to data/serving/lifecycle.duckdb and
    data/serving/cdnow.duckdb: one shared gate_history.json made the second build compare
    its staging volumes with the first's tables (observed 0 of stg_web__events, -100 %)."""
    from lifecycle_warehouse.pipeline.gated_build import history_path, load_history, save_history

    demo, cdnow = tmp_path / "lifecycle.duckdb", tmp_path / "cdnow.duckdb"
    save_history(demo, {"staging": {"staging.stg_web__events": 994582}})
    save_history(cdnow, {"staging": {"staging.stg_transactions__lines": 69659}})
    assert load_history(demo) == {"staging": {"staging.stg_web__events": 994582}}
    assert load_history(cdnow) == {"staging": {"staging.stg_transactions__lines": 69659}}
    assert history_path(cdnow) == tmp_path / "cdnow.gate_history.json"


def test_stored_suite_holds_each_check_once_after_repeated_runs(tmp_path, config, docs_dir):
    """The suite is stored whole once per run (its expectations given to the constructor):
    a second run replaces the stored suite, never appends to it."""
    database = make_database(tmp_path / "ok.duckdb")
    for _ in range(2):
        report = gate("marts", database, config, docs_dir)
    assert report.success, report.format()
    stored = list((docs_dir / "_store" / "expectations").glob("lw_marts*"))
    assert len(stored) == 1, stored
    suite = json.loads(stored[0].read_text())
    validated = [check for check in report.checks if check.expectation != "skipped"]
    columns = [expectation["kwargs"]["column"] for expectation in suite["expectations"]]
    assert len(columns) == len(set(columns)) == len(validated) > 10
    assert {expectation["type"] for expectation in suite["expectations"]} == {
        "expect_column_max_to_be_between"}
