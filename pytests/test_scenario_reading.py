"""Issue 18, reading the landing files: scenarios 2 (a CSV without a header), 3 (a renamed
or missing column), 10 (a bad line or value stops everything), 11 (one malformed CSV row
misreads the whole file) and 12 (a 10 MB field echoes raw PII; the build database is
private).

One shared `lw build` (a subprocess, as a scheduler runs it) of a tiny hand-made landing
holding every defective line at once next to good rows: each bad line is quarantined with
its reason, every other row is staged, raw = staged + quarantined + duplicates for every
source, the build publishes (exit 0). The gates are relaxed for the tiny data (GATES: a
handful of persons, a third of the rows quarantined), so what is tested is the reading.
The preflight refusals then run against a copy of that deployment (its serving file is the
previous good build): exit 1 in seconds, one line naming file and column, no model run,
the serving file byte-identical. Expected counts are written by hand from the rows below.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys
import textwrap
from datetime import datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from landing_fixtures import WEB_DEFAULTS, write_landing
from lifecycle_warehouse.pipeline.project import PROJECT_ROOT
from lifecycle_warehouse.pipeline.sources import (
    SourceConfigError,
    check_declaration,
    load_declaration,
)

LW = [sys.executable, "-m", "lifecycle_warehouse.cli"]
PII_EMAIL = "leak.canary@example.com"
PII_PHONE = "+14155550199"
GATES = textwrap.dedent("""\
    staging: {quarantine_share: {max: 1.0}}
    intermediate:
      events_without_person: {max_share: 1.0}
      volume:
        allow_empty: [identity.int_identity__excluded_links, intermediate.int_person_referrals]
      null_rates: {intermediate.int_orders: {person_id: 1.0}}
    marts:
      volume: {allow_empty: [marts.fct_customer_triggers]}
      lifecycle_stage_shares: {max: 1.0}
""")
POS_GOOD_LINE = (b"T00000000%02d,1,S001,2025-06-01 12:00:00,,,P00001,1,10.00,USD,false,"
                 b"2025-06-30T23:00:00Z\n")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def user(i: int) -> str:
    return f"U{i:08d}"


def write_defective_landing(landing: Path) -> None:
    """Good rows for 6 customers, and every defect of scenarios 10, 11 and 12."""
    people = range(1, 7)
    write_landing(
        landing,
        web=[{"cookie_id": f"ck_{i:016x}", "user_id": user(i)} for i in people],
        app=[{"device_id": f"dv_{i:016x}", "user_id": user(i)} for i in people],
        messaging=[{"recipient": f"p{i}@example.com"} for i in people],
        pos=[{"transaction_id": f"T{i:010d}"} for i in people],
        orders=[{"order_id": f"O{i:010d}", "user_id": user(i),
                 "customer_email": f"p{i}@example.com",
                 "ordered_at": f"2025-06-{i:02d}T12:00:00+00:00"} for i in people],
        crm=[{"customer_id": user(i), "email": f"p{i}@example.com"} for i in people],
    )
    # 10: a second web file whose event_ts is text (a typed column in the others): one
    # value parses, one does not; and an extra column (3: tolerated, reported)
    rows = [{**WEB_DEFAULTS, "event_id": f"we_{9000 + i:016x}", "cookie_id": f"ck_{i:016x}",
             "event_ts": ts, "_loaded_at": datetime(2025, 6, 30, 23), "experiment_variant": "b"}
            for i, ts in ((1, "2025-06-02 12:00:00"), (2, "not a time"))]
    pq.write_table(pa.Table.from_pylist(rows), landing / "web_events" / "part-00001-text.parquet")
    # 10: a line that is no JSON, a byte that is no UTF-8, a line over 1 MiB
    with (landing / "messaging_webhooks" / "part-00000.jsonl").open("ab") as handle:
        handle.write(b"this is not json\n")
        handle.write(b'{"webhook_id": "wh_00000000000000ff", "channel": "email", "event": "send", '
                     b'"recipient": "caf\xe9@example.com"}\n')
        handle.write(json.dumps({"webhook_id": "wh_big", "recipient": PII_EMAIL,
                                 "campaign_id": "x" * 2_000_000}).encode() + b"\n")
    # 11: an unterminated quote and a ragged unquoted comma, between good lines; 10: a
    # non-UTF-8 byte; a quoted field with a comma, a doubled quote and UTF-8 stays good
    with (landing / "store_pos" / "part-00000.csv").open("ab") as handle:
        handle.write(b'T0000000020,1,S001,2025-06-01 12:00:00,,"+1 415,P00001,1,10.00,USD,'
                     b"false,2025-06-30T23:00:00Z\n")
        handle.write(POS_GOOD_LINE % 21)
        handle.write(b"T0000000022,1,S001,2025-06-01 12:00:00,,415,555,P00001,1,10.00,USD,false,"
                     b"2025-06-30T23:00:00Z\n")
        handle.write(b"T0000000023,1,S001,2025-06-01 12:00:00,,,P\xff0001,1,10.00,USD,false,"
                     b"2025-06-30T23:00:00Z\n")
        handle.write('T0000000024,1,S001,2025-06-01 12:00:00,,"+1 (415) 555-0100",'
                     '"P0, ""é""",1,10.00,USD,false,2025-06-30T23:00:00Z\n'.encode())
        handle.write(POS_GOOD_LINE % 25)
    # 12: a 10 MB field in a CRM row with an email and a phone
    with (landing / "crm_customers" / "part-00000.csv").open("a") as handle:
        handle.write(f"U00000099,{PII_EMAIL},{PII_PHONE},{'A' * 10_000_000},US,2025-01-01,Y,,N,,"
                     "false,,2025-06-01T00:00:00Z,2025-06-30T23:00:00Z\n")


