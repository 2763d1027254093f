"""The declared adapters' rules, line by line, on hand-made files in a temp directory.

One `lw build --sources` of a small declaration with every rule in it (the build is
shared by the tests of this module): each raw line's reject reason, the money of each
order (cancellation prefix, negative quantity, flag, void, refund amount, currency), time
parsing (strptime with a time zone, ISO offsets, epoch units), identifier validity
(UUIDs, integers, emails, GA4 pseudo ids), duplicates, the `where` filter and expression
mappings into nested JSON. Expected values are written by hand from the files below.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import duckdb
import pytest

from lifecycle_warehouse.pipeline.project import PROJECT_ROOT

ORDERS = """\
invoice,customer,email,at,qty,price,cur,state,refund
1,101,a@example.com,01/02/2024 10:00,2,5.00,GBP,ok,0
1,101,a@example.com,01/02/2024 10:00,1,2.50,GBP,ok,0
C2,101,a@example.com,05/02/2024 09:00,-1,5.00,GBP,ok,0
3,102,,10/02/2024 12:00,1,10.00,EUR,ok,4.00
4,102,,11/02/2024 12:00,1,10.00,EUR,voided,0
5,,guest@example.com,12/02/2024 12:00,1,8.00,USD,ok,0
6,10x,,12/02/2024 13:00,1,8.00,USD,ok,0
,103,,12/02/2024 14:00,1,8.00,USD,ok,0
7,103,,31/02/2024 14:00,1,8.00,USD,ok,0
8,103,,12/02/2024 15:00,one,8.00,USD,ok,0
9,103,,12/02/2024 16:00,1,8.00,XXX,ok,0
10,103,,12/02/2024 17:00,1,-8.00,USD,ok,0
1,101,a@example.com,01/02/2024 10:00,2,5.00,GBP,ok,0
"""

EVENTS = [
    # GA4-like: micro-second epoch, nested ecommerce, pseudo id
    {"uid": None, "pseudo": "1234567.1678901234", "anon": "0f8fad5b-d9cb-469f-a165-70867728950e",
     "name": "view", "ts": 1706781600000000, "ecommerce": {"value": "12.5"}, "kind": "web"},
    {"uid": "101", "pseudo": "1234567.1678901234", "anon": None,
     "name": "view", "ts": 1706785200000000, "ecommerce": None, "kind": "web"},
    {"uid": "101", "pseudo": "1234567.1678901234", "anon": None,
     "name": "view", "ts": 1706785200000000, "ecommerce": None, "kind": "web"},
    {"uid": None, "pseudo": "not a pseudo id", "anon": None,
     "name": "view", "ts": 1706785300000000, "ecommerce": None, "kind": "web"},
    {"uid": None, "pseudo": "7654321.1678901299", "anon": None,
     "name": "teleport", "ts": 1706785400000000, "ecommerce": None, "kind": "web"},
    {"uid": None, "pseudo": None, "anon": None,
     "name": "view", "ts": 1706785500000000, "ecommerce": None, "kind": "web"},
    {"uid": None, "pseudo": "7654321.1678901299", "anon": None,
     "name": "view", "ts": 1706785600000000, "ecommerce": None, "kind": "server"},
]

DECLARATION = """\
identifier_types:
  shop_id: {normalise: trim, pattern: '^[0-9]+$'}
  ga_pseudo_id: {normalise: trim, pattern: '^[0-9]+\\.[0-9]+$'}
  anon_uuid:
    normalise: lower
    pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
transaction_sources:
  - name: rule_orders
    path: orders.csv
    format: csv
    columns:
      customer_id: {column: customer, identifier_type: shop_id}
      ordered_at: {column: at, format: "%d/%m/%Y %H:%M", time_zone: Europe/Berlin}
      order_id: {column: invoice}
      quantity: {column: qty}
      unit_price: {column: price}
      currency: {column: cur}
      refund_amount: {column: refund}
    identifiers:
      - {column: email, identifier_type: email}
    cancellation: {order_id_prefix: "C"}
    void: {flag_column: state, flag_values: [voided]}
