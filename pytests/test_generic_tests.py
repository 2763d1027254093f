"""The project's own generic data tests, run by dbt on hand-made tables.

Each case writes the table a test is attached to into an empty DuckDB file and runs
only that test: the passing case must pass and the failing case must report exactly the
bad rows.
"""

from __future__ import annotations

import duckdb
import pytest

from lifecycle_warehouse.pipeline.runner import BuildError

QUARANTINE_TEST = "test_name:accepted_values_by_group"


def _table(warehouse, relation: str, columns: str, values: str, rows: list[tuple]) -> None:
    """Creates `relation` (schema.table) in the warehouse file: `columns` is the column
    list of the DDL, `values` the VALUES tuple with ? for each field of a row."""
    schema = relation.split(".")[0]
    warehouse.paths.database.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(warehouse.paths.database)) as con:
        con.execute(f"create schema if not exists {schema}")
        con.execute(f"create or replace table {relation} ({columns})")
        if rows:
            con.executemany(f"insert into {relation} values {values}", rows)


def _quarantine(warehouse, rows: list[tuple[str, str]]) -> None:
    _table(warehouse, "staging.stg_landing__quarantined_rows",
           "source varchar, record_key varchar, reject_reason varchar, "
           "loaded_at timestamp, raw_record varchar",
           "(?, 'k', ?, null, '{}')", rows)


@pytest.fixture
def warehouse(make_warehouse, tmp_path):
    return make_warehouse("generic_tests", tmp_path / "no_landing")


def test_reject_reasons_accepted_per_source(warehouse):
    _quarantine(warehouse, [("web", "unknown_event_name"), ("store_pos", "unknown_store"),
                            ("crm", "unknown_country"), ("web", None)])
    step = warehouse.dbt("test", "--select", QUARANTINE_TEST)
    assert step.statuses["pass"] == 1 and not step.failures


def test_reason_of_another_source_or_an_unknown_source_fails(warehouse):
    # unknown_store is a store_pos reason, not a web one; 'kiosk' has no list at all;
    # a row without a source belongs to no group
    _quarantine(warehouse, [("web", "unknown_event_name"), ("web", "unknown_store"),
                            ("web", "unknown_store"), ("kiosk", "missing_event_id"),
                            (None, "missing_event_id")])
    with pytest.raises(BuildError, match="accepted_values_by_group.*3 failing rows"):
        warehouse.dbt("test", "--select", QUARANTINE_TEST)
    with duckdb.connect(str(warehouse.paths.database), read_only=True) as con:
        tables = [name for (name,) in con.execute(
            "select table_name from information_schema.tables "
            "where table_schema = 'test_failures' and table_name like 'accepted_values_by%'"
        ).fetchall()]
        assert len(tables) == 1, tables
        failing = con.execute(
            f"select group_value, value, n_records from test_failures.{tables[0]} "
            "order by group_value nulls last").fetchall()
    assert failing == [("kiosk", "missing_event_id", 1), ("web", "unknown_store", 2),
                       (None, "missing_event_id", 1)]


# ---- matches_pattern, accepted_range, expression_is_true, at_least_one on fct_rfm ----

RFM_TESTS = " ".join(f"fct_rfm,test_name:{name}" for name in (
    "matches_pattern", "accepted_range", "expression_is_true", "at_least_one"))
# person, recency_days, order_count, r, f, m, rfm_cell
VALID_RFM = [("p1", 3, 2, 5, 2, 4, "524"), ("p2", 0, 1, 1, 1, 1, "111")]


def _fct_rfm(warehouse, rows) -> None:
    _table(warehouse, "marts.fct_rfm",
           "person_id varchar, as_of_date date, recency_days integer, order_count integer, "
           "net_revenue decimal(18, 2), r_score integer, f_score integer, m_score integer, "
           "rfm_cell varchar, segment varchar",
           "(?, date '2026-01-31', ?, ?, 10.00, ?, ?, ?, ?, 'loyal')", rows)


