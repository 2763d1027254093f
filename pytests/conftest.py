"""Shared pytest fixtures: run the dbt project on hand-made or generated landing data."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from lifecycle_warehouse.cli.build import SAMPLE
from lifecycle_warehouse.pipeline.project import PROJECT_ROOT, Paths
from lifecycle_warehouse.pipeline.runner import run_dbt

os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")


class Warehouse:
    """A dbt build of the project into a temporary DuckDB file."""

    def __init__(self, root: Path, landing_dir: Path) -> None:
        self.paths = Paths(
            landing_dir=landing_dir, database=root / "warehouse.duckdb", temp_dir=root / "tmp"
        )

    def dbt(self, *args: str):
        return run_dbt(list(args), self.paths)

    def query(self, sql: str, params: list | None = None) -> list[tuple]:
        with duckdb.connect(str(self.paths.database), read_only=True) as con:
            return con.execute(sql, params or []).fetchall()

    def scalar(self, sql: str, params: list | None = None):
        return self.query(sql, params)[0][0]


@pytest.fixture(scope="session")
def make_warehouse(tmp_path_factory):
    def _make(name: str, landing_dir: Path) -> Warehouse:
        return Warehouse(tmp_path_factory.mktemp(name), landing_dir)

    return _make


def run_lw(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """`lw ARGS` in a subprocess from the project root, output captured."""
    return subprocess.run(
        [sys.executable, "-m", "lifecycle_warehouse.cli", *args], capture_output=True,
        text=True, cwd=PROJECT_ROOT,
        env={**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", **(env or {})},
        timeout=900,
    )


@pytest.fixture(scope="session")
def sample_build(tmp_path_factory):
    """`lw generate` (the default sample of `make build`) → `lw build` → publish, once."""
    root = tmp_path_factory.mktemp("e2e")
    landing, database = root / "landing", root / "warehouse.duckdb"
    serving = root / "serving" / "lifecycle.duckdb"
    # The default sample of `make build` (SAMPLE), so its realism is what is tested.
    generated = run_lw("generate", "--out", str(landing), "--seed", str(SAMPLE["seed"]),
                       "--persons", str(SAMPLE["persons"]), "--days", str(SAMPLE["days"]),
                       "--start-date", SAMPLE["start_date"], "--no-progress")
    assert generated.returncode == 0, generated.stderr
    result = run_lw("build", "--landing", str(landing), "--database", str(database),
                    "--serving", str(serving),
                    env={"LW_DUCKDB_TEMP_DIR": str(root / "tmp"),
                         "LW_GX_DOCS_DIR": str(root / "gx_docs")})
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    manifest = json.loads((landing / "manifest.json").read_text())
    return {"manifest": manifest, "stdout": result.stdout, "stderr": result.stderr,
            "database": database, "landing": landing, "serving": serving}
