"""Tests of the synthetic landing-data generator (``lw generate``).

Everything is measured from the files on disk (DuckDB), not only from the manifest.
Sizes are tiny so the whole module runs in well under a minute.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from lifecycle_warehouse.generate.config import SEEDS_DIR, SOURCES, DefectRates
from lifecycle_warehouse.generate.generator import LandingDirNotEmpty, generate

LW = Path(sys.executable).with_name("lw")

RE = {
    "user": r"^U[0-9]{8}$",
    "cookie": r"^ck_[0-9a-f]{16}$",
    "device": r"^dv_[0-9a-f]{16}$",
    "loyalty": r"^LC[0-9]{10}$",
    "email": r"^\s*[^@\s]+@[^@\s]+\.[^@\s]+\s*$",
}

WEB_SCHEMA = [
    ("event_id", "VARCHAR"), ("cookie_id", "VARCHAR"), ("user_id", "VARCHAR"),
    ("event_type", "VARCHAR"), ("event_ts", "TIMESTAMP"), ("page_url", "VARCHAR"),
    ("product_id", "VARCHAR"), ("device_type", "VARCHAR"), ("browser", "VARCHAR"),
    ("utm_source", "VARCHAR"), ("utm_medium", "VARCHAR"), ("utm_campaign", "VARCHAR"),
    ("_loaded_at", "TIMESTAMP"),
]
APP_SCHEMA = [
    ("event_id", "VARCHAR"), ("device_id", "VARCHAR"), ("user_id", "VARCHAR"),
    ("event_name", "VARCHAR"), ("event_ts_ms", "BIGINT"), ("platform", "VARCHAR"),
    ("app_version", "VARCHAR"), ("_loaded_at", "TIMESTAMP"),
]
MESSAGING_KEYS = ["webhook_id", "message_id", "channel", "event", "recipient", "campaign_id",
                  "occurred_at", "_loaded_at"]
POS_COLUMNS = ["transaction_id", "line_number", "store_id", "transaction_local_time",
               "loyalty_card", "phone", "sku", "quantity", "unit_price", "currency",
               "is_return", "_loaded_at"]
ORDER_COLUMNS = ["order_id", "user_id", "customer_email", "order_status", "currency",
                 "order_total", "refund_amount", "item_count", "ordered_at", "updated_at",
                 "_loaded_at"]
CRM_COLUMNS = ["customer_id", "email", "phone", "first_name", "country", "signup_date",
               "consent_email", "consent_sms", "consent_push", "consent_whatsapp",
               "account_closed", "referred_by", "updated_at", "_loaded_at"]
ISO_MS_Z = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$"
ISO_OFFSET = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$"


# ------------------------------------------------------------------------------ fixtures
@pytest.fixture(scope="module")
def landing(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """Default defects, 3 chunks."""
    out = tmp_path_factory.mktemp("landing")
    manifest = generate(out, seed=7, persons=1500, days=120, chunk_persons=500, progress=False)
    return out, manifest


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """No defects (traps on), long enough for lifecycle realism checks."""
    out = tmp_path_factory.mktemp("clean")
    manifest = generate(out, seed=11, persons=2000, days=180, chunk_persons=1000,
                        defects=None, progress=False)
    return out, manifest


def connect(root: Path) -> duckdb.DuckDBPyConnection:
    """Views over the landing files, with event time and load time as UTC timestamps."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"""
        create view web as select * from read_parquet('{root}/web_events/*.parquet',
            union_by_name = true);
        create view app as select *, make_timestamp(event_ts_ms * 1000) as event_ts
            from read_parquet('{root}/app_events/*.parquet');
        create view msg as select *, occurred_at::timestamptz::timestamp as event_ts,
            _loaded_at::timestamptz::timestamp as loaded
            from read_json('{root}/messaging_webhooks/*.jsonl', format = 'newline_delimited',
                           columns = {{webhook_id: 'VARCHAR', message_id: 'VARCHAR',
                           channel: 'VARCHAR', event: 'VARCHAR', recipient: 'VARCHAR',
                           campaign_id: 'VARCHAR', occurred_at: 'VARCHAR',
                           _loaded_at: 'VARCHAR'}});
        create view orders as select *, updated_at::timestamptz::timestamp as event_ts,
            ordered_at::timestamptz::timestamp as ordered_utc,
            _loaded_at::timestamptz::timestamp as loaded
            from read_csv('{root}/online_orders/*.csv', all_varchar = true);
        create view pos_raw as select * from read_csv('{root}/store_pos/*.csv',
            all_varchar = true);
        create view stores as select * from read_csv('{SEEDS_DIR}/stores.csv');
        create view pos as select p.*,
            timezone(s.timezone, p.transaction_local_time::timestamp)::timestamp as event_ts,
            p._loaded_at::timestamptz::timestamp as loaded
            from pos_raw p join stores s using (store_id);
        create view crm as select * from read_csv('{root}/crm_customers/*.csv',
            all_varchar = true);
    """)
    return con


def one(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    return con.execute(sql).fetchone()[0]


def file_hashes(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def taxonomy() -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    with (SEEDS_DIR / "event_taxonomy.csv").open() as fh:
        for row in csv.DictReader(fh):
            out.setdefault(row["source"], set()).add(row["source_event_name"])
    return out


def sql_list(values: set[str]) -> str:
    return ", ".join(f"'{v}'" for v in sorted(values))


# ------------------------------------------------------------------------- determinism
def test_same_seed_gives_identical_bytes_and_other_seed_differs(tmp_path: Path) -> None:
    kw = dict(persons=400, days=60, chunk_persons=200, progress=False)
    generate(tmp_path / "a", seed=3, **kw)
    generate(tmp_path / "b", seed=3, **kw)
    generate(tmp_path / "c", seed=4, **kw)
    a, b, c = (file_hashes(tmp_path / x) for x in "abc")
    assert len(a) >= 13  # 6 sources x 2 chunks + drift + manifest
    assert a == b
    differing = [k for k in a if k != "manifest.json" and a[k] != c.get(k)]
    assert len(differing) == len([k for k in a if k != "manifest.json"])


# ---------------------------------------------------------------------------- schemas
def test_parquet_schemas_match_contract(landing: tuple[Path, dict]) -> None:
    root, _ = landing
    con = duckdb.connect()
    web_files = sorted((root / "web_events").glob("*.parquet"))
    assert any(f.name.endswith("-drift.parquet") for f in web_files)
    for f in web_files:
        cols = [(r[0], r[1]) for r in con.execute(f"describe select * from '{f}'").fetchall()]
        expected = WEB_SCHEMA + ([("experiment_variant", "VARCHAR")]
                                 if f.name.endswith("-drift.parquet") else [])
        assert cols == expected, f.name
    for f in sorted((root / "app_events").glob("*.parquet")):
        cols = [(r[0], r[1]) for r in con.execute(f"describe select * from '{f}'").fetchall()]
        assert cols == APP_SCHEMA, f.name


def test_drift_files_hold_exactly_rows_loaded_after_midpoint(landing: tuple[Path, dict]) -> None:
    root, manifest = landing
    mid = manifest["range"]["drift_midpoint"].rstrip("Z")
    con = duckdb.connect()
    main_max = one(con, f"select max(_loaded_at) from read_parquet("
                        f"'{root}/web_events/part-?????.parquet')")
    drift_min, variants = con.execute(
        f"select min(_loaded_at), count(distinct experiment_variant) from "
        f"'{root}/web_events/*-drift.parquet'").fetchone()
    assert str(main_max) < mid.replace("T", " ") <= str(drift_min)
    assert variants == 3
    assert manifest["defects"]["web_events"]["extra_column_rows"] == one(
        con, f"select count(*) from '{root}/web_events/*-drift.parquet'")


def test_text_formats_match_contract(landing: tuple[Path, dict]) -> None:
    root, _ = landing
    for folder, columns in (("store_pos", POS_COLUMNS), ("online_orders", ORDER_COLUMNS),
                            ("crm_customers", CRM_COLUMNS)):
        for f in sorted((root / folder).glob("*.csv")):
            with f.open(newline="") as fh:
                assert next(csv.reader(fh)) == columns, f.name
    for f in sorted((root / "messaging_webhooks").glob("*.jsonl")):
        with f.open() as fh:
            for line in fh:
                row = json.loads(line)
                assert list(row) == MESSAGING_KEYS
                assert all(isinstance(v, str) for v in row.values())
                assert re.match(ISO_MS_Z, row["occurred_at"])
                assert re.match(ISO_MS_Z, row["_loaded_at"])
    con = connect(root)
    assert one(con, r"""select count(*) from pos_raw where not (
        regexp_matches(transaction_id, '^T[0-9]{10}$')
        and regexp_matches(line_number, '^[1-9][0-9]*$')
        and regexp_matches(transaction_local_time, '^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$')
        and regexp_matches(sku, '^P[0-9]{5}$')
        and regexp_matches(quantity, '^-?[1-9][0-9]*$')
        and regexp_matches(unit_price, '^-?[0-9]+\.[0-9]{2}$')
        and is_return in ('true', 'false'))""") == 0
    assert one(con, r"""select count(*) from orders where not (
        regexp_matches(order_id, '^O[0-9]{10}$')
        and order_status in ('placed', 'paid', 'shipped', 'cancelled', 'refunded')
        and currency in ('USD', 'EUR', 'GBP', 'CNY')
        and regexp_matches(order_total, '^-?[0-9]+\.[0-9]{2}$')
        and regexp_matches(refund_amount, '^[0-9]+\.[0-9]{2}$')
        and regexp_matches(item_count, '^[0-9]+$')
        and regexp_matches(ordered_at, '""" + ISO_OFFSET + r"""')
        and regexp_matches(updated_at, '""" + ISO_OFFSET + "'))") == 0
    assert one(con, r"""select count(*) from crm where not (
        country in ('US', 'GB', 'DE', 'CN')
        and regexp_matches(signup_date, '^\d{4}-\d{2}-\d{2}$')
        and coalesce(consent_email, 'Y') in ('Y', 'N')
        and coalesce(consent_sms, 'Y') in ('Y', 'N')
        and account_closed in ('true', 'false')
        and coalesce(referred_by, 'U00000000') ~ '^U[0-9]{8}$')""") == 0