event_sources:
  - name: rule_events
    path: events.jsonl
    format: json
    where: "kind = 'web'"
    columns:
      event_id: {expression: "coalesce(pseudo, 'none') || '-' || cast(ts as varchar)"}
      event_name: {column: name}
      occurred_at: {column: ts, format: epoch_us}
      device: {expression: "ecommerce.value"}
    identifiers:
      - {column: uid, identifier_type: shop_id}
      - {column: pseudo, identifier_type: ga_pseudo_id}
      - {column: anon, identifier_type: anon_uuid}
    event_names:
      view: {event_name: page_viewed, event_category: browse, channel: web, is_user_initiated: true}
"""


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("rules")
    (root / "orders.csv").write_text(ORDERS)
    (root / "events.jsonl").write_text("".join(json.dumps(e) + "\n" for e in EVENTS))
    (root / "sources.yml").write_text(DECLARATION)
    env = {**os.environ, "LW_GX_DOCS_DIR": str(root / "gx"), "LW_DUCKDB_TEMP_DIR": str(root / "t")}
    # tiny and deliberately dirty: three persons, half the lines quarantined, nothing
    # after mid-February; the gates would rightly refuse it (tested elsewhere)
    (root / "gates.yml").write_text(textwrap.dedent("""\
        staging: {quarantine_share: {max: 1.0}}
        marts:
          volume: {allow_empty: [marts.fct_customer_triggers]}
          lifecycle_stage_shares: {max: 1.0}
          freshness: {max_lag_days: 60}
    """))
    env["LW_GATES_CONFIG"] = str(root / "gates.yml")
    result = subprocess.run(
        [sys.executable, "-m", "lifecycle_warehouse.cli", "build", "--sources",
         str(root / "sources.yml"), "--database", str(root / "b.duckdb"),
         "--serving", str(root / "s.duckdb"), "--as-of-date", "2024-02-29"],
        capture_output=True, text=True, cwd=PROJECT_ROOT, env=env, timeout=600)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-3000:]
    with duckdb.connect(str(root / "b.duckdb"), read_only=True) as con:
        yield con


def test_each_order_line_gets_the_reason_it_deserves(built):
    reasons = built.execute("""
        select json_extract_string(raw_record, '$.invoice') as invoice, reject_reason
        from staging.stg_landing__quarantined_rows where source = 'rule_orders' order by 1, 2
    """).fetchall()
    assert reasons == [
        ("10", "negative_amount"),         # a negative price that is no cancellation
        ("6", "malformed_identifier"),     # customer 10x does not match ^[0-9]+$
        ("7", "unparseable_timestamp"),    # 31 February
        ("8", "unparseable_amount"),       # quantity "one"
        ("9", "unknown_currency"),         # XXX is not in seeds/fx_rates.csv
        (None, "missing_order_id"),        # an order id is declared, this line has none
    ]
    (row,) = built.execute("select raw_rows, staged_rows, quarantined_rows, duplicate_rows "
                           "from staging.stg_landing__row_counts where source = 'rule_orders'"
                           ).fetchall()
    assert row == (13, 6, 6, 1)  # the repeated first line is a duplicate delivery


def test_order_money(built):
    orders = {key: (status, is_order, str(gross), str(refund), str(net)) for
              key, status, is_order, gross, refund, net in built.execute("""
        select order_key, order_status, is_order, gross_revenue, refund_amount, net_revenue
        from staging.stg_contract__orders""").fetchall()}
    assert orders == {
        # two lines, GBP at 1.27: 2 x 5.00 -> 12.70, 1 x 2.50 -> 3.18 (rounded per line)
        "rule_orders:1": ("paid", True, "15.88", "0.00", "15.88"),
        # a C-invoice pays its money back, whatever the sign of its quantity
        "rule_orders:C2": ("returned", False, "0.00", "6.35", "-6.35"),
        # EUR at 1.08: a paid order with a declared refund of 4.00 EUR
        "rule_orders:3": ("paid", True, "10.80", "4.32", "6.48"),
        # voided before payment: counts nothing
        "rule_orders:4": ("cancelled", False, "0.00", "0.00", "0.00"),
        # a guest order: no customer id, found by its email
        "rule_orders:5": ("paid", True, "8.00", "0.00", "8.00"),
    }
    guest = built.execute("select identifier from staging.stg_contract__orders "
                          "where order_key = 'rule_orders:5'").fetchone()[0]
    assert guest.startswith("email:") and len(guest) == len("email:") + 64


def test_times_are_utc(built):
    # 01/02/2024 10:00 in Berlin (CET, UTC+1) is 09:00 UTC
    at = built.execute("select ordered_at from staging.stg_contract__orders "
                       "where order_key = 'rule_orders:1'").fetchone()[0]
    assert str(at) == "2024-02-01 09:00:00"
    # epoch microseconds 1706781600000000 = 2024-02-01 10:00:00 UTC
    first = built.execute("select min(event_at) from staging.stg_events__events").fetchone()[0]
    assert str(first) == "2024-02-01 10:00:00"


def test_events_identifiers_filter_and_expressions(built):
    reasons = dict(built.execute("""
        select json_extract_string(raw_record, '$.pseudo'), reject_reason
        from staging.stg_landing__quarantined_rows where source = 'rule_events'
    """).fetchall())
    assert reasons == {"not a pseudo id": "malformed_identifier",
                       "7654321.1678901299": "unknown_event_name", None: "missing_identifier"}
    (row,) = built.execute("select raw_rows, staged_rows, quarantined_rows, duplicate_rows "
                           "from staging.stg_landing__row_counts where source = 'rule_events'"
                           ).fetchall()
    # the server-side row is not this source's (where: kind = 'web'): never read
    assert row == (6, 2, 3, 1)
    staged = built.execute("select identifier_1, identifier_2, identifier_3, device from "
                           "staging.stg_events__events order by event_at").fetchall()
    assert staged == [
        (None, "ga_pseudo_id:1234567.1678901234",
         "anon_uuid:0f8fad5b-d9cb-469f-a165-70867728950e", "12.5"),
        ("shop_id:101", "ga_pseudo_id:1234567.1678901234", None, None),
    ]


def test_one_person_across_the_adapters(built):
    # customer 101 (orders) logged in on the site with the pseudo id that also carried
    # the anonymous uuid: all three are one person, with the orders' email
    persons = built.execute("""
        select person_id, list(split_part(identifier, ':', 1) order by identifier)
        from identity.int_identity__person_map group by person_id
        having list_contains(list(identifier), 'shop_id:101')
    """).fetchall()
    assert len(persons) == 1
    assert persons[0][1] == ["anon_uuid", "email", "ga_pseudo_id", "shop_id"]


# --- issue 18 scenarios 10 and 11 for declared sources: lines that are no row ------------

# a ';'-separated csv: a quoted field holding the delimiter and a doubled quote (a row),
# an unterminated quote, a missing field, a latin-1 byte, an extra field
BAD_ORDERS = (
    b"invoice;customer;at;amount\n"
    b"1;101;2024-02-01 10:00:00;5.00\n"
    b'2;"10""2;x";2024-02-02 10:00:00;6.00\n'
    b'3;"102;2024-02-03 10:00:00;7.00\n'
    b"4;103;2024-02-04 10:00:00\n"
    b"5;10\xe94;2024-02-05 10:00:00;8.00\n"
    b"6;105;2024-02-06 10:00:00;9.00;extra\n"
    b"7;106;2024-02-07 10:00:00;10.00\n"
)
BAD_EVENTS = (
    b'{"id": "e1", "uid": "101", "name": "view", "ts": "2024-02-01T10:00:00Z", "ctx": {"v": 1}}\n'
    b"not json at all\n"
    b'{"id": "e2", "uid": "10\xff", "name": "view", "ts": "2024-02-01T11:00:00Z"}\n'
    b"[1, 2]\n"
    b'{"id": "e3", "uid": "102", "name": "view", "ts": "2024-02-01T12:00:00Z", "ctx": {"v": 2}}\n'
)
BAD_DECLARATION = """\
identifier_types:
  shop_id: {normalise: trim, pattern: '^[0-9]+$'}
