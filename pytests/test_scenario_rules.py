"""Issue 18, scenarios 13, 14, 15 and 17: value rules of the staging layer, row by row.

One dbt build (shared by the tests of this module) of a tiny hand-made landing: the six
demo sources (pytests/landing_fixtures.py) plus a declared transaction, event and profile
source, staging, the calendar and dim_customers with their tests.

13. a free-text dimension (web device_type, app platform) with an odd value is mapped to
    `other` (raw value kept in the base model) and no mart test fails on it;
14. an amount in scientific notation or with digit separators (1e3, 1_000), or a count
    1.5, is quarantined as non_plain_amount instead of read as 1000 / 2;
15. an event before var min_event_date (default 1990-01-01) is quarantined as
    timestamp_before_min_event_date, and the 240 monthly snapshots are the newest ones;
17. a store-local time in a DST overlap is the earlier instant, one in a gap is moved
    forward by the gap, flagged in local_time_ambiguity, with the same SQL on Spark.

Every expected value is worked out by hand in the comments; nothing is lost: per source,
raw = staged + quarantined + duplicates, with the counts written out.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import textwrap
from datetime import datetime
from pathlib import Path

import pytest

from landing_fixtures import write_landing
from lifecycle_warehouse.pipeline.project import PROJECT_ROOT
from lifecycle_warehouse.pipeline.sources import preflight

AS_OF = "2025-06-30"

# (store, local wall-clock time, UTC by the rule, flag), worked out from the tz database:
# New York leaves EDT (UTC-4) for EST (UTC-5) at 02:00 on 2024-11-03 and leaves EST at
# 02:00 on 2024-03-10; Berlin leaves CEST (+2) for CET (+1) at 03:00 on 2024-10-27;
# London leaves GMT (+0) for BST (+1) at 01:00 on 2024-03-31.
DST_LINES = [
    # 01:30 happens twice: the earlier one, at EDT: 01:30 + 4 h
    ("T0000000003", "S001", "America/New_York", "2024-11-03 01:30:00", "2024-11-03 05:30:00",
     "overlap"),
    # 02:30 never happens: read at EST (the offset before), 02:30 + 5 h = 03:30 EDT
    ("T0000000004", "S001", "America/New_York", "2024-03-10 02:30:00", "2024-03-10 07:30:00",
     "gap"),
    # 02:30 happens twice: the earlier one, at CEST: 02:30 - 2 h
    ("T0000000005", "S005", "Europe/Berlin", "2024-10-27 02:30:00", "2024-10-27 00:30:00",
     "overlap"),
    # 01:30 never happens: read at GMT, 01:30 + 0 h = 02:30 BST
    ("T0000000006", "S004", "Europe/London", "2024-03-31 01:30:00", "2024-03-31 01:30:00",
     "gap"),
    # the same day, after the change: plain EST, 12:00 + 5 h
    ("T0000000007", "S001", "America/New_York", "2024-11-03 12:00:00", "2024-11-03 17:00:00",
     None),
]
STORE_CURRENCY = {"S001": "USD", "S004": "GBP", "S005": "EUR"}

SHOP_LINES = """\
order_id,customer_id,ordered_at,quantity,unit_price,refunded
A1,101,2024-06-01 12:00:00,2,5.00,0
A2,101,2024-06-01 12:00:00,1e1,5.00,0
A3,101,2024-06-01 12:00:00,2,5e0,0
A4,101,2024-06-01 12:00:00,2,5.00,1E0
A5,101,1970-01-01 00:00:00,2,5.00,0
A6,101,2024-11-03 01:30:00,1,5.00,0
A7,101,2024-03-10 02:30:00,1,5.00,0
"""
SHOP_PINGS = [
    {"id": "e1", "name": "page_view", "user": "101", "ts": 0},  # epoch 0: 1970-01-01
    {"id": "e2", "name": "page_view", "user": "101", "ts": 1717243200},  # 2024-06-01 12:00Z
]
SHOP_ACCOUNTS = """\
account,updated,created
101,2024-06-01T00:00:00Z,1970-01-01
102,2024-06-01T00:00:00Z,2024-01-15
"""
DECLARATION = """\
demo_sources: [web, app, messaging, store_pos, online_orders, crm]
identifier_types:
  shop_customer: {normalise: trim, pattern: '^[0-9]+$'}
transaction_sources:
  - name: shop_lines
    path: shop_lines.csv
    format: csv
    columns:
      customer_id: {column: customer_id, identifier_type: shop_customer}
      ordered_at: {column: ordered_at, format: "%Y-%m-%d %H:%M:%S", time_zone: America/New_York}
      order_id: {column: order_id}
      quantity: {column: quantity}
      unit_price: {column: unit_price}
      refund_amount: {column: refunded}