def test_manifest_row_counts_equal_rows_on_disk(landing: tuple[Path, dict]) -> None:
    root, manifest = landing
    con = duckdb.connect()
    for source in SOURCES:
        total = 0
        for rel, rows in manifest["files"][source].items():
            path = root / rel
            if path.suffix == ".parquet":
                n = one(con, f"select count(*) from '{path}'")
            else:
                n = sum(1 for _ in path.open()) - (path.suffix == ".csv")
            assert n == rows, rel
            total += n
        assert total == manifest["rows"][source]
        on_disk = {str(p.relative_to(root)) for p in (root / source).iterdir()}
        assert on_disk == set(manifest["files"][source])
    assert manifest["events_total"] == sum(
        manifest["rows"][s] for s in ("web_events", "app_events", "messaging_webhooks"))


# ---------------------------------------------------------------------------- defects
def _measure(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, int]]:
    tax = taxonomy()
    m: dict[str, dict[str, int]] = {}
    event_sources = {"web_events": ("web", "event_type", tax["web"]),
                     "app_events": ("app", "event_name", tax["app"]),
                     "messaging_webhooks": ("msg", "event", tax["messaging"]),
                     "store_pos": ("pos", None, None), "online_orders": ("orders", None, None)}
    for source, (view, event_col, names) in event_sources.items():
        loaded = "loaded" if view in ("msg", "orders", "pos") else "_loaded_at"
        d = {
            "rows": one(con, f"select count(*) from {view}"),
            "duplicate": one(con, f"select count(*) - (select count(*) from "
                                  f"(select distinct * from {view})) from {view}"),
            "late_arriving": one(con, f"select count(*) from {view} where {loaded} between "
                                      f"event_ts + interval 2 day and event_ts + interval 10 day"),
            "future_timestamp": one(con, f"select count(*) from {view} where event_ts > {loaded}"),
        }
        if event_col:
            d["unknown_event_name"] = one(
                con, f"select count(*) from {view} where {event_col} not in ({sql_list(names)})")
        m[source] = d
    m["web_events"]["malformed_id"] = one(con, f"""select count(*) from web where
        not regexp_matches(cookie_id, '{RE["cookie"]}')
        or (user_id is not null and not regexp_matches(user_id, '{RE["user"]}'))""")
    m["app_events"]["malformed_id"] = one(con, f"""select count(*) from app where
        not regexp_matches(device_id, '{RE["device"]}')
        or (user_id is not null and not regexp_matches(user_id, '{RE["user"]}'))""")
    m["store_pos"]["malformed_id"] = one(con, f"""select count(*) from pos where
        loyalty_card is not null and not regexp_matches(loyalty_card, '{RE["loyalty"]}')""")
    m["store_pos"]["negative_amount"] = one(
        con, "select count(*) from pos where unit_price::decimal(12,2) < 0")
    m["online_orders"]["malformed_id"] = one(con, f"""select count(*) from orders where
        user_id is not null and not regexp_matches(user_id, '{RE["user"]}')""")
    m["online_orders"]["malformed_email"] = one(con, f"""select count(*) from orders
        where not regexp_matches(customer_email, '{RE["email"]}')""")
    m["online_orders"]["negative_amount"] = one(
        con, "select count(*) from orders where order_total::decimal(14,2) < 0")
    m["crm_customers"] = {
        "rows": one(con, "select count(*) from crm"),
        "duplicate": one(con, "select count(*) - (select count(*) from "
                              "(select distinct * from crm)) from crm"),
        "malformed_id": one(con, f"select count(*) from crm where "
                                 f"not regexp_matches(customer_id, '{RE['user']}')"),
        "malformed_email": one(con, f"select count(*) from crm where "
                                    f"not regexp_matches(email, '{RE['email']}')"),
    }
    return m


