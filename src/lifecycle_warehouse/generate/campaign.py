"""Planted campaign effects: a campaign of ``seeds/campaigns.csv`` with a real, known effect.

For each campaign of the seed (the one campaign list; read by ``config.load_seeds``)
that has an effect in ``Behaviour.campaign_effects`` and whose outcome window
(``starts_on`` + 1 day .. ``starts_on`` + ``outcome_window_days``, UTC days) lies
inside the generated range, every *eligible* person who is not in the campaign's
holdout gets, with probability ``effect`` (``extra_order_probability``), one extra
online order at a uniformly random time of the window (at least 3 hours before its
end, so the session, the order and its ``updated_at`` stay inside it).

Eligible: a registered, non-prospect person (has a user id, ``U`` + 8 digits, and
acts) first seen by the end of ``starts_on``, i.e. anyone who can be in an audience
on that day. The holdout is the warehouse's rule
(:func:`lifecycle_warehouse.activation.holdout.is_holdout` over the user id, which is the
warehouse's external id of the person; see docs/activation.md), so the extra orders
go to exactly the persons the warehouse counts as treated. Audience members without
a user id (guest buyers) get no extra order in either group.

The extra order is a logged-in, converting web or app session (the person's app if
they use it and the draw says so, else the web) built by the same ``events`` and
``commerce`` code as every other order (``checkout_start`` then the order 30 s-10 min
after the session's last event), with one difference: it is never cancelled, so it
always counts as an order. It is independent of the person's natural orders, so in
any audience of eligible persons the expected lift of the repurchase rate (share
with >= 1 order in the window) is ``effect * (1 - control repurchase rate)``.
Landing defects apply to these rows like to all others (~0.5 % of orders get a
malformed id or amount), which lowers the measured lift by a negligible amount.

Everything is vectorised per chunk; only the ~``effect`` share of eligible persons
drawn for an extra order is hashed (one md5 each), the holdout decision being
independent of that draw.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from lifecycle_warehouse.activation.holdout import holdout_unit

from .config import GeneratorConfig, SeedData
from .persons import REGISTERED, Persons
from .timeline import APP, LOGIN, US_PER_DAY, US_PER_S, WEB, Sessions

#: Chunk-key offset of the planted sessions' event ids (distinct from every chunk's own).
EVENT_KEY_CHUNK_OFFSET = 1 << 22
#: Keep the planted session start this far before the window end.
END_MARGIN_US = 3 * 3600 * US_PER_S


@dataclass(frozen=True)
class PlantedCampaign:
    """A campaign whose effect the generator plants (see the module docstring)."""

    campaign_id: str
    audience_id: str
    starts_on: dt.date
    outcome_window_days: int
    holdout_share: float
    holdout_salt: str
    extra_order_probability: float
    window_start_us: int  # UTC midnight after starts_on
    window_end_us: int  # UTC midnight after the window's last day
    eligible_before_day: float  # first_seen (days since range start) must be below this

    def manifest(self) -> dict[str, object]:
        last = self.starts_on + dt.timedelta(days=self.outcome_window_days)
        return {
            "audience_id": self.audience_id,
            "starts_on": self.starts_on.isoformat(),
            "window_first_date": (self.starts_on + dt.timedelta(days=1)).isoformat(),
            "window_last_date": last.isoformat(),
            "holdout_share": self.holdout_share,
            "holdout_salt": self.holdout_salt,
            "extra_order_probability": self.extra_order_probability,
            "eligible": "registered (non-prospect) persons with a user id first seen by "
                        "starts_on, not in the holdout (lifecycle_warehouse.activation.holdout."
                        "is_holdout(holdout_salt, user_id, holdout_share))",
            "expected_repurchase_lift": "extra_order_probability * (1 - control "
                                        "repurchase rate), in any audience of eligible "
                                        "persons",
        }


def planted_campaigns(cfg: GeneratorConfig, seeds: SeedData) -> tuple[PlantedCampaign, ...]:
    """The seed's campaigns with an effect whose outcome window lies inside the range."""
    out = []
    for c in seeds.campaigns:
        effect = cfg.behaviour.campaign_effects.get(c.campaign_id, 0.0)
        first_day = (c.starts_on - cfg.start_date).days + 1
        last_day = first_day + c.outcome_window_days  # exclusive
        if effect <= 0 or first_day < 1 or last_day > cfg.days:
            continue
        out.append(PlantedCampaign(
            campaign_id=c.campaign_id, audience_id=c.audience_id, starts_on=c.starts_on,
            outcome_window_days=c.outcome_window_days, holdout_share=c.holdout_share,
            holdout_salt=c.holdout_salt, extra_order_probability=effect,
            window_start_us=cfg.start_us + first_day * US_PER_DAY,
            window_end_us=cfg.start_us + last_day * US_PER_DAY,
            eligible_before_day=float(first_day)))
    return tuple(out)


def planted_sessions(rng: np.random.Generator, p: Persons,
                     campaigns: tuple[PlantedCampaign, ...],
                     ) -> tuple[Sessions | None, dict[str, dict[str, int]]]:
    """The extra converting sessions of the chunk's treated persons (sorted by person,
    start), and per campaign the counts: ``drawn`` (eligible persons drawn for an extra
    order, holdout or not) and ``extra_orders`` (those not in the holdout)."""
    who_parts, t_parts = [], []
    counts: dict[str, dict[str, int]] = {}
    eligible_kind = p.kind == REGISTERED
    for c in campaigns:
        eligible = eligible_kind & (p.first_seen < c.eligible_before_day)
        drawn = np.flatnonzero(eligible & (rng.random(p.n) < c.extra_order_probability))
        units = np.array([holdout_unit(c.holdout_salt, f"U{pid + 1:08d}")
                          for pid in p.pid[drawn].tolist()], dtype=np.float64)
        treated = drawn[units >= c.holdout_share] if len(drawn) else drawn
        span = c.window_end_us - END_MARGIN_US - c.window_start_us
        t = c.window_start_us + (rng.random(len(treated)) * span).astype(np.int64)
        who_parts.append(treated)
        t_parts.append(t)
        counts[c.campaign_id] = {"drawn": len(drawn), "extra_orders": len(treated)}
    if not who_parts or not sum(len(w) for w in who_parts):
        return None, counts
    who = np.concatenate(who_parts)
    start = np.concatenate(t_parts)
    order = np.lexsort((start, who))
    who, start = who[order], start[order]
    n = len(who)
    use_app = p.app[who] & (~p.web[who] | (rng.random(n) < p.p_app[who]))
    channel = np.where(use_app, APP, WEB).astype(np.int8)
    return Sessions(
        person=who, start_us=start, channel=channel, store=np.zeros(n, dtype=np.int8),
        state=np.full(n, LOGIN, dtype=np.int8),
        cookie=(rng.random(n) * p.n_cookies[who]).astype(np.int8),
        device=(rng.random(n) * p.n_devices[who]).astype(np.int8),
        convert=np.ones(n, dtype=bool), guest_checkout=np.zeros(n, dtype=bool),
        first_on_device=np.zeros(n, dtype=bool), last_on_device=np.zeros(n, dtype=bool),
        signup_us=np.full(p.n, -1, dtype=np.int64),
    ), counts