class Deployment:
    def __init__(self, root: Path, landing: Path) -> None:
        self.root, self.landing = root, landing
        self.database = root / "build" / "lifecycle.duckdb"
        self.serving = root / "serving" / "lifecycle.duckdb"
        root.mkdir(parents=True, exist_ok=True)
        (root / "gates.yml").write_text(GATES)

    def build(self) -> subprocess.CompletedProcess:
        env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DO_NOT_TRACK": "1",
               "LW_DUCKDB_TEMP_DIR": str(self.root / "tmp"),
               "LW_GX_DOCS_DIR": str(self.root / "gx_docs"),
               "LW_GATES_CONFIG": str(self.root / "gates.yml")}
        return subprocess.run(
            [*LW, "build", "--no-sample", "--landing", str(self.landing), "--database",
             str(self.database), "--serving", str(self.serving)],
            capture_output=True, text=True, cwd=PROJECT_ROOT, env=env, timeout=900,
            stdin=subprocess.DEVNULL)

    def query(self, sql: str) -> list[tuple]:
        with duckdb.connect(str(self.database), read_only=True) as con:
            return con.execute(sql).fetchall()


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("reading")
    write_defective_landing(root / "landing")
    deployment = Deployment(root, root / "landing")
    log = Path(os.environ.get("DBT_LOG_PATH") or PROJECT_ROOT / "logs") / "dbt.log"
    log_start = log.stat().st_size if log.exists() else 0
    result = deployment.build()
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    with log.open("rb") as handle:
        handle.seek(log_start)
        dbt_log = handle.read().decode("utf-8", "replace")
    return deployment, result, dbt_log


def quarantined(deployment: Deployment, source: str) -> list[tuple[str, str]]:
    """(reason, line or record) of a source's quarantined rows, sorted."""
    return sorted(deployment.query(
        "select reject_reason, coalesce(json_extract_string(raw_record, '$._line'), raw_record) "
        f"from staging.stg_landing__quarantined_rows where source = '{source}'"))


def test_every_source_reconciles(built):
    deployment, result, _ = built
    counts = {row[0]: row[1:] for row in deployment.query(
        "select source, raw_rows, staged_rows, quarantined_rows, duplicate_rows "
        "from staging.stg_landing__row_counts")}
    # (raw, staged, quarantined, duplicates), by hand from write_defective_landing
    assert counts == {
        "web": (8, 7, 1, 0),
        "app": (6, 6, 0, 0),
        "messaging": (9, 6, 3, 0),
        "store_pos": (12, 9, 3, 0),
        "online_orders": (6, 6, 0, 0),
        "crm": (7, 6, 1, 0),
    }
    assert f"Published {deployment.serving}" in result.stdout