def test_defect_rates_measured_from_data(landing: tuple[Path, dict]) -> None:
    root, manifest = landing
    rates = DefectRates()
    measured = _measure(connect(root))
    chunks = manifest["chunks"]
    checked = 0
    for source, counts in measured.items():
        rows = counts.pop("rows")
        base = rows - counts["duplicate"]  # defect rates apply to the original rows
        for defect, n in counts.items():
            # data == manifest, and the manifest count == rate * rows up to rounding
            assert n == manifest["defects"][source][defect], (source, defect)
            expected = getattr(rates, defect) * base
            assert abs(n - expected) <= chunks, (source, defect, n, expected)
            checked += 1
    assert checked >= 25
    # orders: staging keys on ordered_at; future rows are future for it too, normal rows
    # are loaded < 48 h after ordered_at, late rows >= 48 h after it
    con = connect(root)
    assert one(con, "select count(*) from orders where ordered_utc > loaded") == \
        manifest["defects"]["online_orders"]["future_timestamp"]
    assert one(con, "select count(*) from orders where loaded > ordered_utc + interval 48 hour") \
        == manifest["defects"]["online_orders"]["late_arriving"]
    # the realistic parts are really there: rates are not trivially zero
    assert measured["web_events"]["late_arriving"] > 50
    assert measured["web_events"]["future_timestamp"] > 0


