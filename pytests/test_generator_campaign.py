"""The generator's planted campaign effect (lifecycle_warehouse.generate.campaign).

One chunk of 3,000 persons is built twice, with the demo campaign's effect and without
(Behaviour.campaign_effects = {}): the natural rows are the same, and the extra orders
go only to eligible persons outside the holdout, once each, inside the outcome window,
never cancelled, each with its logged-in checkout session. No files are written (~3 s).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math

import numpy as np
import pyarrow.compute as pc
import pytest

from lifecycle_warehouse.activation.holdout import is_holdout
from lifecycle_warehouse.generate.campaign import planted_campaigns
from lifecycle_warehouse.generate.catalog import Catalog
from lifecycle_warehouse.generate.chunk import RNG_PERSONS, build_chunk
from lifecycle_warehouse.generate.config import Behaviour, DefectRates, GeneratorConfig, load_seeds
from lifecycle_warehouse.generate.messaging import Campaigns
from lifecycle_warehouse.generate.persons import REGISTERED, sample_persons

PERSONS = 3000


@pytest.fixture(scope="module")
def chunks():
    seeds = load_seeds()
    cfg = GeneratorConfig(seed=5, persons=PERSONS, days=365, chunk_persons=PERSONS,
                          defects=DefectRates.none())
    off = dataclasses.replace(cfg, behaviour=Behaviour(campaign_effects={}))
    planted = planted_campaigns(cfg, seeds)

    def build(c: GeneratorConfig):
        return build_chunk(c, seeds, Catalog.build(c.seed), Campaigns.build(c), 0, 0, PERSONS,
                           0, 0, planted_campaigns(c, seeds))

    persons = sample_persons(np.random.default_rng([cfg.seed, 0, RNG_PERSONS]), cfg, seeds, 0,
                             PERSONS)
    return {"cfg": cfg, "planted": planted, "on": build(cfg), "off": build(off),
            "persons": persons, "seed": {c.campaign_id: c for c in seeds.campaigns}}


def test_the_demo_campaign_is_planted_only_when_its_window_is_in_the_range(chunks):
    seeds = load_seeds()
    (campaign,) = chunks["planted"]
    row = chunks["seed"][campaign.campaign_id]
    assert (campaign.campaign_id, campaign.starts_on, campaign.holdout_share,
            campaign.holdout_salt) == ("winback_2025_09", row.starts_on, row.holdout_share,
                                       row.holdout_salt)
    assert campaign.extra_order_probability == Behaviour().campaign_effects["winback_2025_09"]
    # 2025-01-01 + 332 days = 2025-11-29 is the window's last day: 332 days do not hold it
    assert planted_campaigns(dataclasses.replace(chunks["cfg"], days=332), seeds) == ()
    assert len(planted_campaigns(dataclasses.replace(chunks["cfg"], days=333), seeds)) == 1
    assert campaign.manifest()["window_first_date"] == "2025-10-01"
    assert campaign.manifest()["window_last_date"] == "2025-11-29"


def test_extra_orders_go_to_treated_persons_once_inside_the_window(chunks):
    (campaign,) = chunks["planted"]
    on, off = chunks["on"].tables["online_orders"], chunks["off"].tables["online_orders"]
    natural_ids = set(off["order_id"].to_pylist())
    assert natural_ids <= set(on["order_id"].to_pylist())
    extra = on.filter(pc.invert(pc.is_in(on["order_id"], value_set=off["order_id"])))
    counts = chunks["on"].campaigns[campaign.campaign_id]
    assert extra.num_rows == counts["extra_orders"] == on.num_rows - off.num_rows > 0
    users = extra["user_id"].to_pylist()
    assert None not in users and len(set(users)) == len(users)
    assert not any(is_holdout(campaign.holdout_salt, u, campaign.holdout_share) for u in users)
    window_start = dt.datetime(2025, 10, 1, tzinfo=dt.UTC).timestamp() * 1e6
    window_end = dt.datetime(2025, 11, 30, tzinfo=dt.UTC).timestamp() * 1e6
    ordered = extra["__ordered_us"].to_numpy()
    assert ordered.min() >= window_start and ordered.max() < window_end
    assert "cancelled" not in extra["order_status"].to_pylist()
    # eligible: registered (non-prospect) persons first seen by the end of starts_on
    p = chunks["persons"]
    eligible = (p.kind == REGISTERED) & (p.first_seen < 273)  # 2025-10-01 is day 273
    eligible_users = {f"U{pid + 1:08d}" for pid in p.pid[eligible]}
    assert set(users) <= eligible_users
    # drawn ~ effect x eligible, and ~(1 - share) of the drawn are treated (4 sd bounds)
    n, q = int(eligible.sum()), campaign.extra_order_probability
    assert abs(counts["drawn"] - q * n) <= 4 * math.sqrt(n * q * (1 - q))
    share = campaign.holdout_share
    assert abs(extra.num_rows - (1 - share) * counts["drawn"]) <= 4 * math.sqrt(
        counts["drawn"] * share * (1 - share))


def test_each_extra_order_has_its_logged_in_checkout_and_natural_rows_stay(chunks):
    on, off = chunks["on"].tables, chunks["off"].tables
    extra_users = set(on["online_orders"].filter(pc.invert(pc.is_in(
        on["online_orders"]["order_id"], value_set=off["online_orders"]["order_id"])))
        ["user_id"].to_pylist())
    checkouts = 0
    for source, event in (("web_events", "event_type"), ("app_events", "event_name")):
        natural, planted = off[source], on[source]
        assert set(natural["event_id"].to_pylist()) <= set(planted["event_id"].to_pylist())
        assert planted.num_rows > natural.num_rows
        new = planted.filter(pc.invert(pc.is_in(planted["event_id"],
                                                value_set=natural["event_id"])))
        starts = new.filter(pc.equal(new[event], "checkout_start"))
        assert set(starts["user_id"].to_pylist()) <= extra_users
        checkouts += starts.num_rows
    assert checkouts == len(extra_users)
    for source in ("messaging_webhooks", "store_pos", "crm_customers"):
        assert on[source].equals(off[source]), source
