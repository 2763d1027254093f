"""Preflight of the demo landing files: every file has every contract column.

`lw build` (the demo sources) calls `check_landing_files` before any model runs. The
contract columns of each source are the `expected_columns` of its `no_unexpected_columns`
test in models/staging/<source>/_<source>__sources.yml (the one list; the dbt test reports
extra columns in plain dbt builds); the file glob and format are the source's
`meta.landing_files`. Cheap: a parquet file's schema, a CSV file's header line, the keys of
a JSON lines file (one DuckDB scan), and for a text file over 16 MiB a scan for a line
longer than the reader's maximum.

A missing column, a CSV without a header (its first line is then data, not names) or a
line the reader cannot hold is a BuildError naming the file and the column; messages never
quote a value of the file (a header-less file's first line is raw data: email, phone). An
extra column is tolerated (staging ignores it) and returned as a note.
"""

from __future__ import annotations

import csv
import gzip
import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

import duckdb
import yaml

from lifecycle_warehouse.pipeline.project import LANDING_FOLDER_OF_SOURCE, PROJECT_ROOT
from lifecycle_warehouse.pipeline.runner import BuildError

log = logging.getLogger(__name__)

# The longest line lw_landing_rows can hold (DuckDB's CSV max_line_size; buffer_size: twice).
MAX_LINE_BYTES = 16 * 1024 * 1024
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_ ]{0,63}$")


@dataclass(frozen=True)
class LandingContract:
    """One demo source as its sources YAML declares it."""

    source: str
    format: str  # parquet, csv, json
    pattern: str  # glob under the landing directory, e.g. store_pos/*.csv
    columns: tuple[str, ...]
    yaml_file: Path


def load_contracts(sources: tuple[str, ...] | None = None) -> list[LandingContract]:
    """The contract of each demo source (default: all six) from its sources YAML."""
    contracts = []
    for source in sources or tuple(LANDING_FOLDER_OF_SOURCE):
        path = PROJECT_ROOT / "models" / "staging" / source / f"_{source}__sources.yml"
        table = yaml.safe_load(path.read_text())["sources"][0]["tables"][0]
        expected = next(
            test["no_unexpected_columns"]["arguments"]["expected_columns"]
            for test in table.get("data_tests", [])
            if isinstance(test, dict) and "no_unexpected_columns" in test
        )
        landing = table["meta"]["landing_files"]
        contracts.append(LandingContract(source, landing["format"], landing["path"],
                                         tuple(expected), path))
    return contracts


def open_binary(file: Path) -> BinaryIO:
    """A landing file's bytes as the readers see them: a .gz file decompressed (DuckDB
    reads compressed CSV and JSON lines by their extension)."""
    return gzip.open(file, "rb") if file.suffix == ".gz" else file.open("rb")


def _csv_header(file: Path) -> list[str]:
    with open_binary(file) as handle:
        first = handle.readline(MAX_LINE_BYTES)
    try:
        text = first.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BuildError(f"{file}: its first line is not UTF-8 text, so it is no header. Fix: "
                         "write the file as UTF-8 with the contract's header line "
                         "(docs/landing_contract.md)") from None
    rows = list(csv.reader([text.rstrip("\r\n")], delimiter=",", quotechar='"'))
    return [name.strip() for name in rows[0]] if rows else []


# The lines of a csv / json file as dbt's line reader (macro lw_read_lines) reads them,
# before it quarantines those that are no row: every byte kept (latin-1), no quoting,
# after_control non-null on a line with a control character DuckDB splits at.
_LINES = (
    "read_csv({file}, columns = {{'line': 'varchar', 'after_control': 'varchar'}}, "
    "header = false, auto_detect = false, delim = e'\\x01', quote = '', escape = '', "
    "encoding = 'latin-1', nullstr = e'\\x02\\x03', null_padding = true, strict_mode = false, "
    f"max_line_size = {MAX_LINE_BYTES}, buffer_size = {2 * MAX_LINE_BYTES})"
)
# of those, the lines that are rows of a JSON lines file: UTF-8 JSON objects
_JSON_OBJECTS = (
    "(SELECT line FROM (SELECT CASE WHEN strlen(line) = length(line) THEN line ELSE "
    "try(decode(unhex(array_to_string(list_transform(string_split(line, ''), "
    "lambda c: lpad(to_hex(ord(c)), 2, '0')), '')))) END AS line FROM {lines} "
    "WHERE after_control IS NULL) AS decoded WHERE line IS NOT NULL "
    "AND coalesce(json_valid(line), false) "
    "AND json_type(CASE WHEN coalesce(json_valid(line), false) THEN line END) = 'OBJECT')"
)