def test_malformed_email_shapes(landing: tuple[Path, dict]) -> None:
    con = connect(landing[0])
    bad = [r[0] for r in con.execute(f"""select email from crm where not
        regexp_matches(email, '{RE["email"]}') union all select customer_email from orders
        where not regexp_matches(customer_email, '{RE["email"]}')""").fetchall()]
    assert bad
    for e in bad:
        e = e.strip()
        assert e.endswith("@") or e.startswith("@") or "@" not in e, e


# ------------------------------------------------------------------------- clean data
def test_no_defects_means_zero_defects(clean: tuple[Path, dict]) -> None:
    root, manifest = clean
    measured = _measure(connect(root))
    for source, counts in measured.items():
        counts.pop("rows")
        assert all(v == 0 for v in counts.values()), (source, counts)
    for counts in manifest["defects"].values():
        assert all(v == 0 for v in counts.values() if isinstance(v, int))
    assert not list((root / "web_events").glob("*-drift.parquet"))


def test_identifier_formats_on_clean_rows(clean: tuple[Path, dict]) -> None:
    con = connect(clean[0])
    assert one(con, r"select count(*) from web where not regexp_matches(event_id, "
                    r"'^we_[0-9a-f]{16}$') or (product_id is not null and not "
                    r"regexp_matches(product_id, '^P[0-9]{5}$'))") == 0
    assert one(con, r"select count(*) from app where not regexp_matches(event_id, "
                    r"'^ae_[0-9a-f]{16}$')") == 0
    assert one(con, "select count(distinct event_id) = count(*) from web")
    assert one(con, r"""select count(*) from msg where not (
        regexp_matches(webhook_id, '^wh_[0-9a-f]{16}$')
        and regexp_matches(campaign_id, '^C[0-9]{4}$')
        and case channel when 'email' then regexp_matches(recipient, '[^@]+@[^@]+\.[a-z]+')
                         when 'push' then regexp_matches(recipient, '^dv_[0-9a-f]{16}$')
                         when 'in_app' then regexp_matches(recipient, '^dv_[0-9a-f]{16}$')
                         else regexp_matches(recipient, '^[+0-9(][0-9 ().+-]{6,}$') end)""") == 0
    # normal rows are loaded 5-180 minutes after the event
    for view, loaded in (("web", "_loaded_at"), ("app", "_loaded_at"), ("msg", "loaded"),
                         ("orders", "loaded"), ("pos", "loaded")):
        lo, hi = con.execute(f"select min(date_diff('second', event_ts, {loaded})), "
                             f"max(date_diff('second', event_ts, {loaded})) from {view}").fetchone()
        assert 5 * 60 - 1 <= lo and hi <= 180 * 60 + 1, (view, lo, hi)