def test_scenario_10_bad_lines_and_values_are_quarantined_and_the_rest_builds(built):
    deployment, _, _ = built
    messaging = quarantined(deployment, "messaging")
    assert [reason for reason, _ in messaging] == ["invalid_utf8", "line_too_long",
                                                   "malformed_json"]
    assert messaging[2][1] == "this is not json"
    assert "caf\u00e9@example.com" in messaging[0][1]  # the byte shown as latin-1
    # the text timestamp that does not parse is quarantined, the one that parses staged
    assert [reason for reason, _ in quarantined(deployment, "web")] == ["missing_timestamp"]
    assert deployment.query(
        "select count(*) from staging.stg_web__events where event_at = '2025-06-02 12:00:00'"
    ) == [(1,)]


def test_scenario_11_one_malformed_csv_row_quarantines_only_itself(built):
    deployment, _, _ = built
    reasons = quarantined(deployment, "store_pos")
    assert [(reason, line[:11]) for reason, line in reasons] == [
        ("invalid_utf8", "T0000000023"),
        ("malformed_csv_row", "T0000000020"),
        ("wrong_field_count", "T0000000022"),
    ]
    staged = deployment.query("select transaction_id from staging.stg_store_pos__transaction_lines "
                              "order by 1")
    assert [row[0] for row in staged] == [f"T{i:010d}" for i in (1, 2, 3, 4, 5, 6, 21, 24, 25)]
    assert deployment.query("select sku, phone_raw from staging.base_store_pos__transaction_lines "
                            "where transaction_id = 'T0000000024'") == [
        ('P0, "é"', "+1 (415) 555-0100")]


def test_scenario_12_long_field_is_quarantined_and_no_pii_reaches_the_logs(built):
    deployment, result, dbt_log = built
    assert [reason for reason, _ in quarantined(deployment, "crm")] == ["line_too_long"]
    for text in (result.stdout, result.stderr, dbt_log):
        assert PII_EMAIL not in text and PII_PHONE not in text and "AAAAAAAAAA" not in text


def test_scenario_12_build_database_is_readable_by_its_owner_only(built):
    deployment, _, _ = built
    assert stat.S_IMODE(deployment.database.stat().st_mode) == 0o600
    assert stat.S_IMODE(deployment.database.parent.stat().st_mode) == 0o700


def test_scenario_03_extra_column_is_tolerated_and_reported(built):
    _, result, _ = built
    assert ("part-00001-text.parquet: extra column(s) experiment_variant not in the web "
            "contract (tolerated, not read by staging)") in result.stderr


# --- preflight refusals: against a copy of the deployment, which serves the good build --


@pytest.fixture
def served(built, tmp_path):
    """A copy of the built deployment (its serving file: the previous good build) with a
    landing of good files only, for one defect to be added."""
    deployment, _, _ = built
    landing = tmp_path / "landing"
    write_landing(landing, web=[{"cookie_id": "ck_" + "1" * 16}],
                  app=[{"device_id": "dv_" + "1" * 16}], messaging=[{"recipient": "a@b.co"}],
                  pos=[{}], orders=[{"user_id": user(1)}], crm=[{"email": "a@b.co"}])
    copy = Deployment(tmp_path / "deployment", landing)
    shutil.copytree(deployment.serving.parent, copy.serving.parent)
    return copy


def refused(deployment: Deployment) -> str:
    before = sha256(deployment.serving)
    result = deployment.build()
    assert result.returncode == 1, result.stdout[-2000:] + result.stderr[-2000:]
    assert sha256(deployment.serving) == before
    assert "layer staging" not in result.stderr and "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("lw build failed: ")
    return lines[-1].removeprefix("lw build failed: ")


def test_scenario_02_csv_without_header_is_refused_before_any_model(served):
    crm = served.landing / "crm_customers" / "part-00000.csv"
    crm.write_text(f"U00000001,{PII_EMAIL},{PII_PHONE},Ann,US,2025-01-01,Y,,N,,false,,"
                   "2025-06-01T00:00:00Z,2025-06-30T23:00:00Z\n")
    message = refused(served)
    assert message == (
        f"{crm}: its first line is not the crm header (none of the contract's columns, e.g. "
        "'customer_id', is in it): a CSV without a header? Fix: start the file with the header "
        "line customer_id,email,phone,first_name,country,signup_date,consent_email,consent_sms,"
        "consent_push,consent_whatsapp,account_closed,referred_by,updated_at,_loaded_at "
        "(docs/landing_contract.md)")
    assert PII_EMAIL not in message and PII_PHONE not in message


