"""Where things are: project root, data directories, dbt environment.

One place for the paths and environment variables every command shares, so the CLI,
the tests and plain `dbt` invocations agree on them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[3]  # src/lifecycle_warehouse/pipeline/
PROFILES_DIR = PROJECT_ROOT / "profiles"
SEEDS_DIR = PROJECT_ROOT / "seeds"

# The landing folder of each demo source (var demo_sources names the sources).
LANDING_FOLDER_OF_SOURCE = {
    "web": "web_events",
    "app": "app_events",
    "messaging": "messaging_webhooks",
    "store_pos": "store_pos",
    "online_orders": "online_orders",
    "crm": "crm_customers",
}
LANDING_SOURCES = tuple(LANDING_FOLDER_OF_SOURCE.values())


@dataclass(frozen=True)
class Paths:
    """The data locations of one pipeline run (all absolute)."""

    landing_dir: Path
    database: Path
    temp_dir: Path

    @classmethod
    def default(cls) -> Paths:
        data = PROJECT_ROOT / "data"
        return cls(
            landing_dir=Path(os.environ.get("LW_LANDING_DIR", data / "landing")).resolve(),
            database=Path(
                os.environ.get("LW_DUCKDB_PATH", data / "build" / "lifecycle.duckdb")
            ).resolve(),
            temp_dir=Path(os.environ.get("LW_DUCKDB_TEMP_DIR", data / "tmp")).resolve(),
        )

    def dbt_env(self) -> dict[str, str]:
        """Environment variables the dbt profile and sources read."""
        return {
            "LW_LANDING_DIR": str(self.landing_dir),
            "LW_DUCKDB_PATH": str(self.database),
            "LW_DUCKDB_TEMP_DIR": str(self.temp_dir),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            "DO_NOT_TRACK": "1",
        }


def default_serving_path() -> Path:
    """The file BI reads: env LW_SERVING_PATH, else data/serving/lifecycle.duckdb."""
    default = PROJECT_ROOT / "data" / "serving" / "lifecycle.duckdb"
    return Path(os.environ.get("LW_SERVING_PATH", default)).resolve()


def missing_landing_sources(landing_dir: Path) -> list[str]:
    """Landing folders that are absent or hold no data file."""
    missing = []
    for name in LANDING_SOURCES:
        folder = landing_dir / name
        if not folder.is_dir() or not any(
            p.suffix in {".parquet", ".csv", ".jsonl"} for p in folder.iterdir()
        ):
            missing.append(name)
    return missing
