"""End to end on the default sample: `lw generate` → `lw build` (every dbt model, test).

The generator's manifest says exactly which defects it injected; staging must catch
exactly those: every duplicate removed, every bad row quarantined with the matching
reason, every late row flagged, nothing else lost. Also: the over-merge traps are
refused, documentation coverage is complete, and the CLI fails clearly without data.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from conftest import run_lw as lw
from lifecycle_warehouse.pipeline.project import PROJECT_ROOT, Paths
from lifecycle_warehouse.pipeline.runner import run_dbt

SOURCE_OF = {
    "web_events": "web",
    "app_events": "app",
    "messaging_webhooks": "messaging",
    "store_pos": "store_pos",
    "online_orders": "online_orders",
    "crm_customers": "crm",
}
# manifest column with a malformed id → the reject reason staging must give it
MALFORMED_ID_REASON = {
    "cookie_id": "malformed_cookie_id",
    "device_id": "malformed_device_id",
    "user_id": "malformed_user_id",
    "customer_id": "malformed_user_id",
    "loyalty_card": "malformed_loyalty_card",
}


@pytest.fixture(scope="module")
def built(sample_build):
    con = duckdb.connect(str(sample_build["database"]), read_only=True)
    yield {**sample_build, "con": con}
    con.close()


def test_summary_names_database_and_reconciles(built):
    stdout = built["stdout"]
    assert f"Built {built['database']}" in stdout
    assert "does not reconcile" not in stdout
    for source in SOURCE_OF.values():
        assert f"\n{source} " in stdout


def test_raw_rows_equal_generated_rows_and_reconcile(built):
    counts = {
        row[0]: row[1:]
        for row in built["con"].execute(
            "select source, raw_rows, staged_rows, quarantined_rows, duplicate_rows "
            "from staging.stg_landing__row_counts"
        ).fetchall()
    }
    for landing_name, source in SOURCE_OF.items():
        raw, staged, quarantined, duplicates = counts[source]
        assert raw == built["manifest"]["rows"][landing_name]
        assert raw == staged + quarantined + duplicates
        assert duplicates == built["manifest"]["defects"][landing_name]["duplicate"]


def expected_rejections(defects: dict) -> dict[str, int]:
    expected: dict[str, int] = {}
    for defect in ("future_timestamp", "unknown_event_name", "negative_amount",
                   "malformed_email"):
        if defects.get(defect):
            expected[defect] = defects[defect]
    for column, count in defects.get("malformed_id_by_column", {}).items():
        reason = MALFORMED_ID_REASON[column]
        expected[reason] = expected.get(reason, 0) + count
    return expected


@pytest.mark.parametrize("landing_name", sorted(SOURCE_OF))
def test_quarantine_holds_exactly_the_injected_defects(built, landing_name):
    actual = dict(
        built["con"].execute(
            "select reject_reason, count(*) from staging.stg_landing__quarantined_rows "
            "where source = ? group by reject_reason",
            [SOURCE_OF[landing_name]],
        ).fetchall()
    )
    assert actual == expected_rejections(built["manifest"]["defects"][landing_name])


def test_quarantined_rows_keep_the_raw_record(built):
    record = built["con"].execute(
        "select raw_record from staging.stg_landing__quarantined_rows "
        "where source = 'web' and reject_reason = 'unknown_event_name' limit 1"
    ).fetchone()[0]
    parsed = json.loads(record)
    assert parsed["event_id"].startswith("we_")
    assert "event_type" in parsed


@pytest.mark.parametrize(
    ("landing_name", "table"),
    [("web_events", "stg_web__events"), ("app_events", "stg_app__events"),
     ("messaging_webhooks", "stg_messaging__events"),
     ("store_pos", "stg_store_pos__transaction_lines"),
     ("online_orders", "stg_online_orders__orders")],
)
def test_late_rows_are_kept_and_flagged(built, landing_name, table):
    late = built["con"].execute(
        f"select count(*) from staging.{table} where is_late_arriving"
    ).fetchone()[0]
    assert late == built["manifest"]["defects"][landing_name]["late_arriving"]


def test_build_prints_a_progress_line_per_layer_and_logs_dbt_to_a_file(built):
    # not a terminal here: one "<step> <done>/<total> nodes in <s> s" line per dbt step
    progress = re.findall(r"^(\S+) +(\d+)/(\d+) nodes in [\d.]+ s$", built["stderr"], re.M)
    assert [step for step, _, _ in progress] == ["seeds", "staging", "intermediate", "marts"]
    assert all(int(done) == int(total) > 0 for _, done, total in progress)
    assert "FutureWarning" not in built["stderr"] and "Traceback" not in built["stderr"]
    # dbt's stream is in the log file the summary names, not on the terminal
    log = Path(f"{built['database']}.dbt.log")
    assert f"dbt log: {log} " in built["stdout"]
    # dbt's closing line of each command: seed, the 3 layers and each re-run of warning
    # tests; the log is whole UTF-8 text (dbt's threads write it through one lock)
    reruns = len(re.findall(r"^failing rows +\d+/\d+ nodes in", built["stderr"], re.M))
    assert reruns == 1  # the staging layer's planted warnings
    assert len(re.findall(r"  Completed (successfully|with \d+ warnings?)",
                          log.read_text(encoding="utf-8"))) == 4 + reruns
    assert "  Completed " not in built["stdout"] + built["stderr"]
    # the summary names the serving file first, and no query of the build database
    assert built["stdout"].startswith(f"Serving file (what BI reads, read-only): "
                                      f"{built['serving']}\n")
    assert f"duckdb -readonly {built['database']}" not in built["stdout"]


def test_planted_drift_warnings_say_they_are_intended(built):
    intended = "intended: `lw generate` plants this schema drift in the demo sample"
    drift_files = sorted((built["landing"] / "web_events").glob("*-drift.parquet"))
    assert drift_files
    for file in drift_files:
        assert f"{file}: extra column(s) experiment_variant" in built["stderr"]
    assert built["stderr"].count(intended) == len(drift_files)
    warning = next(line for line in built["stdout"].splitlines()
                   if "web_landing_has_no_unexpected_columns: warn" in line)
    assert intended in warning
    # the other staging warning is not planted on purpose and is not called intended
    assert all(intended not in line for line in built["stdout"].splitlines()
               if "warning: test relationships_" in line)


def test_schema_drift_column_is_tolerated_and_reported(built):
    drift_rows = built["manifest"]["defects"]["web_events"]["extra_column_rows"]
    assert drift_rows > 0
    staged_columns = {
        row[0] for row in built["con"].execute(
            "select column_name from information_schema.columns "
            "where table_schema = 'staging' and table_name = 'stg_web__events'"
        ).fetchall()
    }
    assert "experiment_variant" not in staged_columns
    # ... and reported: a warn-severity test lists the unexpected column
    assert "web_landing_has_no_unexpected_columns: warn" in built["stdout"]
    reported = built["con"].execute(
        "select unexpected_column from test_failures.web_landing_has_no_unexpected_columns"
    ).fetchall()
    assert reported == [("experiment_variant",)]


def test_kiosk_ids_are_refused_as_shared(built):
    traps = built["manifest"]["traps"]
    kiosk = [f"cookie:{c}" for c in traps["kiosk_cookies"]] + [
        f"device:{d}" for d in traps["kiosk_devices"]
    ]
    reasons = dict(
        built["con"].execute(
            "select identifier, exclusion_reason from identity.int_identity__identifiers "
            f"where identifier in ({', '.join('?' for _ in kiosk)})",
            kiosk,
        ).fetchall()
    )
    assert set(reasons) == set(kiosk)
    assert all(reason.startswith("shared: linked to ") for reason in reasons.values())
    merged = built["con"].execute(
        "select max(user_identifiers) from identity.int_identity__merge_audit"
    ).fetchone()[0]
    # No person swallowed a kiosk's users: a person has at most a couple of user ids.
    assert merged <= 3


def test_listed_placeholder_ids_link_to_nobody(built):
    rows = built["con"].execute(
        "select identifier_type, linked_identifiers, exclusion_reason "
        "from identity.int_identity__identifiers "
        "where exclusion_reason like 'listed in identity_exclusions%'"
    ).fetchall()
    assert {row[0] for row in rows} >= {"email", "phone", "loyalty_card"}
    accepted = built["con"].execute(
        "select count(*) from identity.int_identity__links links "
        "inner join identity.int_identity__identifiers ids "
        "on ids.identifier in (links.identifier_a, links.identifier_b) "
        "where ids.exclusion_reason is not null and links.is_accepted"
    ).fetchone()[0]
    assert accepted == 0


def test_registered_customers_resolve_to_one_person_each(built):
    # Every CRM customer's user id, email and phone land in the same person.
    split = built["con"].execute(
        """
        select count(*)
        from staging.stg_crm__customers as crm
        inner join identity.int_identity__person_map as by_user
            on by_user.identifier = 'user:' || crm.user_id
        inner join identity.int_identity__person_map as by_email
            on by_email.identifier = 'email:' || crm.email_hash
        where by_user.person_id <> by_email.person_id
            and not by_email.is_excluded_identifier
        """
    ).fetchone()[0]
    assert split == 0
    persons, customers = built["con"].execute(
        "select (select count(*) from identity.int_persons where is_known_to_crm), "
        "(select count(*) from staging.stg_crm__customers)"
    ).fetchone()
    assert 0.9 * customers <= persons <= customers


def test_every_model_and_column_is_documented(built, tmp_path):
    # docs generate opens the database read-write: work on a copy, the fixture reads the original.
    database = tmp_path / "docs.duckdb"
    shutil.copyfile(built["database"], database)
    env = {**os.environ, "LW_LANDING_DIR": str(built["landing"]), "LW_DUCKDB_PATH": str(database),
           "LW_DUCKDB_TEMP_DIR": str(tmp_path / "tmp"), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    bin_dir = Path(sys.executable).parent
    docs = subprocess.run(
        [str(bin_dir / "dbt"), "docs", "generate", "--profiles-dir", "profiles",
         "--target-path", str(tmp_path / "target")],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=600,
    )
    assert docs.returncode == 0, docs.stdout[-2000:]
    coverage = subprocess.run(
        [str(bin_dir / "dbt-coverage"), "compute", "doc", "--run-artifacts-dir",
         str(tmp_path / "target"), "--cov-report", str(tmp_path / "coverage.json"),
         "--cov-fail-under", "1.0"],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300,
    )
    assert coverage.returncode == 0, coverage.stdout[-2000:] + coverage.stderr[-2000:]
    report = json.loads((tmp_path / "coverage.json").read_text())
    assert report["covered"] == report["total"] > 0


def test_build_without_landing_data_fails_clearly(tmp_path):
    result = lw("build", "--landing", str(tmp_path / "nowhere"), "--database",
                str(tmp_path / "x.duckdb"), "--serving", str(tmp_path / "serving.duckdb"),
                "--no-sample")
    assert result.returncode == 1
    assert "No landing data for web_events, app_events" in result.stderr
    assert "lw generate --out" in result.stderr


# the stages of the one list, seeds/lifecycle_stages.csv
with (PROJECT_ROOT / "seeds" / "lifecycle_stages.csv").open(encoding="utf-8", newline="") as _seed:
    LIFECYCLE_STAGES = {row["stage"] for row in csv.DictReader(_seed)}


def test_every_lifecycle_stage_is_populated(built):
    stages = dict(built["con"].execute(
        "select lifecycle_stage, count(*) from marts.fct_customer_lifecycle group by 1"
    ).fetchall())
    assert set(stages) == LIFECYCLE_STAGES
    # No stage swallows the population: the largest holds less than half of everyone.
    assert max(stages.values()) < 0.5 * sum(stages.values())


def test_lifecycle_today_equals_last_history_snapshot(built):
    differing = built["con"].execute(
        """
        select count(*)
        from marts.fct_customer_lifecycle as today
        left join marts.fct_lifecycle_history as history
            on history.person_id = today.person_id and history.snapshot_date = today.as_of_date
        where history.lifecycle_stage is distinct from today.lifecycle_stage
        """
    ).fetchone()[0]
    assert differing == 0


def test_same_data_gives_identical_marts(built, tmp_path):
    """Rebuild intermediate + marts from the same staging into a copy: every mart equal."""
    copy = tmp_path / "rebuild.duckdb"
    shutil.copyfile(built["database"], copy)
    run_dbt(["run", "--select", "path:models/intermediate", "path:models/marts"],
            Paths(landing_dir=built["landing"], database=copy, temp_dir=tmp_path / "tmp"))
    marts = [row[0] for row in built["con"].execute(
        "select table_name from duckdb_tables() where schema_name = 'marts' order by 1"
    ).fetchall()]
    assert len(marts) >= 2
    with duckdb.connect() as con:
        con.execute(f"attach '{built['database']}' as first_build (read_only)")
        con.execute(f"attach '{copy}' as second_build (read_only)")
        for table in marts:
            difference = con.execute(
                f"select count(*) from ("
                f"(select * from first_build.marts.{table} except all "
                f" select * from second_build.marts.{table}) union all "
                f"(select * from second_build.marts.{table} except all "
                f" select * from first_build.marts.{table}))"
            ).fetchone()[0]
            assert difference == 0, f"marts.{table} differs between two builds of the same data"


RFM_SEGMENTS = {"champions", "loyal", "potential_loyalist", "new_customers", "promising",
                "need_attention", "about_to_sleep", "at_risk", "cannot_lose_them",
                "hibernating"}


def test_every_rfm_segment_is_populated(built):
    segments = dict(built["con"].execute(
        "select segment, count(*) from marts.fct_rfm group by 1"
    ).fetchall())
    assert set(segments) == RFM_SEGMENTS
    buyers = built["con"].execute(
        "select count(*) from marts.fct_customer_value "
        "where order_count > 0"
    ).fetchone()[0]
    assert sum(segments.values()) == buyers


def test_growth_accounting_adds_up_every_month(built):
    rows = built["con"].execute(
        "select active_persons, new_persons, retained_persons, resurrected_persons, "
        "churned_persons, active_previous_persons from marts.fct_growth_accounting"
    ).fetchall()
    assert len(rows) == 12  # one row per month of 2025
    for active, new, retained, resurrected, churned, active_previous in rows:
        assert active == new + retained + resurrected
        assert active_previous == retained + churned


# ---- one parse per build; failing rows stored for failing tests only ----


def test_progress_lines_name_the_parse_then_each_step(built):
    # one `dbt parse` (its manifest serves the rest: test_scenario_publish checks that),
    # then the seeds and each layer; "failing rows" after a layer with warning tests
    lines = [line.split()[0] for line in built["stderr"].splitlines()
             if re.match(r"^\S+(?: \S+)? +(?:done in|\d+/\d+ nodes in) [\d.]+ s$", line)]
    assert [name for name in lines if name != "failing"] == [
        "parse", "seeds", "staging", "intermediate", "marts"], lines
    assert "failing" in lines  # the sample's planted warnings


def test_only_failing_and_warning_tests_store_their_rows(built):
    stored = {name for (name,) in built["con"].execute(
        "select table_name from information_schema.tables "
        "where table_schema = 'test_failures'").fetchall()}
    # each warning names its stored table ("<db>"."test_failures"."<alias>"; a long
    # test name has a shortened alias)
    warnings = re.findall(r"warning: test \w+: warn .*", built["stdout"])
    named = {re.search(r'"test_failures"\."(\w+)"', line).group(1) for line in warnings}
    # the sample's warnings (its planted drift and orphan rows) and nothing else: a
    # passing test writes no table (DECISIONLOG "One parse per build; failing rows stored
    # only for failing tests")
    assert len(warnings) == 2 and stored == named, (stored, warnings)


def test_the_rerun_of_failed_tests_keeps_vars_and_paths_but_no_selection():
    from lifecycle_warehouse.pipeline.runner import _without_selection

    args = ["--select", "path:models/staging", "path:models/x", "--exclude",
            "resource_type:seed", "resource_type:unit_test", "--indirect-selection",
            "buildable", "--full-refresh", "--vars", '{"a": 1}', "--target-path", "/t",
            "--no-write-json"]
    assert _without_selection(args) == ["--vars", '{"a": 1}', "--target-path", "/t",
                                        "--no-write-json"]
