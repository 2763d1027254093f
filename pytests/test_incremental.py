"""Incremental models: a full refresh and a sequence of incremental runs over the same
data give identical marts.

The landing data (a generated sample) is split by `_loaded_at` into seven loads
(lifecycle_warehouse.devtools.landing_batches): three of about a month, half a day, two
hourly micro-batches (one hour of loading each), then the rest. The incremental warehouse
is built on load 1, then the others land one after the other, each followed by an
incremental `dbt build` (its data tests scoped to the rows the run wrote). Some rows
loaded shortly before each cut are held back to the next load (files landing out of
order, inside var incremental_lookback_hours); the sample also
has late-arriving rows (event time days before load time) and CRM links that arrive in
the last load and merge persons seen earlier (identity re-assignment). The reference
warehouse is one full build over all files. Every mart must be identical, row for row.
"""

from __future__ import annotations

import shutil
from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest

from lifecycle_warehouse.devtools.landing_batches import split_landing
from lifecycle_warehouse.pipeline.project import Paths
from lifecycle_warehouse.pipeline.runner import run_dbt
from test_end_to_end import lw

pytestmark = pytest.mark.e2e

MARTS = ("dim_customers", "fct_customer_lifecycle", "fct_lifecycle_history",
         "fct_lifecycle_transitions", "fct_customer_value", "fct_rfm", "agg_segment_summary",
         "fct_growth_accounting", "fct_customer_triggers")
INTERMEDIATE = ("int_events_unioned", "int_sessions_built", "int_person_days")
# incremental identity: the components and the person map (propagation_passes counts the
# passes of the run that last computed a component, so it depends on the batching)
IDENTITY = ("int_identity__components", "int_identity__person_map")
# the landing audit: the incremental warehouse read each landing file once, on the load
# it came with (file-incremental base tables), the full build all of them at once
LANDING_AUDIT = ("stg_landing__row_counts", "stg_landing__quarantined_rows")
# monthly loads, half a day, then two hourly micro-batches ([12:00, 13:00), [13:00, 14:00))
CUTS = [datetime(2025, 2, 15), datetime(2025, 3, 15), datetime(2025, 4, 10),
        datetime(2025, 4, 10, 12), datetime(2025, 4, 10, 13), datetime(2025, 4, 10, 14)]
STRAGGLER_HOURS = 36  # inside the default lookback of 72 hours
# the first hourly micro-batch: loaded before 13:00 on 2025-04-10, so the last complete day
# is 2025-04-09 and the newest complete hour ends at 12:00 (var trigger_window_end)
HOURLY_LOAD = 5
HOUR_WINDOW_END = datetime(2025, 4, 10, 12)


def _paths(root: Path, landing: Path) -> Paths:
    return Paths(landing_dir=landing, database=root / "warehouse.duckdb", temp_dir=root / "tmp")


def _rows(database: Path, relation: str, exclude: tuple[str, ...] = ()) -> list[tuple]:
    with duckdb.connect(str(database), read_only=True) as con:
        columns = [c for c in con.sql(f"select * from {relation} limit 0").columns
                   if c not in exclude]
        listed = ", ".join(f'"{c}"' for c in columns)
        return con.sql(f"select {listed} from {relation} order by all").fetchall()


@pytest.fixture(scope="module")
def builds(tmp_path_factory):
    root = tmp_path_factory.mktemp("incremental")
    landing = root / "landing"
    lw("generate", "--out", str(landing), "--persons", "1500", "--days", "120", "--seed", "7",
       "--start-date", "2025-01-01", "--no-progress")
    batches = split_landing(landing, root / "batches", CUTS, straggler_hours=STRAGGLER_HOURS)

    full = _paths(root / "full", landing)
    run_dbt(["build"], full)  # every model, data test and unit test of the project

    growing = root / "growing_landing"
    incremental = _paths(root / "incremental", growing)
    counts = []
    # the unit tests check the SQL on fixed inputs: the full build above ran them, the
    # loads run every model and data test on their data
    loaded = ["build", "--exclude", "resource_type:unit_test"]
    for number, batch in enumerate(batches, start=1):
        shutil.copytree(batch, growing, dirs_exist_ok=True)
        run_dbt(loaded if number > 1 else [*loaded, "--full-refresh"], incremental)
        with duckdb.connect(str(incremental.database), read_only=True) as con:
            counts.append(con.sql("select count(*) from intermediate.int_events_unioned")
                          .fetchall()[0][0])
        if number == HOURLY_LOAD:
            hourly = _hour_window_triggers(root, incremental)
    return {"full": full.database, "incremental": incremental.database, "counts": counts,
            "batches": batches, "growing": growing, **hourly}