def _failing(error: BuildError) -> dict[str, int]:
    """test name -> failing rows, from the runner's error message."""
    failing = {}
    for line in str(error).splitlines():
        line = line.strip()
        if line.startswith("test ") and "failing rows" in line:
            name, rest = line[len("test "):].split(": fail", 1)
            failing[name] = int(rest.split("— ", 1)[1].split(" failing rows")[0])
    return failing


def test_generic_tests_pass_on_a_valid_table(warehouse):
    _fct_rfm(warehouse, VALID_RFM)
    step = warehouse.dbt("test", "--select", RFM_TESTS)
    assert step.statuses["pass"] == 5 and not step.failures  # accepted_range x2


def test_generic_tests_report_exactly_the_bad_rows(warehouse):
    _fct_rfm(warehouse, VALID_RFM + [
        ("p3", -1, 1, 1, 1, 1, "111"),  # recency_days below 0
        ("p4", 5, 0, 1, 1, 1, "111"),  # order_count below 1
        ("p5", 5, 1, 1, 2, 4, "125"),  # rfm_cell is not r || f || m
        ("p6", 5, 1, 6, 1, 1, "611"),  # cell outside ^[1-5]{3}$ (and r_score 6)
    ])
    with pytest.raises(BuildError) as raised:
        warehouse.dbt("test", "--select", RFM_TESTS)
    assert _failing(raised.value) == {
        "accepted_range_fct_rfm_recency_days__0": 1,
        "accepted_range_fct_rfm_order_count__1": 1,
        "matches_pattern_fct_rfm_rfm_cell___1_5_3_": 1,
        "fct_rfm_cell_is_the_three_scores": 1,
    }


def test_at_least_one_fails_on_an_empty_table(warehouse):
    _fct_rfm(warehouse, [])
    with pytest.raises(BuildError) as raised:
        warehouse.dbt("test", "--select", RFM_TESTS)
    assert _failing(raised.value) == {"at_least_one_fct_rfm_person_id": 1}


CRM_HEADER = ("customer_id,email,phone,first_name,country,signup_date,consent_email,"
              "consent_sms,consent_push,consent_whatsapp,account_closed,referred_by,"
              "updated_at,_loaded_at")


def test_csv_drift_is_read_from_every_files_header(make_warehouse, tmp_path, monkeypatch):
    """A CSV source's drift test reads the header of each file, 16 files a query
    (lw_csv_headers): a column that only the 18th of 30 files carries, in the second
    query, is reported, and a file with a 3 MB line reads. DuckDB reserves a 32 MiB
    read buffer per file while it unions the files' schemas: one query over the 30
    files needs 960 MiB and fails under a 768 MB memory limit (the 100M benchmark ran
    out of memory so at 162 files), 16 files at a time need 512 MiB."""
    monkeypatch.setenv("LW_DUCKDB_MEMORY_LIMIT", "768MB")
    folder = tmp_path / "landing" / "crm_customers"
    folder.mkdir(parents=True)
    row = "U00000001,a@example.com,,Ann,DE,2025-01-01,true,false,false,false,false,,{},{}"
    for number in range(30):
        header = CRM_HEADER + (",loyalty_tier" if number == 17 else "")
        extra = ",gold" if number == 17 else ""
        long_name = "x" * 3_000_000 if number == 3 else "Ann"
        lines = [header, row.replace("Ann", long_name).format(
            "2025-01-02 10:00:00", "2025-01-02 11:00:00") + extra]
        (folder / f"part-{number:05d}.csv").write_text("\n".join(lines) + "\n")
    warehouse = make_warehouse("csv_drift", tmp_path / "landing")
    step = warehouse.dbt("test", "--select", "crm_landing_has_no_unexpected_columns")
    assert step.statuses["warn"] == 1, step.statuses
    with duckdb.connect(str(warehouse.paths.database), read_only=True) as con:
        reported = con.execute("select unexpected_column from "
                               "test_failures.crm_landing_has_no_unexpected_columns").fetchall()
    assert reported == [("loyalty_tier",)]
