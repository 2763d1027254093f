"""Incremental identity on a hand-made graph: a merge and a split across two runs.

Load 1 (web events, loaded 2025-06-30): cookie C shared by ten users (the limit for a
cookie: still trusted, one component of 11), two pairs (cookie D + user 20, cookie E +
user 21) and an untouched pair (cookie G + user 30).
Load 2 (loaded 2025-07-01): cookie C gains an eleventh user, so the over-merge guard
excludes it and its component splits into eleven persons (and C); cookie F links users
20 and 21, so their two components merge.

The warehouse built by two runs (the second incremental) must equal one full build of
both loads, and the second run must have rewritten only the touched components.
"""

from __future__ import annotations

import hashlib
import shutil
from datetime import datetime

import pytest

from landing_fixtures import write_landing

pytestmark = pytest.mark.e2e

SHARED = "ck_00000000000000c0"
USERS = [f"U000001{i:02d}" for i in range(10)]
NEW_USER = "U00000110"
LOAD_2 = datetime(2025, 7, 1, 23, 0, 0)
BUILD = ["build", "--select", "+int_events_unioned", "+int_identity__excluded_links",
         "--exclude", "resource_type:seed", "--indirect-selection", "cautious"]


def md5(value: str) -> str:
    return hashlib.md5(value.encode()).hexdigest()


def _load_1(landing):
    write_landing(landing, web=[
        *[{"cookie_id": SHARED, "user_id": user} for user in USERS],
        {"cookie_id": "ck_00000000000000d0", "user_id": "U00000020"},
        {"cookie_id": "ck_00000000000000e0", "user_id": "U00000021"},
        {"cookie_id": "ck_0000000000000070", "user_id": "U00000030"},
    ])


def _load_2(landing):
    """The second load's files, named part-00001 so they land beside load 1's."""
    staging = landing.parent / f"{landing.name}_load_2"
    second = {"event_ts": datetime(2025, 7, 1, 12, 0, 0), "_loaded_at": LOAD_2}
    write_landing(staging, web=[
        {"event_id": "we_1000000000000001", "cookie_id": SHARED, "user_id": NEW_USER, **second},
        {"event_id": "we_1000000000000002", "cookie_id": "ck_00000000000000f0",
         "user_id": "U00000020", **second},
        {"event_id": "we_1000000000000003", "cookie_id": "ck_00000000000000f0",
         "user_id": "U00000021", **second},
    ])
    for path in staging.rglob("part-00000.*"):
        target = landing / path.parent.name / path.name.replace("part-00000", "part-00001")
        shutil.copy(path, target)


@pytest.fixture(scope="module")
def warehouses(tmp_path_factory, make_warehouse):
    growing = tmp_path_factory.mktemp("growing") / "landing"
    _load_1(growing)
    incremental = make_warehouse("identity_incremental", growing)
    incremental.dbt("seed")
    incremental.dbt(*BUILD, "--full-refresh")
    before = dict(incremental.query(
        "select identifier, component_root from identity.int_identity__components"))
    _load_2(growing)
    incremental.dbt(*BUILD)

    complete = tmp_path_factory.mktemp("complete") / "landing"
    _load_1(complete)
    _load_2(complete)
    full = make_warehouse("identity_full", complete)
    full.dbt("seed")
    full.dbt(*BUILD, "--full-refresh")
    return {"incremental": incremental, "full": full, "before": before}


def _rows(warehouse, relation: str, columns: str) -> list[tuple]:
    return warehouse.query(f"select {columns} from {relation} order by all")


@pytest.mark.parametrize("relation, columns", [
    ("identity.int_identity__components",
     "identifier, component_root, component_identifiers, is_in_oversized_component, "
     "is_linkable"),
    ("identity.int_identity__person_map", "*"),
    ("identity.int_identity__excluded_links", "*"),
    ("intermediate.int_events_unioned", "event_key, person_id, identifier"),
])
def test_two_runs_equal_one_full_build(warehouses, relation, columns):
    full = _rows(warehouses["full"], relation, columns)
    assert full
    assert _rows(warehouses["incremental"], relation, columns) == full


def test_load_1_had_one_component_around_the_trusted_cookie(warehouses):
    before = warehouses["before"]
    assert {before[f"user:{user}"] for user in USERS} == {f"cookie:{SHARED}"}


def test_the_shared_cookie_split_its_component(warehouses):
    rows = warehouses["incremental"].query(
        "select identifier, person_id, is_excluded_identifier "
        "from identity.int_identity__person_map where identifier like 'user:U000001%' "
        "or identifier = ?", [f"cookie:{SHARED}"])
    assert len(rows) == 12
    # every user is a person of its own again, named after itself; the cookie is excluded
    assert all(person == md5(identifier) for identifier, person, _ in rows)
    assert [identifier for identifier, _, excluded in rows if excluded] == [f"cookie:{SHARED}"]


def test_a_new_cookie_merged_two_components(warehouses):
    persons = dict(warehouses["incremental"].query(
        "select identifier, person_id from identity.int_identity__person_map "
        "where identifier in ('user:U00000020', 'user:U00000021', "
        "'cookie:ck_00000000000000d0', 'cookie:ck_00000000000000e0', "
        "'cookie:ck_00000000000000f0')"))
    assert set(persons.values()) == {md5("cookie:ck_00000000000000d0")}
    assert len(persons) == 5


def test_the_second_run_rewrote_only_the_touched_components(warehouses):
    rows = warehouses["incremental"].query(
        "select identifier, dbt_updated_at = (select max(dbt_updated_at) "
        "from identity.int_identity__components) from identity.int_identity__components")
    rewritten = sorted(identifier for identifier, latest in rows if latest)
    touched = sorted([f"cookie:{SHARED}", *(f"user:{u}" for u in [*USERS, NEW_USER]),
                      "cookie:ck_00000000000000d0", "cookie:ck_00000000000000e0",
                      "cookie:ck_00000000000000f0", "user:U00000020", "user:U00000021"])
    assert rewritten == touched
    # the untouched pair kept its first run's rows
    assert len(rows) == len(touched) + 2


def test_the_events_of_re_assigned_identifiers_remember_their_person(warehouses):
    moved = {identifier: (previous, person) for identifier, previous, person in
             warehouses["incremental"].query(
                 "select identifier, previous_person_id, person_id "
                 "from intermediate.int_events_unioned where previous_person_id is not null")}
    # the ten users' events left the cookie's person, each for its own; user 21's joined
    # cookie D's person
    assert sorted(moved) == sorted([*(f"user:{u}" for u in USERS), "user:U00000021"])
    assert all(moved[f"user:{u}"] == (md5(f"cookie:{SHARED}"), md5(f"user:{u}"))
               for u in USERS)
    assert moved["user:U00000021"] == (md5("cookie:ck_00000000000000e0"),
                                       md5("cookie:ck_00000000000000d0"))
