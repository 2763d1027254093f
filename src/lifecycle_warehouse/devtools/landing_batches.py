"""Split a landing directory into load batches by `_loaded_at`, for incremental runs.

The incremental equivalence test and the benchmark need "the same data, arriving in
several loads": batch k holds the rows with cuts[k-1] <= _loaded_at < cuts[k] (every
landing source has `_loaded_at`). Files keep their format and bytes: parquet through
DuckDB COPY (schema, including drifted columns, kept per file), CSV and JSONL line by
line (DuckDB reads each line as one string and writes it back unchanged; a CSV batch
file repeats the header). Rows without a readable `_loaded_at` (defects) go to batch 1.

straggler_hours: a share of the rows loaded in the last straggler_hours before a cut is
held back to the next batch (1 row in straggler_every, by a hash of the row): files
that land out of order, which incremental runs must still pick up through the lookback
window (var incremental_lookback_hours).
"""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta
from pathlib import Path

import duckdb

_TEXT_FORMATS = {".csv", ".jsonl"}
# the value of "_loaded_at" in a JSON line / the last field of a CSV line
_LOADED_AT_PATTERN = {
    ".jsonl": r'"_loaded_at": ?"([^"]+)"',
    ".csv": r",([^,]*)$",
}
_LINES = ("read_csv('{path}', columns = {{'line': 'VARCHAR'}}, header = false, "
          "delim = e'\\x01', quote = '', escape = '', auto_detect = false)")


def _batch_expression(loaded_at: str, row_hash: str, cuts: list[datetime],
                      straggler_hours: float, straggler_every: int) -> str:
    """SQL: the 1-based batch of a row from its loaded_at (timestamp or null)."""
    cases = []
    for index, cut in enumerate(cuts, start=1):
        held_back_from = cut - timedelta(hours=straggler_hours)
        if straggler_hours > 0:
            cases.append(
                f"when {loaded_at} >= timestamp '{held_back_from:%Y-%m-%d %H:%M:%S}' "
                f"and {loaded_at} < timestamp '{cut:%Y-%m-%d %H:%M:%S}' "
                f"and {row_hash} % {straggler_every} = 0 then {index + 1}")
        cases.append(f"when {loaded_at} < timestamp '{cut:%Y-%m-%d %H:%M:%S}' then {index}")
    return (f"case when {loaded_at} is null then 1 {' '.join(cases)} "
            f"else {len(cuts) + 1} end")


def split_landing(
    landing: Path,
    out: Path,
    cuts: list[datetime],
    straggler_hours: float = 0.0,
    straggler_every: int = 5,
) -> list[Path]:
    """Writes out/batch-1 .. out/batch-(len(cuts)+1), each a landing directory with the
    same source folders; returns them. File names get a -b<k> suffix so that copying
    several batches into one landing directory never overwrites a file."""
    cuts = sorted(cuts)
    batches = [out / f"batch-{k}" for k in range(1, len(cuts) + 2)]
    con = duckdb.connect()
    try:
        for source_dir in sorted(p for p in landing.iterdir() if p.is_dir()):
            for batch in batches:
                (batch / source_dir.name).mkdir(parents=True, exist_ok=True)
            for path in sorted(source_dir.iterdir()):
                _split_file(con, path, batches, cuts, straggler_hours, straggler_every)
    finally:
        con.close()
    manifest = landing / "manifest.json"
    if manifest.exists():
        shutil.copyfile(manifest, batches[0] / "manifest.json")
    return batches


def _split_file(con, path: Path, batches: list[Path], cuts, straggler_hours,
                straggler_every) -> None:
    suffix = path.suffix
    if suffix == ".parquet":
        relation = f"read_parquet('{path}')"
        loaded_at = "try_cast(_loaded_at as timestamp)"
        row_hash = ("hash(_loaded_at, event_id)" if _has_column(con, relation, "event_id")
                    else "hash(_loaded_at)")
        batch = _batch_expression(loaded_at, row_hash, cuts, straggler_hours,
                                  straggler_every)
        for k, target in enumerate(batches, start=1):
            destination = target / path.parent.name / f"{path.stem}-b{k}{suffix}"
            con.execute(f"copy (select * from {relation} where {batch} = {k}) "
                        f"to '{destination}' (format parquet)")
        return
    if suffix not in _TEXT_FORMATS:
        raise ValueError(f"{path}: unknown landing file format {suffix!r} "
                         "(expected .parquet, .csv or .jsonl)")
    lines = _LINES.format(path=path)
    header = None
    if suffix == ".csv":
        header = path.open(encoding="utf-8").readline().rstrip("\n")
    pattern = _LOADED_AT_PATTERN[suffix]
    loaded_at = ("try_cast(nullif(regexp_extract(line, '" + pattern.replace("'", "''")
                 + "', 1), '') as timestamp)")
    batch = _batch_expression(loaded_at, "hash(line)", cuts, straggler_hours, straggler_every)
    header_sql = None if header is None else header.replace("'", "''")
    rows = (f"(select line from {lines})" if header is None
            else f"(select line from {lines} where line <> '{header_sql}')")
    for k, target in enumerate(batches, start=1):
        destination = target / path.parent.name / f"{path.stem}-b{k}{suffix}"
        body = f"select line from {rows} where {batch} = {k}"
        if header is not None:  # the header first; the order of data lines is irrelevant
            body = (f"select line from (select 0 as part, '{header_sql}' as line "
                    f"union all select 1 as part, line from ({body})) order by part")
        con.execute(f"copy ({body}) to '{destination}' "
                    "(format csv, header false, quote '', escape '', delim e'\\x01')")


def _has_column(con, relation: str, column: str) -> bool:
    return column in con.sql(f"select * from {relation} limit 0").columns
