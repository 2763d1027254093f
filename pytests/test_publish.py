"""Publishing the audited marts to the serving file: atomic, versioned, PII-free.

Every test builds a small DuckDB "build database" in tmp_path: schema marts with two
contract-like tables (and a dbt scratch table that must not be published), staging /
identity / test_failures holding raw emails and phones, intermediate.int_as_of_date.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import select
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from lifecycle_warehouse.cli import rollback as rollback_command
from lifecycle_warehouse.cli import versions as versions_command
from lifecycle_warehouse.pipeline import publish as publish_module
from lifecycle_warehouse.pipeline.project import default_serving_path
from lifecycle_warehouse.pipeline.publish import (
    PublishError,
    current_build_id,
    list_versions,
    publish,
    rollback,
)

AS_OF = "2025-12-31"


def raw_email(i: int) -> str:
    return f"Person.{i}@Example.com"


def raw_phone(i: int) -> str:
    return f"+44 7700 900{i:03d}"


def make_build(path: Path, *, version: int = 1, persons: int = 20) -> Path:
    """A build database whose marts differ by `version` (row count and a marker column)."""
    n = persons + version
    with duckdb.connect(str(path)) as con:
        for schema in ("staging", "identity", "intermediate", "marts", "test_failures"):
            con.execute(f"create schema {schema}")
        con.execute(f"""
            create table staging.stg_crm__customers as
            select 'p' || lpad(i::varchar, 5, '0') as person_id,
                   'Person.' || i || '@Example.com' as email_raw,
                   '+44 7700 900' || lpad(i::varchar, 3, '0') as phone_raw,
                   sha256(lower('Person.' || i || '@Example.com')) as email_hash
            from range({n}) t(i)""")
        con.execute("create view staging.base_crm__customers as "
                    "select * from staging.stg_crm__customers")
        con.execute("create table identity.int_identity__observations as "
                    "select person_id, email_raw as identifier from staging.stg_crm__customers")
        con.execute("create table test_failures.not_null_email as "
                    "select email_raw, phone_raw from staging.stg_crm__customers limit 3")
        con.execute(f"create table intermediate.int_as_of_date as "
                    f"select date '{AS_OF}' as as_of_date, 'pinned' as as_of_date_source")
        con.execute("""
            create table marts.dim_customers(
                person_id varchar not null, as_of_date date, email_hash varchar,
                phone_hash varchar, country_code varchar, build_version integer)""")
        con.execute(f"""
            insert into marts.dim_customers
            select person_id, date '{AS_OF}', email_hash, sha256(phone_raw),
                   case when person_id < 'p00010' then 'GB' else 'US' end, {version}
            from staging.stg_crm__customers order by person_id desc""")
        con.execute("comment on table marts.dim_customers is 'One row per person.'")
        con.execute("comment on column marts.dim_customers.email_hash is "
                    "'sha256 of the normalised email'")
        con.execute("""
            create table marts.fct_rfm(
                person_id varchar not null, as_of_date date, net_revenue decimal(18, 2),
                segment varchar)""")
        con.execute(f"""
            insert into marts.fct_rfm
            select person_id, date '{AS_OF}', (hash(person_id) % 10000) / 100.0,
                   case when person_id < 'p00005' then 'champions' else 'hibernating' end
            from staging.stg_crm__customers where person_id >= 'p00002'""")
        con.execute("create table marts.fct_rfm__dbt_tmp as select * from marts.fct_rfm")
    return path


def query(path: Path, sql: str) -> list[tuple]:
    """Reads a file through a private in-memory database (no cached instance)."""
    with duckdb.connect(":memory:") as con:
        con.execute(f"attach '{path}' as f (read_only)")
        con.execute("use f")
        return con.execute(sql).fetchall()


def published_tables(path: Path) -> list[tuple[str, str]]:
    return query(path, "select schema_name, table_name from duckdb_tables() "
                       "where database_name = 'f' order by all")


def table_contents(path: Path) -> dict[str, list[tuple]]:
    return {
        f"{schema}.{table}": query(path, f'select * from "{schema}"."{table}"')
        for schema, table in published_tables(path)
        if schema == "marts"
    }


def names_in(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()} if folder.is_dir() else set()


@pytest.fixture
def build_db(tmp_path: Path) -> Path:
    return make_build(tmp_path / "build.duckdb")


@pytest.fixture
def serving(tmp_path: Path) -> Path:
    return tmp_path / "serving" / "lifecycle.duckdb"


def test_publish_serves_only_the_marts_and_publish_info(build_db: Path, serving: Path):
    result = publish(build_db, serving, keep=3, build_id="b1", metadata={"run": "test"})

    assert result.serving_db == serving.resolve()
    assert result.build_id == "b1"
    assert result.tables == {"dim_customers": 21, "fct_rfm": 19}
    assert result.version_path == serving.parent / "versions" / "lifecycle-b1.duckdb"
    assert result.version_path.read_bytes() == serving.read_bytes()
    assert published_tables(serving) == [
        ("marts", "dim_customers"), ("marts", "fct_rfm"),
        ("meta", "publish_info"), ("meta", "published_tables"),
    ]
    assert query(serving, "select count(*) from duckdb_views() where not internal") == [(0,)]
    info = query(serving, "select build_id, as_of_date::varchar, source_database, "
                          "table_count, total_rows, metadata from meta.publish_info")
    assert info == [("b1", AS_OF, str(build_db.resolve()), 2, 40, '{"run": "test"}')]
    assert query(serving, "select table_name, row_count from meta.published_tables "
                          "order by 1") == [("dim_customers", 21), ("fct_rfm", 19)]
    # the contract survives: NOT NULL constraints and the documentation
    assert query(serving, "select is_nullable from information_schema.columns "
                          "where table_name = 'dim_customers' and column_name = 'person_id'"
                 ) == [("NO",)]
    assert query(serving, "select comment from duckdb_tables() where table_name = "
                          "'dim_customers'") == [("One row per person.",)]
    assert query(serving, "select comment from duckdb_columns() where table_name = "
                          "'dim_customers' and column_name = 'email_hash'"
                 ) == [("sha256 of the normalised email",)]
    assert names_in(serving.parent) == {"lifecycle.duckdb", "versions", "lifecycle.published.js",
                                        ".lifecycle.duckdb.publish.lock"}


# Generic PII check over every text column of every table of the published file.
PHONE_LIKE = re.compile(r"^\+?[0-9]{7,15}$")
PHONE_IN_TEXT = re.compile(r"\+[0-9]{7,15}")


def test_no_raw_email_or_phone_in_any_published_table(build_db: Path, serving: Path):
    publish(build_db, serving)
    known_raw = {raw_email(i).lower() for i in range(25)} | {
        re.sub(r"[^0-9+]", "", raw_phone(i)) for i in range(25)}
    text_columns = query(serving, "select schema_name, table_name, column_name "
                                  "from duckdb_columns() where database_name = 'f' and "
                                  "data_type = 'VARCHAR' order by all")
    assert ("marts", "dim_customers", "email_hash") in text_columns
    checked = 0
    for schema, table, column in text_columns:
        for (value,) in query(serving, f'select distinct "{column}" from "{schema}"."{table}" '
                                       f'where "{column}" is not null'):
            checked += 1
            compact = re.sub(r"[\s().-]", "", value)
            where = f"{schema}.{table}.{column} = {value!r}"
            assert "@" not in value, f"email-like value in {where}"
            assert not PHONE_LIKE.match(compact), f"phone-like value in {where}"
            assert not PHONE_IN_TEXT.search(compact), f"phone in text of {where}"
            assert not any(raw in value.lower() or raw in compact for raw in known_raw), where
    assert checked > 40  # the check really ran over the marts' values


def test_publish_refuses_marts_with_raw_pii(tmp_path: Path, serving: Path):
    build = make_build(tmp_path / "pii.duckdb")
    with duckdb.connect(str(build)) as con:
        con.execute("alter table marts.dim_customers add column contact varchar")
        con.execute("update marts.dim_customers set contact = case when person_id = 'p00003' "
                    "then 'person.3@example.com' when person_id = 'p00004' "
                    "then '+44 7700 900004' end")
    with pytest.raises(PublishError, match=r"dim_customers\.contact: 1 email-like and 1 phone"):
        publish(build, serving)
    assert not serving.exists()
    assert names_in(serving.parent / "versions") == set()


def test_versions_are_pruned_to_keep(tmp_path: Path, serving: Path):
    builds = [make_build(tmp_path / f"build{v}.duckdb", version=v) for v in range(1, 8)]
    ids = []
    for build in builds:
        ids.append(publish(build, serving, keep=3).build_id)
    assert ids == sorted(ids) and len(set(ids)) == 7  # generated ids sort in time order

    kept = sorted(p.name for p in (serving.parent / "versions").iterdir())
    assert kept == [f"lifecycle-{build_id}.duckdb" for build_id in ids[-3:]]
    versions = list_versions(serving)
    assert [v.build_id for v in versions] == ids[:-4:-1]  # newest first
    assert [v.is_current for v in versions] == [True, False, False]
    assert all(str(v.as_of_date) == AS_OF and v.published_at for v in versions)
    assert current_build_id(serving) == ids[-1]
    assert query(serving, "select distinct build_version from marts.dim_customers") == [(7,)]


def test_rollback_restores_the_previous_version_atomically(
    tmp_path: Path, serving: Path, monkeypatch: pytest.MonkeyPatch
):
    first = publish(make_build(tmp_path / "b1.duckdb", version=1), serving, build_id="20250101-a")
    first_contents = table_contents(serving)
    publish(make_build(tmp_path / "b2.duckdb", version=2), serving, build_id="20250102-b")
    second_contents = table_contents(serving)
    assert first_contents != second_contents

    replaced: list[tuple[str, str]] = []
    real_replace = os.replace

    def spy(src, dst):
        replaced.append((str(src), str(dst)))
        real_replace(src, dst)

    monkeypatch.setattr(publish_module.os, "replace", spy)
    inode_before = serving.stat().st_ino
    with duckdb.connect(str(serving), read_only=True) as reader:  # open before the rollback
        result = rollback(serving)
        # the open reader still sees its file; a new one sees the version rolled back to
        assert reader.execute("select distinct build_version from marts.dim_customers"
                              ).fetchall() == [(2,)]
    assert result.build_id == "20250101-a" and result.tables == first.tables
    assert table_contents(serving) == first_contents
    assert serving.read_bytes() == first.version_path.read_bytes()
    assert serving.stat().st_ino != inode_before  # a new file was renamed into place
    # one rename onto the serving file (then the dashboard marker lifecycle.published.js)
    onto_serving = [(src, dst) for src, dst in replaced if dst == str(serving.resolve())]
    assert len(onto_serving) == 1 and len(replaced) == 2
    assert Path(onto_serving[0][0]).parent == serving.parent.resolve()
    assert names_in(serving.parent) == {"lifecycle.duckdb", "versions", "lifecycle.published.js",
                                        ".lifecycle.duckdb.publish.lock"}
    assert [(v.build_id, v.is_current) for v in list_versions(serving)] == [
        ("20250102-b", False), ("20250101-a", True)]

    with pytest.raises(PublishError, match="No kept version older than"):
        rollback(serving)
    rollback(serving, "20250102-b")
    assert table_contents(serving) == second_contents
    with pytest.raises(PublishError, match="No kept version nope"):
        rollback(serving, "nope")


def _fail_export(monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("boom in export")
    monkeypatch.setattr(publish_module, "_write_meta", boom)


def _fail_version_copy(monkeypatch):
    def boom(*args, **kwargs):
        raise OSError("disk full")
    monkeypatch.setattr(publish_module.shutil, "copyfile", boom)


def _fail_rename(monkeypatch):
    real_replace = os.replace

    def boom(src, dst):
        if Path(dst).name == "lifecycle.duckdb":
            raise OSError("rename failed")
        real_replace(src, dst)
    monkeypatch.setattr(publish_module.os, "replace", boom)


@pytest.mark.parametrize("fail", [_fail_export, _fail_version_copy, _fail_rename],
                         ids=["export", "version-copy", "rename"])
def test_failed_publish_leaves_the_serving_file_untouched(
    tmp_path: Path, serving: Path, monkeypatch: pytest.MonkeyPatch, fail
):
    publish(make_build(tmp_path / "b1.duckdb", version=1), serving, build_id="b1")
    before = serving.read_bytes()
    files_before = names_in(serving.parent)
    versions_before = names_in(serving.parent / "versions")

    fail(monkeypatch)
    with pytest.raises((RuntimeError, OSError)):
        publish(make_build(tmp_path / "b2.duckdb", version=2), serving, build_id="b2")
    monkeypatch.undo()

    assert serving.read_bytes() == before
    assert names_in(serving.parent) == files_before  # no temporary file, no WAL
    assert names_in(serving.parent / "versions") == versions_before
    assert current_build_id(serving) == "b1"


def test_leftovers_of_a_killed_publish_are_removed(build_db: Path, serving: Path):
    serving.parent.mkdir(parents=True)
    (serving.parent / ".lifecycle.duckdb.20250101-x.tmp").write_bytes(b"partial")
    (serving.parent / ".lifecycle.duckdb.20250101-x.tmp.wal").write_bytes(b"partial")
    publish(build_db, serving)
    assert not list(serving.parent.glob("*.tmp*"))


def test_same_build_published_twice_gives_identical_tables(build_db: Path, tmp_path: Path):
    one = publish(build_db, tmp_path / "one" / "lifecycle.duckdb")
    two = publish(build_db, tmp_path / "two" / "lifecycle.duckdb")
    assert one.tables == two.tables
    assert table_contents(one.serving_db) == table_contents(two.serving_db)
    ddl = "select table_name, sql, comment from duckdb_tables() where schema_name = 'marts' " \
          "order by 1"
    assert query(one.serving_db, ddl) == query(two.serving_db, ddl)


def test_clear_errors(tmp_path: Path, serving: Path):
    with pytest.raises(PublishError, match="No build database"):
        publish(tmp_path / "missing.duckdb", serving)

    no_marts = tmp_path / "no_marts.duckdb"
    with duckdb.connect(str(no_marts)) as con:
        con.execute("create schema staging")
        con.execute("create table staging.t as select 1 as x")
    with pytest.raises(PublishError, match="no tables in schema marts"):
        publish(no_marts, serving)
    assert not serving.exists()

    with pytest.raises(PublishError, match="Invalid build id"):
        publish(no_marts, serving, build_id="../escape")
    with pytest.raises(PublishError, match="No kept versions"):
        rollback(serving)

    # a writer (dbt still building) holds the build database
    build = make_build(tmp_path / "busy.duckdb")
    writer = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys; con = duckdb.connect(sys.argv[1]); "
         "print('ready', flush=True); sys.stdin.readline()", str(build)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert _readline(writer, timeout=20) == "ready"
        with pytest.raises(PublishError, match="open read-write by another process"):
            publish(build, serving)
    finally:
        writer.communicate("\n", timeout=20)
    assert not serving.exists() and not list(serving.parent.glob(".*.tmp*"))


def test_cli_versions_and_rollback(tmp_path: Path, serving: Path, capsys, monkeypatch):
    publish(make_build(tmp_path / "b1.duckdb", version=1), serving, build_id="20250101-a")
    publish(make_build(tmp_path / "b2.duckdb", version=2), serving, build_id="20250102-b")
    parser = argparse.ArgumentParser(prog="lw")
    sub = parser.add_subparsers(dest="command", required=True)
    versions_command.add_parser(sub)
    rollback_command.add_parser(sub)

    args = parser.parse_args(["versions", "--serving", str(serving)])
    assert args.handler(args) == 0
    out = capsys.readouterr().out
    assert "* 20250102-b" in out and "  20250101-a" in out and AS_OF in out

    monkeypatch.setenv("LW_SERVING_PATH", str(serving))
    assert default_serving_path() == serving.resolve()
    args = parser.parse_args(["rollback"])
    assert args.handler(args) == 0
    assert "Serving build 20250101-a" in capsys.readouterr().out
    args = parser.parse_args(["rollback", "--to", "unknown"])
    assert args.handler(args) == 1
    assert "No kept version unknown" in capsys.readouterr().err


# --------------------------------------------------------------------------------------
# A BI reader in another process, connected read-only before the publish.

READER = r"""
import json, sys, threading
import duckdb

