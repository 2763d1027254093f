"""Web and app clickstream events built from sessions.

A session expands into a funnel of events with decreasing probabilities:

* web: ``page_view`` (landing, carries the UTM parameters) -> optional ``login`` /
  ``signup`` -> more ``page_view`` / ``product_view`` / ``search`` ->
  ``add_to_cart`` (15 %; always in converting sessions) -> ``remove_from_cart`` ->
  ``checkout_start`` (converting sessions, plus some abandoned checkouts).
* app: ``app_install`` (first session on a device) -> ``app_open`` -> optional
  ``login`` -> ``screen_view`` / ``product_view`` -> ``add_to_cart`` ->
  ``checkout_start`` -> ``app_uninstall`` (sometimes, on a device's last session).

Events of a session are a few seconds to minutes apart (exponential gaps, mean 40 s).
``user_id`` is null before the login/signup event of a session and set after it
(or for the whole session when the visitor is remembered), which is what links a
cookie or device to a user. Rows are loaded 5-180 minutes after the event.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .catalog import Catalog
from .ids import chunk_keys, digit_ids, hex_ids, salt, take_strings
from .timeline import LOGIN, REMEMBERED, SIGNUP, US_PER_S, Sessions

WEB_TYPES = ("page_view", "product_view", "search", "add_to_cart", "remove_from_cart",
             "checkout_start", "login", "signup")
APP_TYPES = ("app_install", "app_uninstall", "app_open", "screen_view", "product_view",
             "add_to_cart", "checkout_start", "login")
SITE = "https://shop.example.com"
PAGES = ("/", "/c/women", "/c/men", "/c/kids", "/c/home", "/c/sale", "/c/new-arrivals",
         "/stores", "/help/shipping", "/help/returns", "/gift-cards")
SEARCH_TERMS = ("sneakers", "rain+jacket", "linen+shirt", "backpack", "running", "gift",
                "dress", "sale", "wool+socks", "sunglasses")
UTM = (  # source, medium, campaign
    ("google", "cpc", "brand_search"), ("google", "cpc", "generic_search"),
    ("google", "organic", None), ("facebook", "paid_social", "spring_sale"),
    ("instagram", "paid_social", "new_arrivals"), ("newsletter", "email", "weekly_digest"),
    ("newsletter", "email", "winback_30d"), ("bing", "cpc", "brand_search"),
    ("tiktok", "paid_social", "creator_collab"), ("affiliate", "referral", "partner_deals"),
)
DEVICE_TYPES = ("desktop", "mobile", "tablet")
BROWSERS = ("Chrome", "Safari", "Firefox", "Edge", "Samsung Internet")
PLATFORMS = ("iOS", "Android")
VARIANTS = ("control", "variant_a", "variant_b")


@dataclass
class IdTables:
    """Per-chunk identifier strings; sessions index into these."""

    users: pa.StringArray  # per local person
    cookies: pa.StringArray  # person * 3 + slot, then kiosk cookies
    cookie_device_type: np.ndarray
    cookie_browser: np.ndarray
    devices: pa.StringArray  # person * 2 + slot, then kiosk devices
    device_platform: np.ndarray
    cookie_variant: np.ndarray  # A/B bucket of a cookie (schema-drift column)


def loaded_after(rng: np.random.Generator, event_us: np.ndarray) -> np.ndarray:
    """Normal load latency: 5-180 minutes after the event."""
    return event_us + (rng.uniform(5, 180, len(event_us)) * 60 * US_PER_S).astype(np.int64)


def _explode(rng: np.random.Generator,
             blocks: list[tuple[int, int, np.ndarray]]) -> tuple[np.ndarray, ...]:
    """Expand per-session event counts into events ordered by (session, stage)."""
    sess, typ, stage = [], [], []
    for t, st, counts in blocks:
        counts = counts.astype(np.int64)
        s = np.repeat(np.arange(len(counts)), counts)
        sess.append(s)
        typ.append(np.full(len(s), t, dtype=np.int8))
        stage.append(np.full(len(s), st, dtype=np.int8))
    s, t, st = np.concatenate(sess), np.concatenate(typ), np.concatenate(stage)
    key = s * 8.0 + st + rng.random(len(s)) * 0.999
    order = np.argsort(key)
    return s[order], t[order], st[order]


def _event_times(rng: np.random.Generator, sess: np.ndarray,
                 start_us: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Timestamps a few seconds to minutes apart; returns (ts, first_mask, last_us)."""
    n = len(sess)
    first = np.ones(n, dtype=bool)
    first[1:] = sess[1:] != sess[:-1]
    gap = ((1.0 + rng.exponential(40.0, n)) * US_PER_S).astype(np.int64)
    gap[first] = 0
    cum = np.cumsum(gap)
    first_idx = np.maximum.accumulate(np.where(first, np.arange(n), 0))
    ts = start_us[sess] + cum - cum[first_idx]
    last_us = np.zeros(len(start_us), dtype=np.int64)
    last_us[sess] = ts  # sorted by time within a session -> last write wins
    return ts, first, last_us