def test_pos_local_time_is_store_time(clean: tuple[Path, dict]) -> None:
    con = connect(clean[0])
    # converting the store-local time with the store's zone gives a UTC time that is
    # 5-180 min before _loaded_at, for every store (incl. across DST changes)
    rows = con.execute("""select store_id, count(*),
        min(date_diff('second', event_ts, loaded)), max(date_diff('second', event_ts, loaded)),
        min(hour(transaction_local_time::timestamp)), max(hour(transaction_local_time::timestamp))
        from pos group by 1 order by 1""").fetchall()
    assert [r[0] for r in rows] == ["S001", "S002", "S003", "S004", "S005", "S006"]
    for store, n, lo, hi, h_lo, h_hi in rows:
        assert n > 0
        assert 5 * 60 - 1 <= lo and hi <= 180 * 60 + 1, store
        assert 9 <= h_lo and h_hi <= 20, store  # opening hours, local
    # the UTC offset of a store in Shanghai is +8h
    diff = one(con, """select max(abs(date_diff('minute', event_ts,
        transaction_local_time::timestamp) - 480)) from pos where store_id = 'S006'""")
    assert diff == 0
    assert one(con, "select count(*) from pos where currency <> case store_id "
                    "when 'S004' then 'GBP' when 'S005' then 'EUR' when 'S006' then 'CNY' "
                    "else 'USD' end") == 0
    assert one(con, "select count(*) from pos where (quantity::int < 0) <> "
                    "(is_return = 'true')") == 0


def test_order_offsets_follow_country_time_zone(clean: tuple[Path, dict]) -> None:
    con = connect(clean[0])
    offsets = dict(con.execute("""select currency, list(distinct right(ordered_at, 6)
        order by right(ordered_at, 6)) from orders group by 1""").fetchall())
    assert offsets["CNY"] == ["+08:00"]
    assert set(offsets["EUR"]) <= {"+01:00", "+02:00"}
    assert set(offsets["GBP"]) <= {"+00:00", "+01:00"}
    assert set(offsets["USD"]) <= {"-05:00", "-04:00"}
    assert one(con, "select count(*) from orders where event_ts < ordered_utc or "
                    "event_ts > ordered_utc + interval 36 hour") == 0
    statuses = dict(con.execute("select order_status, count(*) from orders group by 1")
                    .fetchall())
    assert set(statuses) == {"placed", "paid", "shipped", "cancelled", "refunded"}
    assert one(con, "select count(*) from orders where (refund_amount::decimal(14,2) > 0) "
                    "<> (order_status = 'refunded')") == 0