path = sys.argv[1]
SQL = ("select (select build_id from meta.publish_info), "
       "(select count(*) from marts.dim_customers)")

def value(con):
    return "%s/%s" % con.execute(SQL).fetchone()

con = duckdb.connect(path, read_only=True)
stats = {"queries": 0, "errors": [], "seen": set()}
stop = threading.Event()

def hammer():  # a dashboard refreshing as fast as it can
    cursor = con.cursor()
    while not stop.is_set():
        try:
            stats["seen"].add(value(cursor))
        except Exception as error:
            stats["errors"].append(repr(error))
        stats["queries"] += 1
    cursor.close()

thread = threading.Thread(target=hammer, daemon=True)
thread.start()
print(json.dumps({"ready": value(con)}), flush=True)
for line in sys.stdin:
    command = line.strip()
    try:
        if command == "query":
            reply = {"value": value(con)}
        elif command == "stats":
            reply = {"queries": stats["queries"], "errors": stats["errors"],
                     "seen": sorted(stats["seen"])}
        elif command == "reconnect":  # close every connection, then connect again
            stop.set()
            thread.join()
            con.close()
            con = duckdb.connect(path, read_only=True)
            reply = {"value": value(con)}
        else:
            break
    except Exception as error:
        reply = {"error": repr(error)}
    print(json.dumps(reply), flush=True)