def build_web_events(rng: np.random.Generator, seed: int, chunk: int, s: Sessions,
                     w: np.ndarray, cookie_idx: np.ndarray, ids: IdTables,
                     catalog: Catalog) -> tuple[pa.Table, np.ndarray]:
    """Web events of sessions ``w``; returns the table and each session's last event time."""
    S = len(w)
    state, conv = s.state[w], s.convert[w]
    c_add = np.where(conv, 1 + (rng.random(S) < 0.3), rng.random(S) < 0.15).astype(np.int64)
    blocks = [
        (0, 0, np.ones(S)),
        (6, 1, state == LOGIN),
        (7, 1, state == SIGNUP),
        (0, 2, rng.geometric(0.5, S) - 1),
        (1, 2, np.maximum(rng.poisson(1.5, S), conv)),
        (2, 2, rng.random(S) < 0.3),
        (3, 3, c_add),
        (4, 4, (c_add > 0) & (rng.random(S) < 0.08)),
        (5, 5, conv | ((c_add > 0) & (rng.random(S) < 0.12))),
    ]
    sess, typ, stage = _explode(rng, blocks)
    E = len(sess)
    ts, first, last_us = _event_times(rng, sess, s.start_us[w])
    loaded = loaded_after(rng, ts)
    # rows in load order (what a loader appends); strings are built in that order
    o = np.argsort(loaded, kind="stable")
    sess, typ, stage, ts, first, loaded = sess[o], typ[o], stage[o], ts[o], first[o], loaded[o]
    person = s.person[w][sess]

    st = state[sess]
    has_user = (st == REMEMBERED) | (((st == LOGIN) | (st == SIGNUP)) & (stage >= 1))
    ck = cookie_idx[sess]

    # URLs and products
    has_product = (typ == 1) | (typ == 3) | (typ == 4)
    prod = catalog.sample(rng, E)
    url_vocab = [SITE + p for p in PAGES] + [f"{SITE}/search?q={q}" for q in SEARCH_TERMS] + [
        f"{SITE}/cart", f"{SITE}/checkout", f"{SITE}/account/login", f"{SITE}/account/signup"]
    n_p, n_q = len(PAGES), len(SEARCH_TERMS)
    fixed = np.array([0, 0, 0, n_p + n_q, n_p + n_q, n_p + n_q + 1, n_p + n_q + 2,
                      n_p + n_q + 3])
    url_idx = fixed[typ]
    url_idx = np.where(typ == 0, (rng.random(E) ** 1.8 * n_p).astype(np.int64), url_idx)
    url_idx = np.where(typ == 2, n_p + (rng.random(E) * n_q).astype(np.int64), url_idx)
    page_url = take_strings(url_vocab, url_idx)
    product_url = digit_ids(SITE + "/p/P", catalog.number[prod], 5)
    page_url = pc.if_else(pa.array(typ == 1), product_url, page_url)

    utm_pick = (rng.random(S) * len(UTM)).astype(np.int64)
    utm_on = (rng.random(S) < 0.35)[sess] & first
    utm_idx = utm_pick[sess]
    utm_cols = [take_strings([u[j] for u in UTM], utm_idx, ~utm_on) for j in range(3)]

    table = pa.table({
        "event_id": hex_ids("we_", chunk_keys(chunk, E), salt(seed, 11)),
        "cookie_id": ids.cookies.take(pa.array(ck)),
        "user_id": ids.users.take(pa.array(person, mask=~has_user)),
        "event_type": take_strings(list(WEB_TYPES), typ),
        "__event_us": ts,
        "page_url": page_url,
        "product_id": catalog.ids.take(pa.array(prod, mask=~has_product)),
        "device_type": take_strings(list(DEVICE_TYPES), ids.cookie_device_type[ck]),
        "browser": take_strings(list(BROWSERS), ids.cookie_browser[ck]),
        "utm_source": utm_cols[0],
        "utm_medium": utm_cols[1],
        "utm_campaign": utm_cols[2],
        "__loaded_us": loaded,
        "__variant": take_strings(list(VARIANTS), ids.cookie_variant[ck]),
    })
    return table, last_us


