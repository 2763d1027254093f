"""Identity resolution on a hand-made graph: exact components, over-merge guard, audit.

The fixture builds a 12-link chain that crosses every channel
(cookie → login → user → CRM email → order → user → app device → user → CRM phone →
till phone → loyalty card → till phone → CRM user → cookie → user → order email), a kiosk
cookie shared by 11 users, an order typed with a listed test email, and loners.
"""

from __future__ import annotations

import hashlib

import pytest

from landing_fixtures import write_landing


def sha(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


CHAIN = [
    "cookie:ck_00000000000000c1",
    "user:U00000001",
    f"email:{sha('one@example.org')}",
    "user:U00000002",
    "device:dv_00000000000000d1",
    "user:U00000003",
    f"phone:{sha('+14155550101')}",
    "loyalty_card:LC0000000001",
    f"phone:{sha('+447700900102')}",
    "user:U00000004",
    "cookie:ck_00000000000000c2",
    "user:U00000005",
    f"email:{sha('five@example.org')}",
]
KIOSK = "cookie:ck_00000000000000ff"
KIOSK_USERS = [f"U000001{i:02d}" for i in range(11)]


@pytest.fixture(scope="module")
def identity_warehouse(tmp_path_factory, make_warehouse):
    landing = tmp_path_factory.mktemp("identity_landing")
    write_landing(
        landing,
        web=[
            {"cookie_id": "ck_00000000000000c1", "user_id": "U00000001"},
            {"cookie_id": "ck_00000000000000c2", "user_id": "U00000004"},
            {"cookie_id": "ck_00000000000000c2", "user_id": "U00000005"},
            *[{"cookie_id": "ck_00000000000000ff", "user_id": u} for u in KIOSK_USERS],
            # A cookie shared by exactly the limit (10) of users is still trusted.
            *[{"cookie_id": "ck_00000000000000ee", "user_id": f"U000002{i:02d}"}
              for i in range(10)],
            {"cookie_id": "ck_00000000000000aa"},
        ],
        app=[
            {"device_id": "dv_00000000000000d1", "user_id": "U00000002"},
            {"device_id": "dv_00000000000000d1", "user_id": "U00000003"},
        ],
        crm=[
            {"customer_id": "U00000001", "email": " One@Example.org"},
            {"customer_id": "U00000003", "email": "three@example.org", "phone": "(415) 555-0101"},
            {"customer_id": "U00000004", "email": "four@example.org", "phone": "07700 900102",
             "country": "GB"},
        ],
        orders=[
            {"user_id": "U00000002", "customer_email": "one@example.org"},
            {"user_id": "U00000005", "customer_email": "FIVE@example.org"},
            {"user_id": "U00000030", "customer_email": "test@example.com"},
        ],
        pos=[
            {"transaction_id": "T0000000001", "loyalty_card": "LC0000000001",
             "phone": "+1 415 555 0101"},
            {"transaction_id": "T0000000002", "loyalty_card": "LC0000000001",
             "phone": "+44 7700 900102", "store_id": "S004", "currency": "GBP"},
        ],
    )
    warehouse = make_warehouse("identity", landing)
    warehouse.dbt("seed")
    warehouse.dbt("build", "--select", "+int_persons", "+int_identity__merge_audit",
                  "+int_identity__excluded_links", "--exclude", "resource_type:seed",
                  # only tests whose every parent is selected (not e.g. int_events_unioned's)
                  "--indirect-selection", "cautious")
    return warehouse


def person_of(warehouse, identifier: str) -> str:
    return warehouse.scalar(
        "select person_id from identity.int_identity__person_map where identifier = ?",
        [identifier],
    )


def test_chain_of_twelve_links_across_channels_is_one_person(identity_warehouse):
    persons = {person_of(identity_warehouse, identifier) for identifier in CHAIN}
    assert len(persons) == 1
    (person,) = persons
    audit = identity_warehouse.query(
        "select identifiers, accepted_links, cookie_identifiers, user_identifiers, "
        "email_identifiers, phone_identifiers, loyalty_card_identifiers, device_identifiers "
        "from identity.int_identity__merge_audit where person_id = ?",
        [person],
    )
    # 13 chain identifiers + the CRM emails of U00000003 and U00000004 hanging off it.
    assert audit == [(15, 14, 2, 5, 4, 2, 1, 1)]


def test_person_id_is_md5_of_smallest_identifier(identity_warehouse):
    expected = hashlib.md5(min(CHAIN).encode()).hexdigest()
    assert person_of(identity_warehouse, CHAIN[-1]) == expected


def test_components_converge_in_fewer_passes_than_chain_length(identity_warehouse):
    passes = identity_warehouse.scalar(
        "select max(propagation_passes) from identity.int_identity__components"
    )
    # Pointer jumping: a 12-hop chain needs far fewer than 12 propagation passes.
    assert 2 <= passes < 12


def test_shared_kiosk_cookie_does_not_merge_its_users(identity_warehouse):
    persons = {person_of(identity_warehouse, f"user:{u}") for u in KIOSK_USERS}
    assert len(persons) == len(KIOSK_USERS)
    reason = identity_warehouse.scalar(
        "select exclusion_reason from identity.int_identity__identifiers where identifier = ?",
        [KIOSK],
    )
    assert reason == "shared: linked to 11 user identifiers (max 10)"
    excluded = identity_warehouse.scalar(
        "select count(*) from identity.int_identity__excluded_links "
        "where identifier_a = ? or identifier_b = ?",
        [KIOSK, KIOSK],
    )
    assert excluded == 11


def test_cookie_at_the_limit_still_merges(identity_warehouse):
    persons = {person_of(identity_warehouse, f"user:U000002{i:02d}") for i in range(10)}
    assert len(persons) == 1


def test_listed_test_email_is_not_linked(identity_warehouse):
    test_email = f"email:{sha('test@example.com')}"
    assert person_of(identity_warehouse, test_email) != person_of(
        identity_warehouse, "user:U00000030"
    )
    reason = identity_warehouse.scalar(
        "select exclusion_reason from identity.int_identity__excluded_links "
        "where identifier_a = ? or identifier_b = ?",
        [test_email, test_email],
    )
    assert reason.startswith(f"{test_email}: listed in identity_exclusions")


def test_int_persons_one_row_per_person_with_sources(identity_warehouse):
    person = person_of(identity_warehouse, CHAIN[0])
    rows = identity_warehouse.query(
        "select identifiers, sources, is_known_to_store_pos, is_known_to_messaging "
        "from identity.int_persons where person_id = ?",
        [person],
    )
    assert rows == [(15, "app,crm,online_orders,store_pos,web", True, False)]
    total_persons = identity_warehouse.scalar("select count(*) from identity.int_persons")
    total_components = identity_warehouse.scalar(
        "select count(distinct person_id) from identity.int_identity__person_map"
    )
    assert total_persons == total_components


def test_rebuild_gives_identical_person_ids(identity_warehouse):
    before = identity_warehouse.query(
        "select identifier, person_id from identity.int_identity__person_map order by 1"
    )
    identity_warehouse.dbt("run", "--select",
                           "int_identity__components+,path:models/intermediate/identity")
    after = identity_warehouse.query(
        "select identifier, person_id from identity.int_identity__person_map order by 1"
    )
    assert before == after