event_sources:
  - name: shop_pings
    path: shop_pings.jsonl
    format: json
    columns:
      event_id: {column: id}
      event_name: {column: name}
      occurred_at: {column: ts, format: epoch_s}
    identifiers:
      - {column: user, identifier_type: shop_customer}
    event_names:
      page_view:
        {event_name: page_viewed, event_category: browse, channel: web, is_user_initiated: true}
profile_sources:
  - name: shop_accounts
    path: shop_accounts.csv
    format: csv
    columns:
      account_id: {column: account, identifier_type: shop_customer}
      updated_at: {column: updated, format: iso8601}
      signup_at: {column: created, format: "%Y-%m-%d"}
"""


@pytest.fixture(scope="module")
def built(tmp_path_factory, make_warehouse):
    root = tmp_path_factory.mktemp("scenario_rules")
    landing = root / "landing"
    write_landing(
        landing,
        web=[
            {"cookie_id": "ck_00000000000000a1", "user_id": "U00000001",
             "device_type": "Smart-TV"},
            {"cookie_id": "ck_00000000000000a2", "device_type": " Mobile "},
            {"cookie_id": "ck_00000000000000a3", "device_type": None},
            {"cookie_id": "ck_00000000000000a4", "event_ts": datetime(1970, 1, 1)},
            {"cookie_id": "ck_00000000000000a5", "event_ts": datetime(2001, 3, 15, 12)},
        ],
        app=[
            {"device_id": "dv_00000000000000b1", "platform": "HarmonyOS"},
            {"device_id": "dv_00000000000000b2", "platform": "ios"},
            {"device_id": "dv_00000000000000b3", "platform": "ANDROID "},
            {"device_id": "dv_00000000000000b4", "event_ts_ms": 0},
        ],
        messaging=[
            {"recipient": "ann@example.com"},
            {"recipient": "ann@example.com", "occurred_at": "1970-01-01T00:00:00.000Z"},
        ],
        pos=[
            {"transaction_id": "T0000000001", "unit_price": "1e1"},
            {"transaction_id": "T0000000002", "quantity": "1.5"},
            *[{"transaction_id": tid, "store_id": store, "currency": STORE_CURRENCY[store],
               "transaction_local_time": local} for tid, store, _, local, _, _ in DST_LINES],
            {"transaction_id": "T0000000008", "transaction_local_time": "1989-06-01 12:00:00"},
        ],
        orders=[
            {"order_id": "O0000000001", "user_id": "U00000002", "order_total": "1e3"},
            {"order_id": "O0000000002", "user_id": "U00000002", "refund_amount": "1E1"},
            {"order_id": "O0000000003", "user_id": "U00000002", "order_total": "1_000"},
            {"order_id": "O0000000004", "user_id": "U00000002", "refund_amount": "ten"},
            {"order_id": "O0000000005", "user_id": "U00000002", "order_total": " 30.5 "},
            {"order_id": "O0000000006", "user_id": "U00000002",
             "ordered_at": "1989-12-31T23:59:59+00:00"},
            {"order_id": "O0000000007", "user_id": "U00000002",
             "ordered_at": "1990-01-01T00:00:00+00:00"},
        ],
        crm=[
            {"customer_id": "U00000001", "email": "ann@example.com"},
            {"customer_id": "U00000003", "email": "bob@example.com", "signup_date": "1970-01-01"},
        ],
    )
    (root / "shop_lines.csv").write_text(SHOP_LINES)
    (root / "shop_pings.jsonl").write_text("".join(json.dumps(e) + "\n" for e in SHOP_PINGS))
    (root / "shop_accounts.csv").write_text(SHOP_ACCOUNTS)
    (root / "sources.yml").write_text(DECLARATION)
    dbt_vars = json.dumps({**preflight(root / "sources.yml"), "as_of_date": AS_OF})
    warehouse = make_warehouse("scenario_rules_build", landing)
    warehouse.dbt("seed", "--vars", dbt_vars)
    # staging (every base / stg model, quarantine, reconciliation), the calendar and
    # dim_customers, with every data test whose parents are all built (the marts test on
    # preferred_device among them); unit tests have their own fixtures
    warehouse.dbt("build", "--vars", dbt_vars,
                  "--exclude", "resource_type:seed", "resource_type:unit_test",
                  "--select", "+stg_landing__row_counts", "+int_lifecycle_snapshot_dates",
                  "+dim_customers", "--indirect-selection", "cautious")
    return warehouse


def reasons(warehouse, source: str, key_sql: str = "record_key") -> dict:
    return dict(warehouse.query(
        f"select {key_sql}, reject_reason from staging.stg_landing__quarantined_rows "
        "where source = ?", [source]))


def counts(warehouse, source: str) -> tuple:
    (row,) = warehouse.query(
        "select raw_rows, staged_rows, quarantined_rows, duplicate_rows "
        "from staging.stg_landing__row_counts where source = ?", [source])
    assert row[0] == row[1] + row[2] + row[3], row  # nothing lost
    return row


def test_scenario_13_odd_device_and_platform_map_to_other_and_publish(built):
    web = built.query("select cookie_id, source_device_type, device_type "
                      "from staging.base_web__events where reject_reason is null "
                      "order by cookie_id")
    assert web == [
        ("ck_00000000000000a1", "Smart-TV", "other"),  # unknown: other, raw kept
        ("ck_00000000000000a2", " Mobile ", "mobile"),  # case and spaces ignored
        ("ck_00000000000000a3", None, None),  # none sent: stays unknown
        ("ck_00000000000000a5", "desktop", "desktop"),
    ]
    assert built.query("select device_type from staging.stg_web__events "
                       "where cookie_id = 'ck_00000000000000a1'") == [("other",)]
    app = built.query("select s.device_id, b.source_platform, s.platform "
                      "from staging.stg_app__events as s "
                      "join staging.base_app__events as b using (event_id) order by 1")
    assert app == [("dv_00000000000000b1", "HarmonyOS", "other"),
                   ("dv_00000000000000b2", "ios", "iOS"),
                   ("dv_00000000000000b3", "ANDROID ", "Android")]
    # the person of U00000001 used only the odd device: it reaches the mart as `other`,
    # and the mart's accepted_values test passed in the build (it would have failed the
    # build, and with it the publish, on 'Smart-TV')
    preferred = built.query("""
        select c.preferred_device from marts.dim_customers as c
        join identity.int_identity__person_map as m using (person_id)
        where m.identifier = 'user:U00000001'""")
    assert preferred == [("other",)]
    assert counts(built, "web") == (5, 4, 1, 0)
    assert counts(built, "app") == (4, 3, 1, 0)


def test_scenario_14_amounts_not_written_as_plain_decimals_are_quarantined(built):
    assert reasons(built, "online_orders") == {
        "O0000000001": "non_plain_amount",  # order_total 1e3 (would be 1000.00)
        "O0000000002": "non_plain_amount",  # refund 1E1 (would be 10.00)
        "O0000000003": "non_plain_amount",  # 1_000 (would be 1000.00)
        "O0000000004": "unparseable_amount",  # refund "ten" (was silently 0 before)
        "O0000000006": "timestamp_before_min_event_date",
    }
    # spaces around a plain decimal are fine: 30.5 in USD is 30.50
    assert built.query("select order_total from staging.stg_online_orders__orders "
                       "where order_id = 'O0000000005'") == [(pytest.approx(30.5),)]
    assert counts(built, "online_orders") == (7, 2, 5, 0)
    pos = reasons(built, "store_pos")
    assert pos["T0000000001#1"] == "non_plain_amount"  # unit_price 1e1
    assert pos["T0000000002#1"] == "non_plain_amount"  # quantity 1.5 (would be 2)
    declared = reasons(built, "shop_lines", "json_extract_string(raw_record, '$.order_id')")
    assert declared == {
        "A2": "non_plain_amount",  # quantity 1e1
        "A3": "non_plain_amount",  # unit_price 5e0
        "A4": "non_plain_amount",  # refund 1E0
        "A5": "timestamp_before_min_event_date",  # 1970-01-01 05:00 UTC
    }
    assert counts(built, "shop_lines") == (7, 3, 4, 0)


def test_scenario_15_events_before_min_event_date_are_quarantined(built):
    floor = "timestamp_before_min_event_date"
    assert reasons(built, "web", "json_extract_string(raw_record, '$.cookie_id')") == {
        "ck_00000000000000a4": floor}
    assert reasons(built, "app", "json_extract_string(raw_record, '$.device_id')") == {
        "dv_00000000000000b4": floor}  # epoch 0
    assert set(reasons(built, "messaging").values()) == {floor}
    assert reasons(built, "crm") == {"U00000003": floor}  # signed up 1970-01-01
    assert reasons(built, "store_pos")["T0000000008#1"] == floor  # 1989-06-01 16:00 UTC
    # 1989-12-31 23:59:59 is before the floor, 1990-01-01 00:00:00 is not
    assert reasons(built, "online_orders")["O0000000006"] == floor
    assert built.query("select ordered_at from staging.stg_online_orders__orders "
                       "where order_id = 'O0000000007'") == [(datetime(1990, 1, 1),)]
    assert reasons(built, "shop_pings", "json_extract_string(raw_record, '$.id')") == {
        "e1": floor}
    assert reasons(built, "shop_accounts", "json_extract_string(raw_record, '$.account')") == {
        "101": floor}
    for source, row in {"messaging": (2, 1, 1, 0), "crm": (2, 1, 1, 0),
                        "store_pos": (8, 5, 3, 0), "shop_pings": (2, 1, 1, 0),
                        "shop_accounts": (2, 1, 1, 0)}.items():
        assert counts(built, source) == row, source


def test_scenario_15_the_newest_240_month_ends_are_kept(built):
    # activity from 2001-03 (the cookie ck_…a5) to as_of 2025-06-30 spans 292 months:
    # the 240 month ends before June 2025 (2005-06-30 … 2025-05-31) and as_of itself,
    # not the oldest 240 (2001-03-31 … 2021-02-28, which lost every 2025 month end)
    (rows, first, last_month_end, as_of, first_previous) = built.query("""
        select count(*), min(snapshot_date),
               max(case when not is_as_of_date then snapshot_date end),
               max(snapshot_date), min(previous_snapshot_date)
        from intermediate.int_lifecycle_snapshot_dates""")[0]
    assert (rows, str(first), str(last_month_end), str(as_of)) == (
        241, "2005-06-30", "2025-05-31", AS_OF)
    # the 2001 activity counts in the first snapshot's period (1900-01-01, 2005-06-30]
    assert str(first_previous) == "1900-01-01"


def test_scenario_17_dst_gap_and_overlap_follow_one_rule_on_duckdb(built):
    staged = {key: (str(event_at), flag) for key, event_at, flag in built.query(
        "select transaction_id, event_at, local_time_ambiguity "
        "from staging.stg_store_pos__transaction_lines")}
    assert staged == {tid: (utc, flag) for tid, _, _, _, utc, flag in DST_LINES}
    # the declared source's time zone follows the same rule (lw_parse_timestamp)
    lines = dict(built.query(
        "select order_id, cast(ordered_at as varchar) from staging.stg_transactions__lines"))
    assert lines == {"A1": "2024-06-01 16:00:00",  # EDT, 12:00 + 4 h
                     "A6": "2024-11-03 05:30:00",  # overlap: the earlier, EDT
                     "A7": "2024-03-10 07:30:00"}  # gap: at EST, = 03:30 EDT


def _spark_missing() -> str | None:
    """Why a local Spark session cannot run here (the rule of pytests/test_spark.py)."""
    if importlib.util.find_spec("pyspark") is None:
        return "pyspark not installed (pip install -e '.[spark]')"
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        return "no Java runtime (apt-get install openjdk-17-jre-headless)"
    return None


def _spark_sql_of(macro: str, *args: str) -> str:
    """The SQL dbt-spark compiles for a macro of macros/cross_db/lw_local_to_utc.sql
    (adapter.dispatch picks default__ on Spark; return() passes the dispatched SQL)."""
    import jinja2

    source = (Path(PROJECT_ROOT) / "macros" / "cross_db" / "lw_local_to_utc.sql").read_text()
    holder: dict = {}

    class Adapter:
        @staticmethod
        def dispatch(name, _namespace):
            return getattr(holder["module"], f"default__{name}")

    env = jinja2.Environment(extensions=["jinja2.ext.do"])
    env.globals.update({"adapter": Adapter, "return": lambda value: value,
                        "dbt": type("dbt", (), {"type_string": staticmethod(lambda: "string")})})
    holder["module"] = env.from_string(source).module
    return str(getattr(holder["module"], macro)(*args))


@pytest.mark.spark
def test_scenario_17_dst_gap_and_overlap_follow_one_rule_on_spark():
    missing = _spark_missing()
    if missing:
        if os.environ.get("LW_REQUIRE_SPARK") == "1":
            pytest.fail(missing)
        pytest.skip(missing)
    from pyspark.sql import SparkSession

    spark = (SparkSession.builder.master("local[1]").appName("lw_dst_rule")
             .config("spark.sql.session.timeZone", "UTC").config("spark.ui.enabled", "false")
             .config("spark.driver.host", "127.0.0.1")
             .config("spark.driver.bindAddress", "127.0.0.1").getOrCreate())
    try:
        rows = ", ".join(f"(timestamp '{local}', '{tz}')" for _, _, tz, local, _, _ in DST_LINES)
        utc = _spark_sql_of("lw_local_to_utc", "l", "tz")
        flag = _spark_sql_of("lw_local_time_ambiguity", "l", "tz")
        result = spark.sql(textwrap.dedent(f"""
            select cast(l as string) as l, tz, cast({utc} as string) as utc, {flag} as flag,
                   cast(to_utc_timestamp(l, tz) as string) as spark_own
            from values {rows} as t(l, tz)""")).collect()
    finally:
        spark.stop()
    got = {(r.l, r.tz): (r.utc, r.flag) for r in result}
    assert got == {(local, tz): (expected, flag) for _, _, tz, local, expected, flag in DST_LINES}
    # the rule is Spark's own to_utc_timestamp (java.time), so Spark and DuckDB now agree
    assert all(r.spark_own == r.utc for r in result)
