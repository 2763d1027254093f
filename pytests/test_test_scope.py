"""Data tests of an incremental run check the rows that run wrote (macros/tests/
lw_test_scope.sql, DECISIONLOG "Data tests of an incremental run check that run's rows").

On a copy of the shared sample build, a bad row (events = 0, which the test
int_person_days_has_events rejects) is planted in the incremental model int_person_days:
- stamped as written by an earlier run, the scoped test passes (the row is not the run's);
- with var test_scope 'all' (`lw build --whole-table-tests`) the same test fails;
- stamped as written by the latest run (bad new data), the scoped test fails: the gate
  still stops bad new data.
The scoped uniqueness test reads every row with a key of the run's rows: a new key that
repeats an old one fails it; a key repeated by earlier runs alone fails only the
whole-table run.
"""

from __future__ import annotations

import shutil

import duckdb
import pytest

from lifecycle_warehouse.pipeline.project import Paths
from lifecycle_warehouse.pipeline.runner import BuildError, run_dbt

pytestmark = pytest.mark.e2e

HAS_EVENTS = "int_person_days_has_events"
UNIQUE = "unique_combination_of_columns_int_person_days_person_id__activity_date"


@pytest.fixture(scope="module")
def copy(sample_build, tmp_path_factory):
    root = tmp_path_factory.mktemp("test_scope")
    database = root / "warehouse.duckdb"
    shutil.copyfile(sample_build["database"], database)
    return Paths(landing_dir=sample_build["landing"], database=database,
                 temp_dir=root / "tmp")


def _plant(paths: Paths, *, by_latest_run: bool, copies: int = 1,
           copy_by_earlier_run: bool = False) -> None:
    """Replaces the planted rows: `copies` copies of one row made bad (no events, a day
    no other row has), stamped by the latest run or by a run a day before it;
    copy_by_earlier_run: one more copy, stamped by the earlier run."""
    stamps = ["latest" if by_latest_run else "latest - interval 1 day"] * copies
    if copy_by_earlier_run:
        stamps.append("latest - interval 1 day")
    with duckdb.connect(str(paths.database)) as con:
        con.execute("delete from intermediate.int_person_days where events = 0")
        for stamp in stamps:
            con.execute(f"""
                insert into intermediate.int_person_days
                with runs as (
                    select max(dbt_updated_at) as latest from intermediate.int_person_days
                )
                select person_id, activity_date + 1000, 0, channels, sessions_started,
                       has_purchase_event, days_since_previous_active_day, {stamp}
                from (select * from intermediate.int_person_days
                      order by person_id, activity_date limit 1)
                cross join runs
            """)


def _test(paths: Paths, name: str, *extra: str) -> None:
    run_dbt(["test", "--select", name, *extra], paths)


def test_a_bad_row_of_an_earlier_run_is_outside_the_scoped_test(copy):
    _plant(copy, by_latest_run=False)
    _test(copy, HAS_EVENTS)  # passes: no BuildError


def test_whole_table_tests_see_the_earlier_row(copy):
    _plant(copy, by_latest_run=False)
    with pytest.raises(BuildError) as failed:
        _test(copy, HAS_EVENTS, "--vars", "{test_scope: all}")
    assert failed.value.tests_failed


def test_a_bad_row_of_the_latest_run_fails_the_scoped_test(copy):
    _plant(copy, by_latest_run=True)
    with pytest.raises(BuildError) as failed:
        _test(copy, HAS_EVENTS)
    assert failed.value.tests_failed


def test_a_new_key_that_repeats_an_old_one_fails_the_scoped_unique_test(copy):
    # the latest run wrote a key an earlier run had written: the scoped uniqueness test
    # reads every row with a key of the run's rows, the old one too
    _plant(copy, by_latest_run=True, copy_by_earlier_run=True)
    with pytest.raises(BuildError) as failed:
        _test(copy, UNIQUE)
    assert failed.value.tests_failed


def test_a_key_repeated_by_earlier_runs_only_is_for_the_whole_table_test(copy):
    _plant(copy, by_latest_run=False, copies=2)
    _test(copy, UNIQUE)  # passes: no key of the latest run is repeated
    with pytest.raises(BuildError) as failed:
        _test(copy, UNIQUE, "--vars", "{test_scope: all}")
    assert failed.value.tests_failed


def test_an_unknown_scope_is_an_error_that_names_the_choices(copy):
    with pytest.raises(BuildError, match="use 'run'"):
        _test(copy, HAS_EVENTS, "--vars", "{test_scope: rows}")
