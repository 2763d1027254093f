"""Activity timeline: when each person shows up, and through which channel.

An *occasion* is one web session, one app session or one store visit. Occasion
times are drawn per person from an inhomogeneous Poisson process whose intensity is
``rate0 * 2 ** (-(t - first_seen) / half_life)`` (closed-form inverse-CDF sampling,
so no person x day matrix is ever built). Reactivating persons get a second segment
after their silent gap; persons in recent decline lose ~92 % of their occasions in
the last 60 days. Occasions are thinned by weekday and yearly seasonality, then get
a local time of day with a diurnal shape (evening peak online, afternoon peak in
stores) and are converted to UTC with the real time zone of the country / store.

The timeline also decides identity state per online session: the registered
person's signup happens in their 1st-4th online session (sessions before it are
anonymous), later web sessions are logged in with a person-specific probability,
and app devices stay logged in after the first login on that device.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .config import GeneratorConfig, SeedData
from .persons import PROSPECT, REGISTERED, WEEKDAY_WEIGHT, Persons, yearly_weight

WEB, APP, STORE = 0, 1, 2
# web session identity state
ANON, REMEMBERED, LOGIN, SIGNUP = 0, 1, 2, 3

US_PER_S = 1_000_000
US_PER_DAY = 86_400 * US_PER_S
MAX_OCCASIONS_PER_PERSON = 3_000

# local hour-of-day weights
ONLINE_HOURS = np.array([2, 1, 0.6, 0.4, 0.4, 0.6, 1.2, 2.5, 4, 4.5, 4.5, 5, 5.5, 5, 4.5, 4.5,
                         4.8, 5.2, 6, 7, 7.5, 7, 5.5, 3.5])
STORE_HOURS = np.array([0] * 9 + [2, 4, 6, 7, 7, 6.5, 6.5, 7, 7.5, 7, 5, 2] + [0] * 3)


@dataclass
class Sessions:
    """Occasions of one chunk, sorted by (person, start)."""

    person: np.ndarray  # local person index
    start_us: np.ndarray  # UTC epoch microseconds
    channel: np.ndarray
    store: np.ndarray  # store index (store visits)
    state: np.ndarray  # identity state (online sessions)
    cookie: np.ndarray  # cookie slot 0..2 (web)
    device: np.ndarray  # device slot 0..1 (app)
    convert: np.ndarray  # online session ends in an order
    guest_checkout: np.ndarray  # order placed without logging in
    first_on_device: np.ndarray
    last_on_device: np.ndarray
    signup_us: np.ndarray  # per person: signup time (registered), else -1

    def __len__(self) -> int:
        return len(self.person)


def _segment_times(rng: np.random.Generator, person: np.ndarray, start: np.ndarray,
                   end: np.ndarray, rate: np.ndarray, half_life: np.ndarray,
                   norm: float) -> tuple[np.ndarray, np.ndarray]:
    """Sample occasion times on [start, end) with exponentially decaying intensity."""
    length = np.maximum(end - start, 0.0)
    k = np.log(2) / half_life
    mass = 1.0 - np.exp(-k * length)
    lam = rate / k * mass / norm
    counts = np.minimum(rng.poisson(lam), MAX_OCCASIONS_PER_PERSON)
    pos = np.repeat(np.arange(len(person)), counts)
    u = rng.random(len(pos))
    t = start[pos] - np.log1p(-u * mass[pos]) / k[pos]
    return person[pos], np.minimum(t, end[pos] - 1e-6)


def _localize(local_us: np.ndarray, tz: str) -> np.ndarray:
    """Local wall-clock microseconds -> UTC microseconds (DST aware)."""
    idx = pd.DatetimeIndex(local_us.astype("datetime64[us]"))
    loc = idx.tz_localize(tz, ambiguous=np.zeros(len(idx), dtype=bool),
                          nonexistent="shift_forward")
    return loc.tz_convert("UTC").tz_localize(None).asi8.astype(np.int64)


def _group_starts(keys: np.ndarray) -> np.ndarray:
    """Boolean mask of the first element of each run of equal (sorted) keys."""
    first = np.ones(len(keys), dtype=bool)
    first[1:] = keys[1:] != keys[:-1]
    return first


def _rank_in_group(first: np.ndarray) -> np.ndarray:
    idx = np.arange(len(first))
    start = np.maximum.accumulate(np.where(first, idx, 0))
    return idx - start


def sample_sessions(rng: np.random.Generator, cfg: GeneratorConfig, seeds: SeedData,
                    p: Persons) -> Sessions:
    """Draw all occasions of the chunk's persons (see module docstring)."""
    T = float(cfg.days)
    everyone = np.arange(p.n)
    act = p.kind != PROSPECT  # prospects never act
    # seasonal thinning acceptance, normalised so that rates stay calibrated
    d = np.arange(cfg.days)
    dates = np.datetime64(cfg.start_date) + d
    weekday = (dates.astype("int64") - 4) % 7
    doy = (dates - dates.astype("datetime64[Y]")).astype(int)
    accept_day = WEEKDAY_WEIGHT[weekday] * yearly_weight(doy)
    accept_day = accept_day / accept_day.max()
    norm = float(accept_day.mean())

    seg_a_end = np.where(p.react, p.gap_start, T)
    who_a, t_a = _segment_times(rng, everyone[act], p.first_seen[act], seg_a_end[act],
                                p.rate0[act], p.half_life[act], norm)
    rb = act & p.react
    b_start = p.gap_start + p.gap_len
    who_b, t_b = _segment_times(rng, everyone[rb], b_start[rb], np.full(p.n, T)[rb],
                                (p.rate0 * p.react_boost)[rb], p.half_life[rb], norm)
    who = np.concatenate([who_a, who_b])
    t = np.concatenate([t_a, t_b])
    day = np.minimum(t.astype(np.int64), cfg.days - 1)

    keep = rng.random(len(t)) < accept_day[day]
    keep &= ~(p.decline[who] & (t >= T - 60) & (rng.random(len(t)) < 0.92))
    store_only = p.store & ~p.web & ~p.app
    keep &= ~(store_only[who] & (rng.random(len(t)) < 0.5))
    who, day = who[keep], day[keep]
    n = len(who)

    # channel
    u = rng.random(n)
    channel = np.where(u < p.p_store[who], STORE,
                       np.where(rng.random(n) < p.p_app[who], APP, WEB)).astype(np.int8)

    # store choice: home store 85 %, otherwise another store of the same country
    store_country = np.array([[c.code for c in seeds.countries].index(s.country)
                              for s in seeds.stores])
    store = p.home_store[who].astype(np.int8)
    roam = (channel == STORE) & (rng.random(n) < 0.15)
    if roam.any():
        cands = [np.flatnonzero(store_country == ci) for ci in range(len(seeds.countries))]
        pick = rng.random(n)
        for ci, c in enumerate(cands):
            m = roam & (p.country[who] == ci)
            if len(c):
                store[m] = c[(pick[m] * len(c)).astype(np.intp)]

    # local time of day, then UTC
    hour_online = rng.choice(24, size=n, p=ONLINE_HOURS / ONLINE_HOURS.sum())
    hour_store = rng.choice(24, size=n, p=STORE_HOURS / STORE_HOURS.sum())
    is_store = channel == STORE
    hour = np.where(is_store, hour_store, hour_online)
    local_us = (cfg.start_us + day * US_PER_DAY + hour * 3600 * US_PER_S
                + (rng.random(n) * 3600 * US_PER_S).astype(np.int64))
    start_us = np.empty(n, dtype=np.int64)
    for ci, c in enumerate(seeds.countries):
        m = ~is_store & (p.country[who] == ci)
        if m.any():
            start_us[m] = _localize(local_us[m], c.timezone)
    for si, s in enumerate(seeds.stores):
        m = is_store & (store == si)
        if m.any():
            start_us[m] = _localize(local_us[m], s.timezone)
    # keep sessions inside the range (sessions last < 2 h)
    start_us = np.where(start_us < cfg.start_us, start_us + US_PER_DAY, start_us)
    limit = cfg.end_us - 2 * 3600 * US_PER_S
    start_us = np.where(start_us > limit, start_us - US_PER_DAY, start_us)
    start_us = np.clip(start_us, cfg.start_us, limit)

    order = np.lexsort((start_us, who))
    who, start_us, channel, store = who[order], start_us[order], channel[order], store[order]
    return _identity_states(rng, cfg, p, who, start_us, channel, store)


