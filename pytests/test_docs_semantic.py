"""dbt docs, exposures and the MetricFlow semantic layer on a built warehouse.

The shared build of the default sample (conftest `sample_build`: `lw generate` → `lw
build`, which also builds the semantic layer's time spine) → in a private copy of the
project (symlinks, its own `target/`: `mf` always reads
`<project>/target/semantic_manifest.json`) `dbt docs generate`.
Then: every model, seed and column is described (from manifest.json + catalog.json),
both exposures are in the manifest with their marts, `mf validate-configs` passes
(semantics and the warehouse), and `mf query` gives the numbers a direct SQL query on
the published marts gives, computed independently where the mart allows it (churn and
reactivation from person-level history, not from the transitions mart the metrics read).
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest
import yaml

from lifecycle_warehouse.pipeline.project import PROJECT_ROOT

BIN = Path(sys.executable).parent
PACKAGE = "lifecycle_warehouse"
# the stage lists of the metric definitions (models/semantic, DECISIONLOG "Semantic layer")
CHURN_BASE_STAGES = ("new", "active", "loyal_high_value", "at_risk", "dormant", "reactivated")
LAPSED_STAGES = ("dormant", "churned")
DASHBOARD_MARTS = {"fct_customer_lifecycle", "fct_lifecycle_transitions", "fct_rfm",
                   "agg_segment_summary", "fct_growth_accounting", "dim_customers"}


def run(cmd: list[str], cwd: Path, env: dict, timeout: int = 900) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def project_copy(destination: Path) -> Path:
    """The dbt project as symlinks (sources shared, target/ and logs/ private)."""
    destination.mkdir()
    config = yaml.safe_load((PROJECT_ROOT / "dbt_project.yml").read_text())
    names = {"dbt_project.yml", "profiles"}
    for key in ("model-paths", "macro-paths", "seed-paths", "test-paths", "analysis-paths"):
        names.update(config.get(key, []))
    for name in sorted(names):
        if (PROJECT_ROOT / name).exists():
            (destination / name).symlink_to(PROJECT_ROOT / name)
    return destination


@pytest.fixture(scope="module")
def docs(sample_build, tmp_path_factory):
    mf = BIN / "mf"
    assert mf.is_file(), (
        f"{mf} not found: the MetricFlow CLI comes with dbt-metricflow in the dev extra; "
        "run `make test` (it installs the dev extra; `make build` does not) or "
        ".venv/bin/pip install -e '.[dev]'")
    root = tmp_path_factory.mktemp("docs_semantic")
    # The shared build of the default sample (conftest sample_build; the gated build also
    # built the semantic layer's time spine). dbt and mf open the build file read-write,
    # so they get a private copy; the published file is only read.
    database = root / "warehouse.duckdb"
    shutil.copyfile(sample_build["database"], database)
    serving = sample_build["serving"]
    env = {key: value for key, value in os.environ.items()
           if key not in {"DBT_TARGET_PATH", "DBT_PROJECT_DIR", "DBT_PROFILES_DIR"}}
    env.update({"DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DO_NOT_TRACK": "1",
                "LW_LANDING_DIR": str(sample_build["landing"]), "LW_DUCKDB_PATH": str(database),
                "LW_DUCKDB_TEMP_DIR": str(root / "tmp"), "LW_GX_DOCS_DIR": str(root / "gx_docs"),
                "DBT_LOG_PATH": str(root / "logs")})

    project = project_copy(root / "project")
    env["DBT_PROFILES_DIR"] = str(project / "profiles")
    generated_docs = run([str(BIN / "dbt"), "docs", "generate"], project, env, timeout=600)
    assert generated_docs.returncode == 0, generated_docs.stdout[-3000:]
    target = project / "target"
    return {"project": project, "env": env, "serving": serving, "database": database,
            "manifest": json.loads((target / "manifest.json").read_text()),
            "catalog": json.loads((target / "catalog.json").read_text()),
            "semantic_manifest": json.loads((target / "semantic_manifest.json").read_text()),
            "root": root}


def serving_query(docs, sql: str) -> list[tuple]:
    with duckdb.connect(str(docs["serving"]), read_only=True) as con:
        return con.execute(sql).fetchall()


def mf_query(docs, name: str, metrics: str, group_by: str) -> list[dict]:
    out = docs["root"] / f"{name}.csv"
    result = run([str(BIN / "mf"), "query", "--metrics", metrics, "--group-by", group_by,
                  "--csv", str(out)], docs["project"], docs["env"], timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    with out.open(newline="") as handle:
        return list(csv.DictReader(handle))


def number(value: str) -> float | None:
    return None if value in ("", None) else float(value)


# ------------------------------------------------------------------------------ docs


def test_every_node_and_column_is_described(docs):
    manifest, catalog = docs["manifest"], docs["catalog"]
    nodes = {uid: node for uid, node in manifest["nodes"].items()
             if node["resource_type"] in ("model", "seed") and node["package_name"] == PACKAGE}
    models = [uid for uid, node in nodes.items() if node["resource_type"] == "model"]
    # every model was built, so the catalog's columns are all of them
    not_in_catalog = sorted(set(nodes) - set(catalog["nodes"]))
    assert not not_in_catalog, f"not in catalog.json (not built?): {not_in_catalog}"
    undescribed_nodes = sorted(
        uid for uid, node in nodes.items() if not node["description"].strip())
    undescribed_columns, columns = [], 0
    for uid in nodes:
        described = {name.lower(): column["description"].strip()
                     for name, column in nodes[uid]["columns"].items()}
        for name in catalog["nodes"][uid]["columns"]:
            columns += 1
            if not described.get(name.lower()):
                undescribed_columns.append(f"{nodes[uid]['name']}.{name}")
    assert not undescribed_nodes, (
        f"models / seeds without a description: {undescribed_nodes}; add `description:` "
        "in the folder's _*.yml")
    assert not undescribed_columns, (
        f"{len(undescribed_columns)} of {columns} columns undocumented: {undescribed_columns}; "
        "describe them in the model's YAML (shared ones as a {% docs %} block in models/docs/)")
    # the coverage above is over the whole project, not a handful of nodes
    assert len(models) >= 45 and columns >= 600
    assert "model.lifecycle_warehouse.metricflow_time_spine" in models
    sources = [f"{s['source_name']}.{s['name']}" for s in manifest["sources"].values()
               if not (s["description"].strip() or s["source_description"].strip())]
    assert not sources, f"sources without a description: {sources}"
    analyses = [node["name"] for node in manifest["nodes"].values()
                if node["resource_type"] == "analysis" and not node["description"].strip()]
    assert not analyses, f"analyses without a description (analyses/_analyses.yml): {analyses}"


def test_every_mart_has_an_example_query_that_runs(docs):
    """Each mart's description ends with a ```sql example for BI users (dbt docs,
    dbt-score's has_example_sql); it must read that mart and return rows on the
    published file, so an example cannot rot when a column is renamed."""
    marts = sorted((node for node in docs["manifest"]["nodes"].values()
                    if node["resource_type"] == "model"
                    and node["original_file_path"].startswith("models/marts/")),
                   key=lambda node: node["name"])
    assert len(marts) >= 12
    for node in marts:
        match = re.search(r"```sql\n(.*?)```", node["description"], re.S)
        assert match, f"{node['name']}: no ```sql example in its description"
        sql = match.group(1)
        assert f"from marts.{node['name']}" in sql, (node["name"], sql)
        assert serving_query(docs, sql), f"{node['name']}: the example returns no rows"


def test_dbt_score_thresholds_hold(docs):
    """dbt-score (descriptions, owners, uniqueness tests, macro docs, example queries)
    on this build's manifest, with the thresholds of [tool.dbt-score] in pyproject.toml."""
    dbt_score = BIN / "dbt-score"
    assert dbt_score.is_file(), (
        f"{dbt_score} not found: run `make test` (it installs the dev extra; `make build` "
        "does not) or .venv/bin/pip install -e '.[dev]'")
    result = run([str(dbt_score), "lint", "--manifest",
                  str(docs["project"] / "target" / "manifest.json")],
                 PROJECT_ROOT, {**docs["env"], "NO_COLOR": "1"}, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "Project score: " in result.stdout


def test_exposures_name_the_marts_they_read(docs):
    exposures = docs["manifest"]["exposures"]
    expected = {
        "lifecycle_dashboard": ("dashboard", DASHBOARD_MARTS),
        "automation_triggers_feed": ("application", {"fct_customer_triggers"}),
    }
    for name, (kind, marts) in expected.items():
        exposure = exposures[f"exposure.{PACKAGE}.{name}"]
        assert exposure["type"] == kind
        assert set(exposure["depends_on"]["nodes"]) == {f"model.{PACKAGE}.{m}" for m in marts}
        assert exposure["description"].strip() and exposure["owner"]["name"]
    # every mart an exposure reads is a published contract mart
    published = {row[0] for row in serving_query(
        docs, "select table_name from duckdb_tables() where schema_name = 'marts'")}
    assert DASHBOARD_MARTS | {"fct_customer_triggers"} <= published


# ------------------------------------------------------------------- semantic layer


def test_semantic_manifest_has_the_metrics_and_time_spine(docs):
    semantic = docs["semantic_manifest"]
    metrics = {metric["name"] for metric in semantic["metrics"]}
    assert {"customers", "rfm_net_revenue", "average_order_value", "churn_rate",
            "reactivation_rate", "activity_churn_rate"} <= metrics
    assert {model["name"] for model in semantic["semantic_models"]} >= {
        "customer_lifecycle", "customer_value", "rfm", "lifecycle_transitions",
        "growth_accounting", "customer_profiles"}
    spines = semantic["project_configuration"]["time_spines"]
    assert [spine["node_relation"]["alias"] for spine in spines] == ["metricflow_time_spine"]
    # the spine covers every as_of_date and snapshot of the data
    with duckdb.connect(str(docs["database"]), read_only=True) as con:
        first, last, days = con.execute(
            "select min(date_day), max(date_day), count(*) from semantic.metricflow_time_spine"
        ).fetchone()
    (as_of,) = serving_query(docs, "select max(as_of_date) from marts.fct_customer_lifecycle")[0]
    assert first <= as_of <= last and days == (last - first).days + 1


def test_mf_validate_configs_passes(docs):
    result = run([str(BIN / "mf"), "validate-configs"], docs["project"], docs["env"], timeout=300)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert "Successfully validated the semantics of built manifest (ERRORS: 0" in output
    assert "Successfully validated metrics against data warehouse (ERRORS: 0" in output
    assert "Breaking issues" not in output


def test_mf_customers_by_lifecycle_stage_equal_sql(docs):
    rows = mf_query(docs, "stages", "customers", "person__lifecycle_stage")
    from_mf = {row["person__lifecycle_stage"]: int(row["customers"]) for row in rows}
    from_sql = dict(serving_query(
        docs, "select lifecycle_stage, count(distinct person_id) "
              "from marts.fct_customer_lifecycle group by lifecycle_stage"))
    assert from_mf == from_sql
    assert len(from_sql) == 8 and sum(from_sql.values()) > 1000


def test_mf_revenue_and_aov_by_rfm_segment_equal_sql(docs):
    rows = mf_query(docs, "segments", "rfm_net_revenue,rfm_buyers,average_order_value",
                    "person__segment")
    from_mf = {row["person__segment"] or None: row for row in rows}
    from_sql = {segment: (revenue, buyers, aov) for segment, revenue, buyers, aov in serving_query(
        docs,
        """
        select
            rfm.segment,
            sum(rfm.net_revenue),
            count(*),
            sum(value.net_revenue) / nullif(sum(value.order_count), 0)
        from marts.fct_rfm as rfm
        inner join marts.fct_customer_value as value on value.person_id = rfm.person_id
        group by rfm.segment
        """)}
    assert set(from_sql) <= set(from_mf) and len(from_sql) == 10
    for segment, (revenue, buyers, aov) in from_sql.items():
        row = from_mf[segment]
        assert number(row["rfm_net_revenue"]) == pytest.approx(float(revenue), abs=0.005), segment
        assert int(row["rfm_buyers"]) == buyers, segment
        assert number(row["average_order_value"]) == pytest.approx(float(aov), rel=1e-9), segment
    # the segment summary mart agrees on the total
    (total,) = serving_query(docs, "select sum(net_revenue) from marts.agg_segment_summary "
                                   "where dimension = 'rfm_segment'")[0]
    assert sum(number(from_mf[s]["rfm_net_revenue"]) for s in from_sql) == pytest.approx(
        float(total), abs=0.01)


def test_mf_churn_and_reactivation_rates_equal_person_history(docs):
    rows = mf_query(docs, "rates",
                    "churn_rate,churned_transitions,churn_base,reactivation_rate,"
                    "reactivated_transitions,lapsed_customers", "metric_time__month")
    from_mf = {row["metric_time__month"][:10]: row for row in rows}
    # independent of fct_lifecycle_transitions: each person's stage at the snapshot before
    base, lapsed = ", ".join(f"'{s}'" for s in CHURN_BASE_STAGES), ", ".join(
        f"'{s}'" for s in LAPSED_STAGES)
    history = serving_query(docs, f"""
        with stages as (
            select
                snapshot_date,
                lifecycle_stage,
                lag(lifecycle_stage) over (partition by person_id order by snapshot_date) as before
            from marts.fct_lifecycle_history
        )
        select
            strftime(date_trunc('month', snapshot_date), '%Y-%m-%d'),
            count(*) filter (where before in ({base})),
            count(*) filter (where before in ({base}) and lifecycle_stage = 'churned'),
            count(*) filter (where before in ({lapsed})),
            count(*) filter (where before in ({lapsed}) and lifecycle_stage = 'reactivated')
        from stages
        group by 1
    """)
    assert {month for month, *_ in history} == set(from_mf)
    for month, churn_base, churned, lapsed_count, reactivated in history:
        row = from_mf[month]
        assert int(row["churn_base"]) == churn_base, month
        assert int(row["churned_transitions"]) == churned, month
        assert int(row["lapsed_customers"]) == lapsed_count, month
        assert int(row["reactivated_transitions"]) == reactivated, month
        expected_churn = churned / churn_base if churn_base else None
        expected_reactivation = reactivated / lapsed_count if lapsed_count else None
        assert number(row["churn_rate"]) == pytest.approx(expected_churn), month
        assert number(row["reactivation_rate"]) == pytest.approx(expected_reactivation), month
    # the sample has churn and reactivation in most months, so the rates are not trivial
    rates = [number(r["churn_rate"]) for r in rows if number(r["churn_rate"]) is not None]
    assert len(rates) >= 10 and all(0 < rate < 1 for rate in rates)


def test_mf_activity_churn_rate_is_one_minus_retention(docs):
    rows = mf_query(docs, "activity", "activity_churn_rate", "metric_time__month")
    from_mf = {row["metric_time__month"][:10]: number(row["activity_churn_rate"]) for row in rows}
    retention = dict(serving_query(
        docs, "select strftime(period_start, '%Y-%m-%d'), retention_rate "
              "from marts.fct_growth_accounting"))
    assert set(from_mf) == set(retention) and len(retention) >= 12
    for month, rate in retention.items():
        expected = None if rate is None else 1 - rate
        assert from_mf[month] == pytest.approx(expected), month


def test_mf_weekly_cohort_retention_equals_person_days(docs):
    """weekly_cohort_retention_rate by weeks since the cohort, over complete weeks, is the
    retention computed here in Python from the build's person-days: ISO weeks (Monday
    start), cohort = first active week, persons made only of excluded identifiers out."""
    semantic = docs["semantic_manifest"]
    assert {"cohort_persons", "cohort_retained_persons", "cohort_retention_rate",
            "daily_cohort_retention_rate", "weekly_cohort_retention_rate",
            "monthly_cohort_retention_rate"} <= {metric["name"] for metric in semantic["metrics"]}
    assert "cohort_retention" in {model["name"] for model in semantic["semantic_models"]}
    rows = mf_query(docs, "cohorts", "weekly_cohort_retention_rate",
                    "cohort_cell__periods_since,cohort_cell__is_complete_period")
    from_mf = {int(row["cohort_cell__periods_since"]): number(row["weekly_cohort_retention_rate"])
               for row in rows if row["cohort_cell__is_complete_period"].lower() == "true"}
    with duckdb.connect(str(docs["database"]), read_only=True) as con:
        (as_of,) = con.execute("select as_of_date from intermediate.int_as_of_date").fetchone()
        person_days = con.execute(
            "select days.person_id, days.activity_date from intermediate.int_person_days as days "
            "inner join identity.int_persons as persons on persons.person_id = days.person_id "
            "where not persons.is_only_excluded_identifiers and days.activity_date <= ?",
            [as_of]).fetchall()
    weeks: dict[str, set] = {}
    for person_id, day in person_days:
        weeks.setdefault(person_id, set()).add(day - timedelta(days=day.weekday()))
    cohort, retained = {}, {}
    for active in weeks.values():
        first = min(active)
        for week in active:
            since = (week - first).days // 7
            if since <= 52 and week + timedelta(days=6) <= as_of:
                retained[since] = retained.get(since, 0) + 1
        # the cohort's size counts in every complete week up to 52 weeks after it
        for since in range(53):
            if first + timedelta(days=7 * since + 6) <= as_of:
                cohort[since] = cohort.get(since, 0) + 1
    expected = {since: retained.get(since, 0) / size for since, size in cohort.items()}
    assert set(from_mf) == set(expected) and len(expected) >= 50
    for since, rate in expected.items():
        assert from_mf[since] == pytest.approx(rate), since
    assert expected[0] == 1 and 0 < expected[1] < 1
