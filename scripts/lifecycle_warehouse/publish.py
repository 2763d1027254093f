"""Write–audit–publish, the publishing half: copy the audited marts to the serving file.

BI tools read one DuckDB file, the *serving file* (default data/serving/lifecycle.duckdb,
`publish_command.default_serving_path`). DuckDB allows one read-write process or many
read-only ones on a file, never both, so nobody can read the build database while dbt
writes it. Publishing therefore never writes the serving file in place:

1. export schema ``marts`` of the audited build database (attached read-only) into a new
   file next to the serving file (``.lifecycle.duckdb.<build_id>.tmp``), together with
   ``meta.publish_info`` (one row) and ``meta.published_tables`` (rows per table);
   staging, identity, intermediate, reference and test_failures are never copied
   (they hold raw or hashed PII and are not a contract);
2. refuse the export when a text column of a mart looks like a raw email or phone;
3. CHECKPOINT and detach the new file, fsync it, keep a copy as
   ``versions/lifecycle-<build_id>.duckdb`` and
4. ``os.replace`` it onto the serving file (atomic on POSIX), fsync the directory and
   prune the versions to the newest ``keep``.

A reader that has the serving file open keeps its inode: it sees the old marts until it
reconnects, then the new ones, never a partial file. If anything fails before step 4
the serving file is untouched and the temporary files are removed.

`rollback` puts a kept version back the same way (copy to a temporary file, rename).
POSIX only: on Windows a file open by a reader cannot be replaced.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import os
import re
import secrets
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

PUBLISHED_SCHEMA = "marts"
META_SCHEMA = "meta"
VERSIONS_DIR = "versions"
# dbt leaves these behind after an interrupted run; they are never part of the contract.
_SCRATCH_TABLE = re.compile(r"__dbt_tmp|__dbt_backup|__cc_")
_BUILD_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
# What a raw email / phone looks like in a text value (staging hashes both; a mart that
# shows one has copied a raw column). Phones: E.164 (+ and 8-15 digits, separators
# allowed) or a national format such as (555) 123-4567 / 555-123-4567.
EMAIL_PATTERN = r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
PHONE_PATTERN = (
    r"^\s*(\+[0-9][0-9 ().-]{6,22}[0-9]|\(?[0-9]{3}\)?[ .-]?[0-9]{3}[ .-][0-9]{4})\s*$"
)


class PublishError(RuntimeError):
    """Publishing or rolling back failed; the serving file is unchanged. Says how to fix."""


@dataclass(frozen=True)
class PublishResult:
    """What is served now: the file, its kept version, the build id, rows per mart."""

    serving_db: Path
    version_path: Path
    build_id: str
    tables: dict[str, int]  # marts table name -> rows
    seconds: float


@dataclass(frozen=True)
class VersionInfo:
    """One kept version of the serving file (versions/<stem>-<build_id>.duckdb)."""

    build_id: str
    path: Path
    size_bytes: int
    published_at: dt.datetime | None  # UTC, from meta.publish_info
    as_of_date: dt.date | None
    is_current: bool  # the serving file holds this build


def new_build_id(now: dt.datetime | None = None) -> str:
    """A sortable build id: UTC timestamp to the millisecond + 6 random hex digits."""
    now = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    return f"{now:%Y%m%dT%H%M%S}{now.microsecond // 1000:03d}Z-{secrets.token_hex(3)}"


def versions_dir(serving_db: Path) -> Path:
    return Path(serving_db).parent / VERSIONS_DIR


def version_path(serving_db: Path, build_id: str) -> Path:
    return versions_dir(serving_db) / f"{Path(serving_db).stem}-{build_id}.duckdb"


# ---------------------------------------------------------------------------------------
# publish


def publish(
    build_db: Path,
    serving_db: Path,
    *,
    keep: int = 5,
    build_id: str | None = None,
    metadata: dict[str, Any] | None = None,
    check_pii: bool = True,
    storage_version: str | None = None,
) -> PublishResult:
    """Publishes schema marts of `build_db` atomically as `serving_db`; keeps `keep` versions.

    Call only after every gate passed. `metadata` (JSON-serialisable) is stored in
    meta.publish_info. `storage_version` (e.g. "v1.0.0") writes an older DuckDB storage
    format for BI tools on an older DuckDB; default: env LW_SERVING_STORAGE_VERSION, else
    this DuckDB's default (readable by DuckDB 2.0 and later only).
    """
    started = time.perf_counter()
    if keep < 1:
        raise ValueError(f"keep must be at least 1, got {keep}")
    build_db = Path(build_db).resolve()
    serving_db = Path(serving_db).resolve()
    build_id = build_id or new_build_id()
    storage_version = storage_version or os.environ.get("LW_SERVING_STORAGE_VERSION") or None
    if not _BUILD_ID.match(build_id):
        raise PublishError(
            f"Invalid build id {build_id!r}: use letters, digits, '.', '_' and '-' (at most "
            "100 characters), sortable in publication order."
        )
    if not build_db.is_file():
        raise PublishError(
            f"No build database at {build_db}: run `lw build` first (nothing was published)."
        )
    if build_db == serving_db:
        raise PublishError(
            f"The build database and the serving file are the same file ({build_db}): BI "
            "readers would block the build. Point LW_SERVING_PATH / --serving elsewhere."
        )
    serving_dir = serving_db.parent
    serving_dir.mkdir(parents=True, exist_ok=True)
    kept_dir = versions_dir(serving_db)
    kept_dir.mkdir(exist_ok=True)
    target_version = version_path(serving_db, build_id)
    with _exclusive(serving_db):
        if target_version.exists():
            raise PublishError(
                f"Build {build_id} was already published ({target_version}); use a new build id."
            )
        _remove_stale_temporaries(serving_db)
        tmp = serving_dir / f".{serving_db.name}.{build_id}.tmp"
        version_tmp = kept_dir / f".{target_version.name}.tmp"
        version_kept = False
        try:
            tables = _export_marts(
                build_db, tmp, build_id=build_id, metadata=metadata or {},
                check_pii=check_pii, storage_version=storage_version,
            )
            _fsync(tmp)
            shutil.copyfile(tmp, version_tmp)
            _fsync(version_tmp)
            os.replace(version_tmp, target_version)
            version_kept = True
            _fsync(kept_dir)
            os.replace(tmp, serving_db)
        except BaseException:
            for leftover in (tmp, _wal(tmp), version_tmp):
                leftover.unlink(missing_ok=True)
            if version_kept:  # never served: it must not look like a rollback target
                target_version.unlink(missing_ok=True)
            raise
        _fsync(serving_dir)
        pruned = _prune(serving_db, keep=keep, protect=build_id)
    seconds = time.perf_counter() - started
    log.info("published build %s (%d marts) to %s in %.1f s; pruned %d old version(s)",
             build_id, len(tables), serving_db, seconds, len(pruned))
    return PublishResult(serving_db, target_version, build_id, tables, seconds)


def _export_marts(
    build_db: Path,
    target: Path,
    *,
    build_id: str,
    metadata: dict[str, Any],
    check_pii: bool,
    storage_version: str | None,
) -> dict[str, int]:
    """Writes schema marts of build_db plus meta tables into a new file `target`."""
    import duckdb

    metadata_json = json.dumps(metadata, sort_keys=True, default=str)
    con = duckdb.connect(":memory:")
    try:
        _attach_build(con, build_db)
        relations = con.execute(
            "select table_name, sql, comment, 'table' from duckdb_tables() "
            "where database_name = 'build' and schema_name = ? "
            "union all "
            "select view_name, null, comment, 'view' from duckdb_views() "
            "where database_name = 'build' and schema_name = ? and not internal "
            "order by 1",
            [PUBLISHED_SCHEMA, PUBLISHED_SCHEMA],
        ).fetchall()
        relations = [r for r in relations if not _SCRATCH_TABLE.search(r[0])]
        if not relations:
            raise PublishError(
                f"{build_db} has no tables in schema {PUBLISHED_SCHEMA}: the build did not "
                "get to the marts. Run a full `lw build` (all gates passing) before "
                "publishing; the serving file is unchanged."
            )
        if check_pii:
            findings = pii_findings(con, "build", PUBLISHED_SCHEMA, [r[0] for r in relations])
            if findings:
                raise PublishError(
                    "Refusing to publish: text columns of the marts look like raw PII:\n  "
                    + "\n  ".join(findings)
                    + "\nMarts must carry hashes (email_hash / phone_hash), never raw "
                    "values; fix the model. The serving file is unchanged."
                )
        as_of_date = _as_of_date(con, [r[0] for r in relations if r[3] == "table"])
        options = f" (STORAGE_VERSION {_literal(storage_version)})" if storage_version else ""
        con.execute(f"ATTACH {_literal(str(target))} AS pub{options}")
        con.execute("USE pub")
        con.execute(f"CREATE SCHEMA {PUBLISHED_SCHEMA}")
        tables: dict[str, int] = {}
        for name, ddl, comment, kind in relations:
            qualified = f"pub.{PUBLISHED_SCHEMA}.{_ident(name)}"
            source = f"build.{PUBLISHED_SCHEMA}.{_ident(name)}"
            if kind == "table":
                # the contract's DDL (types, NOT NULL) runs in pub (USE pub), then the rows
                # in the build's insertion order: the same build gives the same file
                con.execute(ddl)
                con.execute(f"INSERT INTO {qualified} SELECT * FROM {source}")
            else:
                con.execute(f"CREATE TABLE {qualified} AS SELECT * FROM {source}")
            if comment:
                con.execute(f"COMMENT ON TABLE {qualified} IS {_literal(comment)}")
            tables[name] = con.execute(f"SELECT count(*) FROM {qualified}").fetchone()[0]
        for table, column, comment in con.execute(
            "select table_name, column_name, comment from duckdb_columns() "
            "where database_name = 'build' and schema_name = ? and comment is not null "
            "and comment <> '' order by table_name, column_index",
            [PUBLISHED_SCHEMA],
        ).fetchall():
            if table in tables:
                con.execute(
                    f"COMMENT ON COLUMN pub.{PUBLISHED_SCHEMA}.{_ident(table)}.{_ident(column)} "
                    f"IS {_literal(comment)}"
                )
        _write_meta(con, build_id, build_db, as_of_date, tables, metadata_json)
        con.execute("USE memory")
        con.execute("DETACH build")
        con.execute("CHECKPOINT pub")
        con.execute("DETACH pub")
    finally:
        con.close()
    if _wal(target).exists():
        raise PublishError(f"{_wal(target)} was left after the checkpoint; not publishing.")
    return tables


def _attach_build(con: Any, build_db: Path) -> None:
    import duckdb

    try:
        con.execute(f"ATTACH {_literal(str(build_db))} AS build (READ_ONLY)")
    except duckdb.Error as error:
        message = str(error)
        if "lock" in message.lower():
            raise PublishError(
                f"{build_db} is open read-write by another process (a running dbt build, a "
                "DuckDB CLI / notebook opened without -readonly): wait for it to finish or "
                f"close it, then publish again. DuckDB said: {message}"
            ) from error
        raise PublishError(f"Cannot open the build database {build_db}: {message}") from error


def _as_of_date(con: Any, tables: list[str]) -> dt.date | None:
    """The one as_of_date of the marts; else intermediate.int_as_of_date; else None."""
    with_column = [
        name for (name,) in con.execute(
            "select table_name from duckdb_columns() where database_name = 'build' "
            "and schema_name = ? and column_name = 'as_of_date' order by table_name",
            [PUBLISHED_SCHEMA],
        ).fetchall() if name in tables
    ]
    if with_column:
        union = " UNION ".join(
            f"SELECT DISTINCT as_of_date FROM build.{PUBLISHED_SCHEMA}.{_ident(name)} "
            "WHERE as_of_date IS NOT NULL"
            for name in with_column
        )
        dates = sorted(d for (d,) in con.execute(union).fetchall())
        if len(dates) > 1:
            raise PublishError(
                f"The marts disagree on as_of_date ({', '.join(map(str, dates))}): they come "
                "from different runs. Rebuild all marts in one `lw build`; nothing published."
            )
        if dates:
            return dates[0]
    found = con.execute(
        "select 1 from duckdb_columns() where database_name = 'build' and schema_name = "
        "'intermediate' and table_name = 'int_as_of_date' and column_name = 'as_of_date'"
    ).fetchall()
    if found:
        row = con.execute(
            "SELECT max(as_of_date) FROM build.intermediate.int_as_of_date"
        ).fetchone()
        return row[0]
    return None


def _write_meta(
    con: Any,
    build_id: str,
    build_db: Path,
    as_of_date: dt.date | None,
    tables: dict[str, int],
    metadata_json: str,
) -> None:
    import duckdb

    published_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    con.execute(f"CREATE SCHEMA pub.{META_SCHEMA}")
    con.execute(
        f"CREATE TABLE pub.{META_SCHEMA}.publish_info ("
        "build_id VARCHAR NOT NULL, published_at TIMESTAMP NOT NULL, as_of_date DATE, "
        "source_database VARCHAR, duckdb_version VARCHAR, table_count INTEGER, "
        "total_rows BIGINT, metadata VARCHAR)"
    )
    con.execute(
        f"INSERT INTO pub.{META_SCHEMA}.publish_info VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [build_id, published_at, as_of_date, str(build_db), duckdb.__version__,
         len(tables), sum(tables.values()), metadata_json],
    )
    con.execute(
        f"COMMENT ON TABLE pub.{META_SCHEMA}.publish_info IS "
        "'One row: the build this file was published from. published_at is UTC; metadata "
        "is JSON from the publishing run.'"
    )
    con.execute(
        f"CREATE TABLE pub.{META_SCHEMA}.published_tables ("
        "table_schema VARCHAR NOT NULL, table_name VARCHAR NOT NULL, row_count BIGINT NOT NULL)"
    )
    con.executemany(
        f"INSERT INTO pub.{META_SCHEMA}.published_tables VALUES (?, ?, ?)",
        [[PUBLISHED_SCHEMA, name, rows] for name, rows in sorted(tables.items())],
    )
    con.execute(
        f"COMMENT ON TABLE pub.{META_SCHEMA}.published_tables IS "
        "'One row per published table with its row count at publication.'"
    )


def pii_findings(con: Any, catalog: str, schema: str, tables: list[str]) -> list[str]:
    """'table.column: n values like raw emails / phones' for each text column that has any."""
    columns = con.execute(
        "select table_name, column_name from duckdb_columns() where database_name = ? "
        "and schema_name = ? and data_type = 'VARCHAR' order by table_name, column_index",
        [catalog, schema],
    ).fetchall()
    findings = []
    for table, column in columns:
        if table not in tables:
            continue
        col = _ident(column)
        emails, phones, example = con.execute(
            f"SELECT count(*) FILTER (WHERE regexp_matches({col}, {_literal(EMAIL_PATTERN)})), "
            f"count(*) FILTER (WHERE regexp_matches({col}, {_literal(PHONE_PATTERN)})), "
            f"any_value({col}) FILTER (WHERE regexp_matches({col}, {_literal(EMAIL_PATTERN)}) "
            f"OR regexp_matches({col}, {_literal(PHONE_PATTERN)})) "
            f"FROM {_ident(catalog)}.{_ident(schema)}.{_ident(table)}"
        ).fetchone()
        if emails or phones:
            masked = (example[:3] + "…") if example else ""
            findings.append(f"{schema}.{table}.{column}: {emails} email-like and {phones} "
                            f"phone-like values (e.g. {masked!r})")
    return findings


# ---------------------------------------------------------------------------------------
# versions and rollback


def list_versions(serving_db: Path) -> list[VersionInfo]:
    """The kept versions of `serving_db`, newest first."""
    serving_db = Path(serving_db).resolve()
    folder = versions_dir(serving_db)
    if not folder.is_dir():
        return []
    current = current_build_id(serving_db)
    prefix = f"{serving_db.stem}-"
    versions = []
    for path in folder.glob(f"{serving_db.stem}-*.duckdb"):
        build_id = path.name[len(prefix):-len(".duckdb")]
        info = _read_publish_info(path) or {}
        versions.append(VersionInfo(
            build_id=build_id, path=path, size_bytes=path.stat().st_size,
            published_at=info.get("published_at"), as_of_date=info.get("as_of_date"),
            is_current=build_id == current,
        ))
    return sorted(versions, key=lambda v: v.build_id, reverse=True)


def current_build_id(serving_db: Path) -> str | None:
    """The build id the serving file holds (meta.publish_info); None if unknown."""
    info = _read_publish_info(Path(serving_db))
    return info.get("build_id") if info else None


def rollback(serving_db: Path, build_id: str | None = None) -> PublishResult:
    """Atomically serves a kept version again: `build_id`, default the one before the current.

    The versions are left as they are (a later publish prunes as usual).
    """
    started = time.perf_counter()
    serving_db = Path(serving_db).resolve()
    with _exclusive(serving_db):
        versions = sorted(list_versions(serving_db), key=lambda v: v.build_id)
        if not versions:
            raise PublishError(
                f"No kept versions in {versions_dir(serving_db)}: nothing to roll back to."
            )
        available = ", ".join(v.build_id for v in versions)
        current = current_build_id(serving_db)
        if build_id is not None:
            matches = [v for v in versions if v.build_id == build_id]
            if not matches:
                raise PublishError(f"No kept version {build_id}; kept: {available}.")
            target = matches[0]
        else:
            if current is None:
                raise PublishError(
                    f"Cannot tell which build {serving_db} serves (missing, not a published "
                    f"file, or open read-write elsewhere); pass --to BUILD_ID ({available})."
                )
            older = [v for v in versions if v.build_id < current]
            if not older:
                raise PublishError(
                    f"No kept version older than the served build {current}; kept: {available}."
                )
            target = older[-1]
        if target.build_id != current:
            tmp = serving_db.parent / f".{serving_db.name}.{target.build_id}.rollback.tmp"
            try:
                shutil.copyfile(target.path, tmp)
                _fsync(tmp)
                os.replace(tmp, serving_db)
            except BaseException:
                tmp.unlink(missing_ok=True)
                raise
            _fsync(serving_db.parent)
            log.info("rolled %s back from build %s to %s", serving_db, current, target.build_id)
        tables = _read_table_counts(serving_db)
    return PublishResult(serving_db, target.path, target.build_id, tables,
                         time.perf_counter() - started)


def _read_publish_info(path: Path) -> dict[str, Any] | None:
    rows = _read_meta(path, f"SELECT build_id, published_at, as_of_date "
                            f"FROM f.{META_SCHEMA}.publish_info")
    if not rows:
        return None
    build_id, published_at, as_of_date = rows[0]
    return {"build_id": build_id, "published_at": published_at, "as_of_date": as_of_date}


def _read_table_counts(path: Path) -> dict[str, int]:
    rows = _read_meta(path, f"SELECT table_name, row_count FROM f.{META_SCHEMA}.published_tables "
                            "ORDER BY table_name")
    return dict(rows or [])


def _read_meta(path: Path, sql: str) -> list[tuple] | None:
    """Runs `sql` on the file attached read-only as `f` in a private in-memory database.

    A private database, not duckdb.connect(path): that reuses a database instance this
    process may still hold on an older inode of the same path.
    """
    import duckdb

    if not path.is_file():
        return None
    con = duckdb.connect(":memory:")
    try:
        con.execute(f"ATTACH {_literal(str(path))} AS f (READ_ONLY)")
        return con.execute(sql).fetchall()
    except duckdb.Error:
        return None
    finally:
        con.close()


def _prune(serving_db: Path, *, keep: int, protect: str) -> list[Path]:
    """Deletes all but the newest `keep` versions (never `protect`); returns the deleted."""
    prefix = f"{serving_db.stem}-"
    kept = sorted(versions_dir(serving_db).glob(f"{prefix}*.duckdb"), key=lambda p: p.name)
    removable = [p for p in kept if p.name != f"{prefix}{protect}.duckdb"]
    excess = max(0, len(kept) - keep)
    doomed = removable[:excess]
    for path in doomed:
        path.unlink(missing_ok=True)
    return doomed


# ---------------------------------------------------------------------------------------
# helpers


@contextlib.contextmanager
def _exclusive(serving_db: Path) -> Iterator[None]:
    """One publish / rollback per serving file at a time (advisory lock file, POSIX)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: no atomic replace of open files anyway
        yield
        return
    lock_path = serving_db.parent / f".{serving_db.name}.publish.lock"
    with open(lock_path, "a") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            raise PublishError(
                f"Another publish or rollback of {serving_db} is running (lock {lock_path}); "
                "wait for it and try again."
            ) from error
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _remove_stale_temporaries(serving_db: Path) -> None:
    """Temporary files of a publish that was killed (we hold the lock: none is running)."""
    for path in serving_db.parent.glob(f".{serving_db.name}.*.tmp*"):
        log.info("removing leftover %s of an interrupted publish", path)
        path.unlink(missing_ok=True)
    for path in versions_dir(serving_db).glob(f".{serving_db.stem}-*.duckdb.tmp"):
        path.unlink(missing_ok=True)


def _fsync(path: Path) -> None:
    """Flushes a file or a directory (its entries) to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _wal(path: Path) -> Path:
    return path.with_name(path.name + ".wal")


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"
