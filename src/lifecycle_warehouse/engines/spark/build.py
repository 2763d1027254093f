"""`lw spark-build`: the same dbt project on Apache Spark (dbt-spark, `spark` target).

Builds seeds, models, data tests and unit tests on a local Spark session (profile target `spark`:
Derby metastore and parquet warehouse under --spark-dir), then, with --compare-with,
checks every mart against a DuckDB build of the same landing files: same columns, same
rows. Values must be identical except columns of type double, which may differ by
FLOAT_RTOL relative (the engines sum floating point numbers in different orders).

Spark writes its tables as parquet files under <spark-dir>/warehouse/<schema>.db/<table>,
so the comparison reads them with DuckDB: no second Spark process (Derby allows one)
and no JVM in the comparing process.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from lifecycle_warehouse.pipeline.project import PROFILES_DIR, PROJECT_ROOT, Paths

SPARK_TARGET = "spark"
# Relative (and absolute, near zero) tolerance for double columns. Everything else —
# keys, dates, timestamps, decimals, integers, strings, booleans — must be equal.
FLOAT_RTOL = 1e-9
FLOAT_ATOL = 1e-9
FLOAT_TYPES = {"DOUBLE", "FLOAT", "REAL"}


@dataclass
class TableComparison:
    table: str
    rows: int
    differences: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.differences


def spark_dir_default() -> Path:
    import os

    return Path(os.environ.get("LW_SPARK_DIR", PROJECT_ROOT / "data" / "spark")).resolve()


def build(landing: Path, spark_dir: Path, full_refresh: bool = False,
          source: str = "synthetic") -> float:
    """dbt seed + build on Spark; returns wall seconds. Raises BuildError on failure.

    source cdnow: the CDNOW marts and their parents only, with the arguments of
    `lw build --source cdnow` (runner.cdnow_dbt_args).
    """
    import os

    from lifecycle_warehouse.engines.spark import session as spark_session
    from lifecycle_warehouse.pipeline.runner import (
        BuildError,
        _environment,
        cdnow_dbt_args,
        cdnow_file,
        run_dbt,
    )

    # py4j logs every closed gateway connection at INFO
    logging.getLogger("py4j").setLevel(logging.WARNING)
    if not spark_session.install():
        raise BuildError("dbt-spark is not installed: pip install -e '.[spark]' (needs Java 17+)")
    spark_dir.mkdir(parents=True, exist_ok=True)
    # database: where the tables are (run_dbt names it when a test fails); DuckDB unused
    paths = Paths(landing_dir=landing, database=spark_dir / "warehouse",
                  temp_dir=spark_dir / "tmp")
    environment = {
        "LW_SPARK_DIR": str(spark_dir),  # the profile's metastore + warehouse
        # Spark's own logging: errors only (profiles/spark_conf/log4j2.properties)
        "SPARK_CONF_DIR": os.environ.get("SPARK_CONF_DIR", str(PROFILES_DIR / "spark_conf")),
    }
    # own target path: the Spark manifest never mixes with the DuckDB one
    common = ["--target-path", str(spark_dir / "target")]
    if full_refresh:
        common.append("--full-refresh")
    select: list[str] = []
    if source == "cdnow":
        environment["LW_CDNOW_PATH"] = str(cdnow_file())
        dbt_vars, select = cdnow_dbt_args()
        common += dbt_vars
    started = time.perf_counter()
    with _environment(environment):
        run_dbt(["seed", *common], paths, SPARK_TARGET)
        # every model, data test and unit test (each unit test right after its model's
        # parents: it needs their tables for the column types)
        run_dbt(["build", *select, "--exclude", "resource_type:seed", *common],
                paths, SPARK_TARGET)
    return time.perf_counter() - started


def spark_table_glob(spark_dir: Path, schema: str, table: str) -> str:
    return str(spark_dir / "warehouse" / f"{schema}.db" / table / "*.parquet")


def _frames(con, spark_dir: Path, table: str):
    """The DuckDB build's mart (catalog `build` of con) and Spark's, plus its double columns."""
    spark_files = spark_table_glob(spark_dir, "marts", table)
    columns = con.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_catalog = 'build' and table_schema = 'marts' and table_name = ? "
        "order by ordinal_position", [table]).fetchall()
    spark_columns = dict(con.execute(
        f"select column_name, column_type from (describe select * from "
        f"read_parquet('{spark_files}'))").fetchall())
    # Spark writes timestamps as UTC instants (timestamptz for DuckDB): back to UTC
    # wall-clock timestamps, as in the DuckDB build
    select = ", ".join(
        f'cast("{name}" as timestamp) as "{name}"'
        if spark_columns[name].startswith("TIMESTAMP WITH TIME ZONE")
        else f'"{name}"' for name in spark_columns)
    duck = con.sql(f"select * from build.marts.{table}").df()
    spark = con.sql(f"select {select} from read_parquet('{spark_files}')").df()
    float_columns = [name for name, data_type in columns if data_type.upper() in FLOAT_TYPES]
    return duck, spark, float_columns


def compare_frames(table: str, duck: pd.DataFrame, spark: pd.DataFrame,
                   float_columns: list[str]) -> TableComparison:
    """Same columns, same rows; doubles within FLOAT_RTOL. Rows are matched after sorting."""
    result = TableComparison(table=table, rows=len(duck))
    if list(duck.columns) != list(spark.columns):
        result.differences.append(
            f"columns differ: duckdb {list(duck.columns)} vs spark {list(spark.columns)}")
        return result
    if len(duck) != len(spark):
        result.differences.append(f"row count differs: duckdb {len(duck)} vs spark {len(spark)}")
        return result
    exact = [c for c in duck.columns if c not in float_columns]
    # doubles take part in the order only rounded, so a last-digit difference cannot
    # reorder rows
    def ordered(frame: pd.DataFrame) -> pd.DataFrame:
        keyed = frame.assign(**{f"__{c}": frame[c].astype(float).round(6) for c in float_columns})
        keys = exact + [f"__{c}" for c in float_columns]
        return keyed.sort_values(keys, kind="stable", na_position="last").reset_index(drop=True)

    duck, spark = ordered(duck), ordered(spark)
    for column in duck.columns:
        if column.startswith("__"):
            continue
        left, right = duck[column], spark[column]
        both_null = left.isna().to_numpy() & right.isna().to_numpy()
        if column in float_columns:
            a, b = left.astype(float).to_numpy(), right.astype(float).to_numpy()
            same = both_null | np.isclose(a, b, rtol=FLOAT_RTOL, atol=FLOAT_ATOL)
        else:
            same = both_null | (left.astype(object) == right.astype(object)).to_numpy()
        mismatched = np.flatnonzero(~same)
        if len(mismatched):
            first = mismatched[0]
            result.differences.append(
                f"{column}: {len(mismatched)} of {len(duck)} rows differ, e.g. row {first}: "
                f"duckdb {left.iloc[first]!r} vs spark {right.iloc[first]!r}")
    return result


def compare_marts(duckdb_file: Path, spark_dir: Path) -> list[TableComparison]:
    """Every table of schema marts of the DuckDB build against Spark's, one connection."""
    import duckdb

    results = []
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.execute(f"ATTACH '{duckdb_file}' AS build (READ_ONLY)")
        tables = [row[0] for row in con.execute(
            "select table_name from information_schema.tables where table_catalog = 'build' "
            "and table_schema = 'marts' order by table_name").fetchall()]
        for table in tables:
            if not Path(spark_table_glob(spark_dir, "marts", table)).parent.is_dir():
                results.append(TableComparison(table, 0, ["missing in the Spark build"]))
                continue
            results.append(compare_frames(table, *_frames(con, spark_dir, table)))
    finally:
        con.close()
    return results
