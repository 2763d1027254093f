"""Write–audit–publish reliability: bad loads never replace good marts, nothing is lost.

One baseline gated build of a generated sample is published; each scenario then runs
`lw build` the way a scheduler would (a subprocess, no stdin) and asserts the exit code,
what it printed, that the serving file is byte-identical when a gate failed, and that
the marts are identical when the data is the same.

The data-level defects (duplicates, late rows, future timestamps, malformed ids and
emails, unknown event names, negative amounts, the extra column) are asserted exactly,
per source and reason, in test_end_to_end.py; here they are part of every build.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lifecycle_warehouse.pipeline.project import LANDING_SOURCES, PROJECT_ROOT
from small_sample import LW, Deployment


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def baseline(small_sample) -> Deployment:
    """The published baseline (conftest `small_sample`), built once per test run: the
    scenarios are spread over the xdist workers (conftest SPREAD_MODULES) and share it.
    Never changed: every scenario works on a copy (copy_deployment) or only reads it."""
    return small_sample


def copy_deployment(baseline: Deployment, root: Path, landing: Path | None = None) -> Deployment:
    """A second installation that already serves the baseline's marts."""
    deployment = Deployment(root, landing or baseline.landing)
    shutil.copytree(baseline.serving.parent, deployment.serving.parent)
    deployment.database.parent.mkdir(parents=True)
    shutil.copyfile(baseline.database, deployment.database)
    return deployment


def test_published_file_holds_every_mart_and_no_pii(baseline):
    marts = baseline.marts()
    assert {"dim_customers", "fct_customer_lifecycle", "fct_lifecycle_history",
            "fct_lifecycle_transitions", "fct_growth_accounting", "fct_customer_value",
            "fct_rfm", "fct_customer_triggers", "agg_segment_summary"} <= set(marts)
    with duckdb.connect(str(baseline.serving), read_only=True) as con:
        schemas = {row[0] for row in con.execute(
            "select distinct schema_name from duckdb_tables() where not internal").fetchall()}
        assert schemas <= {"marts", "meta"}, f"only marts are published, found {schemas}"
        text_columns = con.execute(
            "select schema_name, table_name, column_name from duckdb_columns() "
            "where data_type = 'VARCHAR' and not internal").fetchall()
        for schema, table, column in text_columns:
            leaked = con.execute(
                f'select count(*) from "{schema}"."{table}" where "{column}" like \'%@%\' '
                f"or regexp_matches(\"{column}\", '^[+(]?[0-9][0-9 ().-]{{6,}}[0-9]$')"
            ).fetchone()[0]
            assert leaked == 0, f"raw email / phone in {schema}.{table}.{column}"


def test_same_data_twice_gives_identical_marts(baseline, tmp_path):
    again = copy_deployment(baseline, tmp_path / "again")
    result = again.build()
    assert result.returncode == 0, result.stderr[-3000:]
    assert again.marts() == baseline.marts()
    # the first publish listed every member as entered; the same data again changes nobody
    assert baseline.audience_changes() > 0 and again.audience_changes() == 0


def test_duplicated_landing_files_are_idempotent(baseline, tmp_path):
    landing = tmp_path / "landing"
    shutil.copytree(baseline.landing, landing)
    for source in LANDING_SOURCES:
        for part in sorted((landing / source).glob("part-00000*")):
            shutil.copyfile(part, part.with_name("copy-of-" + part.name))
    deployment = copy_deployment(baseline, tmp_path / "dup", landing)
    result = deployment.build()
    assert result.returncode == 0, result.stderr[-3000:]
    assert deployment.marts() == baseline.marts()
    with duckdb.connect(str(deployment.database), read_only=True) as con:
        rows = con.execute("select source, raw_rows, staged_rows, quarantined_rows, "
                           "duplicate_rows from staging.stg_landing__row_counts").fetchall()
    for source, raw, staged, quarantined, duplicates in rows:
        assert raw == staged + quarantined + duplicates, source
        assert duplicates > 0, source


