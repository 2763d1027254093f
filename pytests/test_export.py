"""`lw export` (lifecycle_warehouse.activation.export) on a hand-made serving file.

The serving file has the contract tables with a handful of rows written here by hand
(meta.publish_info, marts.fct_audience_membership, marts.fct_audience_changes) and a
restricted contacts file next to it. Webhooks go to a local HTTP server on 127.0.0.1
(http.server in a thread, ephemeral port) and nowhere else. Every expected value is
spelled out below; hashes are computed with hashlib from the literal inputs.

Persons: p01 reachable by email and sms; p02 (holdout of the at_risk campaign) by email;
p03 by sms only, no email; p04 by nothing; p05 by email, no phone; p06 left the cart
trigger and is in no audience now (consent unknown: not exported).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import duckdb
import pytest

from lifecycle_warehouse.activation.audiences import restricted_contacts_path
from lifecycle_warehouse.activation.export import (
    EXAMPLE_CONFIG_PATH,
    ExportConfig,
    ExportError,
    export_all,
    load_config,
)
from lifecycle_warehouse.cli import app as cli
from lifecycle_warehouse.pipeline.project import PROJECT_ROOT

BUILD = "20251001T060000000Z-aaaaaa"
PREVIOUS = "20250930T060000000Z-bbbbbb"
AS_OF = dt.date(2025, 10, 1)

AT_RISK, ACTIVE = "lifecycle_stage:at_risk", "lifecycle_stage:active"
CHAMPIONS, CART = "rfm_segment:champions", "trigger:cart_abandoned"

# audience_id, person_id, entered_on, campaign_id, is_holdout, email, sms, push, whatsapp
MEMBERS = [
    (ACTIVE, "p04", "2025-08-01", None, False, False, False, False, False),
    (ACTIVE, "p05", "2025-10-01", None, False, True, False, False, False),
    (AT_RISK, "p01", "2025-10-01", "winback", False, True, True, False, False),
    (AT_RISK, "p02", "2025-10-01", "winback", True, True, False, False, False),
    (AT_RISK, "p03", "2025-09-15", "winback", False, False, True, False, False),
    (CHAMPIONS, "p01", None, None, False, True, True, False, False),
    (CHAMPIONS, "p02", None, None, False, True, False, False, False),
    (CHAMPIONS, "p04", None, None, False, False, False, False, False),
    (CART, "p01", "2025-09-30", None, False, True, True, False, False),
]
# build_id, audience_id, person_id, change_type, entered_on, is_holdout
CHANGES = [
    (BUILD, ACTIVE, "p05", "entered", "2025-10-01", False),
    (BUILD, AT_RISK, "p01", "entered", "2025-10-01", False),
    (BUILD, AT_RISK, "p02", "entered", "2025-10-01", True),
    (BUILD, AT_RISK, "p05", "left", "2025-07-01", False),
    (BUILD, CART, "p01", "entered", "2025-09-30", False),
    (BUILD, CART, "p06", "left", "2025-09-20", False),
    # another build's row: never exported with this build
    (PREVIOUS, AT_RISK, "p03", "entered", "2025-09-15", False),
]
# person_id, external_id, external_id_type, email, phone_e164
CONTACTS = [
    ("p01", "U001", "user", "ana@example.com", "+4915112345601"),
    ("p02", "U002", "user", "bo@example.com", "+4915112345602"),
    ("p03", "C003", "customer", None, "+4915112345603"),
    ("p04", "C004", "customer", None, None),
    ("p05", "U005", "user", "eve@example.com", None),
    ("p06", "U006", "user", "fay@example.com", "+4915112345606"),
]
EXTERNAL = {c[0]: (c[1], c[2]) for c in CONTACTS}


# `lw export` in a subprocess, its parser only (the rest of the CLI is not needed here)
EXPORT_ONLY_CLI = (
    "import argparse, sys; from lifecycle_warehouse.cli import export; "
    "parser = argparse.ArgumentParser(prog='lw'); export.add_parser(parser.add_subparsers()); "
    "args = parser.parse_args(); sys.exit(args.handler(args))"
)


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def key(audience: str, person: str, change: str, previous: str = PREVIOUS) -> str:
    return sha(f"{BUILD}|{audience}|{person}|{change}|{previous}")


def make_serving(folder: Path, *, changes=CHANGES, previous=PREVIOUS, contacts=True) -> Path:
    folder.mkdir(parents=True)
    serving = folder / "lifecycle.duckdb"
    with duckdb.connect(str(serving)) as con:
        con.execute("create schema meta; create schema marts")
        con.execute("create table meta.publish_info (build_id varchar not null, published_at "
                    "timestamp not null, as_of_date date, source_database varchar, "
                    "duckdb_version varchar, table_count integer, total_rows bigint, "
                    "metadata varchar)")
        con.execute("insert into meta.publish_info values (?, ?, ?, 'build.duckdb', "
                    "'2.0.0', 2, 16, '{}')", [BUILD, dt.datetime(2025, 10, 1, 6), AS_OF])
        con.execute("create table marts.fct_audience_membership (audience_id varchar, "
                    "audience_type varchar, audience_name varchar, person_id varchar, "
                    "as_of_date date, entered_on date, campaign_id varchar, is_holdout "
                    "boolean, is_reachable_email boolean, is_reachable_sms boolean, "
                    "is_reachable_push boolean, is_reachable_whatsapp boolean)")
        con.executemany(
            "insert into marts.fct_audience_membership values (?, split_part(?, ':', 1), "
            "split_part(?, ':', 2), ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [[m[0], m[0], m[0], m[1], AS_OF, *m[2:]] for m in MEMBERS])
        con.execute("create table marts.fct_audience_changes (build_id varchar, "
                    "previous_build_id varchar, as_of_date date, previous_as_of_date date, "
                    "audience_id varchar, audience_type varchar, audience_name varchar, "
                    "person_id varchar, change_type varchar, entered_on date, "
                    "is_holdout boolean)")
        con.executemany(  # duckdb refuses an empty list: one row of nulls, then none
            "insert into marts.fct_audience_changes values (?, ?, ?, ?, ?, "
            "split_part(?, ':', 1), split_part(?, ':', 2), ?, ?, ?, ?)",
            [[c[0], previous if c[0] == BUILD else None, AS_OF, dt.date(2025, 9, 30),
              c[1], c[1], c[1], *c[2:]] for c in changes] or [[None] * 11])
        con.execute("delete from marts.fct_audience_changes where build_id is null")
    if contacts:
        path = restricted_contacts_path(serving)
        path.parent.mkdir(mode=0o700)
        with duckdb.connect(str(path)) as con:
            con.execute("create table main.person_contacts (person_id varchar, external_id "
                        "varchar, external_id_type varchar, email_hash varchar, email "
                        "varchar, phone_hash varchar, phone_e164 varchar)")
            con.executemany("insert into main.person_contacts values (?, ?, ?, 'h', ?, 'h', ?)",
                            CONTACTS)
        os.chmod(path, 0o600)
    return serving


@pytest.fixture(scope="module")
def serving(tmp_path_factory) -> Path:
    return make_serving(tmp_path_factory.mktemp("export") / "serving")


def config(*destinations: dict) -> ExportConfig:
    return ExportConfig.model_validate({"destinations": list(destinations)})


def hook(name: str, url: str, **extra) -> dict:
    return {"name": name, "type": "webhook", "url": url, "audiences": ["lifecycle_stage:*"],
            "channel": "email", "contact_fields": ["email"], "batch_size": 1,
            "max_attempts": 4, "backoff_initial_s": 0.01, "backoff_max_s": 0.05, **extra}


# ------------------------------------------------------------------------- a test server


class Endpoint:
    """A webhook receiver on 127.0.0.1 that deduplicates on Idempotency-Key, as a real
    one should. `script(n, body)` decides the answer to the n-th request (0-based):
    an int status, 'drop' (close the connection without an answer) or 'apply-drop'
    (apply the batch, then close without an answer: the answer is lost)."""

    def __init__(self, script=lambda n, body: 200, body: bytes = b'{"ok": true}') -> None:
        self.script, self.answer = script, body
        self.requests: list[tuple[str, dict]] = []  # (Idempotency-Key, body) as received
        self.processed: list[str] = []  # keys applied (first time a key was answered 200)
        self.duplicates: list[str] = []  # keys received again after being applied
        self.lock = threading.Lock()
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                idem = self.headers["Idempotency-Key"]
                with endpoint.lock:
                    n = len(endpoint.requests)
                    endpoint.requests.append((idem, body))
                    action = endpoint.script(n, body)
                    if action in (200, "apply-drop"):
                        if idem in endpoint.processed:
                            endpoint.duplicates.append(idem)
                        else:
                            endpoint.processed.append(idem)
                if action in ("drop", "apply-drop"):
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                payload = endpoint.answer if action in (200, 400) else b"try later"
                self.send_response(action)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/audiences"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,),
                                       daemon=True)

    def __enter__(self) -> Endpoint:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


# ------------------------------------------------------------------------------- files


def read_csv(path: Path) -> list[str]:
    return path.read_text().splitlines()


def test_files_carry_the_consented_rows_with_contacts_only_where_configured(serving, tmp_path):
    cfg = config(
        {"name": "email_files", "type": "file", "dir": str(tmp_path / "email"),
         "audiences": ["lifecycle_stage:*", "trigger:*", CHAMPIONS], "what": "changes",
         "channel": "email", "contact_fields": ["email"]},
        {"name": "sms_members", "type": "file", "dir": str(tmp_path / "sms"),
         "audiences": ["*"], "what": "members", "channel": "sms", "formats": ["csv"]},
    )
    summary = export_all(serving, cfg, ledger_dir=tmp_path / "ledgers")
    assert summary.ok and summary.build_id == BUILD and summary.as_of_date == AS_OF
    folder = tmp_path / "email" / BUILD
    header = ("build_id,previous_build_id,audience_id,change_type,person_id,external_id,"
              "external_id_type,entered_on,idempotency_key,email,phone_sha256")
    # at_risk: p02 is holdout; p05 left and is reachable by email (its active membership)
    assert read_csv(folder / "lifecycle_stage__at_risk.changes.csv") == [
        header,
        f"{BUILD},{PREVIOUS},{AT_RISK},entered,p01,U001,user,2025-10-01,"
        f"{key(AT_RISK, 'p01', 'entered')},ana@example.com,{sha('+4915112345601')}",
        f"{BUILD},{PREVIOUS},{AT_RISK},left,p05,U005,user,2025-07-01,"
        f"{key(AT_RISK, 'p05', 'left')},eve@example.com,",
    ]
    assert read_csv(folder / "lifecycle_stage__active.changes.csv") == [
        header,
        f"{BUILD},{PREVIOUS},{ACTIVE},entered,p05,U005,user,2025-10-01,"
        f"{key(ACTIVE, 'p05', 'entered')},eve@example.com,",
    ]
    # p06 left the trigger and is in no audience now: no known consent, not exported
    assert read_csv(folder / "trigger__cart_abandoned.changes.csv") == [
        header,
        f"{BUILD},{PREVIOUS},{CART},entered,p01,U001,user,2025-09-30,"
        f"{key(CART, 'p01', 'entered')},ana@example.com,{sha('+4915112345601')}",
    ]
    # no change in champions this build: a header only, an empty JSON lines file
    assert read_csv(folder / "rfm_segment__champions.changes.csv") == [header]
    assert (folder / "rfm_segment__champions.changes.jsonl").read_text() == ""
    lines = (folder / "lifecycle_stage__at_risk.changes.jsonl").read_text().splitlines()
    assert [json.loads(line) for line in lines] == [
        {"build_id": BUILD, "previous_build_id": PREVIOUS, "audience_id": AT_RISK,
         "change_type": "entered", "person_id": "p01", "external_id": "U001",
         "external_id_type": "user", "entered_on": "2025-10-01",
         "idempotency_key": key(AT_RISK, "p01", "entered"), "email": "ana@example.com",
         "phone_sha256": sha("+4915112345601")},
        {"build_id": BUILD, "previous_build_id": PREVIOUS, "audience_id": AT_RISK,
         "change_type": "left", "person_id": "p05", "external_id": "U005",
         "external_id_type": "user", "entered_on": "2025-07-01",
         "idempotency_key": key(AT_RISK, "p05", "left"), "email": "eve@example.com",
         "phone_sha256": None},
    ]
    # raw contact points: owner-only files, and nothing else left in the folder
    for path in folder.iterdir():
        assert path.stat().st_mode & 0o777 == 0o600, path
    assert len(list(folder.iterdir())) == 8  # 4 audiences x csv + jsonl, no temporaries

    # members on sms, no contact_fields: hashes only; p02 (holdout, no sms) and the
    # unreachable p04 / p05 are left out and counted
    sms = tmp_path / "sms" / BUILD
    header = ("build_id,previous_build_id,audience_id,change_type,person_id,external_id,"
              "external_id_type,entered_on,idempotency_key,email_sha256,phone_sha256")
    assert read_csv(sms / "lifecycle_stage__at_risk.members.csv") == [
        header,
        f"{BUILD},{PREVIOUS},{AT_RISK},member,p01,U001,user,2025-10-01,"
        f"{key(AT_RISK, 'p01', 'member')},{sha('ana@example.com')},{sha('+4915112345601')}",
        f"{BUILD},{PREVIOUS},{AT_RISK},member,p03,C003,customer,2025-09-15,"
        f"{key(AT_RISK, 'p03', 'member')},,{sha('+4915112345603')}",
    ]
    assert read_csv(sms / "lifecycle_stage__active.members.csv") == [header]
    assert read_csv(sms / "rfm_segment__champions.members.csv") == [
        header,
        f"{BUILD},{PREVIOUS},{CHAMPIONS},member,p01,U001,user,,"
        f"{key(CHAMPIONS, 'p01', 'member')},{sha('ana@example.com')},{sha('+4915112345601')}",
    ]
    assert sorted(p.name for p in sms.iterdir()) == [
        "lifecycle_stage__active.members.csv", "lifecycle_stage__at_risk.members.csv",
        "rfm_segment__champions.members.csv", "trigger__cart_abandoned.members.csv"]
    assert "@" not in "".join(p.read_text() for p in sms.iterdir())
    counts = {(d.name, a.audience_id): (a.rows, a.excluded_holdout, a.excluded_no_consent)
              for d in summary.destinations for a in d.audiences}
    assert counts == {
        ("email_files", ACTIVE): (1, 0, 0), ("email_files", AT_RISK): (2, 1, 0),
        ("email_files", CART): (1, 0, 1), ("email_files", CHAMPIONS): (0, 0, 0),
        ("sms_members", ACTIVE): (0, 0, 2), ("sms_members", AT_RISK): (2, 1, 0),
        ("sms_members", CHAMPIONS): (1, 0, 2), ("sms_members", CART): (1, 0, 0),
    }


def test_holdout_rows_never_leave_on_any_destination(serving, tmp_path):
    """p02 is in the control group of the at_risk campaign: not in at_risk on any
    destination, whatever the channel; it is exported where it is no control (champions)."""
    with Endpoint() as endpoint:
        cfg = config(
            {"name": "all_files", "type": "file", "dir": str(tmp_path / "all"),
             "audiences": ["*"], "what": "members", "channel": "none"},
            {"name": "all_changes", "type": "file", "dir": str(tmp_path / "all"),
             "audiences": ["*"], "channel": "email", "contact_fields": ["email"]},
            hook("all_hook", endpoint.url, audiences=["*"], what="members", batch_size=50),
        )
        summary = export_all(serving, cfg, ledger_dir=tmp_path / "ledgers")
    assert summary.ok
    exported = [json.loads(line) for path in (tmp_path / "all" / BUILD).glob("*.jsonl")
                for line in path.read_text().splitlines()]
    exported += [r for _, body in endpoint.requests for r in body["records"]]
    p02 = sorted((r["audience_id"], r["change_type"]) for r in exported
                 if r["person_id"] == "p02")
    assert p02 == [(CHAMPIONS, "member"), (CHAMPIONS, "member")]  # file + webhook
    at_risk = {(r["person_id"], r["change_type"]) for r in exported
               if r["audience_id"] == AT_RISK}
    assert at_risk == {("p01", "member"), ("p03", "member"), ("p01", "entered"),
                       ("p05", "left")}


# ---------------------------------------------------------------------------- webhooks


def expected_batch(audience: str, number: int, person: str, change: str, entered: str,
                   email: str | None, phone: str | None) -> tuple[str, dict]:
    record = {"build_id": BUILD, "previous_build_id": PREVIOUS, "audience_id": audience,
              "change_type": change, "person_id": person,
              "external_id": EXTERNAL[person][0], "external_id_type": EXTERNAL[person][1],
              "entered_on": entered, "idempotency_key": key(audience, person, change),
              "email": email, "phone_sha256": sha(phone) if phone else None}
    idem = sha(f"{BUILD}|hook|{audience}|{number}|{record['idempotency_key']}")
    return idem, {"build_id": BUILD, "previous_build_id": PREVIOUS, "audience_id": audience,
                  "batch_number": number, "records": [record]}


def test_webhook_retries_503_and_delivers_every_batch_once(serving, tmp_path):
    lines: list[str] = []
    with Endpoint(lambda n, body: 503 if n < 2 else 200) as endpoint:
        summary = export_all(serving, config(hook("hook", endpoint.url)),
                             ledger_dir=tmp_path, progress=lines.append)
        # a rerun sends nothing: every batch is acknowledged in the ledger
        sent = len(endpoint.requests)
        rerun = export_all(serving, config(hook("hook", endpoint.url)), ledger_dir=tmp_path)
        assert len(endpoint.requests) == sent
        assert sum(a.batches_skipped for a in rerun.destinations[0].audiences) == 3
        # another batching meets a recorded batch with other records: one line, no send
        other = export_all(serving, config(hook("hook", endpoint.url, batch_size=2)),
                           ledger_dir=tmp_path)
        assert len(endpoint.requests) == sent
        assert other.errors == [
            f"Destination 'hook': its ledger ({tmp_path / 'hook.ledger.jsonl'}) records batch "
            f"1 of audience {AT_RISK} (build {BUILD}) as acknowledged with other records "
            "(batch_size or channel changed since): restore that config to "
            "resume, or move the ledger aside to send the build again."]
    assert summary.ok, summary.errors
    expected = [
        expected_batch(ACTIVE, 1, "p05", "entered", "2025-10-01", "eve@example.com", None),
        expected_batch(AT_RISK, 1, "p01", "entered", "2025-10-01", "ana@example.com",
                       "+4915112345601"),
        expected_batch(AT_RISK, 2, "p05", "left", "2025-07-01", "eve@example.com", None),
    ]
    # the first batch was answered 503 twice, then accepted; each batch applied once
    assert endpoint.requests == [expected[0]] * 3 + expected[1:]
    assert endpoint.processed == [idem for idem, _ in expected]
    assert endpoint.duplicates == []
    active, at_risk = summary.destinations[0].audiences
    assert (active.batches_sent, active.retries) == (1, 2)
    assert (at_risk.batches_sent, at_risk.retries, at_risk.excluded_holdout) == (2, 0, 1)
    assert sum("HTTP 503" in line for line in lines) == 2
    assert f"export hook (webhook) {AT_RISK}: 2 rows: 2 batches sent" in "\n".join(lines)
    ledger = [json.loads(line) for line in (tmp_path / "hook.ledger.jsonl").read_text()
              .splitlines()]
    assert [(e["audience_id"], e["batch_number"], e["idempotency_key"]) for e in ledger] == [
        (ACTIVE, 1, expected[0][0]), (AT_RISK, 1, expected[1][0]),
        (AT_RISK, 2, expected[2][0])]



def test_webhook_refusal_stops_with_one_line(serving, tmp_path, capsys):
    body = b'{"error": "unknown field previous_build_id"}'
    with Endpoint(lambda n, b: 400, body=body) as endpoint:
        config_file = tmp_path / "destinations.yml"
        config_file.write_text(json.dumps({"destinations": [hook("refusing", endpoint.url)]}))
        code = cli.main(["export", "--serving", str(serving),
                         "--destinations", str(config_file)])
    err = capsys.readouterr().err
    assert code == 1
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("lw export: Destination 'refusing' refused batch 1 of audience "
                          f"{ACTIVE} (build {BUILD}): HTTP 400 Bad Request: "
                          '{"error": "unknown field previous_build_id"}')
    assert len(endpoint.requests) == 1  # a 4xx is not retried
    assert not (serving.parent / "exports" / "refusing.ledger.jsonl").read_text()


def test_a_killed_export_resumes_without_resending_acknowledged_batches(serving, tmp_path):
    """batch_size 1, members of every audience, channel none: 8 batches. The endpoint
    applies the third batch and kills the export before answering (SIGKILL: a real
    crash, nothing recorded for that batch). The rerun sends batches 3..8: the third
    again, with its Idempotency-Key (the endpoint deduplicates it), never 1 or 2."""
    proc: dict[str, subprocess.Popen] = {}

    def crash_on_third(n: int, body: dict):
        if n == 2:
            os.kill(proc["export"].pid, signal.SIGKILL)
            return "apply-drop"
        return 200

    destination = hook("crashy", "", audiences=["*"], what="members", channel="none",
                       contact_fields=[])
    with Endpoint(crash_on_third) as endpoint:
        destination["url"] = endpoint.url
        config_file = tmp_path / "destinations.yml"
        config_file.write_text(json.dumps({"destinations": [destination]}))
        output = tmp_path / "export.out"
        with open(output, "w") as out:
            proc["export"] = subprocess.Popen(
                [sys.executable, "-c", EXPORT_ONLY_CLI, "export", "--serving", str(serving),
                 "--destinations", str(config_file)],
                cwd=PROJECT_ROOT, stdout=out, stderr=subprocess.STDOUT)
            code = proc["export"].wait(timeout=120)
        assert code == -signal.SIGKILL, output.read_text()[-3000:]
        first = [idem for idem, _ in endpoint.requests]
        summary = export_all(serving, config(destination),
                             ledger_dir=serving.parent / "exports")
        second = [idem for idem, _ in endpoint.requests][len(first):]
    assert summary.ok, summary.errors
    members = sorted((m[0], m[1]) for m in MEMBERS if not m[4])
    assert len(members) == 8
    expected = []
    numbers: dict[str, int] = {}
    for audience, person in members:
        numbers[audience] = numbers.get(audience, 0) + 1
        expected.append(sha(f"{BUILD}|crashy|{audience}|{numbers[audience]}|"
                            f"{key(audience, person, 'member')}"))
    assert first == expected[:3]
    assert second == expected[2:]  # batches 1 and 2 of the first audience: not again
    assert endpoint.duplicates == [expected[2]]  # the one sent-but-unrecorded batch
    assert endpoint.processed == expected  # every batch applied exactly once
    audiences = summary.destinations[0].audiences
    assert sum(a.batches_skipped for a in audiences) == 2
    assert sum(a.batches_sent for a in audiences) == 6


def test_dropped_connections_are_retried_and_giving_up_says_so(serving, tmp_path):
    with Endpoint(lambda n, body: "drop" if n == 0 else 200) as endpoint:
        summary = export_all(serving, config(hook("flaky", endpoint.url)), ledger_dir=tmp_path)
    assert summary.ok and len(endpoint.processed) == 3
    assert summary.destinations[0].audiences[0].retries == 1
    with Endpoint(lambda n, body: 503) as endpoint:
        summary = export_all(serving, config(hook("down", endpoint.url, max_attempts=3)),
                             ledger_dir=tmp_path)
    assert len(endpoint.requests) == 3 and not summary.ok
    assert summary.errors == [
        f"Destination 'down' did not acknowledge batch 1 of audience {ACTIVE} (build {BUILD}) "
        "after 3 attempts (last: HTTP 503 Service Unavailable: try later); run `lw export` "
        "again later: acknowledged batches are not sent again."]


def test_a_rollback_reversal_is_a_new_change_set(serving, tmp_path):
    """A rollback serves the older build id again with changes against the newer build
    (another previous_build_id): other keys, sent although the build id was exported."""
    newer = "20251002T060000000Z-cccccc"
    rolled_back = make_serving(tmp_path / "rolled_back", previous=newer)
    with Endpoint() as endpoint:
        first = export_all(serving, config(hook("hook", endpoint.url)), ledger_dir=tmp_path)
        again = export_all(rolled_back, config(hook("hook", endpoint.url)),
                           ledger_dir=tmp_path)
    assert first.ok and again.ok
    assert sum(a.batches_sent for a in again.destinations[0].audiences) == 3
    keys = [r["idempotency_key"] for _, body in endpoint.requests for r in body["records"]]
    assert keys[3:] == [key(ACTIVE, "p05", "entered", newer), key(AT_RISK, "p01", "entered",
                        newer), key(AT_RISK, "p05", "left", newer)]
    assert endpoint.duplicates == []


def test_an_export_without_changes_sends_nothing(tmp_path):
    serving = make_serving(tmp_path / "serving", changes=[])
    with Endpoint() as endpoint:
        summary = export_all(serving, config(hook("quiet", endpoint.url, audiences=["*"])),
                             ledger_dir=tmp_path)
    assert summary.ok and summary.rows == 0
    assert endpoint.requests == []


# ------------------------------------------------------------------------------ config


def test_config_errors_are_one_line_with_the_fix(serving, tmp_path, capsys):
    code = cli.main(["export", "--serving", str(serving),
                     "--destinations", str(tmp_path / "missing.yml")])
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1
    assert f"No destinations config at {tmp_path / 'missing.yml'}" in err
    assert str(EXAMPLE_CONFIG_PATH) in err

    def error_of(destination: dict) -> str:
        path = tmp_path / "destinations.yml"
        path.write_text(json.dumps({"destinations": [destination]}))
        with pytest.raises(ExportError) as raised:
            load_config(path)
        return str(raised.value)

    base = hook("h", "http://127.0.0.1:9/x")
    assert ("destinations[0]: contact_fields has 'phone' but channel is 'email'"
            in error_of({**base, "contact_fields": ["phone"]}))
    assert ("contact_fields has 'email' but channel is 'none'"
            in error_of({**base, "channel": "none"}))
    assert ("destinations[0].url: url 'http://hooks.example.com/x' is plain http"
            in error_of({**base, "url": "http://hooks.example.com/x"}))
    assert "destinations[0].batch_sise: unknown key" in error_of({**base, "batch_sise": 5})
    assert "destinations[0].channel:" in error_of({**base, "channel": "fax"})

    with_secret = config(hook("h", "http://127.0.0.1:9/x",
                              headers={"Authorization": "Bearer ${LW_TEST_UNSET_TOKEN}"}))
    with pytest.raises(ExportError, match=r"header Authorization uses \$\{LW_TEST_UNSET_TOKEN\}"):
        export_all(serving, with_secret, ledger_dir=tmp_path)


def test_the_example_config_is_valid():
    example = load_config(EXAMPLE_CONFIG_PATH)
    assert {d.type for d in example.destinations} == {"file", "webhook"}
    assert all(Path(d.dir).is_absolute() for d in example.destinations if d.type == "file")
