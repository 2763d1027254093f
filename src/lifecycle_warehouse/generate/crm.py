"""CRM customer snapshot: one row per registered person (prospects included).

The snapshot is taken 2 h after the range end. E-mails are raw (random case and
stray spaces), phones are raw in any of the contract formats, consents are
``Y``/``N``/empty (an unsubscribe seen in messaging flips the flag to ``N``), ~3 % of
accounts are closed, ~10 % were referred by another registered person of the same
chunk who signed up earlier. ``updated_at`` is the latest of signup, unsubscribe,
account closure and an occasional profile edit.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from .config import GeneratorConfig, SeedData
from .contact import random_formats, typed_emails
from .events import IdTables
from .ids import arrow_strings, take_strings
from .persons import CONSENT_EMPTY, CONSENT_N, CONSENT_Y, Persons
from .timeline import US_PER_DAY, US_PER_S

_CONSENT_VOCAB = [None, "Y", "N"]


def closed_times(rng: np.random.Generator, cfg: GeneratorConfig, p: Persons,
                 signup_us: np.ndarray) -> np.ndarray:
    """When closed accounts were closed (-1 for open accounts)."""
    at = signup_us + (rng.random(p.n) * np.maximum(cfg.end_us - signup_us, 0)).astype(np.int64)
    return np.where(p.closed & (signup_us >= 0), at, -1)


def build_crm(rng: np.random.Generator, cfg: GeneratorConfig, seeds: SeedData, p: Persons,
              signup_us: np.ndarray, closed_us: np.ndarray, unsub_at: np.ndarray,
              ids: IdTables) -> pa.Table:
    b = cfg.behaviour
    reg = np.flatnonzero(p.registered)
    n = len(reg)
    s_us = signup_us[reg]

    # referral: a registered person of the chunk who signed up earlier
    order = np.argsort(s_us, kind="stable")
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    referred = (rng.random(n) < b.p_referred) & (rank > 0)
    ref_pos = order[(rng.random(n) * rank).astype(np.int64)]
    referrer = reg[ref_pos]

    consent = p.consent[reg].copy()
    unsub = unsub_at[reg]
    consent[unsub >= 0] = CONSENT_N
    consent = np.where((consent == CONSENT_Y) | (consent == CONSENT_N), consent, CONSENT_EMPTY)

    edit = np.where(rng.random(n) < 0.3,
                    s_us + (rng.random(n) * np.maximum(cfg.end_us - s_us, 0)).astype(np.int64), -1)
    updated = np.max(np.column_stack([s_us, unsub.max(axis=1), closed_us[reg], edit]), axis=1)
    updated = np.minimum(updated, cfg.end_us - 1)
    loaded = cfg.end_us + 2 * 3600 * US_PER_S + (rng.random(n) * 600 * US_PER_S).astype(np.int64)

    phone = p.phones.render(reg, random_formats(rng, n))
    signup_date = (s_us // US_PER_DAY).astype("datetime64[D]").astype(str)
    codes = [c.code for c in seeds.countries]
    return pa.table({
        "customer_id": ids.users.take(pa.array(reg)),
        "email": arrow_strings(typed_emails(rng, p.email[reg])),
        "phone": arrow_strings(phone, ~p.has_phone[reg]),
        "first_name": arrow_strings(p.first_name[reg]),
        "country": take_strings(codes, p.country[reg]),
        "signup_date": pa.array(signup_date, pa.string()),
        "consent_email": take_strings(_CONSENT_VOCAB, consent[:, 0]),
        "consent_sms": take_strings(_CONSENT_VOCAB, consent[:, 1]),
        "consent_push": take_strings(_CONSENT_VOCAB, consent[:, 2]),
        "consent_whatsapp": take_strings(_CONSENT_VOCAB, consent[:, 3]),
        "account_closed": pa.array(p.closed[reg]),
        "referred_by": ids.users.take(pa.array(referrer, mask=~referred)),
        "__updated_us": updated,
        "__loaded_us": loaded,
    })
