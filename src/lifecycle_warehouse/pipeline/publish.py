"""Write–audit–publish, the publishing half: copy the audited marts to the serving file.

BI tools read one DuckDB file, the *serving file* (default data/serving/lifecycle.duckdb,
`pipeline.project.default_serving_path`). DuckDB allows one read-write process or many
read-only ones on a file, never both, so nobody can read the build database while dbt
writes it. Publishing therefore never writes the serving file in place:

0. `check_serving_target` (run by `lw build` before anything is built, and again here):
   the serving directory exists or can be made, is writable, has room for the new file
   plus its kept version, and no process holds the serving file read-write;
1. export schema ``marts`` of the audited build database (attached read-only) into a new
   file next to the serving file (``.lifecycle.duckdb.<build_id>.tmp``), together with
   ``meta.publish_info`` (one row) and ``meta.published_tables`` (rows per table);
   staging, identity, intermediate, reference and test_failures are never copied
   (they hold raw or hashed PII and are not a contract);
2. refuse the export when a text column of a mart looks like a raw email or phone;
3. CHECKPOINT and detach the new file, fsync it and copy it to a hidden temporary in
   ``versions/``;
4. while holding a read-only connection on the old serving file (a BI client cannot open
   it read-write meanwhile), move a stray ``lifecycle.duckdb.wal`` aside into
   ``stale_wal/`` (a WAL left by a BI client that opened the serving file read-write and
   was killed: next to the new file DuckDB refuses to open it, "WAL does not match
   database file"), then
5. ``os.replace`` the new file onto the serving file (atomic on POSIX), rename the kept
   copy to ``versions/lifecycle-<build_id>.duckdb`` (a version exists only for a build
   that was served), write ``lifecycle.published.js`` (the served build, read by the
   dashboard page to say when it is older than the marts), fsync the directories and
   prune the versions to the newest ``keep``.

A reader that has the serving file open keeps its inode: it sees the old marts until it
reconnects, then the new ones, never a partial file. If anything fails before step 5
the serving file is untouched and the temporary files are removed; a failure is a
`PublishError` with one line that says what to fix (no space, not writable, lock held).

One publish or rollback runs at a time per serving file (``.lifecycle.duckdb.publish.lock``,
which names its holder); the other waits up to ``LW_PUBLISH_LOCK_TIMEOUT`` seconds
(default 300), then fails naming the holder.

`rollback` puts a kept version back the same way (copy to a temporary file, rename).
POSIX only: on Windows a file open by a reader cannot be replaced.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import json
import logging
import os
import re
import secrets
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lifecycle_warehouse.activation.audiences import (
    CHANGES_TABLE,
    export_restricted_contacts,
    restricted_contacts_path,
    write_audience_changes,
)
from lifecycle_warehouse.pipeline.runner import BuildError

log = logging.getLogger(__name__)

PUBLISHED_SCHEMA = "marts"
META_SCHEMA = "meta"
VERSIONS_DIR = "versions"
STALE_WAL_DIR = "stale_wal"
# waiting for another publish / rollback of the same serving file
LOCK_TIMEOUT_ENV = "LW_PUBLISH_LOCK_TIMEOUT"
DEFAULT_LOCK_TIMEOUT = 300.0
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


class PublishError(BuildError):
    """Publishing or rolling back failed; the serving file is unchanged. Says how to fix.

    A BuildError, so `lw build` reports it as one line and exits 1."""


@dataclass(frozen=True)
class PublishResult:
    """What is served now: the file, its kept version, the build id, rows per mart."""

    serving_db: Path
    version_path: Path
    build_id: str
    tables: dict[str, int]  # marts table name -> rows
    seconds: float
    moved_wal: Path | None = None  # a stray WAL of the old serving file, moved aside


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


def published_marker(serving_db: Path) -> Path:
    """`lifecycle.published.js` next to the serving file: the build it serves, as a script
    the dashboard page loads to say when it shows an older build (`report`)."""
    serving_db = Path(serving_db)
    return serving_db.with_name(f"{serving_db.stem}.published.js")


def stale_wal_dir(serving_db: Path) -> Path:
    return Path(serving_db).parent / STALE_WAL_DIR


# ---------------------------------------------------------------------------------------
# preflight


def estimate_publish_bytes(serving_db: Path) -> int:
    """Room a publish needs next to `serving_db`: the new file and its kept copy,
    estimated from the file served now (1 MiB margin; the first publish: the margin)."""
    serving_db = Path(serving_db)
    size = serving_db.stat().st_size if serving_db.is_file() else 0
    return 2 * size + 2**20


def check_serving_target(serving_db: Path, needed_bytes: int | None = None) -> None:
    """Checks that a publish to `serving_db` can succeed; PublishError (one line) if not.

    `lw build` calls it before it builds anything, `publish` again before it writes: the
    serving directory exists or can be made and is writable (a file is really created and
    removed there and in versions/), it has `needed_bytes` free (default
    `estimate_publish_bytes`; 0 skips the check) and no process holds the serving file
    read-write (a BI client that did not connect read-only).
    """
    serving_db = Path(serving_db).resolve()
    folder = serving_db.parent
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise PublishError(
            f"Cannot publish to {serving_db}: {existing} is a file, not a directory. Point "
            "--serving / LW_SERVING_PATH at a file in a writable directory."
        )
    if serving_db.is_dir():
        raise PublishError(
            f"Cannot publish to {serving_db}: it is a directory. Point --serving / "
            "LW_SERVING_PATH at a file name (e.g. .../lifecycle.duckdb)."
        )
    with _os_errors(serving_db, "checking the serving directory"):
        folder.mkdir(parents=True, exist_ok=True)
        for directory in (folder, versions_dir(serving_db)):
            if not directory.is_dir():
                continue
            try:  # a real file: os.access says nothing on a read-only mount or as root
                fd, probe = tempfile.mkstemp(dir=directory, prefix=f".{serving_db.name}.",
                                             suffix=".check.tmp")
            except OSError as error:
                raise PublishError(
                    f"Cannot write in {directory} ({error.strerror or error}): make it "
                    "writable for the user running the build or point --serving / "
                    "LW_SERVING_PATH elsewhere. The serving file is unchanged."
                ) from error
            os.close(fd)
            os.unlink(probe)
        needed = estimate_publish_bytes(serving_db) if needed_bytes is None else needed_bytes
        _check_free_space(folder, needed, serving_db)
    with _served_file_guard(serving_db, move_stray_wal=False):
        pass  # refuses when a writer holds the serving file


def _check_free_space(folder: Path, needed: int, serving_db: Path) -> None:
    free = shutil.disk_usage(folder).free
    if free < needed:
        raise PublishError(
            f"Not enough free space in {folder} to publish {serving_db.name}: {_mb(free)} "
            f"free, about {_mb(needed)} needed (the new file and its kept version). Free "
            "space (e.g. `lw build --keep` fewer versions) or point --serving / "
            "LW_SERVING_PATH at another disk. The serving file is unchanged."
        )


def _mb(size: int) -> str:
    return f"{size / 1e6:,.1f} MB"


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
    kept_dir = versions_dir(serving_db)
    target_version = version_path(serving_db, build_id)
    with _os_errors(serving_db, "publishing"):
        check_serving_target(serving_db, needed_bytes=0)  # space: checked after the export
        kept_dir.mkdir(exist_ok=True)
    with _os_errors(serving_db, "publishing"), _exclusive(serving_db, "publish"):
        if target_version.exists():
            raise PublishError(
                f"Build {build_id} was already published ({target_version}); use a new build id."
            )
        moved_wal = _remove_stale_temporaries(serving_db)
        tmp = serving_dir / f".{serving_db.name}.{build_id}.tmp"
        version_tmp = _version_tmp(serving_db, build_id)
        marker_tmp = serving_dir / f".{published_marker(serving_db).name}.{build_id}.tmp"
        contacts_tmp = None
        try:
            tables = _export_marts(
                build_db, tmp, build_id=build_id, metadata=metadata or {},
                check_pii=check_pii, storage_version=storage_version,
                previous_serving=serving_db,
            )
            _fsync(tmp)
            contacts_tmp = export_restricted_contacts(build_db, serving_db, build_id)
            # room for the kept copy (the new file itself is written already)
            _check_free_space(serving_dir, tmp.stat().st_size, serving_db)
            shutil.copyfile(tmp, version_tmp)
            _fsync(version_tmp)
            _write_marker(marker_tmp, build_id, _read_publish_info(tmp))
            with _served_file_guard(serving_db) as guard:
                os.replace(tmp, serving_db)
        except BaseException:
            for leftover in (tmp, _wal(tmp), marker_tmp, version_tmp, contacts_tmp):
                if leftover is not None:
                    leftover.unlink(missing_ok=True)
            raise
        if contacts_tmp is not None:  # the served build's contacts, right after its marts
            os.replace(contacts_tmp, restricted_contacts_path(serving_db))
        # Only now is it a version: a kill before these renames leaves hidden temporaries
        # that the next publish or rollback completes (they belong to the served build).
        try:
            os.replace(marker_tmp, published_marker(serving_db))
            os.replace(version_tmp, target_version)
        except OSError as error:
            published_marker(serving_db).unlink(missing_ok=True)  # it would name the old build
            raise PublishError(
                f"Build {build_id} is served now, but keeping its version failed ({error}); "
                "the next publish or `lw rollback` completes it."
            ) from error
        _fsync(kept_dir)
        _fsync(serving_dir)
        pruned = _prune(serving_db, keep=keep, protect=build_id)
    seconds = time.perf_counter() - started
    log.info("published build %s (%d marts) to %s in %.1f s; pruned %d old version(s)",
             build_id, len(tables), serving_db, seconds, len(pruned))
    return PublishResult(serving_db, target_version, build_id, tables, seconds,
                         moved_wal=moved_wal or guard.moved_wal)


def _export_marts(
    build_db: Path,
    target: Path,
    *,
    build_id: str,
    metadata: dict[str, Any],
    check_pii: bool,
    storage_version: str | None,
    previous_serving: Path | None = None,
) -> dict[str, int]:
    """Writes schema marts of build_db plus meta tables into a new file `target`.

    With a membership mart, also marts.fct_audience_changes against `previous_serving`
    (the file served until now; audiences.write_audience_changes).
    """
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
        changes = write_audience_changes(con, "pub", build_id=build_id, as_of_date=as_of_date,
                                         previous_serving=previous_serving)
        if changes is not None:
            tables[CHANGES_TABLE] = changes
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
    with _os_errors(serving_db, "rolling back"), _exclusive(serving_db, "lw rollback"):
        moved_wal = _remove_stale_temporaries(serving_db)
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
            marker = published_marker(serving_db)
            marker_tmp = serving_db.parent / f".{marker.name}.{target.build_id}.tmp"
            try:
                _check_free_space(serving_db.parent, target.size_bytes, serving_db)
                shutil.copyfile(target.path, tmp)
                _rewrite_changes_for_rollback(tmp, serving_db, target.build_id)
                _fsync(tmp)
                _write_marker(marker_tmp, target.build_id, _read_publish_info(tmp))
                with _served_file_guard(serving_db) as guard:
                    os.replace(tmp, serving_db)
                os.replace(marker_tmp, marker)
            except BaseException:
                tmp.unlink(missing_ok=True)
                marker_tmp.unlink(missing_ok=True)
                raise
            moved_wal = moved_wal or guard.moved_wal
            _fsync(serving_db.parent)
            log.info("rolled %s back from build %s to %s", serving_db, current, target.build_id)
        tables = _read_table_counts(serving_db)
    return PublishResult(serving_db, target.path, target.build_id, tables,
                         time.perf_counter() - started, moved_wal=moved_wal)


def _rewrite_changes_for_rollback(copy: Path, serving_db: Path, build_id: str) -> None:
    """The audience changes of a rolled-back copy: against the build served until now.

    Destinations received the newer build's audiences; what they must act on now is the
    way back (DECISIONLOG "Audience changes at publish"). The kept version itself is
    not modified. meta.published_tables and publish_info.total_rows get the new count.
    """
    import duckdb

    con = duckdb.connect(":memory:")
    try:
        con.execute(f"ATTACH {_literal(str(copy))} AS pub")
        as_of = con.execute(f"SELECT as_of_date FROM pub.{META_SCHEMA}.publish_info").fetchone()
        rows = write_audience_changes(con, "pub", build_id=build_id,
                                      as_of_date=as_of[0] if as_of else None,
                                      previous_serving=serving_db)
        if rows is not None:
            con.execute(
                f"UPDATE pub.{META_SCHEMA}.published_tables SET row_count = ? "
                "WHERE table_schema = ? AND table_name = ?",
                [rows, PUBLISHED_SCHEMA, CHANGES_TABLE],
            )
            con.execute(
                f"UPDATE pub.{META_SCHEMA}.publish_info SET total_rows = "
                f"(SELECT sum(row_count) FROM pub.{META_SCHEMA}.published_tables)"
            )
        con.execute("CHECKPOINT pub")
        con.execute("DETACH pub")
    finally:
        con.close()


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


@dataclass
class _Guard:
    moved_wal: Path | None = None


@contextlib.contextmanager
def _served_file_guard(serving_db: Path, *, move_stray_wal: bool = True) -> Iterator[_Guard]:
    """Holds a read-only connection on the serving file while the body replaces it.

    A process that holds the file read-write (a BI client connected without read_only)
    makes this a PublishError: its WAL would sit next to the new file and every reader
    would fail ("WAL does not match database file"). A WAL without a writer (a killed
    client; or an older publish that left it) is moved to stale_wal/, never deleted. While
    the connection is held, nobody can open the old file read-write and leave a new WAL.
    Nothing else in this process may open the serving file meanwhile: closing any handle
    on it drops the process's POSIX locks.
    """
    import duckdb

    guard = _Guard()
    wal = _wal(serving_db)
    con = duckdb.connect(":memory:")
    try:
        for attempt in range(2):
            if not serving_db.is_file():
                break
            try:
                con.execute(f"ATTACH {_literal(str(serving_db))} AS served (READ_ONLY)")
                break
            except duckdb.Error as error:
                message = str(error)
                if re.search(r"could not set lock|conflicting lock", message, re.I):
                    holder = re.search(r"held in (.*) \(PID (\d+)\)", message)
                    who = f"PID {holder.group(2)}, {holder.group(1)}" if holder else message
                    raise PublishError(
                        f"{serving_db} is open read-write by another process ({who}): a BI "
                        "client, DuckDB CLI or notebook that did not connect read-only. Close "
                        "it (BI must use read_only / duckdb -readonly) and run again; the "
                        "serving file is unchanged."
                    ) from None
                if "wal" not in message.lower() or attempt or not move_stray_wal:
                    break  # not a readable database: it is replaced, not read
                guard.moved_wal = _move_wal_aside(serving_db, "does not match the file")
        if wal.exists() and move_stray_wal and guard.moved_wal is None:
            guard.moved_wal = _move_wal_aside(serving_db, "left by a read-write client")
        yield guard
    finally:
        con.close()


def _move_wal_aside(serving_db: Path, why: str) -> Path:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    target = stale_wal_dir(serving_db) / f"{serving_db.name}.{stamp}.wal"
    target.parent.mkdir(exist_ok=True)
    os.replace(_wal(serving_db), target)
    log.warning("moved the stray WAL of %s (%s) to %s: a client opened the serving file "
                "read-write; its changes are not part of the published marts",
                serving_db, why, target)
    return target


@contextlib.contextmanager
def _exclusive(serving_db: Path, operation: str) -> Iterator[None]:
    """One publish / rollback per serving file at a time (lifecycle_warehouse.pipeline.locks).

    Waits up to LW_PUBLISH_LOCK_TIMEOUT seconds (default 300) for another holder, then a
    PublishError naming it (the holder writes its operation and PID into the lock file).
    """
    from lifecycle_warehouse.pipeline.locks import LockHeld, advisory_lock

    raw = os.environ.get(LOCK_TIMEOUT_ENV, "")
    try:
        timeout = float(raw) if raw.strip() else DEFAULT_LOCK_TIMEOUT
    except ValueError:
        raise PublishError(f"{LOCK_TIMEOUT_ENV}={raw!r} is not a number of seconds; "
                           "set it to e.g. 300 or unset it.") from None
    lock_path = serving_db.parent / f".{serving_db.name}.publish.lock"
    record = {"operation": operation, "pid": os.getpid(),
              "since": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}

    def on_wait(holder: dict[str, Any] | None) -> None:
        log.info("waiting up to %g s for %s to release %s", timeout, _lock_holder(holder),
                 lock_path)

    with contextlib.ExitStack() as stack:
        try:
            stack.enter_context(advisory_lock(lock_path, record, timeout=timeout,
                                              on_wait=on_wait))
        except LockHeld as held:
            raise PublishError(
                f"{_lock_holder(held.holder)} holds the publish lock of {serving_db} "
                f"({lock_path}); waited {timeout:g} s. Let it finish and run again (or raise "
                f"{LOCK_TIMEOUT_ENV}, seconds); the serving file is unchanged."
            ) from None
        yield


def _lock_holder(holder: dict[str, Any] | None) -> str:
    try:
        return f"{holder['operation']} (PID {holder['pid']}, since {holder['since']})"
    except (KeyError, TypeError):
        return "another publish or rollback"


@contextlib.contextmanager
def _os_errors(serving_db: Path, doing: str) -> Iterator[None]:
    """OSError / DuckDB I/O errors of a publish or rollback as a one-line PublishError."""
    import duckdb

    try:
        yield
    except OSError as error:
        raise PublishError(_describe_os_error(error, serving_db, doing)) from error
    except duckdb.IOException as error:  # DuckDB writing the new file: disk full, …
        first = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise PublishError(
            f"{doing.capitalize()} {serving_db} failed writing in {serving_db.parent}: {first}. "
            "Free space or point --serving / LW_SERVING_PATH elsewhere; the serving file is "
            "unchanged."
        ) from error


def _describe_os_error(error: OSError, serving_db: Path, doing: str) -> str:
    where = error.filename or serving_db.parent
    reason = error.strerror or str(error)
    if error.errno in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT):
        try:
            free = f"; {_mb(shutil.disk_usage(serving_db.parent).free)} free"
        except OSError:
            free = ""
        return (f"No room to write {where} while {doing} ({reason}{free}): free space or "
                "point --serving / LW_SERVING_PATH at another disk. The serving file is "
                "unchanged.")
    if error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return (f"Cannot write {where} while {doing} ({reason}): make {serving_db.parent} "
                "writable for this user or point --serving / LW_SERVING_PATH elsewhere. The "
                "serving file is unchanged.")
    if error.errno == errno.ENOTDIR:
        return (f"Cannot publish to {serving_db} ({reason}: {where}): a part of the path is "
                "a file. Point --serving / LW_SERVING_PATH elsewhere.")
    return f"{doing.capitalize()} {serving_db} failed: {error}. The serving file is unchanged."


def _version_tmp(serving_db: Path, build_id: str) -> Path:
    """A kept copy before its build is served (hidden: never listed or rolled back to)."""
    return versions_dir(serving_db) / f".{version_path(serving_db, build_id).name}.tmp"


def _write_marker(path: Path, build_id: str, info: dict[str, Any] | None) -> None:
    info = info or {}
    served = {"build_id": build_id,
              "published_at": str(info.get("published_at") or ""),
              "as_of_date": str(info.get("as_of_date") or "")}
    path.write_text("// The build the serving file next to this file holds (written by lw "
                    "build / lw rollback)\nwindow.LW_PUBLISHED = "
                    + json.dumps(served, sort_keys=True) + ";\n", encoding="utf-8")
    os.chmod(path, 0o644)


def _remove_stale_temporaries(serving_db: Path) -> Path | None:
    """A stray WAL and the temporary files of a publish that was killed (we hold the
    lock: none is running); returns where the WAL was moved, if there was one.

    A kill after the serving file was replaced but before its kept copy and the
    dashboard marker were renamed into place: those of the served build are completed,
    the others (never served) removed."""
    with _served_file_guard(serving_db) as guard:
        pass  # a stray WAL would hide which build is served
    marker = published_marker(serving_db)
    leftovers = [*serving_db.parent.glob(f".{serving_db.name}.*.tmp*"),
                 *serving_db.parent.glob(f".{marker.name}.*.tmp"),
                 *versions_dir(serving_db).glob(f".{serving_db.stem}-*.duckdb.tmp")]
    if not leftovers:
        return guard.moved_wal
    current = current_build_id(serving_db)
    for path in leftovers:
        if current and path == _version_tmp(serving_db, current):
            log.info("keeping %s: the publish of the served build %s was interrupted",
                     path, current)
            os.replace(path, version_path(serving_db, current))
        elif current and path.name == f".{marker.name}.{current}.tmp":
            os.replace(path, marker)
        else:
            log.info("removing leftover %s of an interrupted publish", path)
            path.unlink(missing_ok=True)
    return guard.moved_wal


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
