"""The project's seeds as Python reads them: one reader of seeds/*.csv.

The seeds are the one place of the lists the warehouse, its tests and its reports share
(the lifecycle stages, the RFM grid, ...). Python code that needs such a list reads it
here, from the CSV that `dbt seed` loads, instead of spelling it again.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from lifecycle_warehouse.pipeline.project import SEEDS_DIR

LIFECYCLE_STAGES_SEED = "lifecycle_stages"


class SeedError(ValueError):
    """A seed the code needs is missing or lacks a column; the message says which."""


def seed_path(name: str, seeds_dir: Path | None = None) -> Path:
    return Path(seeds_dir or SEEDS_DIR) / f"{name}.csv"


def read_seed(name: str, seeds_dir: Path | None = None) -> list[dict[str, str]]:
    """The rows of seeds/<name>.csv, in file order, as text."""
    path = seed_path(name, seeds_dir)
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            return list(csv.DictReader(handle))
    except FileNotFoundError:
        raise SeedError(f"no seed {path}: restore it from the repository (git checkout "
                        f"-- {path.name}) or name a seed of {path.parent}") from None


def seed_column(name: str, column: str, seeds_dir: Path | None = None) -> tuple[str, ...]:
    """The distinct values of one column of seeds/<name>.csv, in the order they first occur."""
    rows = read_seed(name, seeds_dir)
    if rows and column not in rows[0]:
        raise SeedError(f"seed {seed_path(name, seeds_dir)} has no column {column!r} "
                        f"(columns: {', '.join(rows[0])}); name one of them")
    return tuple(dict.fromkeys(row[column] for row in rows))


@dataclass(frozen=True)
class LifecycleStage:
    """One row of seeds/lifecycle_stages.csv."""

    stage: str
    precedence: int  # the order lw_lifecycle_stage checks the rules in (first match wins)
    display_order: int  # the order reports show the stages in
    description: str  # the rule in words, naming the thresholds it uses


def lifecycle_stages(seeds_dir: Path | None = None) -> tuple[LifecycleStage, ...]:
    """The lifecycle stages of seeds/lifecycle_stages.csv, in precedence order."""
    path = seed_path(LIFECYCLE_STAGES_SEED, seeds_dir)
    rows = read_seed(LIFECYCLE_STAGES_SEED, seeds_dir)
    try:
        stages = [LifecycleStage(stage=row["stage"], precedence=int(row["precedence"]),
                                 display_order=int(row["display_order"]),
                                 description=row["description"])
                  for row in rows]
    except (KeyError, TypeError, ValueError) as error:
        raise SeedError(f"{path}: every row needs stage, integer precedence and display_order "
                        f"and description ({type(error).__name__}: {error}); fix the row") from None
    return tuple(sorted(stages, key=lambda s: s.precedence))


def stages_in_display_order(seeds_dir: Path | None = None) -> tuple[str, ...]:
    """The stage names in the order reports show them (column display_order)."""
    return tuple(s.stage for s in sorted(lifecycle_stages(seeds_dir),
                                         key=lambda s: s.display_order))