transaction_sources:
  - name: bad_orders
    path: orders.csv
    format: csv
    options: {delimiter: ";"}
    columns:
      customer_id: {column: customer, identifier_type: shop_id}
      ordered_at: {column: at, format: iso8601}
      order_id: {column: invoice}
      amount: {column: amount}
event_sources:
  - name: bad_events
    path: events.jsonl
    format: json
    columns:
      event_id: {column: id}
      event_name: {column: name}
      occurred_at: {column: ts, format: iso8601}
      device: {expression: "cast(ctx.v as varchar)"}
    identifiers:
      - {column: uid, identifier_type: shop_id}
    event_names:
      view: {event_name: page_viewed, event_category: browse, channel: web, is_user_initiated: true}
"""


@pytest.fixture(scope="module")
def bad_lines(tmp_path_factory):
    root = tmp_path_factory.mktemp("bad_lines")
    (root / "orders.csv").write_bytes(BAD_ORDERS)
    (root / "events.jsonl").write_bytes(BAD_EVENTS)
    (root / "sources.yml").write_text(BAD_DECLARATION)
    (root / "gates.yml").write_text(textwrap.dedent("""\
        staging: {quarantine_share: {max: 1.0}}
        marts:
          volume: {allow_empty: [marts.fct_customer_triggers]}
          lifecycle_stage_shares: {max: 1.0}
          freshness: {max_lag_days: 60}
    """))
    env = {**os.environ, "LW_GX_DOCS_DIR": str(root / "gx"), "LW_DUCKDB_TEMP_DIR": str(root / "t"),
           "LW_GATES_CONFIG": str(root / "gates.yml")}
    result = subprocess.run(
        [sys.executable, "-m", "lifecycle_warehouse.cli", "build", "--sources",
         str(root / "sources.yml"), "--database", str(root / "b.duckdb"),
         "--serving", str(root / "s.duckdb"), "--as-of-date", "2024-02-29"],
        capture_output=True, text=True, cwd=PROJECT_ROOT, env=env, timeout=600)
    with duckdb.connect(str(root / "b.duckdb"), read_only=True) as con:
        yield result, con


def _unreadable(con, source):
    return con.execute("""
        select json_extract_string(raw_record, '$._line'), reject_reason
        from staging.stg_landing__quarantined_rows
        where source = ? and record_key is null order by 1
    """, [source]).fetchall()


def _counts(con, source):
    return con.execute("select raw_rows, staged_rows, quarantined_rows, duplicate_rows "
                       "from staging.stg_landing__row_counts where source = ?", [source]).fetchone()


def test_scenario_10_declared_non_json_and_non_utf8_lines_are_quarantined(bad_lines):
    result, con = bad_lines
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert _unreadable(con, "bad_events") == [
        ("[1, 2]", "malformed_json"),           # JSON, but no object
        ("not json at all", "malformed_json"),
        ('{"id": "e2", "uid": "10\u00ff", "name": "view", "ts": "2024-02-01T11:00:00Z"}',
         "invalid_utf8"),                       # byte 0xff, shown as latin-1
    ]
    # 5 lines = 2 staged (e1, e3) + 3 quarantined, no duplicates
    assert _counts(con, "bad_events") == (5, 2, 3, 0)
    # the readable lines keep their types: ctx is a struct (the expression ctx.v)
    assert con.execute("select event_key, identifier_1, device from staging.stg_events__events "
                       "order by 1").fetchall() == [
        ("bad_events:e1", "shop_id:101", "1"), ("bad_events:e3", "shop_id:102", "2")]


def test_scenario_11_declared_malformed_csv_rows_quarantine_only_themselves(bad_lines):
    result, con = bad_lines
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert _unreadable(con, "bad_orders") == [
        ('3;"102;2024-02-03 10:00:00;7.00', "malformed_csv_row"),        # quote never closed
        ("4;103;2024-02-04 10:00:00", "wrong_field_count"),              # 3 fields of 4
        ("5;10\u00e94;2024-02-05 10:00:00;8.00", "invalid_utf8"),        # byte 0xe9
        ("6;105;2024-02-06 10:00:00;9.00;extra", "wrong_field_count"),   # 5 fields of 4
    ]
    # line 2 is a row, read with the declared ';' and '"': its customer is 10"2;x
    assert con.execute("""
        select json_extract_string(raw_record, '$.customer'), reject_reason
        from staging.stg_landing__quarantined_rows
        where source = 'bad_orders' and record_key is not null
    """).fetchall() == [('10"2;x', "malformed_identifier")]
    # 7 lines = 2 staged (invoices 1 and 7) + 5 quarantined, no duplicates
    assert _counts(con, "bad_orders") == (7, 2, 5, 0)
    assert con.execute("select order_key, cast(gross_revenue as varchar) "
                       "from staging.stg_contract__orders order by 1").fetchall() == [
        ("bad_orders:1", "5.00"), ("bad_orders:7", "10.00")]
