"""Messaging webhooks (ESP / SMS / push providers).

A run-wide campaign calendar (seeded by the run seed only, so campaign ids agree
across chunks) schedules email twice a week, push and in-app weekly, SMS every two
weeks and WhatsApp monthly. Each campaign targets 30-90 % of the registered persons
that can receive it at send time: signed up before the send, account not closed,
consent ``Y`` for the channel (in-app needs only the app) and an address (e-mail,
phone in a per-person raw format for SMS, E.164 for WhatsApp, device id for push and
in-app). Sends continue whether or not the person is still active, so message
events are *not* user activity.

Per send: ``send`` -> ``deliver`` (95 %) or ``bounce`` (1 %) -> ``open`` (~20 % of
sends) -> ``click`` (~3 % of sends); ``unsubscribe`` for ~0.2 % of sends, after which
that person gets no more campaigns on that channel (and the CRM consent flips to
``N``). Prospects never click or unsubscribe (those are user-initiated).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from .config import GeneratorConfig
from .contact import E164, random_formats
from .events import IdTables, loaded_after
from .ids import arrow_strings, chunk_keys, digit_ids, hex_ids, salt, take_strings
from .persons import CONSENT_Y, PROSPECT, REGISTERED, Persons
from .timeline import US_PER_DAY, US_PER_S

CHANNELS = ("email", "sms", "push", "whatsapp", "in_app")
EVENTS = ("send", "deliver", "open", "click", "bounce", "unsubscribe")
SEND, DELIVER, OPEN, CLICK, BOUNCE, UNSUB = range(6)
PER_WEEK = {"email": 2.0, "sms": 0.5, "push": 1.0, "whatsapp": 0.25, "in_app": 1.0}
#: consent column per channel (None: no consent needed)
CONSENT_COL = {"email": 0, "sms": 1, "push": 2, "whatsapp": 3, "in_app": None}
UNSUBSCRIBABLE = {"email", "sms", "whatsapp"}


@dataclass(frozen=True)
class Campaigns:
    """Run-wide campaign calendar, sorted by send time within each channel."""

    number: np.ndarray
    channel: np.ndarray
    send_us: np.ndarray
    audience: np.ndarray

    @classmethod
    def build(cls, cfg: GeneratorConfig) -> Campaigns:
        rng = np.random.default_rng([cfg.seed, 9_000_002])
        ch, send, aud = [], [], []
        for ci, name in enumerate(CHANNELS):
            k = max(1, round(cfg.days / 7 * PER_WEEK[name]))
            days = np.sort(rng.uniform(0, cfg.days - 1, k).astype(np.int64))
            hour = rng.uniform(8, 19, k)
            send.append(cfg.start_us + days * US_PER_DAY
                        + (hour * 3600 * US_PER_S).astype(np.int64))
            ch.append(np.full(k, ci, dtype=np.int8))
            aud.append(rng.uniform(0.3, 0.9, k))
        send_us, channel, audience = map(np.concatenate, (send, ch, aud))
        order = np.lexsort((send_us, channel))
        number = 1000 + np.arange(len(order)) % 9000
        return cls(number=number, channel=channel[order], send_us=send_us[order],
                   audience=audience[order])

    def __len__(self) -> int:
        return len(self.number)


def _segmented_prior_count(flag: np.ndarray, group_first: np.ndarray) -> np.ndarray:
    """Number of earlier ``flag`` rows in the same (sorted, contiguous) group."""
    cum = np.cumsum(flag)
    start = np.maximum.accumulate(np.where(group_first, np.arange(len(flag)), 0))
    return cum - flag - (cum[start] - flag[start])


def build_messaging(rng: np.random.Generator, cfg: GeneratorConfig, chunk: int, p: Persons,
                    signup_us: np.ndarray, closed_us: np.ndarray, ids: IdTables,
                    campaigns: Campaigns) -> tuple[pa.Table, np.ndarray]:
    """Webhook rows of the chunk; also returns per-person unsubscribe time per consent
    channel (``(n, 4)`` int64, -1 when none)."""
    registered = (p.kind == REGISTERED) | (p.kind == PROSPECT)
    unsub_at = np.full((p.n, 4), -1, dtype=np.int64)
    # recipient strings per person and channel
    email = arrow_strings(p.email)
    sms = arrow_strings(p.phones.render(np.arange(p.n), random_formats(
        rng, p.n, (0.6, 0.15, 0.0, 0.05, 0.2, 0.0))))
    wa = arrow_strings(p.phones.render(np.arange(p.n), np.full(p.n, E164)))
    dev = ids.devices.take(pa.array(np.arange(p.n) * 2))
    recipients = {"email": email, "sms": sms, "push": dev, "whatsapp": wa, "in_app": dev}
    address = {"email": p.has_email, "sms": p.has_phone, "push": p.app, "whatsapp": p.has_phone,
               "in_app": p.app}

    parts_send_person, parts_send_camp, parts_send_us = [], [], []
    for ci, name in enumerate(CHANNELS):
        col = CONSENT_COL[name]
        ok = registered & address[name] & ~((p.kind == PROSPECT) & (name == "in_app"))
        if col is not None:
            ok &= p.consent[:, col] == CONSENT_Y
        elig = np.flatnonzero(ok)
        camps = np.flatnonzero(campaigns.channel == ci)
        if len(elig) == 0 or len(camps) == 0:
            continue
        pi_parts, ci_parts = [], []
        for blk in np.array_split(camps, max(1, len(camps) // 32)):
            send = campaigns.send_us[blk][None, :]
            u = rng.random((len(elig), len(blk)), dtype=np.float32)
            m = u < campaigns.audience[blk][None, :]
            m &= signup_us[elig][:, None] <= send
            m &= (closed_us[elig][:, None] < 0) | (closed_us[elig][:, None] > send)
            pi, cj = np.nonzero(m)
            pi_parts.append(elig[pi])
            ci_parts.append(blk[cj])
        who = np.concatenate(pi_parts)
        camp = np.concatenate(ci_parts)
        order = np.lexsort((campaigns.send_us[camp], who))
        who, camp = who[order], camp[order]
        jitter = (rng.uniform(0, 2, len(who)) * 3600 * US_PER_S).astype(np.int64)
        t = campaigns.send_us[camp] + jitter
        parts_send_person.append(who)
        parts_send_camp.append(camp)
        parts_send_us.append(t)

    if not parts_send_person:
        return _empty_table(), unsub_at
    who = np.concatenate(parts_send_person)
    camp = np.concatenate(parts_send_camp)
    t_send = np.concatenate(parts_send_us)
    chan = campaigns.channel[camp]
    n = len(who)

    u = rng.random(n)
    bounce = u < 0.01
    deliver = (u >= 0.01) & (u < 0.96)
    opened = deliver & (rng.random(n) < 0.2 / 0.95)
    user_ok = p.kind[who] != PROSPECT
    click = opened & user_ok & (rng.random(n) < 0.15)
    can_unsub = np.isin(chan, [CHANNELS.index(c) for c in UNSUBSCRIBABLE])
    unsub = deliver & user_ok & can_unsub & (rng.random(n) < 0.002)

    t_deliver = t_send + (rng.uniform(1, 60, n) * US_PER_S).astype(np.int64)
    t_bounce = t_send + (rng.uniform(1, 30, n) * US_PER_S).astype(np.int64)
    t_open = t_deliver + np.minimum(rng.lognormal(np.log(2 * 3600), 1.0, n), 72 * 3600
                                    ).astype(np.int64) * US_PER_S
    t_click = t_open + (rng.uniform(5, 300, n) * US_PER_S).astype(np.int64)
    t_unsub = np.where(opened, t_open, t_deliver) + (rng.uniform(10, 600, n) * US_PER_S
                                                     ).astype(np.int64)
    unsub &= t_unsub < cfg.end_us
    # after an unsubscribe, later sends of that channel to that person are not made
    key = who.astype(np.int64) * 8 + chan
    order = np.lexsort((t_send, key))
    first = np.ones(n, dtype=bool)
    first[1:] = key[order][1:] != key[order][:-1]
    prior = _segmented_prior_count(unsub[order], first)
    keep = np.ones(n, dtype=bool)
    keep[order[prior > 0]] = False

    unsub &= keep
    for j, name in enumerate(("email", "sms", "push", "whatsapp")):
        m = unsub & (chan == CHANNELS.index(name))
        unsub_at[who[m], j] = t_unsub[m]

    rows_send, rows_evt, rows_t = [], [], []
    for evt, mask, ts in ((SEND, keep, t_send), (DELIVER, deliver & keep, t_deliver),
                          (BOUNCE, bounce & keep, t_bounce), (OPEN, opened & keep, t_open),
                          (CLICK, click & keep, t_click), (UNSUB, unsub, t_unsub)):
        idx = np.flatnonzero(mask & (ts < cfg.end_us))
        rows_send.append(idx)
        rows_evt.append(np.full(len(idx), evt, dtype=np.int8))
        rows_t.append(ts[idx])
    send_idx = np.concatenate(rows_send)
    evt = np.concatenate(rows_evt)
    ts = np.concatenate(rows_t)
    loaded = loaded_after(rng, ts)
    order = np.argsort(loaded, kind="stable")
    send_idx, evt, ts, loaded = send_idx[order], evt[order], ts[order], loaded[order]
    R = len(send_idx)

    rp = who[send_idx]
    rc = chan[send_idx]
    recipient = pa.array([], pa.string())
    rec_idx = np.empty(R, dtype=np.int64)
    # recipients: gather per channel then reorder into row order
    pieces, positions = [], []
    for ci, name in enumerate(CHANNELS):
        pos = np.flatnonzero(rc == ci)
        if len(pos):
            pieces.append(recipients[name].take(pa.array(rp[pos])))
            positions.append(pos)
    if pieces:
        allpos = np.concatenate(positions)
        rec_idx[allpos] = np.arange(R)
        recipient = pa.concat_arrays(pieces).take(pa.array(rec_idx))

    table = pa.table({
        "webhook_id": hex_ids("wh_", chunk_keys(chunk, R), salt(cfg.seed, 22)),
        "message_id": hex_ids("msg_", (np.uint64(chunk) << np.uint64(40))
                              | send_idx.astype(np.uint64), salt(cfg.seed, 21)),
        "channel": take_strings(list(CHANNELS), rc),
        "event": take_strings(list(EVENTS), evt),
        "recipient": recipient,
        "campaign_id": digit_ids("C", campaigns.number, 4).take(pa.array(camp[send_idx])),
        "__event_us": ts,
        "__loaded_us": loaded,
    })
    return table, unsub_at


def _empty_table() -> pa.Table:
    s = pa.array([], pa.string())
    i = pa.array([], pa.int64())
    return pa.table({"webhook_id": s, "message_id": s, "channel": s, "event": s,
                     "recipient": s, "campaign_id": s, "__event_us": i, "__loaded_us": i})