def _e164(raw: str, calling_code: str) -> str:
    digits = re.sub(r"\D", "", raw)
    if raw.strip().startswith("+"):
        return digits
    if digits.startswith("00"):
        return digits[2:]
    if digits.startswith("0"):
        return calling_code + digits[1:]
    return calling_code + digits


def test_identity_chain_cookie_user_email_phone_loyalty(clean: tuple[Path, dict]) -> None:
    con = connect(clean[0])
    cc = {"US": "1", "GB": "44", "DE": "49", "CN": "86"}
    store_cc = {"S001": "1", "S002": "1", "S003": "1", "S004": "44", "S005": "49", "S006": "86"}
    # cookie -> user (logged-in web events)
    cookie_user = con.execute("""select distinct cookie_id, user_id from web
        where user_id is not null""").fetchall()
    users = {u for _, u in cookie_user}
    # user -> email, phone (CRM)
    crm = {r[0]: r[1:] for r in con.execute(
        "select customer_id, lower(trim(email)), phone, country from crm").fetchall()}
    # user -> email on orders (typed differently than in CRM)
    order_email = {r[0]: r[1] for r in con.execute("""select user_id,
        lower(trim(customer_email)) from orders where user_id is not null""").fetchall()}
    # phone -> loyalty card (POS rows with both)
    pos = con.execute("""select store_id, phone, loyalty_card from pos
        where phone is not null and loyalty_card is not null""").fetchall()
    card_by_phone = {_e164(p, store_cc[s]): c for s, p, c in pos}
    chains = []
    for user in users:
        if user not in crm or crm[user][1] is None:
            continue
        email, phone, country = crm[user]
        card = card_by_phone.get(_e164(phone, cc[country]))
        if card and order_email.get(user) == email:
            chains.append((user, email, phone, card))
    assert len(chains) >= 5, chains


def test_over_merge_traps_present(clean: tuple[Path, dict]) -> None:
    con = connect(clean[0])
    traps = clean[1]["traps"]
    for cookie in traps["kiosk_cookies"]:
        users = one(con, f"select count(distinct user_id) from web where cookie_id = '{cookie}'")
        assert users == traps["kiosk_users"][cookie] >= 50
    for device in traps["kiosk_devices"]:
        users = one(con, f"select count(distinct user_id) from app where device_id = '{device}'")
        assert users == traps["kiosk_users"][device] >= 50
    test_emails = one(con, "select count(*) from orders where customer_email in "
                           "('test@example.com', 'noreply@example.com') and user_id is null")
    assert test_emails == traps["orders_with_exclusion_email"] > 0
    assert one(con, "select count(*) from pos where phone = '+10000000000'") == \
        traps["pos_rows_with_placeholder_phone"] > 0
    assert one(con, "select count(*) from pos where loyalty_card = 'LC0000000000'") == \
        traps["pos_rows_with_demo_card"] > 0