def test_missing_source_fails_clearly_and_keeps_marts(baseline, tmp_path):
    landing = tmp_path / "landing"
    shutil.copytree(baseline.landing, landing)
    shutil.rmtree(landing / "crm_customers")
    deployment = copy_deployment(baseline, tmp_path / "missing", landing)
    before = sha256(deployment.serving)
    result = deployment.build()
    assert result.returncode == 1
    assert "No landing data for crm_customers" in result.stderr
    assert sha256(deployment.serving) == before


@pytest.mark.parametrize("layer", ["staging", "intermediate", "marts"])
def test_failing_expectation_stops_at_its_layer(baseline, tmp_path, layer):
    deployment = copy_deployment(baseline, tmp_path / layer)
    before = sha256(deployment.serving)
    override = tmp_path / "gates.yml"
    override.write_text(FAILING_GATE[layer])
    result = deployment.build(LW_GATES_CONFIG=str(override))
    assert result.returncode == 1, result.stdout[-2000:]
    assert f"gate failed at layer '{layer}' (Great Expectations)" in result.stderr
    assert "Published marts are unchanged" in result.stderr
    assert sha256(deployment.serving) == before
    later = [name for name in ("staging", "intermediate", "marts")][
        ["staging", "intermediate", "marts"].index(layer) + 1:]
    assert ran_dbt(result.stderr, layer)
    for later_layer in later:
        assert not ran_dbt(result.stderr, later_layer)


def ran_dbt(stderr: str, layer: str) -> bool:
    """Whether the build ran dbt on `layer`: its progress line (printed when the step ends,
    failed or not; `lw build` without --verbose, stderr not a terminal)."""
    return re.search(rf"^{layer} +\d+/\d+ nodes in [\d.]+ s$", stderr, re.M) is not None


def test_killed_build_leaves_serving_file_and_recovers(baseline, tmp_path):
    deployment = copy_deployment(baseline, tmp_path / "killed")
    before = sha256(deployment.serving)
    # --verbose: the layer log lines show when a layer starts (the progress lines, when
    # it ends)
    process = subprocess.Popen([*deployment.build_command(), "--verbose"], cwd=PROJECT_ROOT,
                               env=deployment.env(), stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                               start_new_session=True)
    deadline = time.monotonic() + 300
    log = ""
    # kill once the build is inside dbt (the intermediate layer is running)
    while time.monotonic() < deadline and "layer intermediate: dbt build" not in log:
        line = process.stderr.readline()
        if not line and process.poll() is not None:
            break
        log += line
    assert process.poll() is None, "build ended before it could be killed:\n" + log[-2000:]
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=60)
    assert sha256(deployment.serving) == before
    with duckdb.connect(str(deployment.serving), read_only=True) as con:
        assert con.execute("select count(*) from marts.fct_customer_lifecycle").fetchone()[0] > 0
    result = deployment.build()
    assert result.returncode == 0, result.stderr[-3000:]
    assert deployment.marts() == baseline.marts()


READER = textwrap.dedent("""
    import json, sys, time, duckdb
    serving, stop, out = sys.argv[1], sys.argv[2], sys.argv[3]
    con = duckdb.connect(serving, read_only=True)
    seen, errors, queries = set(), [], 0
    deadline = time.monotonic() + 900
    import os
    while not os.path.exists(stop) and time.monotonic() < deadline:
        try:
            seen.add(con.execute("select count(*) from marts.fct_customer_lifecycle").fetchone()[0])
            queries += 1
        except Exception as error:  # noqa: BLE001 - reported to the test
            errors.append(repr(error))
        time.sleep(0.05)
    json.dump({"seen": sorted(seen), "errors": errors, "queries": queries}, open(out, "w"))
""")


