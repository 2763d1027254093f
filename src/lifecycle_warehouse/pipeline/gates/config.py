"""Bounds of the quality gates, read from `quality_gates.yml` at the repository root.

The file holds numbers only; which checks exist is code (`suites.py`). Env
`LW_GATES_CONFIG` names an override file with the same layout, deep-merged over the
base file (mappings merge key by key, any other value replaces), so a test or an
incident can change one bound without copying the rest.

Unknown keys are errors: a typo in a gate config must not switch a check off silently.
"""

from __future__ import annotations

import copy
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lifecycle_warehouse.pipeline.project import PROJECT_ROOT
from lifecycle_warehouse.pipeline.seeds import SeedError, seed_column

DEFAULT_CONFIG_PATH = PROJECT_ROOT / "quality_gates.yml"
OVERRIDE_ENV = "LW_GATES_CONFIG"
LAYERS = ("staging", "intermediate", "marts")

# The check sections each layer accepts (besides volume, null_rates, value_ranges).
_LAYER_SECTIONS = {
    "staging": {"quarantine_share"},
    "intermediate": {"events_without_person", "thresholds"},
    "marts": {"lifecycle_stage_shares", "rfm_segment_shares", "negative_net_revenue", "freshness"},
}
_COMMON_SECTIONS = {"volume", "null_rates", "value_ranges"}
_VOLUME_KEYS = {"max_decrease", "max_increase", "min_previous_rows", "allow_empty", "tables"}
_SHARE_KEYS = {"min", "max", "expected", "expected_seed", "overrides"}

Bounds = tuple[float | None, float | None]


class GateConfigError(ValueError):
    """The gate configuration is malformed; the message names the file and key."""


@dataclass(frozen=True)
class VolumeConfig:
    """Row counts versus the previous successful run."""

    max_decrease: float = 0.20
    max_increase: float = 0.50
    min_previous_rows: int = 100
    allow_empty: tuple[str, ...] = ()
    tables: dict[str, dict[str, float]] = field(default_factory=dict)

    def tolerance(self, table: str) -> tuple[float, float]:
        """(max_decrease, max_increase) for one "schema.table"."""
        own = self.tables.get(table, {})
        return (
            float(own.get("max_decrease", self.max_decrease)),
            float(own.get("max_increase", self.max_increase)),
        )


@dataclass(frozen=True)
class ShareBounds:
    """Share of each value of a column (lifecycle stage, RFM segment) within [min, max]."""

    min: float
    max: float
    expected: tuple[str, ...] = ()
    overrides: dict[str, Bounds] = field(default_factory=dict)

    def bounds(self, value: str) -> Bounds:
        return self.overrides.get(value, (self.min, self.max))


@dataclass(frozen=True)
class LayerConfig:
    """Bounds of one layer's suite; sections a layer does not have stay None / empty."""

    volume: VolumeConfig
    null_rates: dict[str, dict[str, float]] = field(default_factory=dict)
    value_ranges: dict[str, dict[str, Bounds]] = field(default_factory=dict)
    quarantine_share: float | None = None
    quarantine_share_sources: dict[str, float] = field(default_factory=dict)
    events_without_person_max_share: float | None = None
    thresholds: dict[str, Bounds] = field(default_factory=dict)
    lifecycle_stage_shares: ShareBounds | None = None
    rfm_segment_shares: ShareBounds | None = None
    negative_net_revenue_max_share: float | None = None
    freshness_max_lag_days: int | None = None


@dataclass(frozen=True)
class GateConfig:
    """Every layer's bounds plus where they were read from."""

    layers: dict[str, LayerConfig]
    keep_runs: int = 30
    sources: tuple[Path, ...] = ()

    def layer(self, name: str) -> LayerConfig:
        if name not in self.layers:
            raise GateConfigError(f"no gate configuration for layer {name!r}")
        return self.layers[name]


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """A copy of base with override merged in: mappings recursively, the rest replaced.

    Except `allow_empty` lists, which add up: a sources file that allows one more table
    to be empty keeps the project's list (the tables a campaign or a decline may leave
    empty) instead of silently dropping it.
    """
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        elif key == "allow_empty" and isinstance(value, list) and isinstance(merged.get(key), list):
            merged[key] = merged[key] + [table for table in value if table not in merged[key]]
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _read_yaml(path: Path) -> dict[str, Any]:
    import yaml

    if not path.is_file():
        raise GateConfigError(f"gate config {path} not found")
    with path.open(encoding="utf-8") as handle:
        data = yaml.safe_load(handle) or {}
    if not isinstance(data, dict):
        raise GateConfigError(f"{path}: expected a mapping at the top level")
    return data


