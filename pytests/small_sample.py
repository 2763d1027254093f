"""The small published sample several test modules share: `lw generate --persons 2000
--days 120` (issue 18 scenario 20's reviewer sample) built and published by `lw build`,
once per test run (conftest fixture `small_sample`, a shared_dir).

test_reliability's scenarios start from copies of it; test_spark builds the same
landing on Spark and compares every mart with its build database.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb

from lifecycle_warehouse.pipeline.project import PROJECT_ROOT

LW = [sys.executable, "-m", "lifecycle_warehouse.cli"]
# The small sample a reviewer reaches for (issue 18 scenario 20: `lw generate --persons
# 2000 --days 120`, default seed and start); the baseline build must pass every gate on it.
SAMPLE_ARGS = ["--seed", "42", "--persons", "2000", "--days", "120", "--start-date",
               "2025-01-01", "--no-progress"]


class Deployment:
    """A landing dir, a build database and a serving file, like one installation."""

    def __init__(self, root: Path, landing: Path) -> None:
        self.root, self.landing = root, landing
        self.database = root / "build" / "lifecycle.duckdb"
        self.serving = root / "serving" / "lifecycle.duckdb"

    def env(self, **extra: str) -> dict[str, str]:
        return {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DO_NOT_TRACK": "1",
                "LW_DUCKDB_TEMP_DIR": str(self.root / "tmp"),
                "LW_GX_DOCS_DIR": str(self.root / "gx_docs"), **extra}

    def build_command(self) -> list[str]:
        return [*LW, "build", "--no-sample", "--landing", str(self.landing),
                "--database", str(self.database), "--serving", str(self.serving)]

    def build(self, **extra_env: str) -> subprocess.CompletedProcess:
        return subprocess.run(self.build_command(), capture_output=True, text=True,
                              cwd=PROJECT_ROOT, env=self.env(**extra_env), timeout=1200,
                              stdin=subprocess.DEVNULL)

    def marts(self) -> dict[str, list[tuple]]:
        """Every published mart's rows, sorted (publish metadata excluded, and the audience
        change table: publishing writes it against the build served before, so a second
        publish of the same data has none - `audience_changes` checks that)."""
        with duckdb.connect(str(self.serving), read_only=True) as con:
            tables = [row[0] for row in con.execute(
                "select table_name from duckdb_tables() where schema_name = 'marts' "
                "and not starts_with(table_name, '_') and table_name <> 'fct_audience_changes' "
                "order by 1").fetchall()]
            return {t: con.execute(f"select * from marts.{t} order by all").fetchall()
                    for t in tables}

    def audience_changes(self) -> int:
        with duckdb.connect(str(self.serving), read_only=True) as con:
            return con.execute("select count(*) from marts.fct_audience_changes").fetchone()[0]


def build_small_sample(root: Path) -> None:
    """Generates the small sample into root/landing and publishes its gated build
    (root/baseline)."""
    landing = root / "landing"
    generated = subprocess.run([*LW, "generate", "--out", str(landing), *SAMPLE_ARGS],
                               capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=600)
    assert generated.returncode == 0, generated.stderr
    deployment = Deployment(root / "baseline", landing)
    result = deployment.build()
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert f"Published {deployment.serving}" in result.stdout