def json_object_lines(file_literal: str) -> str:
    """A relation (column `line`) of the lines of a JSON lines file that are rows, as dbt
    reads them; the other lines are quarantined. file_literal: an SQL string literal."""
    return _JSON_OBJECTS.format(lines=_LINES.format(file=file_literal))


def _json_keys(con: duckdb.DuckDBPyConnection, file: Path) -> list[str]:
    """Every key of the file's JSON objects (lines that are no object are quarantined)."""
    literal = "'" + str(file).replace("'", "''") + "'"
    rows = con.execute(
        f"select distinct unnest(json_keys(line)) from {json_object_lines(literal)}"
    ).fetchall()
    return [row[0] for row in rows]


def _file_columns(con: duckdb.DuckDBPyConnection, contract: LandingContract, file: Path
                  ) -> list[str]:
    if contract.format == "csv":
        return _csv_header(file)
    if contract.format == "json":
        return _json_keys(con, file)
    try:
        return [row[0] for row in con.execute(
            "describe select * from read_parquet(?)", [str(file)]).fetchall()]
    except duckdb.Error as error:
        raise BuildError(f"{file} cannot be read as parquet ({str(error).splitlines()[0]}). "
                         "Fix: replace it with a complete parquet file") from None


def _check_line_lengths(file: Path) -> None:
    """A text file can only hold a line longer than MAX_LINE_BYTES if it is larger."""
    if file.suffix != ".gz" and file.stat().st_size <= MAX_LINE_BYTES:
        return
    chunk_size = 8 * 1024 * 1024
    line_start = offset = 0
    with open_binary(file) as handle:
        while chunk := handle.read(chunk_size):
            newline = chunk.rfind(b"\n")
            if newline < 0:
                if offset + len(chunk) - line_start > MAX_LINE_BYTES:
                    break
            else:
                first = chunk.find(b"\n")
                if offset + first - line_start > MAX_LINE_BYTES:
                    break
                line_start = offset + newline + 1
            offset += len(chunk)
        else:
            if offset - line_start <= MAX_LINE_BYTES:
                return
    raise BuildError(f"{file} has a line longer than {MAX_LINE_BYTES // (1024 * 1024)} MiB, "
                     "more than the reader holds. Fix: split or remove that line (one row per "
                     "line, docs/landing_contract.md)")


def _shown(names: list[str]) -> str:
    """Column names fit to print: never a value (a header-less file's first line is data)."""
    printable = [name for name in names if _NAME.match(name)]
    return ", ".join(printable[:8]) or "none that look like column names"


# The demo sample's planted schema drift (lifecycle_warehouse.generate: web files
# part-*-drift.parquet carry an extra column experiment_variant): the landing check notes
# it and the dbt test web_landing_has_no_unexpected_columns warns, both on purpose.
PLANTED_DRIFT_SUFFIX = "-drift.parquet"
PLANTED_DRIFT = ("`lw generate` plants this schema drift in the demo sample "
                 "(manifest.json defects.web_events.extra_column_rows)")
GENERATOR = "lifecycle_warehouse.generate"


