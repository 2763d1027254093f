"""Build all landing tables of one chunk of persons (no I/O).

Each component draws from its own random stream
``np.random.default_rng([seed, chunk, component])`` so a chunk is reproducible on its
own and changing one component does not reshuffle the others.

Over-merge traps (``GeneratorConfig.traps``): per chunk, up to 60 logged-in users
each use one of 5 shared "kiosk" cookies (in-store web kiosks) and one of 2 shared
"kiosk" app devices for one session, so the kiosk ids link many different users.
The exclusion-seed ids are injected in commerce.py.

Planted campaign effects (campaign.py) add extra converting sessions with their own
random stream after the natural ones, so every natural row stays what it was; their
events and orders are appended to the chunk's tables (re-sorted by load time), and
their orders are numbered after the chunk's natural orders.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from .campaign import EVENT_KEY_CHUNK_OFFSET, PlantedCampaign, planted_sessions
from .catalog import Catalog
from .commerce import build_orders, build_pos
from .config import GeneratorConfig, SeedData
from .crm import build_crm, closed_times
from .events import IdTables, build_app_events, build_web_events
from .ids import digit_ids, hex_ids, salt
from .messaging import Campaigns, build_messaging
from .persons import ANONYMOUS, GUEST, PROSPECT, REGISTERED, Persons, sample_persons
from .timeline import APP, LOGIN, REMEMBERED, STORE, WEB, Sessions, sample_sessions

COOKIE_SLOTS, DEVICE_SLOTS = 3, 2
KIOSK_KEY_BASE = 1 << 62

# random stream ids per component
RNG_PERSONS, RNG_SESSIONS, RNG_IDS, RNG_WEB, RNG_APP, RNG_ORDERS, RNG_POS, RNG_MSG, \
    RNG_CRM, RNG_KIOSK, RNG_CAMPAIGN = range(1, 12)
RNG_DEFECTS = 100


@dataclass
class ChunkResult:
    tables: dict[str, pa.Table]
    population: dict[str, int]
    traps: dict[str, int]
    kiosk_users: dict[str, int] = field(default_factory=dict)
    campaigns: dict[str, dict[str, int]] = field(default_factory=dict)


def _append_by_load(table: pa.Table, extra: pa.Table) -> pa.Table:
    """``table`` + ``extra`` rows, in load order (stable: ties keep ``table`` first)."""
    both = pa.concat_tables([table, extra])
    return both.take(pa.array(np.argsort(both["__loaded_us"].to_numpy(), kind="stable")))


def _planted(cfg: GeneratorConfig, seeds: SeedData, catalog: Catalog, chunk: int,
             p: Persons, ids: IdTables, planted: tuple[PlantedCampaign, ...],
             first_order: int) -> tuple[dict[str, pa.Table], dict[str, dict[str, int]]]:
    """Events and orders of the planted campaign sessions (campaign.py) of the chunk."""
    rng = np.random.default_rng([cfg.seed, chunk, RNG_CAMPAIGN])
    s, counts = planted_sessions(rng, p, planted)
    if s is None:
        return {}, counts
    key = chunk + EVENT_KEY_CHUNK_OFFSET
    w = np.flatnonzero(s.channel == WEB)
    a = np.flatnonzero(s.channel == APP)
    cookie_idx = s.person[w].astype(np.int64) * COOKIE_SLOTS + s.cookie[w]
    device_idx = s.person[a].astype(np.int64) * DEVICE_SLOTS + s.device[a]
    web, web_last = build_web_events(rng, cfg.seed, key, s, w, cookie_idx, ids, catalog)
    app, app_last = build_app_events(rng, cfg.seed, key, cfg.start_us, s, a, device_idx, ids,
                                     catalog)
    last_us = np.zeros(len(s), dtype=np.int64)
    last_us[w] = web_last
    last_us[a] = app_last
    orders, _ = build_orders(rng, cfg, seeds, p, s, np.arange(len(s)), last_us, ids,
                             first_order, cancellable=False)
    return {"web_events": web, "app_events": app, "online_orders": orders}, counts


def kiosk_ids(seed: int, n_cookies: int, n_devices: int) -> tuple[pa.Array, pa.Array]:
    keys_c = np.uint64(KIOSK_KEY_BASE) + np.arange(n_cookies, dtype=np.uint64)
    keys_d = np.uint64(KIOSK_KEY_BASE) + np.arange(n_devices, dtype=np.uint64)
    return hex_ids("ck_", keys_c, salt(seed, 1)), hex_ids("dv_", keys_d, salt(seed, 2))


def _id_tables(rng: np.random.Generator, cfg: GeneratorConfig, p: Persons) -> IdTables:
    b = cfg.behaviour
    kc, kd = kiosk_ids(cfg.seed, b.kiosk_cookies, b.kiosk_devices)
    ck_keys = (p.pid[:, None] * COOKIE_SLOTS + np.arange(COOKIE_SLOTS)).reshape(-1)
    dv_keys = (p.pid[:, None] * DEVICE_SLOTS + np.arange(DEVICE_SLOTS)).reshape(-1)
    nc, nd = len(ck_keys), len(dv_keys)
    device_type = rng.choice(3, size=nc, p=[0.5, 0.4, 0.1])
    browser = np.where(device_type == 1, rng.choice(5, size=nc, p=[0.5, 0.4, 0.02, 0.02, 0.06]),
                       rng.choice(5, size=nc, p=[0.62, 0.16, 0.1, 0.12, 0.0]))
    country = np.repeat(p.country, DEVICE_SLOTS)
    ios_share = np.array([0.55, 0.5, 0.4, 0.25, 0.5])[np.minimum(country, 4)]
    platform = (rng.random(nd) >= ios_share).astype(np.int8)
    return IdTables(
        users=digit_ids("U", p.pid + 1, 8),
        cookies=pa.concat_arrays([hex_ids("ck_", ck_keys, salt(cfg.seed, 1)), kc]),
        cookie_device_type=np.concatenate([device_type, np.full(len(kc), 2)]),
        cookie_browser=np.concatenate([browser, np.zeros(len(kc), dtype=np.int64)]),
        devices=pa.concat_arrays([hex_ids("dv_", dv_keys, salt(cfg.seed, 2)), kd]),
        device_platform=np.concatenate([platform, np.ones(len(kd), dtype=np.int8)]),
        cookie_variant=rng.integers(0, 3, nc + len(kc)),
    )


def _assign_kiosks(rng: np.random.Generator, s: Sessions, p: Persons, sessions: np.ndarray,
                   slot_idx: np.ndarray, first_kiosk_slot: int, n_kiosks: int,
                   users_per_kiosk: int) -> list[int]:
    """Move one logged-in session of distinct users onto shared kiosk ids."""
    cand = sessions[(s.state[sessions] == LOGIN) | (s.state[sessions] == REMEMBERED)]
    cand = cand[p.kind[s.person[cand]] == REGISTERED]
    if len(cand) == 0 or n_kiosks == 0:
        return [0] * n_kiosks
    cand = cand[rng.permutation(len(cand))]
    _, first = np.unique(s.person[cand], return_index=True)  # one session per person
    cand = cand[np.sort(first)]
    per = min(users_per_kiosk, len(cand) // (2 * n_kiosks))
    users = []
    for k in range(n_kiosks):
        chosen = cand[k * per:(k + 1) * per]
        pos = np.searchsorted(sessions, chosen)
        slot_idx[pos] = first_kiosk_slot + k
        s.state[chosen] = LOGIN
        s.first_on_device[chosen] = False
        s.last_on_device[chosen] = False
        users.append(len(chosen))
    return users


def build_chunk(cfg: GeneratorConfig, seeds: SeedData, catalog: Catalog, campaigns: Campaigns,
                chunk: int, first_pid: int, n: int, first_order: int,
                first_txn: int, planted: tuple[PlantedCampaign, ...] = ()) -> ChunkResult:
    """Generate the canonical (pre-defect) tables of one chunk; ``planted``: the
    campaigns whose effect is planted (campaign.planted_campaigns)."""

    def rng(component: int) -> np.random.Generator:
        return np.random.default_rng([cfg.seed, chunk, component])

    b = cfg.behaviour
    p = sample_persons(rng(RNG_PERSONS), cfg, seeds, first_pid, n)
    s = sample_sessions(rng(RNG_SESSIONS), cfg, seeds, p)
    ids = _id_tables(rng(RNG_IDS), cfg, p)

    w = np.flatnonzero(s.channel == WEB)
    a = np.flatnonzero(s.channel == APP)
    cookie_idx = s.person[w].astype(np.int64) * COOKIE_SLOTS + s.cookie[w]
    device_idx = s.person[a].astype(np.int64) * DEVICE_SLOTS + s.device[a]
    kiosk_users: dict[str, int] = {}
    if cfg.traps:
        kr = rng(RNG_KIOSK)
        ck_users = _assign_kiosks(kr, s, p, w, cookie_idx, n * COOKIE_SLOTS, b.kiosk_cookies,
                                  b.kiosk_users_per_chunk)
        dv_users = _assign_kiosks(kr, s, p, a, device_idx, n * DEVICE_SLOTS, b.kiosk_devices,
                                  b.kiosk_users_per_chunk)
        kc, kd = kiosk_ids(cfg.seed, b.kiosk_cookies, b.kiosk_devices)
        kiosk_users = {str(k): u for k, u in zip(kc.to_pylist(), ck_users, strict=True)}
        kiosk_users.update({str(k): u for k, u in zip(kd.to_pylist(), dv_users, strict=True)})

    web, web_last = build_web_events(rng(RNG_WEB), cfg.seed, chunk, s, w, cookie_idx, ids,
                                     catalog)
    app, app_last = build_app_events(rng(RNG_APP), cfg.seed, chunk, cfg.start_us, s, a,
                                     device_idx, ids, catalog)

    # orders from converting online sessions, at the end of the session
    last_us = np.zeros(len(s), dtype=np.int64)
    last_us[w] = web_last
    last_us[a] = app_last
    conv = np.flatnonzero(s.convert)
    orders, order_stats = build_orders(rng(RNG_ORDERS), cfg, seeds, p, s, conv, last_us[conv],
                                       ids, first_order)
    visits = np.flatnonzero(s.channel == STORE)
    pos, pos_stats = build_pos(rng(RNG_POS), cfg, seeds, p, s, visits, catalog, first_txn)

    crm_rng = rng(RNG_CRM)
    closed_us = closed_times(crm_rng, cfg, p, s.signup_us)
    messaging, unsub_at = build_messaging(rng(RNG_MSG), cfg, chunk, p, s.signup_us, closed_us,
                                          ids, campaigns)
    crm = build_crm(crm_rng, cfg, seeds, p, s.signup_us, closed_us, unsub_at, ids)
    tables = {"web_events": web, "app_events": app, "messaging_webhooks": messaging,
              "store_pos": pos, "online_orders": orders, "crm_customers": crm}
    extra, campaign_counts = _planted(cfg, seeds, catalog, chunk, p, ids, planted,
                                      first_order + orders.num_rows)
    for src, table in extra.items():
        tables[src] = _append_by_load(tables[src], table)

    population = {
        "persons": n,
        "registered": int(np.isin(p.kind, [REGISTERED, PROSPECT]).sum()),
        "prospects": int((p.kind == PROSPECT).sum()),
        "anonymous": int((p.kind == ANONYMOUS).sum()),
        "guests": int((p.kind == GUEST).sum()),
        "web_users": int(p.web.sum()),
        "app_users": int(p.app.sum()),
        "store_shoppers": int(p.store.sum()),
        "loyalty_card_holders": int(p.loyalty.sum()),
        "buyers": int(p.buyer.sum()),
        "reactivation_spells": int(p.react.sum()),
        "recent_decline": int(p.decline.sum()),
        "sessions": len(s),
        "orders": tables["online_orders"].num_rows,
        "store_transactions": len(visits),
        "unsubscribes": int((unsub_at >= 0).sum()),
    }
    return ChunkResult(
        tables=tables,
        population=population,
        traps={**order_stats, **pos_stats},
        kiosk_users=kiosk_users,
        campaigns=campaign_counts,
    )

