"""The project's own generic data tests, run by dbt on hand-made tables.

Each case writes the table a test is attached to into an empty DuckDB file and runs
only that test: the passing case must pass and the failing case must report exactly the
bad rows.
"""

from __future__ import annotations

import duckdb
import pytest

from lifecycle_warehouse.runner import BuildError

QUARANTINE_TEST = "test_name:accepted_values_by_group"


def _quarantine(warehouse, rows: list[tuple[str, str]]) -> None:
    warehouse.paths.database.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(warehouse.paths.database)) as con:
        con.execute("create schema if not exists staging")
        con.execute("create or replace table staging.stg_landing__quarantined_rows "
                    "(source varchar, record_key varchar, reject_reason varchar, "
                    "loaded_at timestamp, raw_record varchar)")
        con.executemany("insert into staging.stg_landing__quarantined_rows values "
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
    # unknown_store is a store_pos reason, not a web one; 'kiosk' has no list at all
    _quarantine(warehouse, [("web", "unknown_event_name"), ("web", "unknown_store"),
                            ("web", "unknown_store"), ("kiosk", "missing_event_id")])
    with pytest.raises(BuildError, match="accepted_values_by_group.*2 failing rows"):
        warehouse.dbt("test", "--select", QUARANTINE_TEST)
    with duckdb.connect(str(warehouse.paths.database), read_only=True) as con:
        tables = [name for (name,) in con.execute(
            "select table_name from information_schema.tables "
            "where table_schema = 'test_failures' and table_name like 'accepted_values_by%'"
        ).fetchall()]
        assert len(tables) == 1, tables
        failing = con.execute(
            f"select group_value, value, n_records from test_failures.{tables[0]} "
            "order by group_value").fetchall()
    assert failing == [("kiosk", "missing_event_id", 1), ("web", "unknown_store", 2)]
