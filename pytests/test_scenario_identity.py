"""Issue 18, scenario 16: a "snake" of customers, and the component guard.

A snake is 400 customers (user ids) joined into one chain by 399 cookies, cookie i
seen with customers i and i + 1: every identifier has at most 2 neighbours, far under
the neighbour limit (10), so the over-merge guard lets every link through. Plain
min-label propagation needed 202 passes for this graph (the limit was 64, and its
error advised raising it, which would have merged the 400 customers into one person);
hooking with pointer jumping needs at most 2 * ceil(log2 799) + 1 = 21 passes (7 here),
and the component guard (var identity_max_identifiers_per_component, 100) keeps the
799 identifiers apart, each a person of its own, its 798 links listed with the reason.

Beside it, a normal graph whose components are computed by hand must come out as
before: a user with two cookies, a device and an email; two users sharing a cookie and
a device (a cycle); a lone cookie; a lone user.
"""

from __future__ import annotations

import hashlib

import pytest

from landing_fixtures import write_landing
from lifecycle_warehouse.pipeline.runner import BuildError


def sha(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


SNAKE_CUSTOMERS = [f"U{10_000 + i:08d}" for i in range(1, 401)]
# Cookie ids as a browser makes them: random, so the chain's labels are in no order.
SNAKE_COOKIES = ["ck_" + sha(f"snake cookie {i}")[:16] for i in range(1, 400)]
SNAKE = [f"user:{u}" for u in SNAKE_CUSTOMERS] + [f"cookie:{c}" for c in SNAKE_COOKIES]

# The normal graph: identifier -> its component's root, by hand (the smallest
# identifier of the component; "cookie:" < "device:" < "email:" < "user:").
EMAIL_A1 = f"email:{sha('a1@example.org')}"
NORMAL_COMPONENTS = {
    "cookie:ck_00000000000000a1": "cookie:ck_00000000000000a1",
    "cookie:ck_00000000000000a2": "cookie:ck_00000000000000a1",
    "device:dv_00000000000000b1": "cookie:ck_00000000000000a1",
    EMAIL_A1: "cookie:ck_00000000000000a1",
    "user:U00020001": "cookie:ck_00000000000000a1",
    "cookie:ck_00000000000000a3": "cookie:ck_00000000000000a3",
    "device:dv_00000000000000b2": "cookie:ck_00000000000000a3",
    "user:U00020002": "cookie:ck_00000000000000a3",
    "user:U00020003": "cookie:ck_00000000000000a3",
    "cookie:ck_00000000000000a4": "cookie:ck_00000000000000a4",
    "user:U00020004": "user:U00020004",
}


@pytest.fixture(scope="module")
def snake_warehouse(tmp_path_factory, make_warehouse):
    landing = tmp_path_factory.mktemp("snake_landing")
    snake_web = []
    for i, cookie in enumerate(SNAKE_COOKIES):
        snake_web.append({"cookie_id": cookie, "user_id": SNAKE_CUSTOMERS[i]})
        snake_web.append({"cookie_id": cookie, "user_id": SNAKE_CUSTOMERS[i + 1]})
    write_landing(
        landing,
        web=[
            *snake_web,
            {"cookie_id": "ck_00000000000000a1", "user_id": "U00020001"},
            {"cookie_id": "ck_00000000000000a2", "user_id": "U00020001"},
            {"cookie_id": "ck_00000000000000a3", "user_id": "U00020002"},
            {"cookie_id": "ck_00000000000000a3", "user_id": "U00020003"},
            {"cookie_id": "ck_00000000000000a4"},
        ],
        app=[
            {"device_id": "dv_00000000000000b1", "user_id": "U00020001"},
            {"device_id": "dv_00000000000000b2", "user_id": "U00020002"},
            {"device_id": "dv_00000000000000b2", "user_id": "U00020003"},
        ],
        orders=[
            {"user_id": "U00020001", "customer_email": "A1@example.org"},
            {"user_id": "U00020004"},
        ],
    )
    warehouse = make_warehouse("snake", landing)
    warehouse.dbt("seed")
    warehouse.build = warehouse.dbt(
        "build", "--select", "+int_persons", "+int_identity__merge_audit",
        "+int_identity__excluded_links", "assert_no_oversized_identity_component",
        "--exclude", "resource_type:seed", "--indirect-selection", "cautious",
    )
    return warehouse


def test_scenario_16_snake_converges_in_logarithmic_passes(snake_warehouse):
    rows = snake_warehouse.query(
        "select count(*), count(distinct component_root), min(component_root), "
        "max(component_identifiers), max(propagation_passes) "
        "from identity.int_identity__components where identifier in "
        f"({', '.join('?' for _ in SNAKE)})",
        SNAKE,
    )
    ((identifiers, roots, root, size, passes),) = rows
    # One connected component of 400 + 399 identifiers, named by its smallest cookie.
    assert (identifiers, roots, root, size) == (799, 1, min(SNAKE), 799)
    # Measured 7 on DuckDB and Spark (plain min-label propagation: 202); the bound is 21.
    assert passes <= 12


def test_scenario_16_snake_is_caught_by_the_component_guard_and_reported(snake_warehouse):
    persons = snake_warehouse.query(
        "select count(distinct person_id), count(*), "
        "count(case when is_in_oversized_component then 1 end), "
        "count(case when is_excluded_identifier then 1 end) "
        "from identity.int_identity__person_map where identifier in "
        f"({', '.join('?' for _ in SNAKE)})",
        SNAKE,
    )
    # Not one person: each of the 799 identifiers is a person of its own, not excluded.
    assert persons == [(799, 799, 799, 0)]
    links = snake_warehouse.query(
        "select exclusion_reason, count(*) from identity.int_identity__excluded_links "
        "where identifier_a like 'cookie:%' and identifier_b like 'user:U0001%' group by 1"
    )
    assert links == [(f"oversized component: 799 identifiers linked to {min(SNAKE)} (max 100)",
                      798)]
    audit = snake_warehouse.query(
        "select count(*), sum(accepted_links), sum(excluded_links), "
        "count(case when is_in_oversized_component then 1 end) "
        "from identity.int_identity__merge_audit where component_root in "
        f"({', '.join('?' for _ in SNAKE)})",
        SNAKE,
    )
    assert audit == [(799, 0, 798, 799)]
    # The build says so: one warning naming the guard's test (one oversized component).
    assert [w for w in snake_warehouse.build.warnings
            if "assert_no_oversized_identity_component" in w] == [
        "test assert_no_oversized_identity_component: warn — 1 failing rows "
        '("warehouse"."test_failures"."assert_no_oversized_identity_component")']
    assert not snake_warehouse.build.failures


def test_scenario_16_nothing_is_lost_every_identifier_has_a_person(snake_warehouse):
    counts = snake_warehouse.query(
        "select (select count(*) from identity.int_identity__identifiers), "
        "(select count(*) from identity.int_identity__person_map), "
        "(select count(distinct person_id) from identity.int_identity__person_map), "
        "(select count(*) from identity.int_persons), "
        "(select count(*) from identity.int_identity__merge_audit)"
    )
    # 799 snake + 11 normal identifiers; 799 + 4 persons.
    assert counts == [(810, 810, 803, 803, 803)]
    unmapped = snake_warehouse.scalar(
        "select count(*) from identity.int_identity__identifiers as identifiers "
        "left join identity.int_identity__person_map as person_map "
        "on identifiers.identifier = person_map.identifier where person_map.person_id is null"
    )
    assert unmapped == 0


def test_scenario_16_normal_graph_gives_the_hand_computed_components(snake_warehouse):
    rows = snake_warehouse.query(
        "select identifier, component_root, person_id, is_in_oversized_component "
        "from identity.int_identity__person_map where identifier in "
        f"({', '.join('?' for _ in NORMAL_COMPONENTS)})",
        list(NORMAL_COMPONENTS),
    )
    assert {identifier: root for identifier, root, _, _ in rows} == NORMAL_COMPONENTS
    for _, root, person_id, oversized in rows:
        assert person_id == hashlib.md5(root.encode()).hexdigest()
        assert oversized is False
    audit = snake_warehouse.query(
        "select component_root, identifiers, accepted_links, excluded_links "
        "from identity.int_identity__merge_audit where component_root in "
        "('cookie:ck_00000000000000a1', 'cookie:ck_00000000000000a3', "
        "'cookie:ck_00000000000000a4', 'user:U00020004') order by 1"
    )
    assert audit == [
        # two cookies + device + email, each linked to the user: 4 links
        ("cookie:ck_00000000000000a1", 5, 4, 0),
        # the cycle cookie a3 - U2 - device b2 - U3 - cookie a3: 4 links
        ("cookie:ck_00000000000000a3", 4, 4, 0),
        ("cookie:ck_00000000000000a4", 1, 0, 0),
        ("user:U00020004", 1, 0, 0),
    ]


def test_scenario_16_pass_limit_error_says_what_is_true(snake_warehouse):
    # Runs last: a failed run leaves the identity tables of the build as they were.
    with pytest.raises(BuildError) as failure:
        # --full-refresh: an incremental run of the built graph recomputes no component.
        snake_warehouse.dbt("run", "--select", "int_identity__components", "--full-refresh",
                            "--vars", "{identity_max_iterations: 3}")
    message = str(failure.value)
    # 810 identifiers: ceil(log2 810) = 10, so at most 2 * 10 + 1 = 21 passes.
    assert ("did not converge within 3 passes or pointer jumps per pass "
            "(var identity_max_iterations); the graph has 810 identifiers, which need at "
            "most 21 passes of at most 10 jumps each") in message
    assert "Set identity_max_iterations to at least 21" in message
    assert "halves the longest" not in message
    assert snake_warehouse.scalar(
        "select max(propagation_passes) from identity.int_identity__components") <= 12