def app_versions(n_versions: int) -> list[str]:
    """Release train: a new version every 3 weeks (``5.0.0``, ``5.0.1``, ...)."""
    return [f"{5 + i // 15}.{(i // 3) % 5}.{i % 3}" for i in range(n_versions)]


def build_app_events(rng: np.random.Generator, seed: int, chunk: int, range_start_us: int,
                     s: Sessions, a: np.ndarray, device_idx: np.ndarray,
                     ids: IdTables, catalog: Catalog) -> tuple[pa.Table, np.ndarray]:
    """App events of sessions ``a``; returns the table and each session's last event time."""
    S = len(a)
    state, conv = s.state[a], s.convert[a]
    c_add = np.where(conv, 1 + (rng.random(S) < 0.3), rng.random(S) < 0.18).astype(np.int64)
    blocks = [
        (0, 0, s.first_on_device[a]),
        (2, 1, np.ones(S)),
        (7, 2, state == LOGIN),
        (3, 3, 1 + rng.poisson(2.0, S)),
        (4, 3, np.maximum(rng.poisson(1.2, S), conv)),
        (5, 4, c_add),
        (6, 5, conv | ((c_add > 0) & (rng.random(S) < 0.1))),
        (1, 6, s.last_on_device[a] & (rng.random(S) < 0.15)),
    ]
    sess, typ, stage = _explode(rng, blocks)
    E = len(sess)
    ts, _, last_us = _event_times(rng, sess, s.start_us[a])
    loaded = loaded_after(rng, ts)
    o = np.argsort(loaded, kind="stable")
    sess, typ, stage, ts, loaded = sess[o], typ[o], stage[o], ts[o], loaded[o]
    person = s.person[a][sess]
    st = state[sess]
    has_user = (st == REMEMBERED) | ((st == LOGIN) & (stage >= 2))
    dv = device_idx[sess]

    weeks3 = 21 * 86_400 * US_PER_S
    release = (s.start_us[a] - range_start_us) // weeks3 + 6
    lag = rng.choice(3, size=S, p=[0.6, 0.3, 0.1])
    version = np.maximum(release - lag, 0)
    vocab = app_versions(int(version.max(initial=0)) + 1)

    table = pa.table({
        "event_id": hex_ids("ae_", chunk_keys(chunk, E), salt(seed, 12)),
        "device_id": ids.devices.take(pa.array(dv)),
        "user_id": ids.users.take(pa.array(person, mask=~has_user)),
        "event_name": take_strings(list(APP_TYPES), typ),
        "__event_us": ts,
        "platform": take_strings(list(PLATFORMS), ids.device_platform[dv]),
        "app_version": take_strings(vocab, version[sess]),
        "__loaded_us": loaded,
    })
    return table, last_us
