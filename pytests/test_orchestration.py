"""Dagster definitions (lifecycle_warehouse.orchestration), executed in-process.

One generated sample (2,000 persons), every path in tmp (build, serving, Data Docs, dbt
target, DAGSTER_HOME). The first run of the build job must materialize every dbt seed
and model plus `published_marts`, pass every layer gate, and publish marts whose row
counts equal the build file's. A run with an impossible staging expectation
(`LW_GATES_CONFIG`) must fail at the staging gate, skip every later layer and the
publish, and leave the serving file byte-identical; a run of the marts alone with an
impossible marts expectation must skip the publish. Expected assets come from dbt's
manifest.json read here, the row counts from direct DuckDB queries.

Needs the optional extra (`pip install -e '.[orchestration]'`, which `make test`
installs); skipped without it except under CI, where a missing Dagster is an error.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from lifecycle_warehouse.pipeline.gated_build import history_path
from lifecycle_warehouse.pipeline.project import PROJECT_ROOT

if os.environ.get("CI"):
    import dagster as dg  # CI installs .[dev,orchestration]: never skip there
else:
    dg = pytest.importorskip("dagster", reason="pip install -e '.[orchestration]'")
pytest.importorskip("dagster_dbt", reason="pip install -e '.[orchestration]'")

from lifecycle_warehouse.orchestration import assets as orchestration  # noqa: E402

# the generator always injects defects, so some rows are quarantined (asserted below)
IMPOSSIBLE_STAGING_GATE = "staging:\n  quarantine_share:\n    max: 0.0\n"
# some lifecycle stage always holds more than 5 % of persons (there are fewer than 20)
IMPOSSIBLE_MARTS_GATE = "marts:\n  lifecycle_stage_shares:\n    max: 0.05\n"
pytestmark = pytest.mark.filterwarnings(  # inside dagster-dbt 0.29, not ours
    "ignore:AssetExecutionContext.op is deprecated:DeprecationWarning")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def table_counts(database: Path, schema: str) -> dict[str, int]:
    with duckdb.connect(str(database), read_only=True) as con:
        tables = [row[0] for row in con.execute(
            "select table_name from duckdb_tables() where schema_name = ? "
            "and not starts_with(table_name, '_') and table_name not like '%__dbt_%' "
            "order by 1", [schema]).fetchall()]
        return {table: con.execute(f'select count(*) from "{schema}"."{table}"').fetchone()[0]
                for table in tables}


class Deployment:
    def __init__(self, root: Path, landing: Path) -> None:
        self.root, self.landing = root, landing
        self.database = root / "build" / "lifecycle.duckdb"
        self.serving = root / "serving" / "lifecycle.duckdb"
        self.target = root / "target"
        self.env = {
            "LW_LANDING_DIR": str(landing),
            "LW_DUCKDB_PATH": str(self.database),
            "LW_DUCKDB_TEMP_DIR": str(root / "tmp"),
            "LW_SERVING_PATH": str(self.serving),
            "LW_GX_DOCS_DIR": str(root / "gx_docs"),
            "DBT_TARGET_PATH": str(self.target),
            "DAGSTER_HOME": str(root / "dagster_home"),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            "DO_NOT_TRACK": "1",
        }
        (root / "dagster_home").mkdir(parents=True, exist_ok=True)

    def manifest_nodes(self) -> list[dict]:
        manifest = json.loads((self.target / "dagster" / "manifest.json").read_text())
        return [node for node in manifest["nodes"].values()
                if node["resource_type"] in {"model", "seed"} and node["package_name"]
                == "lifecycle_warehouse" and node["config"].get("enabled", True)]

    def run(self, defs: dg.Definitions, **selection) -> dg.ExecuteInProcessResult:
        job = defs.resolve_job_def(orchestration.JOB_NAME)
        return job.execute_in_process(raise_on_error=False,
                                      instance=dg.DagsterInstance.ephemeral(), **selection)


@pytest.fixture(scope="module")
def deployment(tmp_path_factory) -> Deployment:
    root = tmp_path_factory.mktemp("orchestration")
    landing = root / "landing"
    generated = subprocess.run(
        [sys.executable, "-m", "lifecycle_warehouse.cli", "generate", "--out", str(landing),
         "--persons", "2000", "--days", "365", "--seed", "42", "--start-date", "2025-01-01",
         "--no-progress"],
        capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=600)
    assert generated.returncode == 0, generated.stderr
    deployment = Deployment(root, landing)
    with pytest.MonkeyPatch.context() as patch:
        for key, value in deployment.env.items():
            patch.setenv(key, value)
        patch.delenv("LW_GATES_CONFIG", raising=False)
        deployment.defs = orchestration.build_definitions()
        deployment.first = deployment.run(deployment.defs)
    return deployment


@pytest.fixture
def env(deployment, monkeypatch):
    for key, value in deployment.env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("LW_GATES_CONFIG", raising=False)
    return monkeypatch


def test_successful_run_materializes_every_model_and_publishes(deployment):
    result = deployment.first
    assert result.success, [event.message for event in result.all_events if event.is_failure]
    nodes = deployment.manifest_nodes()
    materialized = [event.asset_key for event in result.get_asset_materialization_events()]
    assert len(materialized) == len(set(materialized)), "an asset materialized twice"
    assert {key.path[-1] for key in materialized} == (
        {node["name"] for node in nodes} | {"published_marts"})
    assert len(materialized) == len(nodes) + 1

    gates = [check for check in result.get_asset_check_evaluations()
             if check.check_name == orchestration.GATE_CHECK]
    # every model belongs to a gated layer, so every model carries the gate check
    gated_models = {node["name"] for node in nodes if node["resource_type"] == "model"}
    assert {check.asset_key.path[-1] for check in gates} == gated_models
    assert len(gates) == len(gated_models)
    assert all(check.passed for check in gates)
    dbt_tests = [check for check in result.get_asset_check_evaluations()
                 if check.check_name != orchestration.GATE_CHECK]
    assert len(dbt_tests) > 100, "dbt tests should be reported as asset checks"
    # a failing test of severity warn is a reported finding, not a failed run (e.g. a
    # referral whose referrer's CRM row was quarantined); every error-severity test passes
    manifest = json.loads((deployment.target / "dagster" / "manifest.json").read_text())
    soft = {node["name"] for node in manifest["nodes"].values() if node["resource_type"] == "test"
            and str(node["config"].get("severity", "")).lower() == "warn"}
    assert [check.check_name for check in dbt_tests
            if not check.passed and check.check_name not in soft] == []

    marts = {node["name"] for node in nodes if node["original_file_path"]
             .startswith("models/marts/")}
    assert len(marts) >= 9
    published = table_counts(deployment.serving, "marts")
    built = table_counts(deployment.database, "marts")
    # every dbt mart, plus the audience change table publishing writes (the first
    # publish: every member entered)
    assert set(published) == marts | {"fct_audience_changes"}
    assert {table: published[table] for table in marts} == {table: built[table] for table in marts}
    assert published["fct_audience_changes"] == built["fct_audience_membership"]
    assert all(rows > 0 for rows in published.values()), published
    with duckdb.connect(str(deployment.serving), read_only=True) as con:
        metadata = json.loads(con.execute("select metadata from meta.publish_info").fetchone()[0])
    assert metadata["dagster_run_id"] == result.run_id
    history = json.loads(history_path(deployment.serving).read_text())
    assert history["marts"]["marts.fct_rfm"] == built["fct_rfm"]


def step_events(result: dg.ExecuteInProcessResult, kind: str) -> list[str]:
    return sorted(event.step_key for event in result.all_events if event.event_type_value == kind)


def test_failing_gate_fails_the_run_and_keeps_the_serving_file(deployment, env, tmp_path):
    assert deployment.first.success
    before = sha256(deployment.serving)
    history_before = history_path(deployment.serving).read_bytes()
    override = tmp_path / "gates.yml"
    override.write_text(IMPOSSIBLE_STAGING_GATE)
    env.setenv("LW_GATES_CONFIG", str(override))

    result = deployment.run(deployment.defs)

    assert not result.success
    assert step_events(result, "STEP_FAILURE") == ["gx_gate_staging"]
    # nothing downstream of the refused layer ran: not the next layers, not the publish
    assert step_events(result, "STEP_START") == ["dbt_seeds", "dbt_staging", "gx_gate_staging"]
    materialized = {event.asset_key.path[-1]
                    for event in result.get_asset_materialization_events()}
    nodes = deployment.manifest_nodes()
    assert materialized == {node["name"] for node in nodes if node["resource_type"] == "seed"
                            or node["original_file_path"].startswith("models/staging/")}
    gates = [check for check in result.get_asset_check_evaluations()
             if check.check_name == orchestration.GATE_CHECK]
    assert gates and not any(check.passed for check in gates)
    assert {check.asset_key.path[-1] for check in gates} == {
        node["name"] for node in nodes if node["resource_type"] == "model"
        and node["original_file_path"].startswith("models/staging/")}
    assert "quarantine_share" in gates[0].metadata["failed_checks"].value
    with duckdb.connect(str(deployment.database), read_only=True) as con:  # it was violated
        assert con.execute(
            "select count(*) from staging.stg_landing__quarantined_rows").fetchone()[0] > 0
    assert sha256(deployment.serving) == before
    assert history_path(deployment.serving).read_bytes() == history_before


def test_marts_gate_blocks_the_publish(deployment, env, tmp_path):
    """Only the marts, their gate and the publish: the failed gate must stop the publish."""
    before = sha256(deployment.serving)
    override = tmp_path / "gates.yml"
    override.write_text(IMPOSSIBLE_MARTS_GATE)
    env.setenv("LW_GATES_CONFIG", str(override))
    marts = next(assets for assets in deployment.defs.assets
                 if getattr(assets, "node_def", None) and assets.node_def.name == "dbt_marts").keys
    result = deployment.run(deployment.defs,
                            asset_selection=[*marts, orchestration.PUBLISHED_ASSET])
    assert not result.success
    assert step_events(result, "STEP_FAILURE") == ["gx_gate_marts"]
    assert step_events(result, "STEP_START") == ["dbt_marts", "gx_gate_marts"]  # no publish
    gate = next(check for check in result.get_asset_check_evaluations()
                if check.asset_key.path[-1] == "fct_customer_lifecycle"
                and check.check_name == orchestration.GATE_CHECK)
    assert not gate.passed
    assert "lifecycle_stage_share" in gate.metadata["failed_checks"].value
    assert sha256(deployment.serving) == before


def test_publish_alone_refuses_to_publish_unaudited_tables(deployment, env):
    before = sha256(deployment.serving)
    result = deployment.run(deployment.defs, asset_selection=[orchestration.PUBLISHED_ASSET])
    assert not result.success
    failure = next(event for event in result.all_events
                   if event.event_type_value == "STEP_FAILURE")
    assert failure.step_key == "published_marts"
    assert "builds and gates every layer" in failure.step_failure_data.user_failure_data \
        .description
    assert sha256(deployment.serving) == before


def test_daily_schedule(deployment, env):
    schedule = deployment.defs.resolve_schedule_def(orchestration.SCHEDULE_NAME)
    assert schedule.cron_schedule == "15 3 * * *"
    assert schedule.execution_timezone == "UTC"
    assert schedule.job_name == orchestration.JOB_NAME
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING

    env.setenv("LW_SCHEDULE_CRON", "30 1 * * 1-5")
    env.setenv("LW_SCHEDULE_TIMEZONE", "Europe/Berlin")
    assert orchestration.schedule_settings() == ("30 1 * * 1-5", "Europe/Berlin")
    env.setenv("LW_SCHEDULE_CRON", "every day")
    with pytest.raises(ValueError, match="LW_SCHEDULE_CRON='every day' is not a cron"):
        orchestration.schedule_settings()
    env.setenv("LW_SCHEDULE_CRON", "15 3 * * *")
    env.setenv("LW_SCHEDULE_TIMEZONE", "Mars/Olympus")
    with pytest.raises(ValueError, match="not an IANA time zone"):
        orchestration.schedule_settings()
