"""Audience changes between two builds of the default sample a day apart.

The shared session build (`sample_build`, as_of_date 2025-12-31) plus one more build of
the same landing files pinned to 2025-12-30. Both are published, day 1 first, into a
serving file of this module, so marts.fct_audience_changes is what a marketing tool
would receive on the morning of 31 Dec. Cost: one build of the sample (~1.5 min).
"""

from __future__ import annotations

import duckdb
import pytest

from conftest import run_lw
from lifecycle_warehouse.pipeline.publish import publish

DAY_1, DAY_2 = "2025-12-30", "2025-12-31"
TRIGGERS = ("browse_abandoned", "cart_abandoned", "decline_alert", "first_purchase_not_repeated")


@pytest.fixture(scope="module")
def day_apart(sample_build, tmp_path_factory):
    root = tmp_path_factory.mktemp("audiences_day_apart")
    day_1_db = root / "day_1.duckdb"
    built = run_lw("build", "--landing", str(sample_build["landing"]), "--database",
                   str(day_1_db), "--serving", str(root / "day_1_serving" / "lifecycle.duckdb"),
                   "--as-of-date", DAY_1,
                   env={"LW_DUCKDB_TEMP_DIR": str(root / "tmp"),
                        "LW_GX_DOCS_DIR": str(root / "gx_docs")})
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    serving = root / "serving" / "lifecycle.duckdb"
    publish(day_1_db, serving, build_id="day-1")
    publish(sample_build["database"], serving, build_id="day-2")
    con = duckdb.connect(str(serving), read_only=True)
    con.execute(f"attach '{day_1_db}' as day_1 (read_only)")
    con.execute(f"attach '{sample_build['database']}' as day_2 (read_only)")
    yield {"con": con, "serving": serving, "day_2_db": sample_build["database"]}
    con.close()


def test_changes_name_both_builds_and_both_dates(day_apart):
    rows = day_apart["con"].execute(
        "select distinct previous_build_id, build_id, previous_as_of_date::varchar, "
        "as_of_date::varchar from marts.fct_audience_changes").fetchall()
    assert rows == [("day-1", "day-2", DAY_1, DAY_2)]


def test_changes_are_exactly_the_difference_of_the_two_memberships(day_apart):
    con = day_apart["con"]
    for change, newer, older in (("entered", "day_2", "day_1"), ("left", "day_1", "day_2")):
        # recomputed here from the two build databases, independently of audiences.py
        expected = con.execute(f"""
            select count(*) from {newer}.marts.fct_audience_membership n
            where not exists (
                select 1 from {older}.marts.fct_audience_membership o
                where o.audience_id = n.audience_id and o.person_id = n.person_id
                  and (n.audience_type <> 'trigger'
                       or o.entered_on is not distinct from n.entered_on))
        """).fetchone()[0]
        got = con.execute("select count(*) from marts.fct_audience_changes "
                          "where change_type = ?", [change]).fetchone()[0]
        assert got == expected > 0, change


def test_a_trigger_enters_once_per_episode(day_apart):
    con = day_apart["con"]
    for trigger in TRIGGERS:
        entered = con.execute(
            "select count(*), count(*) filter (where entered_on = ?::date) "
            "from marts.fct_audience_changes where audience_id = ? and change_type = 'entered'",
            [DAY_2, f"trigger:{trigger}"]).fetchone()
        new_episodes = con.execute(
            "select count(*) from day_2.marts.fct_customer_triggers "
            "where trigger_name = ? and is_new_episode", [trigger]).fetchone()[0]
        # every entry is an episode that began on the new day, and every such episode enters
        assert entered == (new_episodes, new_episodes), trigger
    # a first purchase not repeated months ago is the same episode on both days: no entry
    continuing = con.execute("""
        select count(*), count(*) filter (where d1.entered_on <> d2.entered_on)
        from day_1.marts.fct_audience_membership d1
        join day_2.marts.fct_audience_membership d2 using (audience_id, person_id)
        where audience_id in ('trigger:first_purchase_not_repeated', 'trigger:decline_alert')
    """).fetchone()
    assert continuing[0] > 100 and continuing[1] == 0


def test_publishing_the_same_build_again_gives_no_changes(day_apart, tmp_path):
    serving = tmp_path / "lifecycle.duckdb"
    publish(day_apart["day_2_db"], serving, build_id="a")
    publish(day_apart["day_2_db"], serving, build_id="b")
    with duckdb.connect(str(serving), read_only=True) as con:
        assert con.execute("select count(*) from marts.fct_audience_changes").fetchone() == (0,)