def test_lifecycle_realism(clean: tuple[Path, dict]) -> None:
    root, manifest = clean
    days = manifest["args"]["days"]
    con = connect(root)
    con.execute(f"""create temp table act as
        select cookie_id as actor, event_ts::date as d from web
        union select device_id, event_ts::date from app;
        create temp table span as select actor, min(d) first_d, max(d) last_d from act
        group by 1;
        create temp table gaps as select actor, max(gap) as max_gap from (
            select actor, d - lag(d) over (partition by actor order by d) as gap from act)
        group by 1;
        create temp table rng as select min(d) as lo, date '2025-01-01' + {days} as hi from act;
    """)
    churned = one(con, "select count(*) from span, rng where first_d < lo + 45 "
                       "and last_d < hi - 60")
    reactivated = one(con, "select count(*) from gaps where max_gap >= 60")
    new = one(con, "select count(*) from span, rng where first_d >= hi - 14")
    at_risk = one(con, """select count(*) from (select actor, count(*) filter (
        where d < (select hi - 60 from rng)) as before, count(*) filter (
        where d >= (select hi - 60 from rng)) as recent from act group by 1)
        where before >= 15 and recent <= 1""")
    prospects = one(con, """select count(*) from crm where customer_id not in (
        select user_id from web where user_id is not null
        union select user_id from app where user_id is not null
        union select user_id from orders where user_id is not null)""")
    heavy = one(con, """select count(*) from (select user_id from orders
        where user_id is not null group by 1 having count(*) >= 5)""")
    assert churned >= 20, churned
    assert reactivated >= 5, reactivated
    assert new >= 10, new
    assert at_risk >= 3, at_risk
    assert prospects >= 0.05 * one(con, "select count(*) from crm"), prospects
    assert heavy >= 3, heavy
    # messaging reaches inactive persons: sends continue after a person's last activity
    assert one(con, """select count(*) from msg where event = 'send' and channel = 'email'
        and recipient in (select lower(trim(email)) from crm where customer_id not in (
            select user_id from web where user_id is not null))""") > 0
    pop = manifest["population"]
    assert 0.35 <= pop["buyers"] / (pop["persons"] - pop["prospects"]) <= 0.55
    assert 0.65 <= pop["registered"] / pop["persons"] <= 0.75


# -------------------------------------------------------------------------------- CLI
def test_cli_generate_and_refuse_non_empty_dir(tmp_path: Path) -> None:
    out = tmp_path / "landing"
    cmd = [str(LW), "generate", "--out", str(out), "--persons", "300", "--days", "30",
           "--seed", "5", "--no-progress"]
    first = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert first.returncode == 0, first.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["args"]["persons"] == 300 and manifest["args"]["seed"] == 5
    before = file_hashes(out)

    again = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert again.returncode != 0
    assert "already contains landing data" in again.stderr
    assert "--overwrite" in again.stderr
    assert file_hashes(out) == before

    over = subprocess.run(cmd + ["--overwrite", "--no-defects"], capture_output=True,
                          text=True, timeout=120)
    assert over.returncode == 0, over.stderr
    assert json.loads((out / "manifest.json").read_text())["defects"]["web_events"][
        "duplicate"] == 0


def test_api_refuses_non_empty_dir(tmp_path: Path) -> None:
    generate(tmp_path, persons=50, days=14, progress=False)
    with pytest.raises(LandingDirNotEmpty, match="overwrite"):
        generate(tmp_path, persons=50, days=14, progress=False)


def test_events_target_sizes_population(tmp_path: Path) -> None:
    manifest = generate(tmp_path, events=60_000, days=60, progress=False)
    assert manifest["events_per_person_measured"] > 5
    assert 0.8 * 60_000 <= manifest["events_total"] <= 1.2 * 60_000


def test_jsonl_writer_equals_duckdb_json(tmp_path: Path) -> None:
    import pyarrow as pa

    from lifecycle_warehouse.generate.writers import _json_safe, write_jsonl

    fields = [("a", pa.array(["x", "y@z.com", "+44 7700 900123"])),
              ("b", pa.array(["2025-01-01T00:00:00.000Z", "", "(415) 555-0134"]))]
    write_jsonl(tmp_path / "ours.jsonl", fields, slice_rows=2)
    con = duckdb.connect()
    con.register("t", pa.table(dict(fields)))
    con.execute(f"copy (select * from t) to '{tmp_path / 'duck.jsonl'}' (format json)")
    ours = [json.loads(line) for line in (tmp_path / "ours.jsonl").open()]
    duck = [json.loads(line) for line in (tmp_path / "duck.jsonl").open()]
    assert ours == duck and len(ours) == 3
    assert all(_json_safe(a) for _, a in fields)
    assert not _json_safe(pa.array(['say "hi"']))
    assert not _json_safe(pa.array(["back\\slash"]))
    assert not _json_safe(pa.array(["x", None]))
