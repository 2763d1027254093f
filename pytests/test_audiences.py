"""Audience changes and restricted contacts at publish (lifecycle_warehouse.activation.audiences).

Hand-made build databases in tmp_path: schema marts with fct_audience_membership rows
written out here, schema restricted with raw contact points. Every expected change is
counted by hand from the rows below.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import duckdb
import pytest

from lifecycle_warehouse.activation.audiences import restricted_contacts_path
from lifecycle_warehouse.pipeline.publish import publish, rollback

MEMBERSHIP_DDL = """
create table marts.fct_audience_membership(
    audience_id varchar not null, audience_type varchar not null, audience_name varchar not null,
    person_id varchar not null, as_of_date date not null, entered_on date, campaign_id varchar,
    is_holdout boolean not null, is_reachable_email boolean not null,
    is_reachable_sms boolean not null, is_reachable_push boolean not null,
    is_reachable_whatsapp boolean not null)
"""

# (audience_id, person_id, entered_on, is_holdout)
DAY_1 = [
    ("lifecycle_stage:active", "p1", "2025-11-30", False),
    ("lifecycle_stage:active", "p2", "2025-11-30", False),
    ("rfm_segment:champions", "p1", None, False),
    ("trigger:first_purchase_not_repeated", "p3", "2025-12-20", True),
    ("trigger:cart_abandoned", "p5", "2025-12-30", False),
]
# p1 left active (now at_risk), p2 stays active, p4 entered active, p1 stays a
# champion, p3's trigger episode continues (same entered_on), p2 entered champions,
# p5 abandoned another cart: a new episode (entered) and the old one over (left).
DAY_2 = [
    ("lifecycle_stage:active", "p2", "2025-11-30", False),
    ("lifecycle_stage:active", "p4", "2025-12-31", False),
    ("lifecycle_stage:at_risk", "p1", "2025-12-31", False),
    ("rfm_segment:champions", "p1", None, False),
    ("rfm_segment:champions", "p2", None, False),
    ("trigger:first_purchase_not_repeated", "p3", "2025-12-20", True),
    ("trigger:cart_abandoned", "p5", "2025-12-31", False),
]


def make_build(path: Path, as_of: str, members: list[tuple], *, contacts: bool = True) -> Path:
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts")
        con.execute(MEMBERSHIP_DDL)
        for audience_id, person_id, entered_on, is_holdout in members:
            audience_type, audience_name = audience_id.split(":")
            con.execute(
                "insert into marts.fct_audience_membership values "
                "(?, ?, ?, ?, ?, ?, null, ?, true, false, false, false)",
                [audience_id, audience_type, audience_name, person_id, as_of, entered_on,
                 is_holdout],
            )
        if contacts:
            con.execute("create schema restricted")
            con.execute(
                "create table restricted.restricted_person_contacts as select * from (values "
                "('p1', 'U00000001', 'user', 'one@example.com', '+447700900001'), "
                "('p2', 'U00000002', 'user', 'two@example.com', null)) "
                "t(person_id, external_id, external_id_type, email, phone_e164)")
    return path


def changes(serving: Path) -> list[tuple]:
    with duckdb.connect(str(serving), read_only=True) as con:
        return con.execute(
            "select previous_build_id, build_id, audience_id, person_id, change_type, "
            "cast(entered_on as varchar), is_holdout from marts.fct_audience_changes "
            "order by audience_id, person_id, change_type").fetchall()


@pytest.fixture
def serving(tmp_path: Path) -> Path:
    return tmp_path / "serving" / "lifecycle.duckdb"


def test_first_publish_lists_every_member_as_entered(tmp_path, serving):
    build = make_build(tmp_path / "b1.duckdb", "2025-12-30", DAY_1)
    publish(build, serving, build_id="b1")
    assert changes(serving) == [
        (None, "b1", "lifecycle_stage:active", "p1", "entered", "2025-11-30", False),
        (None, "b1", "lifecycle_stage:active", "p2", "entered", "2025-11-30", False),
        # an RFM segment has no entry date of its own: the build's as_of_date
        (None, "b1", "rfm_segment:champions", "p1", "entered", "2025-12-30", False),
        (None, "b1", "trigger:cart_abandoned", "p5", "entered", "2025-12-30", False),
        (None, "b1", "trigger:first_purchase_not_repeated", "p3", "entered", "2025-12-20", True),
    ]


def test_second_publish_lists_who_entered_and_who_left_with_both_build_ids(tmp_path, serving):
    publish(make_build(tmp_path / "b1.duckdb", "2025-12-30", DAY_1), serving, build_id="b1")
    publish(make_build(tmp_path / "b2.duckdb", "2025-12-31", DAY_2), serving, build_id="b2")
    assert changes(serving) == [
        ("b1", "b2", "lifecycle_stage:active", "p1", "left", "2025-11-30", False),
        ("b1", "b2", "lifecycle_stage:active", "p4", "entered", "2025-12-31", False),
        ("b1", "b2", "lifecycle_stage:at_risk", "p1", "entered", "2025-12-31", False),
        ("b1", "b2", "rfm_segment:champions", "p2", "entered", "2025-12-31", False),
        ("b1", "b2", "trigger:cart_abandoned", "p5", "entered", "2025-12-31", False),
        ("b1", "b2", "trigger:cart_abandoned", "p5", "left", "2025-12-30", False),
    ]  # p3's continuing trigger episode is not a change: it fires once
    with duckdb.connect(str(serving), read_only=True) as con:
        assert con.execute(
            "select distinct as_of_date::varchar, previous_as_of_date::varchar "
            "from marts.fct_audience_changes").fetchall() == [("2025-12-31", "2025-12-30")]
        assert con.execute(
            "select row_count from meta.published_tables "
            "where table_name = 'fct_audience_changes'").fetchone() == (6,)


def test_the_same_data_published_twice_gives_no_changes(tmp_path, serving):
    publish(make_build(tmp_path / "b1.duckdb", "2025-12-31", DAY_2), serving, build_id="b1")
    publish(make_build(tmp_path / "b2.duckdb", "2025-12-31", DAY_2), serving, build_id="b2")
    assert changes(serving) == []


def test_a_rollback_lists_the_way_back_against_the_build_rolled_back_from(tmp_path, serving):
    publish(make_build(tmp_path / "b1.duckdb", "2025-12-30", DAY_1), serving, build_id="b1")
    publish(make_build(tmp_path / "b2.duckdb", "2025-12-31", DAY_2), serving, build_id="b2")
    rollback(serving, "b1")
    assert changes(serving) == [
        ("b2", "b1", "lifecycle_stage:active", "p1", "entered", "2025-11-30", False),
        ("b2", "b1", "lifecycle_stage:active", "p4", "left", "2025-12-31", False),
        ("b2", "b1", "lifecycle_stage:at_risk", "p1", "left", "2025-12-31", False),
        ("b2", "b1", "rfm_segment:champions", "p2", "left", None, False),
        ("b2", "b1", "trigger:cart_abandoned", "p5", "entered", "2025-12-30", False),
        ("b2", "b1", "trigger:cart_abandoned", "p5", "left", "2025-12-31", False),
    ]
    with duckdb.connect(str(serving), read_only=True) as con:
        # the metadata counts the recomputed table: 5 membership rows + 6 changes
        assert con.execute("select row_count from meta.published_tables where table_name = "
                           "'fct_audience_changes'").fetchone() == (6,)
        assert con.execute("select total_rows from meta.publish_info").fetchone() == (11,)
    # the kept version itself is untouched: it still holds b1's own first-publish changes
    kept = serving.parent / "versions" / "lifecycle-b1.duckdb"
    with duckdb.connect(str(kept), read_only=True) as con:
        assert con.execute("select count(*), count(previous_build_id) "
                           "from marts.fct_audience_changes").fetchone() == (5, 0)


def test_restricted_contacts_are_owner_only_and_never_in_the_serving_file(tmp_path, serving):
    publish(make_build(tmp_path / "b1.duckdb", "2025-12-30", DAY_1), serving, build_id="b1")
    contacts = restricted_contacts_path(serving)
    assert contacts == serving.parent / "restricted" / "lifecycle.contacts.duckdb"
    assert stat.S_IMODE(os.stat(contacts).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(contacts.parent).st_mode) == 0o700
    with duckdb.connect(str(contacts), read_only=True) as con:
        assert con.execute("select person_id, external_id, email from person_contacts "
                           "order by person_id").fetchall() == [
            ("p1", "U00000001", "one@example.com"), ("p2", "U00000002", "two@example.com")]
    with duckdb.connect(str(serving), read_only=True) as con:
        schemas = {s for (s,) in con.execute("select schema_name from duckdb_schemas() "
                                             "where database_name = current_database()"
                                             ).fetchall()}
    assert "restricted" not in schemas
    # no leftover temporaries next to it
    assert sorted(p.name for p in contacts.parent.iterdir()) == ["lifecycle.contacts.duckdb"]


def test_a_build_without_audience_models_publishes_no_change_table(tmp_path, serving):
    build = tmp_path / "plain.duckdb"
    with duckdb.connect(str(build)) as con:
        con.execute("create schema marts")
        con.execute("create table marts.fct_rfm as select 'p1' as person_id, "
                    "date '2025-12-31' as as_of_date")
    result = publish(build, serving, build_id="b1")
    assert "fct_audience_changes" not in result.tables
    assert not restricted_contacts_path(serving).exists()


def test_a_sources_file_allow_empty_adds_to_the_project_list(monkeypatch):
    """A declared build that allows one more empty mart keeps the tables quality_gates.yml
    allows (a campaign not yet started, nobody declining); it used to replace the list."""
    from lifecycle_warehouse.pipeline.gates.config import OVERRIDE_ENV, load_gate_config

    monkeypatch.delenv(OVERRIDE_ENV, raising=False)
    config = load_gate_config(deployment={
        "marts": {"volume": {"allow_empty": ["marts.fct_customer_triggers"]}}})
    assert set(config.layer("marts").volume.allow_empty) >= {
        "marts.fct_customer_triggers", "marts.fct_campaign_outcomes"}
    assert set(config.layer("intermediate").volume.allow_empty) >= {
        "intermediate.int_person_decline_episodes", "intermediate.int_person_external_ids"}
