"""Synthetic landing-data generator for the Lifecycle Warehouse.

Writes the six landing sources of ``docs/landing_contract.md`` (web and app events,
messaging webhooks, store POS, online orders, CRM snapshot) plus ``manifest.json``.

Generation is streamed by chunks of persons: each chunk is drawn with fully
vectorised numpy (``np.random.default_rng([seed, chunk, component])``), defects are
injected, and the chunk is written as ``part-{chunk:05d}.*`` files before the next
chunk starts, so memory is bounded by the chunk size. Writing of chunk *i* overlaps
with generation of chunk *i+1* (one writer thread). Same arguments -> byte-identical
files: no wall clock is used anywhere (``_loaded_at`` derives from event times).

See the module docstrings of ``persons``, ``timeline``, ``events``, ``commerce``,
``messaging``, ``crm`` and ``defects`` for the behaviour model, and ``campaign`` for
the planted campaign effects (recorded in the manifest's ``planted_campaign_effects``).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import shutil
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from .campaign import PlantedCampaign, planted_campaigns
from .catalog import Catalog
from .chunk import build_chunk, kiosk_ids
from .config import (
    EVENT_SOURCES,
    GENERATOR_VERSION,
    SOURCES,
    DefectRates,
    GeneratorConfig,
    load_seeds,
)
from .defects import apply_defects
from .messaging import Campaigns
from .writers import LandingWriter

__all__ = [
    "DefectRates",
    "GeneratorConfig",
    "LandingDirNotEmpty",
    "estimate_persons",
    "generate",
    "GENERATOR_VERSION",
]

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
PILOT_PERSONS = 5_000
PILOT_CHUNK = 999_999


class LandingDirNotEmpty(RuntimeError):
    """The output directory already holds landing data (use overwrite=True)."""


def existing_landing_data(out_dir: Path) -> list[str]:
    """Landing folders / manifest already present in ``out_dir``."""
    found = []
    for name in SOURCES:
        folder = out_dir / name
        if folder.is_dir() and any(folder.iterdir()):
            found.append(f"{name}/")
    if (out_dir / MANIFEST).exists():
        found.append(MANIFEST)
    return found


def _clear(out_dir: Path) -> None:
    for name in SOURCES:
        shutil.rmtree(out_dir / name, ignore_errors=True)
    (out_dir / MANIFEST).unlink(missing_ok=True)


def estimate_persons(events: int, seed: int = 42, days: int = 365,
                     start_date: dt.date = dt.date(2025, 1, 1),
                     defects: DefectRates | None = None) -> tuple[int, float]:
    """Persons needed for ~``events`` web + app + messaging rows.

    Runs a pilot chunk of 5,000 persons (own random stream, nothing written) and
    measures the mean number of event rows per person (including duplicate defects).
    Returns ``(persons, events_per_person)``.
    """
    rates = defects or DefectRates.none()
    cfg = GeneratorConfig(seed=seed, persons=PILOT_PERSONS, days=days, start_date=start_date,
                          chunk_persons=PILOT_PERSONS, defects=rates)
    seeds = load_seeds()
    res = build_chunk(cfg, seeds, Catalog.build(seed), Campaigns.build(cfg), PILOT_CHUNK, 0,
                      PILOT_PERSONS, 0, 0, planted_campaigns(cfg, seeds))
    rows = sum(res.tables[s].num_rows for s in EVENT_SOURCES)
    per_person = rows / PILOT_PERSONS * (1.0 + rates.duplicate)
    return max(1, round(events / per_person)), per_person


def _chunks(cfg: GeneratorConfig) -> Iterator[tuple[int, int, int]]:
    for chunk in range(cfg.n_chunks):
        first = chunk * cfg.chunk_persons
        yield chunk, first, min(cfg.chunk_persons, cfg.persons - first)


def _add_counts(acc: dict[str, Any], new: dict[str, Any]) -> None:
    for k, v in new.items():
        if isinstance(v, dict):
            _add_counts(acc.setdefault(k, {}), v)
        else:
            acc[k] = acc.get(k, 0) + v


def generate(
    out_dir: Path | str,
    seed: int = 42,
    persons: int | None = 20_000,
    days: int = 365,
    start_date: dt.date | str = dt.date(2025, 1, 1),
    chunk_persons: int = 10_000,
    defects: DefectRates | None = DefectRates(),  # noqa: B008 - frozen dataclass
    progress: bool = True,
    *,
    events: int | None = None,
    overwrite: bool = False,
    traps: bool = True,
) -> dict[str, Any]:
    """Generate landing data into ``out_dir`` and return the manifest.

    ``persons`` or ``events`` (approximate web + app + messaging rows) sets the size.
    ``defects=None`` disables all defects (like ``--no-defects``); ``traps=False``
    disables the over-merge traps (kiosk ids, exclusion-seed ids).
    Raises :class:`LandingDirNotEmpty` if ``out_dir`` holds landing data and
    ``overwrite`` is false.
    """
    out = Path(out_dir)
    if isinstance(start_date, str):
        start_date = dt.date.fromisoformat(start_date)
    rates = defects if defects is not None else DefectRates.none()
    existing = existing_landing_data(out) if out.exists() else []
    if existing and not overwrite:
        raise LandingDirNotEmpty(
            f"{out} already contains landing data ({', '.join(existing)}); "
            "use --overwrite (overwrite=True) to replace it")

    per_person = None
    if events is not None:
        persons, per_person = estimate_persons(events, seed, days, start_date, rates)
        log.info("--events %d: %.1f events/person measured -> %d persons",
                 events, per_person, persons)
    if persons is None:
        raise ValueError("give persons or events")
    cfg = GeneratorConfig(seed=seed, persons=persons, days=days, start_date=start_date,
                          chunk_persons=chunk_persons, defects=rates, traps=traps)
    if existing:
        _clear(out)
    out.mkdir(parents=True, exist_ok=True)

    seeds = load_seeds()
    catalog = Catalog.build(seed)
    campaigns = Campaigns.build(cfg)
    planted = planted_campaigns(cfg, seeds)
    writer = LandingWriter(out, cfg, seeds)
    files: dict[str, dict[str, int]] = {s: {} for s in SOURCES}
    defect_counts: dict[str, dict[str, Any]] = {s: {} for s in SOURCES}
    population: dict[str, Any] = {}
    trap_counts: dict[str, Any] = {}
    kiosk_users: dict[str, int] = {}
    planted_counts: dict[str, Any] = {}
    first_order = first_txn = 0
    t0 = time.perf_counter()
    bar = tqdm(total=cfg.persons, unit="persons", desc="generate", disable=not progress,
               dynamic_ncols=True)

    def write_chunk(chunk: int, tables: dict) -> dict[str, dict[str, int]]:
        return {src: writer.write(src, chunk, tables[src]) for src in SOURCES}

    pending: Future | None = None
    with ThreadPoolExecutor(max_workers=1) as pool:
        for chunk, first, n in _chunks(cfg):
            res = build_chunk(cfg, seeds, catalog, campaigns, chunk, first, n, first_order,
                              first_txn, planted)
            first_order += res.population["orders"]
            first_txn += res.population["store_transactions"]
            drng = np.random.default_rng([seed, chunk, 100])
            for src in SOURCES:
                res.tables[src], counts = apply_defects(drng, src, res.tables[src], rates)
                _add_counts(defect_counts[src], counts)
            _add_counts(population, res.population)
            _add_counts(trap_counts, res.traps)
            _add_counts(kiosk_users, res.kiosk_users)
            _add_counts(planted_counts, res.campaigns)
            if pending is not None:
                for src, f in pending.result().items():
                    files[src].update(f)
            pending = pool.submit(write_chunk, chunk, res.tables)
            del res
            bar.update(n)
        if pending is not None:
            for src, f in pending.result().items():
                files[src].update(f)
    bar.close()
    writer.close()

    manifest = _manifest(cfg, files, defect_counts, population, trap_counts, kiosk_users,
                         events, per_person, planted, planted_counts)
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    elapsed = time.perf_counter() - t0
    total = manifest["events_total"]
    log.info("wrote %d event rows (%d rows total) in %.1fs (%.0f events/s)", total,
             manifest["rows_total"], elapsed, total / max(elapsed, 1e-9))
    return manifest


def _manifest(cfg: GeneratorConfig, files: dict[str, dict[str, int]],
              defect_counts: dict[str, dict[str, Any]], population: dict[str, Any],
              trap_counts: dict[str, Any], kiosk_users: dict[str, int],
              events: int | None, per_person: float | None,
              planted: tuple[PlantedCampaign, ...] = (),
              planted_counts: dict[str, Any] | None = None) -> dict[str, Any]:
    rows = {s: sum(files[s].values()) for s in SOURCES}
    drift_rows = sum(v for k, v in files["web_events"].items() if k.endswith("-drift.parquet"))
    defect_counts["web_events"]["extra_column_rows"] = drift_rows
    kc, kd = kiosk_ids(cfg.seed, cfg.behaviour.kiosk_cookies, cfg.behaviour.kiosk_devices)
    return {
        "generator": "lifecycle_warehouse.generate",
        "generator_version": GENERATOR_VERSION,
        "args": {
            "seed": cfg.seed, "persons": cfg.persons, "days": cfg.days,
            "start_date": cfg.start_date.isoformat(), "chunk_persons": cfg.chunk_persons,
            "events": events, "defects": cfg.defects.as_dict(), "traps": cfg.traps,
        },
        "events_per_person_measured": None if per_person is None else round(per_person, 3),
        "range": {
            "start": _iso(cfg.start_us), "end": _iso(cfg.end_us),
            "drift_midpoint": _iso(cfg.midpoint_us),
        },
        "chunks": cfg.n_chunks,
        "rows": rows,
        "rows_total": sum(rows.values()),
        "events_total": sum(rows[s] for s in EVENT_SOURCES),
        "files": files,
        "defects": defect_counts,
        "defect_semantics": {
            "event_time": {"web_events": "event_ts", "app_events": "event_ts_ms",
                           "messaging_webhooks": "occurred_at",
                           "store_pos": "transaction_local_time (store tz)",
                           "online_orders": "ordered_at (future: ordered_at > _loaded_at; "
                                            "late: _loaded_at >= updated_at + 2 days, and "
                                            "updated_at >= ordered_at)"},
            "normal_load_latency_minutes": [5, 180],
            "late_arriving_days": [2, 10],
            "future_timestamp_days_after_loaded_at": [1, 30],
            "orders_updated_minus_ordered_hours_max": 36,
            "duplicate": "exact copy of a clean row in the same file",
            "malformed_id_columns": {
                "web_events": ["cookie_id", "user_id"], "app_events": ["device_id", "user_id"],
                "store_pos": ["loyalty_card"], "online_orders": ["user_id"],
                "crm_customers": ["customer_id"]},
            "malformed_email_columns": {"online_orders": ["customer_email"],
                                        "crm_customers": ["email"]},
            "negative_amount_columns": {"online_orders": ["order_total"],
                                        "store_pos": ["unit_price (is_return = false)"]},
            "extra_column": "web_events part-*-drift.parquet: experiment_variant "
                            "(rows with _loaded_at >= drift_midpoint)",
        },
        "traps": {
            "enabled": cfg.traps,
            "kiosk_cookies": kc.to_pylist() if cfg.traps else [],
            "kiosk_devices": kd.to_pylist() if cfg.traps else [],
            "kiosk_users": kiosk_users,
            **trap_counts,
            "note": "kiosk ids are shared by many users (one session each); exclusion-seed "
                    "ids (test emails on guest orders, placeholder phone and demo loyalty "
                    "card on POS rows) must not merge identities",
        },
        "population": population,
        # the known truth of each campaign whose effect is planted (campaign.py)
        "planted_campaign_effects": {
            c.campaign_id: {**c.manifest(), **(planted_counts or {}).get(c.campaign_id, {})}
            for c in planted},
    }


def _iso(us: int) -> str:
    return (dt.datetime(1970, 1, 1) + dt.timedelta(microseconds=us)).strftime(
        "%Y-%m-%dT%H:%M:%SZ")