def intended_test_warnings(landing_dir: Path) -> dict[str, str]:
    """dbt test -> why its warning is intended, for landing data `lw generate` wrote with
    schema drift (its manifest.json says so); {} for any other landing directory."""
    import json

    try:
        manifest = json.loads((Path(landing_dir) / "manifest.json").read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(manifest, dict) or manifest.get("generator") != GENERATOR:
        return {}
    drift = manifest.get("defects", {}).get("web_events", {}).get("extra_column_rows", 0)
    return {"web_landing_has_no_unexpected_columns": PLANTED_DRIFT} if drift else {}


# The file-incremental models whose rows record the landing file each was read from
# (_lw_file, with its size and modification time then: macro lw_landing_file_batch).
_RECORDING_MODELS = ("base_web__events", "base_app__events", "base_landing__unreadable_lines")


def file_signature(file: Path) -> tuple[int, str]:
    """(size, modification time in UTC to the second) as lw_landing_file_batch records a
    file (DuckDB read_blob)."""
    stat = file.stat()
    modified = datetime.fromtimestamp(int(stat.st_mtime), tz=UTC)
    return stat.st_size, modified.strftime("%Y-%m-%d %H:%M:%S")


def files_already_read(database: Path) -> dict[str, tuple[int, str]]:
    """The landing files an earlier build of `database` has read: path relative to the
    landing directory -> (size, modification time) when read. {} when there is no such
    build (a first or a --full-refresh build checks every file)."""
    if not Path(database).exists():
        return {}
    read: dict[str, tuple[int, str]] = {}
    with duckdb.connect(str(database), read_only=True) as con:
        tables = {row[0] for row in con.execute(
            "select table_name from information_schema.columns where table_schema = 'staging' "
            "and column_name = '_lw_file' and table_name in (select table_name from "
            "information_schema.tables where table_type = 'BASE TABLE')").fetchall()}
        for table in sorted(tables & set(_RECORDING_MODELS)):
            for file, size, modified in con.execute(
                    f"select _lw_file, max(_lw_file_size), max(_lw_file_modified_at) "
                    f"from staging.{table} where _lw_file is not null group by _lw_file"
            ).fetchall():
                read[file] = (size, modified)
    return read


def check_landing_files(landing_dir: Path, sources: tuple[str, ...] | None = None,
                        already_read: dict[str, tuple[int, str]] | None = None) -> list[str]:
    """BuildError naming file and column when a landing file lacks a contract column;
    returns one note per file with extra columns (tolerated). Folders without files are
    left to runner.require_landing. already_read (files_already_read): files checked by
    the build that read them, skipped while unchanged, so an incremental build checks only
    what landed since (a changed file is checked again, and the build then refuses it)."""
    notes: list[str] = []
    planted = bool(intended_test_warnings(Path(landing_dir)))
    already_read = already_read or {}
    landing_dir = Path(landing_dir)
    with duckdb.connect() as con:
        for contract in load_contracts(sources):
            for file in sorted(Path(landing_dir).glob(contract.pattern)):
                read_as = already_read.get(file.relative_to(landing_dir).as_posix())
                if read_as == file_signature(file):
                    continue
                if contract.format in ("csv", "json"):
                    _check_line_lengths(file)
                found = _file_columns(con, contract, file)
                if contract.format == "json" and not found:
                    # no JSON object in it (an empty export, or only lines dbt quarantines):
                    # no row can lack a column
                    continue
                missing = [column for column in contract.columns if column not in found]
                extra = [column for column in found if column not in contract.columns]
                if missing and len(missing) == len(contract.columns) and contract.format == "csv":
                    raise BuildError(
                        f"{file}: its first line is not the {contract.source} header (none of "
                        f"the contract's columns, e.g. {contract.columns[0]!r}, is in it): a CSV "
                        f"without a header? Fix: start the file with the header line "
                        f"{','.join(contract.columns)} (docs/landing_contract.md)")
                if missing:
                    which = ("column " + repr(missing[0]) if len(missing) == 1 else
                             "columns " + ", ".join(repr(column) for column in missing))
                    raise BuildError(
                        f"{file}: {which} of the {contract.source} contract "
                        f"{'is' if len(missing) == 1 else 'are'} missing"
                        f"{f' (columns not in the contract: {_shown(extra)})' if extra else ''}"
                        ". Fix: rename or add "
                        f"{'it' if len(missing) == 1 else 'them'} in the file (contract: "
                        f"docs/landing_contract.md, {contract.yaml_file.relative_to(PROJECT_ROOT)}"
                        ")")
                if extra:
                    note = (f"{file}: extra column(s) {_shown(extra)} not in the "
                            f"{contract.source} contract (tolerated, not read by staging)")
                    if planted and file.name.endswith(PLANTED_DRIFT_SUFFIX):
                        note += f"; intended: {PLANTED_DRIFT}"
                    log.warning(note)
                    notes.append(note)
    return notes