def test_scenario_03_renamed_parquet_column_is_refused(served):
    web = served.landing / "web_events" / "part-00000.parquet"
    table = pq.read_table(web)
    pq.write_table(table.rename_columns(["userId" if name == "user_id" else name
                                         for name in table.column_names]), web)
    assert refused(served) == (
        f"{web}: column 'user_id' of the web contract is missing (columns not in the contract: "
        "userId). Fix: rename or add it in the file (contract: docs/landing_contract.md, "
        "models/staging/web/_web__sources.yml)")


def test_scenario_03_orders_file_without_refund_amount_is_refused(served):
    orders = served.landing / "online_orders" / "part-00000.csv"
    header, *rows = orders.read_text().splitlines()
    names = header.split(",")
    keep = [i for i, name in enumerate(names) if name != "refund_amount"]
    orders.write_text("\n".join(",".join(line.split(",")[i] for i in keep)
                                for line in [header, *rows]) + "\n")
    assert refused(served) == (
        f"{orders}: column 'refund_amount' of the online_orders contract is missing. Fix: "
        "rename or add it in the file (contract: docs/landing_contract.md, "
        "models/staging/online_orders/_online_orders__sources.yml)")


def test_scenario_10_line_over_the_reader_maximum_is_refused(served):
    messaging = served.landing / "messaging_webhooks" / "part-00000.jsonl"
    with messaging.open("a") as handle:
        handle.write(json.dumps({"webhook_id": "wh_huge", "recipient": PII_EMAIL,
                                 "campaign_id": "x" * (17 * 1024 * 1024)}) + "\n")
    message = refused(served)
    assert message == (
        f"{messaging} has a line longer than 16 MiB, more than the reader holds. Fix: split or "
        "remove that line (one row per line, docs/landing_contract.md)")


def test_scenario_03_declared_source_checks_every_file(tmp_path):
    """Declared sources: a mapped column missing from the second file of a source is an
    error naming that file and column; a header-less file's values are not printed."""
    (tmp_path / "orders_1.csv").write_text("invoice,customer,at,price\n1,101,2024-02-01,5.00\n")
    (tmp_path / "orders_2.csv").write_text("invoice,customer_no,at,price\n2,102,2024-02-02,5\n")
    (tmp_path / "orders_3.csv").write_text(f"3,{PII_EMAIL},2024-02-03,5.00\n")
    (tmp_path / "sources.yml").write_text(textwrap.dedent("""\
        transaction_sources:
          - name: shop
            path: orders_*.csv
            format: csv
            columns:
              customer_id: {column: customer, identifier_type: email}
              ordered_at: {column: at, format: "%Y-%m-%d", time_zone: UTC}
              order_id: {column: invoice}
              amount: {column: price}
    """))
    with pytest.raises(SourceConfigError) as info:
        check_declaration(load_declaration(tmp_path / "sources.yml"))
    assert str(info.value) == (
        f"source 'shop': column 'customer' (columns.customer_id) is not in "
        f"{tmp_path / 'orders_2.csv'}; its columns are: invoice, customer_no, at, price. "
        "Fix: set columns.customer_id.column to one of them.")
    (tmp_path / "orders_2.csv").unlink()
    with pytest.raises(SourceConfigError) as info:
        check_declaration(load_declaration(tmp_path / "sources.yml"))
    assert PII_EMAIL not in str(info.value)
    assert f"is not in {tmp_path / 'orders_3.csv'}" in str(info.value)
    assert "is the header line missing?" in str(info.value)


def test_an_empty_json_lines_file_is_no_missing_column(tmp_path):
    """An hour or a batch without messaging events gives an empty .jsonl (lw bench's
    new-day batch of a small chunk): it has no row that could lack a column, so it is not
    refused; a .jsonl whose objects lack a column still is."""
    from lifecycle_warehouse.pipeline.landing_check import check_landing_files
    from lifecycle_warehouse.pipeline.runner import BuildError

    folder = tmp_path / "messaging_webhooks"
    folder.mkdir()
    (folder / "part-00000.jsonl").write_bytes(b"")
    assert check_landing_files(tmp_path, ("messaging",)) == []
    (folder / "part-00001.jsonl").write_text('{"webhook_id": "w1"}\n')
    with pytest.raises(BuildError, match=r"part-00001\.jsonl: columns 'message_id'"):
        check_landing_files(tmp_path, ("messaging",))
