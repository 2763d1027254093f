"""Declared-source adapters on hand-made fixtures of public formats.

Each folder of pytests/fixtures/formats/ holds small files written from a format's public
documentation (its README.md names the documents), a sources file declaring them
(docs/sources.md) and EXPECTED.md: results computed by hand from the files. Every test
here checks one of those hand-computed numbers against a real `lw build --sources …`
(one build per declaration, into its own DuckDB and serving file, as of 2024-03-31):

- segment/   Segment warehouse schema: tracks, pages, screens, identifies (events),
             users (profiles), order_completed / order_refunded (transactions)
- snowplow/  Snowplow atomic.events CSV, duplicate event ids (earliest collector_tstamp)
- ga4/       GA4 BigQuery export (JSON lines, nested params, no event id)
- shopify/   Shopify Admin API orders (JSON) and the admin orders export (CSV)
- crm/       a CRM customers CSV (profiles only)
- mixed/     Segment + Shopify + CRM: one person in all three through a shared email
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from lifecycle_warehouse.pipeline.project import PROJECT_ROOT

LW = [sys.executable, "-m", "lifecycle_warehouse.cli"]
FORMATS = PROJECT_ROOT / "pytests" / "fixtures" / "formats"
AS_OF_DATE = "2024-03-31"
MARTS = ("dim_customers", "fct_customer_lifecycle", "fct_lifecycle_history",
         "fct_lifecycle_transitions", "fct_growth_accounting", "fct_customer_value", "fct_rfm",
         "fct_customer_triggers", "agg_segment_summary")


def sha(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def email(value: str) -> str:
    """The person-map identifier of an (already normalised) email: hashed."""
    return f"email:{sha(value)}"


def phone(e164: str) -> str:
    return f"phone:{sha(e164)}"


@dataclass
class Build:
    name: str
    returncode: int
    output: str
    database: Path
    serving: Path

    def tail(self) -> str:
        return self.output[-4000:]

    def sql(self, query: str, *, serving: bool = False) -> list[tuple]:
        path = self.serving if serving else self.database
        if not path.is_file():
            pytest.fail(f"{self.name}: {path} was not written; `lw build` exited "
                        f"{self.returncode}:\n{self.tail()}")
        with duckdb.connect(str(path), read_only=True) as con:
            try:
                return con.execute(query).fetchall()
            except duckdb.CatalogException as exc:
                pytest.fail(f"{self.name}: {exc}\n`lw build` exited {self.returncode}:\n"
                            f"{self.tail()}")


def _build(tmp_path_factory, name: str, sources: Path) -> Build:
    root = tmp_path_factory.mktemp(name)
    database, serving = root / "build.duckdb", root / "serving.duckdb"
    env = {**os.environ, "LW_GX_DOCS_DIR": str(root / "gx"),
           "LW_DUCKDB_TEMP_DIR": str(root / "tmp"),
           "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DO_NOT_TRACK": "1"}
    result = subprocess.run(
        [*LW, "build", "--sources", str(sources), "--database", str(database),
         "--serving", str(serving), "--as-of-date", AS_OF_DATE],
        capture_output=True, text=True, cwd=PROJECT_ROOT, env=env, timeout=600,
    )
    return Build(name, result.returncode, result.stdout + result.stderr, database, serving)


@pytest.fixture(scope="module")
def segment_build(tmp_path_factory):
    return _build(tmp_path_factory, "segment", FORMATS / "segment" / "sources.yml")


@pytest.fixture(scope="module")
def snowplow_build(tmp_path_factory):
    return _build(tmp_path_factory, "snowplow", FORMATS / "snowplow" / "sources.yml")


@pytest.fixture(scope="module")
def ga4_build(tmp_path_factory):
    return _build(tmp_path_factory, "ga4", FORMATS / "ga4" / "sources.yml")


@pytest.fixture(scope="module")
def shopify_build(tmp_path_factory):
    return _build(tmp_path_factory, "shopify", FORMATS / "shopify" / "sources.yml")


@pytest.fixture(scope="module")
def shopify_csv_build(tmp_path_factory):
    return _build(tmp_path_factory, "shopify_csv", FORMATS / "shopify" / "sources_csv.yml")


@pytest.fixture(scope="module")
def crm_build(tmp_path_factory):
    return _build(tmp_path_factory, "crm", FORMATS / "crm" / "sources.yml")


@pytest.fixture(scope="module")
def mixed_build(tmp_path_factory):
    return _build(tmp_path_factory, "mixed", FORMATS / "mixed" / "sources.yml")


# --- the hand-computed expectations (EXPECTED.md of each folder) ---------------------------

SEG_ANON = "segment_anonymous:5f2b9c1e-0d3a-4c6b-8e21-7a9d00000"
HANNAH_SEGMENT = {"segment_user:u_1001", SEG_ANON + "a01", email("hannah@example.com"),
                  phone("+12125550101")}
BOB = {"segment_user:u_1002", SEG_ANON + "a02", email("bob@example.com")}
CAROL = {"segment_user:u_1003", SEG_ANON + "a03", email("carol@example.org")}
DAN = {SEG_ANON + "a04"}
ERIN = {"segment_user:u_1005", SEG_ANON + "a05", SEG_ANON + "b05", email("erin@example.net")}
FRANK = {"segment_user:u_1006", email("frank@example.com")}

SP_D, SP_N = "snowplow_domain_user:3d2a9f10-6b1e-4c8a-9e7f-11a0c0d0e", \
    "snowplow_network_user:8e7d6c5b-4a39-4281-b0c9-d8e7f6a5b"

SHOP_HANNAH = {"shopify_customer:7001", email("hannah@example.com")}
SHOP_IVAN = {"shopify_customer:7002", email("ivan@example.com")}
SHOP_JULIA = {"shopify_customer:7003", email("julia@example.com")}
SHOP_KIM = {"shopify_customer:7004", email("kim@example.com")}
SHOP_LEO = {email("leo@example.com")}

CRM_HANNAH = {"crm_customer:CUS-0001", email("hannah@example.com"), phone("+12125550101")}
CRM_IVAN = {"crm_customer:CUS-0002", "crm_customer:CUS-0006", email("ivan@example.com"),
            phone("+442079460018")}
CRM_JULIA = {"crm_customer:CUS-0003", email("julia@example.com")}
CRM_MONA = {"crm_customer:CUS-0004", email("mona@example.com"), phone("+14155550177")}
CRM_NINA = {"crm_customer:CUS-0005", email("nina@example.com")}
CRM_OSCAR = {"crm_customer:CUS-0007", email("oscar@example.com")}

EXPECTED = {
    "segment": {
        # source: (raw, staged, quarantined, duplicates)
        "row_counts": {
            "segment_pages": (9, 7, 1, 1),
            "segment_screens": (3, 3, 0, 0),
            "segment_tracks": (13, 11, 1, 1),
            "segment_identifies": (6, 6, 0, 0),
            "segment_users": (6, 5, 0, 1),
            "segment_order_completed": (6, 4, 1, 1),
            "segment_order_refunded": (2, 2, 0, 0),
        },
        "quarantined": {("segment_pages", "malformed_identifier"),
                        ("segment_tracks", "unknown_event_name"),
                        ("segment_order_completed", "unknown_currency")},
        "persons": [HANNAH_SEGMENT, BOB, CAROL, DAN, ERIN, FRANK],
        # a person (by one of its identifiers): gross, refund, net in USD
        "revenue": {"segment_user:u_1001": ("85.00", "20.00", "65.00"),
                    "segment_user:u_1002": ("37.80", "10.80", "27.00"),
                    "segment_user:u_1005": ("120.00", "0.00", "120.00")},
        "orders": 6,
        "events": {"segment_pages": 7, "segment_screens": 3, "segment_tracks": 11,
                   "segment_identifies": 6},
        "marts": {"dim_customers": 6, "fct_customer_lifecycle": 6, "fct_customer_value": 3,
                  "fct_rfm": 3},
    },
    "snowplow": {
        "row_counts": {"snowplow_events": (15, 12, 1, 2),
                       "snowplow_transactions": (7, 5, 1, 1)},
        "quarantined": {("snowplow_events", "unknown_event_name"),
                        ("snowplow_transactions", "unparseable_amount")},
        "persons": [
            {"snowplow_user:1001", SP_D + "001", SP_N + "001"},
            {"snowplow_user:1002", SP_D + "002", SP_N + "002"},
            {SP_D + "003", SP_N + "003"},
            {"snowplow_user:1004", SP_D + "004", SP_D + "014", SP_N + "004", SP_N + "014"},
            {SP_D + "005", SP_N + "005"},
        ],
        "revenue": {"snowplow_user:1001": ("100.00", "0.00", "100.00"),
                    "snowplow_user:1002": ("50.80", "0.00", "50.80"),
                    "snowplow_user:1004": ("99.90", "0.00", "99.90"),
                    SP_D + "005": ("15.00", "0.00", "15.00")},
        "orders": 5,
        "events": {"snowplow_events": 12},
        "marts": {"dim_customers": 5, "fct_customer_lifecycle": 5, "fct_customer_value": 4,
                  "fct_rfm": 4},
    },
    "ga4": {
        "row_counts": {"ga4_events": (17, 15, 1, 1), "ga4_purchases": (3, 3, 0, 0),
                       "ga4_refunds": (1, 1, 0, 0)},
        "quarantined": {("ga4_events", "unknown_event_name")},
        "persons": [
            {"ga4_user:C10001", "ga4_pseudo:1111111111.1705312800"},
            {"ga4_user:C10002", "ga4_pseudo:2222222222.1706788800",
             "ga4_pseudo:2222222299.1709280000"},
            {"ga4_pseudo:3333333333.1707836400"},
            {"ga4_user:C10004", "ga4_pseudo:4444444444.1709913600"},
            {"ga4_pseudo:5555555555.1710594000"},
        ],
        "revenue": {"ga4_user:C10001": ("64.00", "14.00", "50.00"),
                    "ga4_user:C10002": ("32.40", "0.00", "32.40"),
                    "ga4_pseudo:5555555555.1710594000": ("25.50", "0.00", "25.50")},
        "orders": 4,
        "events": {"ga4_events": 15},
        "marts": {"dim_customers": 5, "fct_customer_lifecycle": 5, "fct_customer_value": 3,
                  "fct_rfm": 3},
    },
    "shopify": {
        "row_counts": {"shopify_orders": (8, 7, 0, 1)},
        "quarantined": set(),
        "persons": [SHOP_HANNAH, SHOP_IVAN, SHOP_JULIA, SHOP_KIM, SHOP_LEO],
        "revenue": {email("hannah@example.com"): ("84.00", "12.50", "71.50"),
                    email("ivan@example.com"): ("115.00", "40.00", "75.00"),
                    email("julia@example.com"): ("120.00", "0.00", "120.00"),
                    email("kim@example.com"): ("18.00", "0.00", "18.00"),
                    email("leo@example.com"): ("22.00", "0.00", "22.00")},
        "orders": 7,
        "events": {},
        "marts": {"dim_customers": 5, "fct_customer_lifecycle": 5, "fct_customer_value": 5,
                  "fct_rfm": 5},
    },
    "shopify_csv": {
        "row_counts": {"shopify_export": (11, 10, 0, 1)},
        "quarantined": set(),
        "persons": [{email(f"{n}@example.com")} for n in ("hannah", "ivan", "julia", "kim", "leo")],
        "revenue": {email("hannah@example.com"): ("84.00", "12.50", "71.50"),
                    email("ivan@example.com"): ("115.00", "40.00", "75.00"),
                    email("julia@example.com"): ("120.00", "0.00", "120.00"),
                    email("kim@example.com"): ("18.00", "0.00", "18.00"),
                    email("leo@example.com"): ("22.00", "0.00", "22.00")},
        "orders": 7,
        "events": {},
        "marts": {"dim_customers": 5, "fct_customer_lifecycle": 5, "fct_customer_value": 5,
                  "fct_rfm": 5},
    },
    "crm": {
        "row_counts": {"crm_customers": (9, 7, 1, 1)},
        "quarantined": {("crm_customers", "malformed_identifier")},
        "persons": [CRM_HANNAH, CRM_IVAN, CRM_JULIA, CRM_MONA, CRM_NINA, CRM_OSCAR],
        "revenue": {},
        "orders": 0,
        "events": {},
        "marts": {"dim_customers": 6, "fct_customer_lifecycle": 6, "fct_customer_value": 0,
                  "fct_rfm": 0},
    },
    "mixed": {
        "row_counts": {"segment_tracks": (13, 11, 1, 1), "segment_identifies": (6, 6, 0, 0),
                       "shopify_orders": (8, 7, 0, 1), "crm_customers": (9, 7, 1, 1)},
        "quarantined": {("segment_tracks", "unknown_event_name"),
                        ("crm_customers", "malformed_identifier")},
        "persons": [
            HANNAH_SEGMENT | SHOP_HANNAH | CRM_HANNAH,
            SHOP_IVAN | CRM_IVAN, SHOP_JULIA | CRM_JULIA,
            BOB, CAROL, ERIN, FRANK, SHOP_KIM, SHOP_LEO, CRM_MONA, CRM_NINA, CRM_OSCAR,
        ],
        "revenue": {email("hannah@example.com"): ("84.00", "12.50", "71.50"),
                    email("ivan@example.com"): ("115.00", "40.00", "75.00"),
                    email("julia@example.com"): ("120.00", "0.00", "120.00"),
                    email("kim@example.com"): ("18.00", "0.00", "18.00"),
                    email("leo@example.com"): ("22.00", "0.00", "22.00")},
        "orders": 7,
        "events": {"segment_tracks": 11, "segment_identifies": 6},
        "marts": {"dim_customers": 12, "fct_customer_lifecycle": 12, "fct_customer_value": 5,
                  "fct_rfm": 5},
    },
}
BUILDS = list(EXPECTED)


@pytest.fixture
def build(request) -> Build:
    return request.getfixturevalue(f"{request.param}_build")


def _with_builds(test):
    return pytest.mark.parametrize("build", BUILDS, indirect=True)(test)


# --- every format ------------------------------------------------------------------------


@_with_builds
def test_build_publishes_all_nine_marts(build):
    returncode = build.returncode
    assert returncode == 0, (
        f"{build.name}: `lw build --sources` exited {returncode}:\n{build.tail()}")
    counts = dict(build.sql("select table_name, row_count from meta.published_tables",
                            serving=True))
    missing = sorted(set(MARTS) - set(counts))
    assert not missing, f"{build.name}: marts not published: {missing} (published: {counts})"
    expected = EXPECTED[build.name]["marts"]
    got = {mart: counts[mart] for mart in expected}
    assert got == expected, f"{build.name}: mart row counts {got}, expected {expected}"
    as_of = build.sql("select as_of_date from meta.publish_info", serving=True)[0][0]
    assert str(as_of) == AS_OF_DATE


@_with_builds
def test_row_counts_reconcile(build):
    rows = build.sql("select source, raw_rows, staged_rows, quarantined_rows, duplicate_rows "
                     "from staging.stg_landing__row_counts")
    got = {source: tuple(counts) for source, *counts in rows}
    for source, (raw, staged, quarantined, duplicates) in got.items():
        assert raw == staged + quarantined + duplicates, (
            f"{build.name}: {source} does not reconcile: raw {raw} != staged {staged} + "
            f"quarantined {quarantined} + duplicates {duplicates}")
    expected = EXPECTED[build.name]["row_counts"]
    assert got == expected, (
        f"{build.name}: (raw, staged, quarantined, duplicates) per source {got}, "
        f"expected {expected}")


@_with_builds
def test_quarantine_reasons(build):
    rows = build.sql("select source, reject_reason from staging.stg_landing__quarantined_rows")
    assert Counter(rows) == Counter(EXPECTED[build.name]["quarantined"]), (
        f"{build.name}: quarantined (source, reason) {sorted(rows)}, "
        f"expected {sorted(EXPECTED[build.name]['quarantined'])}")


def _persons(build: Build) -> dict[str, frozenset[str]]:
    rows = build.sql("select person_id, identifier from identity.int_identity__person_map")
    persons: dict[str, set[str]] = {}
    for person_id, identifier in rows:
        persons.setdefault(person_id, set()).add(identifier)
    return {person_id: frozenset(ids) for person_id, ids in persons.items()}


@_with_builds
def test_persons_and_their_identifiers(build):
    persons = _persons(build)
    got = sorted(sorted(ids) for ids in persons.values())
    expected = sorted(sorted(ids) for ids in EXPECTED[build.name]["persons"])
    assert got == expected, (
        f"{build.name}: {len(got)} persons (expected {len(expected)}); "
        f"identifiers per person {got}, expected {expected}")
    n_persons = build.sql("select count(*) from identity.int_persons")[0][0]
    assert n_persons == len(expected), f"{build.name}: int_persons has {n_persons} rows"


@_with_builds
def test_revenue_per_person(build):
    person_of = {identifier: person_id
                 for person_id, ids in _persons(build).items() for identifier in ids}
    rows = build.sql("select person_id, sum(gross_revenue), sum(refund_amount), "
                     "sum(net_revenue), count(*) from intermediate.int_orders group by 1")
    got = {person_id: tuple(str(v) for v in values[:3]) for person_id, *values in rows}
    n_orders = sum(values[3] for _, *values in rows)
    assert n_orders == EXPECTED[build.name]["orders"], (
        f"{build.name}: {n_orders} rows in int_orders, expected {EXPECTED[build.name]['orders']}")
    assert None not in got, f"{build.name}: orders without a person: {got[None]}"
    expected = {}
    for identifier, money in EXPECTED[build.name]["revenue"].items():
        assert identifier in person_of, f"{build.name}: no person holds {identifier}"
        expected[person_of[identifier]] = money
    assert got == expected, (
        f"{build.name}: (gross, refund, net) per person {got}, expected {expected}")


@_with_builds
def test_events_per_event_source(build):
    expected = EXPECTED[build.name]["events"]
    if not expected:
        pytest.skip(f"{build.name} declares no event source")
    rows = dict(build.sql("select source, count(*) from intermediate.int_events_unioned "
                          "group by source"))
    got = {source: rows.get(source, 0) for source in expected}
    assert got == expected, f"{build.name}: events per event source {got}, expected {expected}"


# --- format-specific rules ---------------------------------------------------------------


def test_segment_refunds_are_no_orders_and_euros_are_converted(segment_build):
    rows = segment_build.sql(
        "select order_key, is_order, gross_revenue, refund_amount from intermediate.int_orders "
        "where order_key like 'segment_order_refunded:%' or order_key like '%:ord_1002' "
        "order by order_key")
    assert rows == [
        ("segment_order_completed:ord_1002", True, Decimal("37.80"), Decimal("0.00")),
        ("segment_order_refunded:ord_1001", False, Decimal("0.00"), Decimal("20.00")),
        ("segment_order_refunded:ord_1002", False, Decimal("0.00"), Decimal("10.80")),
    ], rows


def test_segment_users_newest_row_wins(segment_build):
    rows = segment_build.sql("select country_code, updated_at from staging.stg_profiles__accounts "
                             "where account_identifier = 'segment_user:u_1002'")
    assert [(country, str(updated)) for country, updated in rows] == \
        [("DE", "2024-03-02 10:00:00")], rows


def test_snowplow_keeps_the_earliest_collector_tstamp(snowplow_build):
    rows = snowplow_build.sql(
        "select event_id, cast(loaded_at as varchar) from staging.stg_events__events "
        "where event_id in ('e7b1c2d3-4f5a-4b6c-8d9e-000000000005', "
        "'e7b1c2d3-4f5a-4b6c-8d9e-000000000007') order by 1")
    assert rows == [
        ("e7b1c2d3-4f5a-4b6c-8d9e-000000000005", "2024-02-14 09:00:00.6"),
        ("e7b1c2d3-4f5a-4b6c-8d9e-000000000007", "2024-03-02 16:00:01.2"),
    ], f"duplicates of one event_id must keep the earliest collector_tstamp: {rows}"


def test_shopify_api_and_csv_agree(shopify_build, shopify_csv_build):
    """The same 7 orders read from the API JSON and the export CSV: same money per day."""
    query = ("select cast(ordered_at as varchar), gross_revenue, refund_amount "
             "from intermediate.int_orders order by 1")
    api, csv = shopify_build.sql(query), shopify_csv_build.sql(query)
    assert api == csv, f"API {api}\nCSV {csv}"
    assert api[0] == ("2024-01-09 19:22:05", Decimal("54.00"), Decimal("0.00")), api[0]


def test_crm_newest_row_per_account_wins(crm_build):
    rows = crm_build.sql("select account_identifier, has_consent_email, is_account_closed "
                         "from staging.stg_profiles__accounts order by 1")
    got = {account: (consent, closed) for account, consent, closed in rows}
    assert got["crm_customer:CUS-0001"] == (False, False), got   # unsubscribed 2024-03-01
    assert got["crm_customer:CUS-0005"] == (False, True), got    # state disabled
    assert len(got) == 7, got


def test_mixed_one_person_across_three_systems(mixed_build):
    persons = _persons(mixed_build)
    hannah = [pid for pid, ids in persons.items() if "shopify_customer:7001" in ids]
    assert len(hannah) == 1, f"shopify_customer:7001 is in {len(hannah)} persons"
    ids = persons[hannah[0]]
    for identifier in ("segment_user:u_1001", SEG_ANON + "a01", "shopify_customer:7001",
                       "crm_customer:CUS-0001", email("hannah@example.com")):
        assert identifier in ids, f"{identifier} is not Hannah's ({sorted(ids)})"
    kinds = {identifier.split(":", 1)[0] for identifier in ids}
    assert {"segment_user", "shopify_customer", "crm_customer"} <= kinds, kinds
    two = [pid for pid, ids in persons.items()
           if any(i.startswith("shopify_customer:") for i in ids)
           and any(i.startswith("crm_customer:") for i in ids)
           and not any(i.startswith("segment_") for i in ids)]
    assert len(two) == 2, f"Ivan and Julia are in Shopify and the CRM: {len(two)} persons"
    assert len(persons) == 12, f"{len(persons)} persons, expected 12"
