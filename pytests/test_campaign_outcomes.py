"""Control groups and campaign outcomes on the default sample (issue 17 items 4 and 5).

The generator plants a known effect for the demo campaign of seeds/campaigns.csv (every
registered person with a user id outside the holdout places, with probability
``extra_order_probability``, one extra order in the outcome window; the truth is in the
landing manifest). Here the build is checked against that truth: the holdout is the
configured share of the audience, it is the same number in SQL and in Python for every
member, and the mart's repurchase-rate interval covers the planted lift and excludes 0.

Planted lift (docs/activation.md "Campaigns and control groups"): the extra order is
independent of natural orders, so for an eligible member the chance of >= 1 order in the
window rises from c to c + effect * (1 - c). Members without a user id (guest buyers,
cookie-only visitors) get no extra order, so in the whole audience the expected lift is
effect * f * (1 - c_user), with f the share of treated members keyed by a user id and
c_user the control repurchase rate of user-keyed members (f = 1 gives
effect * (1 - control rate)). The SQL below is written independently of the mart.

Cost: a few queries on the shared session build (sample_build), < 2 s.
"""

from __future__ import annotations

import csv
import math

import duckdb
import pytest

from lifecycle_warehouse.activation.holdout import holdout_unit
from lifecycle_warehouse.pipeline.project import SEEDS_DIR

CAMPAIGN = "winback_2025_09"


@pytest.fixture(scope="module")
def campaign_data(sample_build) -> dict:
    with (SEEDS_DIR / "campaigns.csv").open(newline="", encoding="utf-8") as fh:
        seed = {row["campaign_id"]: row for row in csv.DictReader(fh)}[CAMPAIGN]
    with duckdb.connect(str(sample_build["database"]), read_only=True) as con:
        members = con.execute("""
            select m.person_id, coalesce(e.external_id, m.person_id) as holdout_key,
                   m.external_id_type, m.holdout_unit, m.is_holdout,
                   exists (select 1 from intermediate.int_orders as o
                           where o.person_id = m.person_id and o.is_order
                             and o.order_date > m.starts_on
                             and o.order_date <= m.window_end_date) as has_order
            from intermediate.int_campaign_members as m
            left join intermediate.int_person_external_ids as e using (person_id)
            where m.campaign_id = ?""", [CAMPAIGN]).fetchall()
        columns = ["treatment_persons", "control_persons", "treatment_value", "control_value",
                   "difference", "ci_low", "ci_high", "is_window_complete"]
        outcome = con.execute(f"""
            select {", ".join(columns)} from marts.fct_campaign_outcomes
            where campaign_id = ? and outcome_metric = 'repurchase_rate'""",
                              [CAMPAIGN]).fetchone()
    keys = ["person_id", "holdout_key", "external_id_type", "holdout_unit", "is_holdout",
            "has_order"]
    return {"seed": seed, "members": [dict(zip(keys, row, strict=True)) for row in members],
            "repurchase": dict(zip(columns, outcome, strict=True)),
            "planted": sample_build["manifest"]["planted_campaign_effects"][CAMPAIGN]}


def test_holdout_is_the_configured_share_of_the_audience(campaign_data):
    members = campaign_data["members"]
    share = float(campaign_data["seed"]["holdout_share"])
    n = len(members)
    held_out = sum(m["is_holdout"] for m in members)
    assert n >= 300, f"the demo audience has only {n} members"
    # binomial: within 4 standard deviations of share * n (fails ~1 in 16,000 samples)
    assert abs(held_out - share * n) <= 4 * math.sqrt(n * share * (1 - share)), (held_out, n)
    assert campaign_data["repurchase"]["control_persons"] == held_out
    assert campaign_data["repurchase"]["treatment_persons"] == n - held_out


def test_sql_holdout_equals_python_holdout_for_every_member(campaign_data):
    salt = campaign_data["seed"]["holdout_salt"]
    share = float(campaign_data["seed"]["holdout_share"])
    differing = [m["person_id"] for m in campaign_data["members"]
                 if abs(m["holdout_unit"] - holdout_unit(salt, m["holdout_key"])) > 1e-12
                 or m["is_holdout"] != (holdout_unit(salt, m["holdout_key"]) < share)]
    assert differing == []
    # the demo's members are keyed by the source's user id where they have one
    assert {m["external_id_type"] for m in campaign_data["members"]} <= {"user", None}
    assert all(m["holdout_key"].startswith("U") for m in campaign_data["members"]
               if m["external_id_type"] == "user")


def test_repurchase_interval_covers_the_planted_lift_and_excludes_zero(campaign_data):
    effect = campaign_data["planted"]["extra_order_probability"]
    members = campaign_data["members"]
    treated = [m for m in members if not m["is_holdout"]]
    control_user = [m for m in members if m["is_holdout"] and m["external_id_type"] == "user"]
    user_share = sum(m["external_id_type"] == "user" for m in treated) / len(treated)
    control_user_rate = sum(m["has_order"] for m in control_user) / len(control_user)
    expected = effect * user_share * (1 - control_user_rate)
    r = campaign_data["repurchase"]
    assert r["is_window_complete"]
    assert r["ci_low"] <= expected <= r["ci_high"], (expected, r)
    assert r["ci_low"] > 0, r
    # the mart's rates are the members' shares with an order in the window
    assert r["treatment_value"] == pytest.approx(
        sum(m["has_order"] for m in treated) / len(treated), abs=1e-6)