def _identity_states(rng: np.random.Generator, cfg: GeneratorConfig, p: Persons,
                     who: np.ndarray, start_us: np.ndarray, channel: np.ndarray,
                     store: np.ndarray) -> Sessions:
    n = len(who)
    b = cfg.behaviour
    online = channel != STORE
    # rank of each online session within its person
    on_idx = np.flatnonzero(online)
    on_who = who[on_idx]
    rank = np.full(n, -1, dtype=np.int64)
    rank[on_idx] = _rank_in_group(_group_starts(on_who))
    n_online = np.bincount(on_who, minlength=p.n)

    registered = p.kind == REGISTERED
    k = rng.choice(4, size=p.n, p=[0.55, 0.2, 0.15, 0.1])
    k = np.minimum(k, np.maximum(n_online - 1, 0))
    signup_sess = online & registered[who] & (rank == k[who])
    signup_us = np.full(p.n, -1, dtype=np.int64)
    signup_us[who[signup_sess]] = start_us[signup_sess] + 30 * 1_000_000
    # registered without online sessions: signed up at first store visit or first seen
    first_seen_us = cfg.start_us + (p.first_seen * US_PER_DAY).astype(np.int64)
    no_online = p.registered & (signup_us < 0)
    first_any = np.full(p.n, np.iinfo(np.int64).max)
    np.minimum.at(first_any, who, start_us)
    signup_us[no_online] = np.minimum(first_any[no_online], first_seen_us[no_online])
    signup_us[no_online] = np.clip(signup_us[no_online], cfg.start_us, cfg.end_us - 1)

    after = online & registered[who] & (rank > k[who])
    # conversion: per-session draw, plus one guaranteed conversion per buyer
    convert = online & p.buyer[who] & (rng.random(n) < p.conv[who])
    key = np.where(online & p.buyer[who], rng.random(n), 2.0)
    ordr = np.lexsort((key, who))
    firsts = ordr[_group_starts(who[ordr])]
    firsts = firsts[key[firsts] < 2.0]
    convert[firsts] = True
    guest_checkout = convert & ~(registered[who] & (after | signup_sess))
    guest_checkout |= convert & after & (rng.random(n) < b.guest_checkout_share)

    state = np.full(n, ANON, dtype=np.int8)
    web = channel == WEB
    logged = after & ~guest_checkout & ((rng.random(n) < p.p_login[who]) | convert)
    explicit = rng.random(n) < 0.5
    state[web & logged] = np.where(explicit[web & logged], LOGIN, REMEMBERED)
    state[web & signup_sess] = SIGNUP

    cookie = (rng.random(n) * p.n_cookies[who]).astype(np.int8)
    device = (rng.random(n) * p.n_devices[who]).astype(np.int8)

    # app: first post-signup session on a device logs in, later ones stay logged in
    app = channel == APP
    a_idx = np.flatnonzero(app)
    dev_key = who[a_idx].astype(np.int64) * 4 + device[a_idx]
    a_order = a_idx[np.lexsort((start_us[a_idx], dev_key))]
    dk = who[a_order].astype(np.int64) * 4 + device[a_order]
    first_dev = _group_starts(dk)
    last_dev = np.ones(len(dk), dtype=bool)
    last_dev[:-1] = dk[1:] != dk[:-1]
    first_on_device = np.zeros(n, dtype=bool)
    last_on_device = np.zeros(n, dtype=bool)
    first_on_device[a_order[first_dev]] = True
    last_on_device[a_order[last_dev]] = True
    post = (after | signup_sess)[a_order]
    cum = np.cumsum(post)
    grp_start = np.maximum.accumulate(np.where(first_dev, np.arange(len(dk)), 0))
    before = cum - post - (cum[grp_start] - post[grp_start])
    app_state = np.where(post, np.where(before == 0, LOGIN, REMEMBERED), ANON)
    state[a_order] = app_state.astype(np.int8)

    return Sessions(
        person=who, start_us=start_us, channel=channel, store=store, state=state,
        cookie=cookie, device=device, convert=convert, guest_checkout=guest_checkout,
        first_on_device=first_on_device, last_on_device=last_on_device, signup_us=signup_us,
    )