def _check_keys(where: str, given: dict[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(given) - allowed)
    if unknown:
        raise GateConfigError(
            f"{where}: unknown key(s) {', '.join(unknown)} (allowed: {', '.join(sorted(allowed))})"
        )


def _number(where: str, value: Any, *, allow_none: bool = False) -> float | None:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise GateConfigError(f"{where}: expected a number, got {value!r}")
    return float(value)


def _bounds(where: str, value: Any) -> Bounds:
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise GateConfigError(f"{where}: expected [min, max] (null = open), got {value!r}")
    low = _number(f"{where}[0]", value[0], allow_none=True)
    high = _number(f"{where}[1]", value[1], allow_none=True)
    if low is not None and high is not None and low > high:
        raise GateConfigError(f"{where}: min {low} > max {high}")
    return low, high


def _table_name(where: str, name: Any) -> str:
    if not isinstance(name, str) or name.count(".") != 1:
        raise GateConfigError(f"{where}: tables are written schema.table, got {name!r}")
    return name


def _volume(where: str, raw: dict[str, Any]) -> VolumeConfig:
    _check_keys(where, raw, _VOLUME_KEYS)
    tables: dict[str, dict[str, float]] = {}
    for table, own in (raw.get("tables") or {}).items():
        _table_name(f"{where}.tables", table)
        _check_keys(f"{where}.tables.{table}", own, {"max_decrease", "max_increase"})
        tables[table] = {k: _number(f"{where}.tables.{table}.{k}", v) for k, v in own.items()}
    return VolumeConfig(
        max_decrease=_number(f"{where}.max_decrease", raw.get("max_decrease", 0.20)),
        max_increase=_number(f"{where}.max_increase", raw.get("max_increase", 0.50)),
        min_previous_rows=int(_number(f"{where}.min_previous_rows",
                                      raw.get("min_previous_rows", 100))),
        allow_empty=tuple(
            _table_name(f"{where}.allow_empty", t) for t in raw.get("allow_empty") or ()
        ),
        tables=tables,
    )


def _expected_from_seed(where: str, raw: Any) -> tuple[str, ...]:
    """expected_seed: {seed: <name>, column: <column>}: the distinct values of that column of
    seeds/<name>.csv, in file order (the seed is the one list; the gate does not copy it)."""
    if not isinstance(raw, dict) or set(raw) != {"seed", "column"}:
        raise GateConfigError(f"{where}: expected {{seed: <name of seeds/*.csv>, "
                              f"column: <column>}}, got {raw!r}")
    try:
        return seed_column(str(raw["seed"]), str(raw["column"]))
    except SeedError as error:
        raise GateConfigError(f"{where}: {error}") from None


def _shares(where: str, raw: dict[str, Any]) -> ShareBounds:
    _check_keys(where, raw, _SHARE_KEYS)
    low, high = _bounds(where, [raw.get("min"), raw.get("max")])
    expected = tuple(str(v) for v in raw.get("expected") or ())
    # a listed expected wins: an override file that lists the values means those values
    if not expected and raw.get("expected_seed") is not None:
        expected = _expected_from_seed(f"{where}.expected_seed", raw["expected_seed"])
    return ShareBounds(
        min=0.0 if low is None else low,
        max=1.0 if high is None else high,
        expected=expected,
        overrides={
            str(k): _bounds(f"{where}.overrides.{k}", v)
            for k, v in (raw.get("overrides") or {}).items()
        },
    )


def _layer(name: str, raw: dict[str, Any], defaults: dict[str, Any], origin: str) -> LayerConfig:
    where = f"{origin}: {name}"
    _check_keys(where, raw, _COMMON_SECTIONS | _LAYER_SECTIONS[name])
    volume = _volume(f"{where}.volume", deep_merge(defaults.get("volume") or {},
                                                   raw.get("volume") or {}))
    null_rates = {
        _table_name(f"{where}.null_rates", table): {
            str(col): _number(f"{where}.null_rates.{table}.{col}", share)
            for col, share in (columns or {}).items()
        }
        for table, columns in (raw.get("null_rates") or {}).items()
    }
    value_ranges = {
        _table_name(f"{where}.value_ranges", table): {
            str(col): _bounds(f"{where}.value_ranges.{table}.{col}", bounds)
            for col, bounds in (columns or {}).items()
        }
        for table, columns in (raw.get("value_ranges") or {}).items()
    }
    options: dict[str, Any] = {}
    if "quarantine_share" in raw:
        section = raw["quarantine_share"] or {}
        _check_keys(f"{where}.quarantine_share", section, {"max", "sources"})
        options["quarantine_share"] = _number(f"{where}.quarantine_share.max", section.get("max"))
        options["quarantine_share_sources"] = {
            str(k): _number(f"{where}.quarantine_share.sources.{k}", v)
            for k, v in (section.get("sources") or {}).items()
        }
    if "events_without_person" in raw:
        section = raw["events_without_person"] or {}
        _check_keys(f"{where}.events_without_person", section, {"max_share"})
        options["events_without_person_max_share"] = _number(
            f"{where}.events_without_person.max_share", section.get("max_share"))
    if "thresholds" in raw:
        options["thresholds"] = {
            str(k): _bounds(f"{where}.thresholds.{k}", v)
            for k, v in (raw["thresholds"] or {}).items()
        }
    for key in ("lifecycle_stage_shares", "rfm_segment_shares"):
        if key in raw:
            options[key] = _shares(f"{where}.{key}", raw[key] or {})
    if "negative_net_revenue" in raw:
        section = raw["negative_net_revenue"] or {}
        _check_keys(f"{where}.negative_net_revenue", section, {"max_share"})
        options["negative_net_revenue_max_share"] = _number(
            f"{where}.negative_net_revenue.max_share", section.get("max_share"))
    if "freshness" in raw:
        section = raw["freshness"] or {}
        _check_keys(f"{where}.freshness", section, {"max_lag_days"})
        options["freshness_max_lag_days"] = int(
            _number(f"{where}.freshness.max_lag_days", section.get("max_lag_days")))
    return LayerConfig(volume=volume, null_rates=null_rates, value_ranges=value_ranges, **options)


def parse_gate_config(data: dict[str, Any], sources: tuple[Path, ...] = ()) -> GateConfig:
    """GateConfig from the merged YAML mapping."""
    origin = " + ".join(str(s) for s in sources) or "gate config"
    _check_keys(origin, data, {"defaults", "docs", *LAYERS})
    defaults = data.get("defaults") or {}
    _check_keys(f"{origin}: defaults", defaults, {"volume"})
    docs = data.get("docs") or {}
    _check_keys(f"{origin}: docs", docs, {"keep_runs"})
    layers = {name: _layer(name, data.get(name) or {}, defaults, origin) for name in LAYERS}
    keep_runs = int(_number(f"{origin}: docs.keep_runs", docs.get("keep_runs", 30)))
    return GateConfig(layers=layers, keep_runs=max(1, keep_runs), sources=sources)


def load_gate_config(
    path: Path | None = None,
    *,
    deployment: dict | None = None,
    deployment_source: Path | None = None,
    demo_sources: tuple[str, ...] | None = None,
    declared_kinds: tuple[str, ...] = (),
) -> GateConfig:
    """Reads `path` (default: quality_gates.yml at the repository root), deep-merges the
    deployment's bounds over it (the `gates:` section of the build's sources file,
    `deployment`), then the file named by env LW_GATES_CONFIG, if set.

    demo_sources: the demo sources of the build; null-rate and value-range bounds of the
    staging tables of the other demo sources are dropped (those tables are not built),
    and tables no source of the build feeds (FED_ONLY_BY; declared_kinds: the declared
    source kinds present) may be empty. None keeps every bound (a demo build)."""
    base = Path(path) if path is not None else DEFAULT_CONFIG_PATH
    data = _read_yaml(base)
    sources = [base.resolve()]
    if deployment:
        data = deep_merge(data, deployment)
        sources.append(Path(deployment_source or "<sources file>").resolve())
    if demo_sources is not None:
        data = _without_absent_demo_tables(data, demo_sources, declared_kinds)
    override = os.environ.get(OVERRIDE_ENV)
    if override:
        override_path = Path(override)
        data = deep_merge(data, _read_yaml(override_path))
        sources.append(override_path.resolve())
    return parse_gate_config(data, tuple(sources))


DEMO_STAGING_TABLE = re.compile(r"^staging\.stg_(web|app|messaging|store_pos|online_orders|crm)__")


# Tables fed only by sources of some kind: empty, and allowed to be, in a build that has
# none of them. A kind is present through a demo source or a declared source kind.
ORDERS = ({"online_orders", "store_pos"}, {"transaction_sources"})
PROFILES = ({"crm"}, {"profile_sources"})
# declared sources link only when they map several identifiers: never required
LINKS = ({"web", "app", "store_pos", "online_orders", "crm"}, set())
# user-initiated activity: events, orders
ACTIVITY = ({"web", "app", "messaging", "store_pos", "online_orders"},
            {"transaction_sources", "event_sources"})
FED_ONLY_BY = {
    "intermediate": {
        "identity.int_identity__co_occurrences": LINKS,
        "identity.int_identity__links": LINKS,
        "intermediate.int_person_profiles": PROFILES,
        "intermediate.int_person_contactability": PROFILES,
        # referrals need a referrer column, which declared profiles may not have
        "intermediate.int_person_referrals": ({"crm"}, set()),
        "intermediate.int_sessions_built": ACTIVITY,
        "intermediate.int_person_days": ACTIVITY,
        "intermediate.int_orders": ORDERS,
        "intermediate.int_person_purchase_days": ORDERS,
        "intermediate.int_person_value_metrics": ORDERS,
        "intermediate.int_person_clv_predictions": ORDERS,
    },
    "marts": {
        "marts.fct_customer_value": ORDERS,
        "marts.fct_rfm": ORDERS,
        "marts.fct_growth_accounting": ACTIVITY,
        "marts.fct_growth_accounting_daily": ACTIVITY,
        "marts.fct_growth_accounting_weekly": ACTIVITY,
        "marts.fct_cohort_retention": ACTIVITY,
        "marts.fct_lifecycle_transitions": ACTIVITY,
        # a quiet day fires no trigger; the demo's always do
        "marts.fct_customer_triggers": (
            {"web", "app", "messaging", "store_pos", "online_orders", "crm"}, set()),
    },
}


def _without_absent_demo_tables(data: dict, demo_sources: tuple[str, ...],
                                declared_kinds: tuple[str, ...] = ()) -> dict:
    """`data` without the per-table bounds of demo staging tables not in this build, and
    with the tables no source of this build feeds allowed to be empty."""
    def keep(table: str) -> bool:
        match = DEMO_STAGING_TABLE.match(table)
        return match is None or match.group(1) in demo_sources

    data = copy.deepcopy(data)
    staging = data.setdefault("staging", {}) or {}
    for key in ("null_rates", "value_ranges"):
        if isinstance(staging.get(key), dict):
            staging[key] = {table: bounds for table, bounds in staging[key].items() if keep(table)}
    for layer, tables in FED_ONLY_BY.items():
        volume = (data.setdefault(layer, {}) or {}).setdefault("volume", {})
        allowed = list(volume.get("allow_empty", []))
        for table, (demo_feeders, declared_feeders) in tables.items():
            fed = (set(demo_feeders) & set(demo_sources)
                   or set(declared_feeders) & set(declared_kinds))
            if not fed and table not in allowed:
                allowed.append(table)
        volume["allow_empty"] = allowed
    return data


DEMO_DECLARATION = PROJECT_ROOT / "sources" / "demo.yml"


def demo_gate_bounds() -> dict:
    """The demo's deployment bounds: the gates: section of sources/demo.yml."""
    if not DEMO_DECLARATION.is_file():
        return {}
    return (_read_yaml(DEMO_DECLARATION) or {}).get("gates") or {}
