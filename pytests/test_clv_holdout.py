"""Predictive lifecycle: the BG/NBD + Gamma-Gamma of int_person_clv_predictions on CDNOW.

Calibrate on 1997-01-01..1997-09-30, predict the holdout 1997-10-01..1998-06-30 with
the same code the dbt Python model runs (lifecycle_warehouse.clv). Figures are in the
README ("Predictive lifecycle") and DECISIONLOG.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lifecycle_warehouse import clv
from lifecycle_warehouse.runner import cdnow_file

pytest.importorskip("lifetimes")

# Issue target: predicted total repeat purchases in the holdout within 10 % of actual.
TARGET_ERROR = 0.10
# Measured: -14.3 % (maximum likelihood, converged: Nelder-Mead and L-BFGS-B from three
# starting points agree to 1e-9 in the likelihood; pymc-marketing's BetaGeoModel MAP
# gives the same -14.3 %). This bound guards against regressions of the fit.
REGRESSION_ERROR_BOUND = 0.15


@pytest.fixture(scope="module")
def holdout() -> clv.HoldoutResult:
    return clv.cdnow_holdout(cdnow_file())


def test_holdout_total_repeat_purchases_error_bound(holdout):
    assert holdout.customers == 23_570 and holdout.holdout_days == 273
    assert holdout.actual_total == 19_684  # repeat purchase days 1997-10-01..1998-06-30
    assert abs(holdout.relative_error) <= REGRESSION_ERROR_BOUND, holdout.relative_error


@pytest.mark.xfail(strict=True, reason="BG/NBD underpredicts the CDNOW holdout by 14.3 % "
                   "(DECISIONLOG 'Predictive lifecycle'); the 10 % target is not met")
def test_holdout_total_repeat_purchases_within_target(holdout):
    assert abs(holdout.relative_error) <= TARGET_ERROR


def test_holdout_per_customer_correlation(holdout):
    # predicted vs actual repeat purchase days per customer (measured 0.669)
    assert holdout.correlation > 0.6


def test_holdout_weekly_curve_ends_at_the_totals(holdout):
    weekly = holdout.weekly
    assert weekly["actual"].iloc[-1] == holdout.actual_total
    assert weekly["predicted"].iloc[-1] == pytest.approx(holdout.predicted_total, rel=1e-12)
    assert weekly["actual"].is_monotonic_increasing
    assert weekly["predicted"].is_monotonic_increasing
    assert str(weekly["week_end"].iloc[-1].date()) == clv.OBSERVATION_END


def test_holdout_chart(holdout, tmp_path):
    pytest.importorskip("matplotlib")
    out = clv.holdout_chart(holdout, tmp_path / "chart.png")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_same_data_same_numbers(holdout):
    again = clv.cdnow_holdout(cdnow_file())
    assert again.params == holdout.params
    assert again.predicted_total == holdout.predicted_total


def _persons(n: int, seed: int = 7) -> pd.DataFrame:
    """Buyers drawn from a BG/NBD process (daily purchase rates, drop-out after purchases)."""
    rng = np.random.default_rng(seed)
    T = rng.integers(30, 365, n)
    rate = rng.gamma(0.5, 1 / 20.0, n)  # purchases per day
    drop = rng.beta(1.0, 4.0, n)  # drop-out probability after each purchase
    frequency, recency = np.zeros(n, dtype=int), np.zeros(n, dtype=int)
    for i in range(n):
        day = 0.0
        while True:
            day += rng.exponential(1 / rate[i])
            if day > T[i]:
                break
            frequency[i] += 1
            recency[i] = int(day)
            if rng.random() < drop[i]:
                break
    monetary = np.where(frequency > 0, rng.gamma(4.0, 10.0, n), 0.0)
    return pd.DataFrame({"person_id": [f"p{i:06d}" for i in range(n)], "frequency": frequency,
                         "recency": recency, "t": T, "monetary_value": monetary})


def _unfittable_persons(n: int, seed: int = 7) -> pd.DataFrame:
    """Not a BG/NBD process: the unbounded BFGS fit runs a parameter off to infinity."""
    rng = np.random.default_rng(seed)
    T = rng.integers(1, 365, n)
    recency = (rng.random(n) * T).astype(int)
    frequency = np.where(recency > 0, rng.poisson(recency / 30.0) + 1, 0)
    monetary = np.where(frequency > 0, rng.gamma(4.0, 10.0, n), 0.0)
    return pd.DataFrame({"person_id": [f"p{i:06d}" for i in range(n)], "frequency": frequency,
                         "recency": recency, "t": T, "monetary_value": monetary})


def test_unconverged_fit_falls_back_to_a_bounded_fit():
    scores, models = clv.predict_persons(_unfittable_persons(3_000), sample_size=None)
    assert getattr(models.bgf, "fit_bounded_", False)
    assert not getattr(clv.predict_persons(_persons(3_000), sample_size=None)[1].bgf,
                       "fit_bounded_", False)
    values = scores[list(clv.PREDICTION_COLUMNS)].to_numpy(dtype=float)
    assert np.isfinite(values).all() and scores["p_alive"].between(0, 1).all()


def test_fit_sample_does_not_depend_on_row_order():
    persons = _persons(2_000)
    shuffled = persons.sample(frac=1.0, random_state=1).reset_index(drop=True)
    first = set(persons.loc[clv.fit_sample_mask(persons["person_id"], 500), "person_id"])
    second = set(shuffled.loc[clv.fit_sample_mask(shuffled["person_id"], 500), "person_id"])
    assert first == second and len(first) == 500
    a, _ = clv.predict_persons(persons, sample_size=500)
    b, _ = clv.predict_persons(shuffled, sample_size=500)
    a, b = a.set_index("person_id").sort_index(), b.set_index("person_id").sort_index()
    pd.testing.assert_frame_equal(a, b)


def test_prediction_semantics():
    persons = _persons(3_000)
    persons.loc[0, "t"] = None  # no purchase day: no row
    scores, models = clv.predict_persons(persons, sample_size=None)
    assert len(scores) == len(persons) - 1 and "p000000" not in set(scores["person_id"])
    scores = scores.merge(persons, on="person_id")
    assert scores["p_alive"].between(0, 1).all()
    assert (scores["churn_probability"] == 1 - scores["p_alive"]).all()
    # BG/NBD: no repeat purchase, no chance to have dropped out
    assert (scores.loc[scores["frequency"] == 0, "p_alive"] == 1).all()
    assert (scores["expected_purchases_90d"] >= 0).all()
    assert (scores["expected_clv_12m"] >= 0).all()


def test_clv_equals_lifetimes_customer_lifetime_value():
    persons = _persons(3_000)
    scores, models = clv.predict_persons(persons, sample_size=None, monthly_discount_rate=0.01)
    repeat = persons.set_index("person_id").loc[scores["person_id"]].reset_index()
    reference = models.ggf.customer_lifetime_value(
        models.bgf, repeat["frequency"], repeat["recency"], repeat["t"],
        repeat["monetary_value"].where(repeat["frequency"] > 0, 0.0), time=12,
        discount_rate=0.01, freq="D")
    buyers = (repeat["frequency"] > 0).to_numpy()  # lifetimes takes m = 0 at face value
    assert np.allclose(scores["expected_clv_12m"].to_numpy(dtype=float)[buyers],
                       reference.to_numpy()[buyers], rtol=1e-9)


def test_too_few_buyers_gives_null_predictions():
    scores, models = clv.predict_persons(_persons(20), sample_size=None)
    assert models is None and len(scores) == 20
    assert scores[list(clv.PREDICTION_COLUMNS)].isna().all().all()


def test_fit_reproduces_the_published_cdnow_sample_estimates():
    """Fader, Hardie & Lee (2005), "Counting your customers the easy way", table 1: BG/NBD
    on the 2,357-customer CDNOW sample in weeks gives r = 0.243, alpha = 4.414,
    a = 0.793, b = 2.426. The same fit code on the sample shipped with lifetimes must
    reproduce them: the -12 % .. -14 % holdout gap is the model's, not the fit's."""
    from lifetimes.utils import calibration_and_holdout_data

    sample = pd.read_csv(cdnow_file().with_name("CDNOW_sample.txt"), sep=r"\s+", header=None,
                         names=["customer_id", "sample_id", "date", "cds", "dollar_value"],
                         dtype={"date": str})
    sample["date"] = pd.to_datetime(sample["date"], format="%Y%m%d")
    summary = calibration_and_holdout_data(
        sample, "customer_id", "date", calibration_period_end=clv.CALIBRATION_END,
        observation_period_end=clv.OBSERVATION_END, freq="D",
        monetary_value_col="dollar_value")
    assert len(summary) == 2_357 and summary["frequency_cal"].sum() == 2_457
    models = clv.fit_models(summary["frequency_cal"], summary["recency_cal"] / 7,
                            summary["T_cal"] / 7, summary["monetary_value_cal"])
    fitted = {name: round(models.params[f"bgnbd_{name}"], 3)
              for name in ("r", "alpha", "a", "b")}
    assert fitted == {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    predicted = clv.expected_purchases(models, 39, summary["frequency_cal"],
                                       summary["recency_cal"] / 7, summary["T_cal"] / 7)
    # the published model underpredicts this sample's holdout too (1,653 vs 1,882)
    assert summary["frequency_holdout"].sum() == 1_882
    assert round(predicted.sum()) == 1_653