"""


def _readline(process: subprocess.Popen, timeout: float) -> str:
    ready, _, _ = select.select([process.stdout], [], [], timeout)
    if not ready:
        process.kill()
        raise AssertionError(f"no answer from process {process.pid} within {timeout} s")
    line = process.stdout.readline()
    if not line:
        raise AssertionError(f"process {process.pid} ended: {process.communicate()}")
    return line.strip()


class Reader:
    def __init__(self, path: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", READER, str(path)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        self.initial = json.loads(_readline(self.process, timeout=30))["ready"]

    def ask(self, command: str) -> dict:
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        reply = json.loads(_readline(self.process, timeout=20))
        assert "error" not in reply, reply["error"]
        return reply

    def wait_for_more_queries(self, than: int, timeout: float = 10) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            queries = self.ask("stats")["queries"]
            if queries > than:
                return queries
            time.sleep(0.01)
        raise AssertionError(f"the reader made no query in {timeout} s")

    def close(self) -> str:
        """Ends the reader; returns its stderr."""
        try:
            _, stderr = self.process.communicate("exit\n", timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            _, stderr = self.process.communicate()
        return stderr


def test_reader_in_another_process_keeps_working_during_and_after_publish(
    tmp_path: Path, serving: Path, monkeypatch: pytest.MonkeyPatch
):
    publish(make_build(tmp_path / "b1.duckdb", version=1), serving, build_id="b1")
    old, new = "b1/21", "b2/22"
    reader = Reader(serving)
    try:
        assert reader.initial == old
        real_replace = os.replace
        during: dict[str, object] = {}

        def replace_while_reading(src, dst):
            if Path(dst) != serving.resolve():
                return real_replace(src, dst)
            # mid-publish: the new file is complete, the serving file not yet replaced
            queries = reader.wait_for_more_queries(0)
            during["before_rename"] = reader.ask("query")["value"]
            real_replace(src, dst)
            # the rename happened while the reader kept querying
            during["after_rename"] = reader.ask("query")["value"]
            during["queries_after_rename"] = reader.wait_for_more_queries(queries)

        monkeypatch.setattr(publish_module.os, "replace", replace_while_reading)
        inode_before = serving.stat().st_ino
        publish(make_build(tmp_path / "b2.duckdb", version=2), serving, build_id="b2")
        monkeypatch.undo()

        assert during, "publish did not rename a new file onto the serving path"
        assert serving.stat().st_ino != inode_before
        assert during["before_rename"] == old and during["after_rename"] == old
        assert reader.ask("query")["value"] == old  # still its snapshot after the publish
        # the dashboard loop keeps going after the publish returned, without an error
        reader.wait_for_more_queries(during["queries_after_rename"])
        stats = reader.ask("stats")
        assert stats["errors"] == [] and stats["seen"] == [old]
        assert reader.ask("reconnect")["value"] == new  # reconnecting shows the new marts
        # and a second publish while that reader is connected works the same way
        publish(make_build(tmp_path / "b3.duckdb", version=3), serving, build_id="b3")
        assert reader.ask("query")["value"] == new
        assert reader.ask("reconnect")["value"] == "b3/23"
    finally:
        stderr = reader.close()
    assert reader.process.returncode == 0, stderr