def test_reader_keeps_working_during_a_build(baseline, tmp_path):
    deployment = copy_deployment(baseline, tmp_path / "reader")
    stop, out = tmp_path / "stop", tmp_path / "reader.json"
    reader = subprocess.Popen([sys.executable, "-c", READER, str(deployment.serving),
                               str(stop), str(out)])
    try:
        result = deployment.build()
    finally:
        stop.touch()
        reader.wait(timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(out.read_text())
    assert report["errors"] == []
    assert report["queries"] > 10
    # the reader kept its view of the file it opened; a new connection sees the new build
    assert len(report["seen"]) == 1
    with duckdb.connect(str(deployment.serving), read_only=True) as con:
        info = con.execute("select build_id from meta.publish_info").fetchone()[0]
    with duckdb.connect(str(baseline.serving), read_only=True) as con:
        assert info != con.execute("select build_id from meta.publish_info").fetchone()[0]


# Gate configuration overrides that make one layer's expectation impossible.
FAILING_GATE = {
    # every sample has some quarantined rows
    "staging": "staging:\n  quarantine_share:\n    max: 0.0\n",
    # a few anonymous events always exist
    "intermediate": "intermediate:\n  events_without_person:\n    max_share: 0.0\n",
    # some stage always holds more than 5 % of persons
    "marts": "marts:\n  lifecycle_stage_shares:\n    max: 0.05\n",
}


# ------------------------------------------------- issue 18: refuse early, clearly


def run_lw(deployment: Deployment, *args: str, timeout: int = 1200,
           **extra_env: str) -> subprocess.CompletedProcess:
    return subprocess.run([*LW, *args], capture_output=True, text=True, cwd=PROJECT_ROOT,
                          env=deployment.env(**extra_env), timeout=timeout,
                          stdin=subprocess.DEVNULL)


def served_tables(serving: Path) -> dict[str, int]:
    with duckdb.connect(str(serving), read_only=True) as con:
        return dict(con.execute("select table_name, estimated_size from duckdb_tables() "
                                "where schema_name = 'marts'").fetchall())


def test_scenario_01_a_named_landing_dir_without_data_is_an_error(baseline, tmp_path):
    deployment = copy_deployment(baseline, tmp_path / "typo")
    before = sha256(deployment.serving)
    typo = tmp_path / "no-such-landing"
    common = ["--database", str(deployment.database), "--serving", str(deployment.serving)]
    started = time.monotonic()
    result = run_lw(deployment, "build", "--landing", str(typo), *common)
    assert result.returncode == 1, result.stdout[-2000:]
    assert (f"No landing data for web_events, app_events, messaging_webhooks, store_pos, "
            f"online_orders, crm_customers under {typo}, which does not exist.") in result.stderr
    assert "lw generate --out" in result.stderr and "Traceback" not in result.stderr
    assert not typo.exists()  # nothing was generated there
    # the same through LW_LANDING_DIR, on an empty directory that exists
    empty = tmp_path / "empty-landing"
    empty.mkdir()
    result = run_lw(deployment, "build", *common, LW_LANDING_DIR=str(empty))
    assert result.returncode == 1
    assert "No landing data for web_events" in result.stderr and f"under {empty}." in result.stderr
    assert list(empty.iterdir()) == []
    assert time.monotonic() - started < 60  # refused before any dbt run
    assert sha256(deployment.serving) == before


LOCK_HOLDER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from lifecycle_warehouse.pipeline.build_lock import build_lock
    with build_lock(Path(sys.argv[1])):
        print("locked", flush=True)
        time.sleep(600)
""")


def test_scenario_06_a_second_build_is_refused_at_once_naming_the_first(baseline, tmp_path):
    deployment = copy_deployment(baseline, tmp_path / "concurrent")
    before = sha256(deployment.serving)
    holder = subprocess.Popen([sys.executable, "-c", LOCK_HOLDER, str(deployment.database)],
                              stdout=subprocess.PIPE, text=True, cwd=PROJECT_ROOT)
    try:
        assert holder.stdout.readline().strip() == "locked"
        started = time.monotonic()
        result = deployment.build()
        seconds = time.monotonic() - started
    finally:
        holder.kill()
        holder.wait(timeout=30)
    assert result.returncode == 1, result.stdout[-2000:]
    assert f"lw build failed: another build of {deployment.database} is running (pid " \
        f"{holder.pid}, started " in result.stderr
    assert "Fix: wait for it to finish, or build into another --database" in result.stderr
    assert "Traceback" not in result.stderr and not ran_dbt(result.stderr, "seeds")
    assert "The full dbt log" not in result.stderr  # the log is the running build's
    assert seconds < 30, seconds
    assert sha256(deployment.serving) == before
    # the holder is gone (killed: the kernel released its lock): the next build runs
    result = deployment.build()
    assert result.returncode == 0, result.stderr[-3000:]
    assert deployment.marts() == baseline.marts()


def test_scenario_08_as_of_date_is_pinned_on_the_gated_path_and_checked(baseline, tmp_path):
    deployment = copy_deployment(baseline, tmp_path / "as_of")
    before = sha256(deployment.serving)
    # the sample: 120 days from 2025-01-01, so events run 2025-01-01 .. 2025-04-30
    for date, side in (("2030-01-01", "after"), ("2024-06-30", "before")):
        result = run_lw(deployment, *deployment.build_command()[3:], "--as-of-date", date)
        assert result.returncode == 1, result.stdout[-2000:]
        assert (f"lw build failed: as_of_date {date} is {side} the data: its events and "
                "orders run from 2025-01-01 to 2025-04-") in result.stderr
        assert "Fix: give an --as-of-date in that range" in result.stderr
        assert ran_dbt(result.stderr, "staging")
        assert not ran_dbt(result.stderr, "intermediate")  # refused after staging
        assert sha256(deployment.serving) == before
    # --vars reaches the gated build (and publish): a date inside the data is served (a
    # few days back: further back, the volume gate would see the change against the
    # served build, as it should)
    result = run_lw(deployment, *deployment.build_command()[3:],
                    "--vars", "{as_of_date: 2025-04-25}")
    assert result.returncode == 0, result.stderr[-3000:]
    with duckdb.connect(str(deployment.serving), read_only=True) as con:
        assert con.execute("select distinct as_of_date from marts.fct_customer_lifecycle"
                           ).fetchall() == [(datetime.date(2025, 4, 25),)]
    result = run_lw(deployment, "build", "--vars", "[1, 2]", "--no-sample")
    assert result.returncode == 1
    assert "--vars '[1, 2]' is not a mapping" in result.stderr


def test_scenario_09_lw_publish_audits_and_publishes_an_existing_build(baseline, tmp_path):
    deployment = copy_deployment(baseline, tmp_path / "publish")
    common = ["--landing", str(deployment.landing), "--database", str(deployment.database),
              "--serving", str(deployment.serving)]
    before = sha256(deployment.serving)
    # a failing gate: nothing is published
    override = tmp_path / "gates.yml"
    override.write_text(FAILING_GATE["marts"])
    result = run_lw(deployment, "publish", *common, LW_GATES_CONFIG=str(override))
    assert result.returncode == 1, result.stdout[-2000:]
    assert "lw publish failed: gate failed at layer 'marts' (Great Expectations)" in result.stderr
    assert sha256(deployment.serving) == before
    # the build as it is (as a plain `dbt build` leaves it): tested, gated, published
    result = run_lw(deployment, "publish", *common)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "dbt test" in result.stdout and "dbt build" not in result.stdout
    assert f"Published {deployment.serving}" in result.stdout
    assert deployment.marts() == baseline.marts()
    # the messages that name `lw publish` name a command that exists
    missing = run_lw(deployment, "report", "--serving", str(tmp_path / "nothing.duckdb"))
    assert missing.returncode == 1 and "`lw publish`" in missing.stderr
    assert run_lw(deployment, "publish", "--help").returncode == 0
    # no build database: one line, exit 1
    result = run_lw(deployment, "publish", "--landing", str(deployment.landing),
                    "--database", str(tmp_path / "none.duckdb"), "--serving",
                    str(deployment.serving))
    assert result.returncode == 1
    assert f"No build database at {tmp_path / 'none.duckdb'}" in result.stderr


def test_scenario_19_a_file_loaded_before_the_window_is_named_with_the_fix(baseline, tmp_path):
    landing = tmp_path / "landing"
    shutil.copytree(baseline.landing, landing)
    deployment = copy_deployment(baseline, tmp_path / "late_file", landing)
    before = sha256(deployment.serving)
    # a file that lands now but says it was loaded in January: 3 new events, behind the
    # staged watermark (end of April) minus the 72-hour lookback
    first = sorted((landing / "web_events").glob("*.parquet"))[0]
    table = pq.read_table(first).slice(0, 3)
    late_rows = table.to_pylist()
    for number, row in enumerate(late_rows):
        row["event_id"] = f"we_{number:016x}"
        row["event_ts"] = datetime.datetime(2025, 1, 14, 12, 0)
        row["_loaded_at"] = datetime.datetime(2025, 1, 15, 6, 0)
    late = landing / "web_events" / "late-file.parquet"
    pq.write_table(pa.Table.from_pylist(late_rows, schema=table.schema), late)
    result = deployment.build()
    assert result.returncode == 1, result.stdout[-2000:]
    assert (f"web: 3 rows of {late} (loaded at 2025-01-15 06:00:00) were never staged: they "
            "were loaded before this build's incremental window") in result.stderr
    assert "Fix: rebuild in full with `lw build --full-refresh`" in result.stderr
    assert sha256(deployment.serving) == before
    # the fix it names works, and nothing is lost
    result = run_lw(deployment, *deployment.build_command()[3:], "--full-refresh")
    assert result.returncode == 0, result.stderr[-3000:]
    with duckdb.connect(str(deployment.database), read_only=True) as con:
        assert con.execute("select count(*) from staging.stg_web__events where event_id in "
                           "(select event_id from read_parquet(?))", [str(late)]
                           ).fetchone()[0] == 3
        for source, raw, staged, quarantined, duplicates in con.execute(
                "select source, raw_rows, staged_rows, quarantined_rows, duplicate_rows "
                "from staging.stg_landing__row_counts").fetchall():
            assert raw == staged + quarantined + duplicates, source


def test_scenario_20_the_reviewers_small_sample_passes_every_gate(baseline):
    # the baseline is `lw generate --persons 2000 --days 120` built by `lw build`: it
    # passed every gate and was published although two RFM segments are empty
    with duckdb.connect(str(baseline.serving), read_only=True) as con:
        buyers = dict(con.execute("select segment, count(*) from marts.fct_rfm group by 1"
                                  ).fetchall())
    assert sum(buyers.values()) < 5 / 0.001  # too few buyers for a 0.1 % minimum share
    assert served_tables(baseline.serving)


def test_scenario_05_persons_of_excluded_identifiers_are_in_no_metric(baseline):
    with duckdb.connect(str(baseline.database), read_only=True) as con:
        excluded = {row[0] for row in con.execute(
            "select person_id from identity.int_persons where is_only_excluded_identifiers"
        ).fetchall()}
        assert excluded  # the sample has kiosk and test-account persons
        active_days = con.execute(
            "select count(*) from intermediate.int_person_days where person_id in "
            "(select person_id from identity.int_persons where is_only_excluded_identifiers)"
        ).fetchone()[0]
        assert active_days > 0  # they are active, so growth accounting would count them
        counted = con.execute(
            "select count(distinct person_id) from intermediate.int_person_days "
            "where activity_date <= (select as_of_date from intermediate.int_as_of_date) "
            "and person_id not in (select person_id from identity.int_persons "
            "where is_only_excluded_identifiers)").fetchone()[0]
    with duckdb.connect(str(baseline.serving), read_only=True) as con:
        # every person ever active is new exactly once in growth accounting
        assert con.execute("select sum(new_persons) from marts.fct_growth_accounting"
                           ).fetchone()[0] == counted
        for mart in ("fct_customer_lifecycle", "fct_lifecycle_history", "fct_customer_value",
                     "fct_rfm", "fct_customer_triggers"):
            ids = {row[0] for row in con.execute(f"select distinct person_id from marts.{mart}"
                                                 ).fetchall()}
            assert not ids & excluded, mart
        flagged = {row[0] for row in con.execute(
            "select person_id from marts.dim_customers where is_only_excluded_identifiers"
        ).fetchall()}
    assert flagged == excluded  # listed in the dimension, flagged, nowhere counted
