"""Shared pytest fixtures: run the dbt project on hand-made or generated landing data."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pytest

from lifecycle_warehouse.project import Paths
from lifecycle_warehouse.runner import run_dbt

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