def _hour_window_triggers(root: Path, incremental: Paths) -> dict:
    """The triggers of the hourly load with the day window (as built) and, on a copy of
    the warehouse, with var trigger_window_end newest_complete_hour (the window and
    what it feeds rebuilt, their data tests run); the loads go on with the day window."""
    hourly = _paths(root / "hourly", incremental.landing_dir)
    hourly.database.parent.mkdir()
    shutil.copyfile(incremental.database, hourly.database)
    run_dbt(["build", "--select", "int_triggers__window+", "--exclude", "resource_type:unit_test",
             "--vars", "{trigger_window_end: newest_complete_hour}",
             "--target-path", str(root / "hourly" / "target")], hourly)
    return {"day_window": _rows(incremental.database, "marts.fct_customer_triggers"),
            "hourly": hourly.database}


def test_loads_are_really_incremental(builds):
    counts = builds["counts"]
    loads = len(CUTS) + 1
    assert len(builds["batches"]) == loads
    # every load brought events, the hourly micro-batches too
    assert counts == sorted(counts) and len(set(counts)) == loads, counts
    with duckdb.connect(str(builds["incremental"]), read_only=True) as con:
        runs = con.sql("select count(distinct dbt_updated_at) from "
                       "intermediate.int_events_unioned").fetchall()[0][0]
        remapped = con.sql("select count(*) from intermediate.int_events_unioned "
                           "where previous_person_id is not null").fetchall()[0][0]
        session_runs = con.sql("select count(distinct dbt_updated_at) from "
                               "intermediate.int_sessions_built").fetchall()[0][0]
    assert runs == loads  # rows written by each run survive
    assert session_runs > 1  # the last runs recomputed some persons' sessions, not all
    assert remapped > 0  # later loads re-assigned earlier events to merged persons


def test_held_back_rows_arrived_within_the_lookback(builds):
    with duckdb.connect() as con:
        held_back = con.sql(
            f"select count(*) from read_parquet('{builds['batches'][1]}/web_events/*.parquet', "
            f"union_by_name = true) where try_cast(_loaded_at as timestamp) < "
            f"timestamp '{CUTS[0]:%Y-%m-%d}'").fetchall()[0][0]
    assert held_back > 0


@pytest.mark.parametrize("relation", [f"intermediate.{m}" for m in INTERMEDIATE])
def test_intermediate_identical(builds, relation):
    exclude = ("dbt_updated_at", "previous_person_id")
    full = _rows(builds["full"], relation, exclude)
    assert full, relation
    assert _rows(builds["incremental"], relation, exclude) == full


@pytest.mark.parametrize("relation", [f"identity.{m}" for m in IDENTITY])
def test_identity_identical(builds, relation):
    exclude = ("dbt_updated_at", "propagation_passes")
    full = _rows(builds["full"], relation, exclude)
    assert full, relation
    assert _rows(builds["incremental"], relation, exclude) == full


def test_identity_recomputes_only_touched_components(builds):
    """Each load recomputed the components its links touched, not all of them: the
    components table keeps rows of several runs, a micro-batch rewrote a small part (the
    last load, with the CRM snapshot that links most customers, rewrites most), and
    events moved to another person in a later load than the one that placed them."""
    with duckdb.connect(str(builds["incremental"]), read_only=True) as con:
        per_run = [count for (count,) in con.sql(
            "select count(*) from identity.int_identity__components "
            "group by dbt_updated_at order by dbt_updated_at").fetchall()]
        merged_later = con.sql(
            "select count(*) from intermediate.int_events_unioned "
            "where previous_person_id is not null "
            "and previous_person_id <> person_id").fetchall()[0][0]
    total = sum(per_run)
    assert len(per_run) > 2, per_run
    assert min(per_run) < total / 10, per_run
    assert per_run[-1] < total, per_run
    assert merged_later > 0


