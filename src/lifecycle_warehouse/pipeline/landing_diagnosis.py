"""Why the landing reconciliation failed, in words: which file, and the fix.

The event sources web, app and messaging are staged incrementally: a run appends the rows
loaded after the staged watermark minus var incremental_lookback_hours. A file that lands
with a `_loaded_at` older than that window is never read by an incremental run, and the
reconciliation test (raw = staged + quarantined + duplicates) fails with "1 failing
rows", naming neither the file nor the fix. When the staging layer fails, this reads the
landing files of every source that does not reconcile and names the files whose rows were
never staged, with their load time, the window and the fix (`--full-refresh`).
"""

from __future__ import annotations

from pathlib import Path

import yaml

from lifecycle_warehouse.pipeline.landing_check import LandingContract, load_contracts
from lifecycle_warehouse.pipeline.project import PROJECT_ROOT

# demo sources staged incrementally: staging model and key (as in macro lw_landing_tables)
INCREMENTAL_SOURCES = {
    "web": ("stg_web__events", "event_id"),
    "app": ("stg_app__events", "event_id"),
    "messaging": ("stg_messaging__events", "webhook_id"),
}


def lookback_hours(dbt_vars: dict | None = None) -> int:
    """var incremental_lookback_hours: the build's vars, else dbt_project.yml's."""
    if dbt_vars and "incremental_lookback_hours" in dbt_vars:
        return int(dbt_vars["incremental_lookback_hours"])
    project = yaml.safe_load((PROJECT_ROOT / "dbt_project.yml").read_text())
    return int(project["vars"]["incremental_lookback_hours"])


def _reader(landing_dir: Path, contract: LandingContract, key: str) -> str:
    """The source's landing files (the contract's glob and format), with their names."""
    path = str(landing_dir / contract.pattern).replace("'", "''")
    if contract.format == "parquet":
        return f"read_parquet('{path}', filename = true, union_by_name = true)"
    return (f"read_json('{path}', format = 'newline_delimited', filename = true, "
            f"ignore_errors = true, columns = {{{key}: 'varchar', _loaded_at: 'varchar'}})")


def unstaged_files(database: Path, landing_dir: Path, dbt_vars: dict | None = None) -> list[str]:
    """One line per landing file holding rows that are neither staged, quarantined nor
    duplicates, for the incremental sources that do not reconcile; [] when there is
    nothing to say (or the database cannot tell)."""
    import duckdb

    lines: list[str] = []
    try:
        con = duckdb.connect(str(database), read_only=True)
    except duckdb.Error:
        return lines
    with con:
        try:
            failing = [row[0] for row in con.execute(
                "select source from staging.stg_landing__row_counts "
                "where raw_rows <> staged_rows + quarantined_rows + duplicate_rows").fetchall()]
        except duckdb.Error:
            return lines
        for source in failing:
            if source not in INCREMENTAL_SOURCES:
                continue
            staging, key = INCREMENTAL_SOURCES[source]
            (contract,) = load_contracts((source,))
            try:
                watermark = con.execute(
                    f"select max(loaded_at) from staging.{staging}").fetchone()[0]
                files = con.execute(f"""
                    select raw.filename, count(*), max(raw._loaded_at)
                    from {_reader(landing_dir, contract, key)} as raw
                    where not exists (
                            select 1 from staging.{staging} as staged
                            where staged.{key} = raw.{key})
                        and not exists (
                            select 1 from staging.stg_landing__quarantined_rows as quarantined
                            where quarantined.source = '{source}'
                                and quarantined.record_key = raw.{key})
                    group by raw.filename
                    order by raw.filename
                """).fetchall()
            except duckdb.Error:
                continue
            hours = lookback_hours(dbt_vars)
            for filename, rows, loaded_at in files:
                lines.append(
                    f"{source}: {rows:,} rows of {filename} (loaded at {loaded_at}) were never "
                    f"staged: they were loaded before this build's incremental window (staged "
                    f"rows run to {watermark}, lookback {hours} h). Fix: rebuild in full with "
                    "`lw build --full-refresh` (or raise var incremental_lookback_hours)")
    return lines