@pytest.mark.parametrize("relation", [f"staging.{m}" for m in LANDING_AUDIT])
def test_landing_audit_identical(builds, relation):
    full = _rows(builds["full"], relation)
    assert full, relation
    assert _rows(builds["incremental"], relation) == full


def test_each_landing_file_was_read_once_on_its_load(builds):
    """Every file of the loads is in the incremental base tables once, with the rows of
    that file alone: one file per load and source folder, none read twice."""
    with duckdb.connect(str(builds["incremental"]), read_only=True) as con:
        per_file = con.sql(
            "select _lw_file, count(distinct _lw_file_size), count(*) "
            "from staging.base_messaging__webhooks group by _lw_file order by _lw_file"
        ).fetchall()
        recorded = con.sql(
            "select count(*), count(distinct _lw_file) from staging.base_landing__unreadable_lines "
            "where reject_reason is null").fetchall()[0]
    files = sorted(f"messaging_webhooks/{path.name}"
                   for path in (builds["growing"] / "messaging_webhooks").glob("*.jsonl"))
    assert [row[0] for row in per_file] == files and len(files) == len(CUTS) + 1
    assert all(row[1] == 1 for row in per_file)
    lines = [sum(1 for line in open(builds["growing"] / file, encoding="utf-8", errors="replace")
                 if line.strip()) for file in files]
    # every line of a file is a row of it (the sample plants no unreadable messaging line)
    assert [row[2] for row in per_file] == lines
    # one record row per CSV / JSON file: messaging, store_pos, online_orders, crm
    text_files = [path for folder in ("messaging_webhooks", "store_pos", "online_orders",
                                      "crm_customers")
                  for path in (builds["growing"] / folder).iterdir()]
    assert recorded == (len(text_files), len(text_files))


@pytest.mark.parametrize("mart", MARTS)
def test_marts_identical(builds, mart):
    full = _rows(builds["full"], f"marts.{mart}")
    assert full, mart
    assert _rows(builds["incremental"], f"marts.{mart}") == full


def test_hour_window_triggers_are_fresh(builds):
    """var trigger_window_end newest_complete_hour on the hourly load: the window ends at
    12:00 on the day after as_of_date, where the day window ends at midnight, and the
    cart abandonments of that morning fire in the run that loaded them, each a new
    episode. The persons equal an independent reading of the rule on the same events."""
    with duckdb.connect(str(builds["hourly"]), read_only=True) as con:
        window = con.sql("select as_of_date, window_start_at, window_end_at "
                         "from intermediate.int_triggers__window").fetchall()
        carts = con.sql("select person_id, evidence_at, is_new_episode, window_end_at "
                        "from marts.fct_customer_triggers where trigger_name = 'cart_abandoned' "
                        "order by person_id").fetchall()
        expected = [person for (person,) in con.sql(f"""
            select cart.person_id
            from intermediate.int_events_unioned as cart
            join identity.int_persons as persons using (person_id)
            where cart.is_user_initiated
              and cart.event_name in ('added_to_cart', 'checkout_started')
              and cart.event_at >= timestamp '{HOUR_WINDOW_END:%Y-%m-%d %H:%M}' - interval 24 hour
              and cart.event_at < timestamp '{HOUR_WINDOW_END:%Y-%m-%d %H:%M}'
              and not persons.is_only_excluded_identifiers
              and not exists (
                  select 1 from intermediate.int_orders as orders
                  where orders.is_order and orders.person_id = cart.person_id
                    and orders.ordered_at >= cart.event_at
                    and orders.ordered_at < timestamp '{HOUR_WINDOW_END:%Y-%m-%d %H:%M}')
            group by cart.person_id
            order by cart.person_id""").fetchall()]
    day_start = datetime(2025, 4, 10)
    assert window == [(date(2025, 4, 9), datetime(2025, 4, 9, 12), HOUR_WINDOW_END)]
    assert [person for person, *_ in carts] == expected
    fresh = [row for row in carts if row[1] >= day_start]
    assert fresh, carts
    assert all(is_new for _, _, is_new, _ in fresh)
    assert {end for *_, end in carts} == {HOUR_WINDOW_END}
    # the day window of the same load ends at midnight and sees none of that morning
    day_window = builds["day_window"]
    assert day_window and all(row[3] == day_start for row in day_window)
    assert not [row for row in day_window if row[4] >= day_start]
