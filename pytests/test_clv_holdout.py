"""Predictive lifecycle: the BG/NBD + Gamma-Gamma of int_person_clv_predictions on CDNOW.

Calibrate on 1997-01-01..1997-09-30, predict the holdout 1997-10-01..1998-06-30 with
the same code the dbt Python model runs (lifecycle_warehouse.clv). Figures are in the
README ("Predictive lifecycle") and DECISIONLOG.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lifecycle_warehouse.clv import model as clv_model
from lifecycle_warehouse.clv import validation as clv_validation
from lifecycle_warehouse.pipeline.runner import cdnow_file

pytest.importorskip("lifetimes")

# Issue target: predicted total repeat purchases in the holdout within 10 % of actual.
TARGET_ERROR = 0.10
# Measured: -14.3 % (maximum likelihood, converged: Nelder-Mead and L-BFGS-B from three
# starting points agree to 1e-9 in the likelihood; pymc-marketing's BetaGeoModel MAP
# gives the same -14.3 %). This bound guards against regressions of the fit.
REGRESSION_ERROR_BOUND = 0.15


@pytest.fixture(scope="module")
def holdout() -> clv_validation.HoldoutResult:
    return clv_validation.cdnow_holdout(cdnow_file())


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
    assert str(weekly["week_end"].iloc[-1].date()) == clv_validation.OBSERVATION_END


def test_calibration_period_fit(holdout):
    """The cohort expectation tracks the 39 calibration weeks (measured +0.47 %): the
    holdout gap is the forecast's, not a model that never fitted."""
    tracking = holdout.tracking
    assert len(tracking) == 78
    assert str(tracking["week_end"].iloc[0].date()) == "1997-01-07"
    assert str(tracking["week_end"].iloc[-1].date()) == clv_validation.OBSERVATION_END
    # the same count as lifetimes' frequency_cal (another code path)
    assert holdout.calibration_actual == 24_337
    assert holdout.calibration_predicted == pytest.approx(holdout.calibration_actual, rel=0.01)
    # not only the total (a likelihood fit nearly guarantees that): the weekly shape, the
    # rise while the cohort is acquired and the decay after it (median ratio 1.005)
    weeks = tracking.loc[tracking["week_end"] <= clv_validation.CALIBRATION_END]
    ratios = weeks["actual"] / weeks["predicted"]
    assert len(weeks) == 39 and 0.97 <= ratios.median() <= 1.03


def test_tracking_holdout_weeks_agree_with_the_totals(holdout):
    weeks = holdout.tracking.loc[holdout.tracking["week_end"] > clv_validation.CALIBRATION_END]
    assert len(weeks) == 39
    assert weeks["actual"].sum() == holdout.actual_total
    # the cohort (unconditional) and the per-customer (conditional) forecasts of the
    # holdout agree (16,849 vs 16,874): the fitted model is consistent with its own data
    assert weeks["predicted"].sum() == pytest.approx(holdout.predicted_total, rel=0.01)


def test_holdout_by_month(holdout):
    monthly = holdout.monthly
    assert [f"{m:%Y-%m}" for m in monthly["month_end"]] == [
        "1997-10", "1997-11", "1997-12", "1998-01", "1998-02", "1998-03", "1998-04",
        "1998-05", "1998-06"]
    assert monthly["actual"].sum() == holdout.actual_total
    assert monthly["predicted"].sum() == pytest.approx(holdout.predicted_total, rel=1e-12)
    # the shortfall is spread over the holdout, not one bad month: no month is
    # overpredicted by more than 1 %, and March 1998 (actual / predicted 1.48) is the worst
    assert monthly["ratio"].min() > 0.99
    assert f"{monthly.loc[monthly['ratio'].idxmax(), 'month_end']:%Y-%m}" == "1998-03"


def test_holdout_chart(holdout, tmp_path):
    pytest.importorskip("matplotlib")
    out = clv_validation.holdout_chart(holdout, tmp_path / "chart.png")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # no timestamp in the file: the same result renders to the same bytes (how the
    # README image stays reproducible with the same matplotlib)
    again = clv_validation.holdout_chart(holdout, tmp_path / "again.png")
    assert again.read_bytes() == out.read_bytes()


def test_same_data_same_numbers(holdout):
    again = clv_validation.cdnow_holdout(cdnow_file())
    assert again.params == holdout.params
    assert again.predicted_total == holdout.predicted_total


def _persons(n: int, seed: int = 7, min_t: int = 30) -> pd.DataFrame:
    """Buyers drawn from a BG/NBD process purchase by purchase (daily rates r = 0.5,
    alpha = 20, drop-out after purchases a = 1, b = 4): the slow, obvious reference for
    the vectorised clv_model.simulate_persons."""
    rng = np.random.default_rng(seed)
    T = rng.integers(min_t, 365, n)
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
    scores, models = clv_model.predict_persons(_unfittable_persons(3_000), sample_size=None)
    assert getattr(models.bgf, "fit_bounded_", False)
    assert not getattr(clv_model.predict_persons(_persons(3_000), sample_size=None)[1].bgf,
                       "fit_bounded_", False)
    values = scores[list(clv_model.PREDICTION_COLUMNS)].to_numpy(dtype=float)
    assert np.isfinite(values).all() and scores["p_alive"].between(0, 1).all()


def test_fit_sample_does_not_depend_on_row_order():
    persons = _persons(2_000)
    shuffled = persons.sample(frac=1.0, random_state=1).reset_index(drop=True)
    first = set(persons.loc[clv_model.fit_sample_mask(persons["person_id"], 500), "person_id"])
    second = set(shuffled.loc[clv_model.fit_sample_mask(shuffled["person_id"], 500), "person_id"])
    assert first == second and len(first) == 500
    a, _ = clv_model.predict_persons(persons, sample_size=500)
    b, _ = clv_model.predict_persons(shuffled, sample_size=500)
    a, b = a.set_index("person_id").sort_index(), b.set_index("person_id").sort_index()
    pd.testing.assert_frame_equal(a, b)


def test_prediction_semantics():
    persons = _persons(3_000)
    persons.loc[0, "t"] = None  # no purchase day: no row
    scores, models = clv_model.predict_persons(persons, sample_size=None)
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
    scores, models = clv_model.predict_persons(persons, sample_size=None,
                                               monthly_discount_rate=0.01)
    repeat = persons.set_index("person_id").loc[scores["person_id"]].reset_index()
    reference = models.ggf.customer_lifetime_value(
        models.bgf, repeat["frequency"], repeat["recency"], repeat["t"],
        repeat["monetary_value"].where(repeat["frequency"] > 0, 0.0), time=12,
        discount_rate=0.01, freq="D")
    buyers = (repeat["frequency"] > 0).to_numpy()  # lifetimes takes m = 0 at face value
    assert np.allclose(scores["expected_clv_12m"].to_numpy(dtype=float)[buyers],
                       reference.to_numpy()[buyers], rtol=1e-9)


def test_vectorised_simulation_matches_the_purchase_by_purchase_one():
    """simulate_persons draws recency as an order statistic instead of walking through
    the purchases; both must give the same distribution (20,000 persons each)."""
    slow = _persons(20_000, min_t=1)
    fast = clv_model.simulate_persons(20_000, r=0.5, alpha=20.0, a=1.0, b=4.0, max_t_days=364)

    def stats(df):
        buyers = df.loc[df["frequency"] > 0]
        return np.array([df["frequency"].mean(), (df["frequency"] == 0).mean(),
                         buyers["recency"].mean(), (buyers["recency"] / buyers["t"]).mean()])

    def once_position(df):
        # where in (0, T] a one-repeat buyer's purchase falls: uniform recency would give
        # 0.49 instead of about 0.36 (the purchase is the first of N, N >= 1)
        once = df.loc[df["frequency"] == 1]
        return (once["recency"] / once["t"]).mean()

    # measured: the four statistics within 1.2 %, the position within 3.1 %
    assert stats(fast) == pytest.approx(stats(slow), rel=0.02)
    assert once_position(fast) == pytest.approx(once_position(slow), rel=0.08)


def test_fit_recovers_the_simulated_parameters():
    """100,000 buyers drawn from BG/NBD + Gamma-Gamma with known parameters: the fit
    gives each back within 10 % (measured: 0.4 % for r .. 4.5 % for v)."""
    truth = {"bgnbd_r": 0.25, "bgnbd_alpha": 35.0, "bgnbd_a": 0.7, "bgnbd_b": 2.2,
             "gamma_gamma_p": 6.0, "gamma_gamma_q": 4.0, "gamma_gamma_v": 15.0}
    assert clv_model.SIMULATED_PARAMS == truth  # the defaults lw clv-scale prints
    persons = clv_model.simulate_persons(100_000, whole_days=False)
    _, models = clv_model.predict_persons(persons, sample_size=None)
    assert models.fit_persons == 100_000
    for name, value in truth.items():
        assert models.params[name] == pytest.approx(value, rel=0.10), name


def test_large_populations_are_fitted_on_the_sample_and_all_scored():
    persons = clv_model.simulate_persons(60_000, seed=11)
    timings: dict[str, float] = {}
    scores, models = clv_model.predict_persons(persons, sample_size=10_000, timings=timings)
    assert models.fit_persons == 10_000 and len(scores) == 60_000
    assert set(timings) == {"sample_seconds", "fit_seconds", "score_seconds"}
    values = scores[list(clv_model.PREDICTION_COLUMNS)].to_numpy(dtype=float)
    assert np.isfinite(values).all()
    # the sample's fit is close to the whole population's
    _, full = clv_model.predict_persons(persons, sample_size=None)
    for name in ("bgnbd_r", "bgnbd_a", "bgnbd_b"):
        assert models.params[name] == pytest.approx(full.params[name], rel=0.25), name


def test_too_few_buyers_gives_null_predictions():
    scores, models = clv_model.predict_persons(_persons(20), sample_size=None)
    assert models is None and len(scores) == 20
    assert scores[list(clv_model.PREDICTION_COLUMNS)].isna().all().all()


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
        sample, "customer_id", "date", calibration_period_end=clv_validation.CALIBRATION_END,
        observation_period_end=clv_validation.OBSERVATION_END, freq="D",
        monetary_value_col="dollar_value")
    assert len(summary) == 2_357 and summary["frequency_cal"].sum() == 2_457
    models = clv_model.fit_models(summary["frequency_cal"], summary["recency_cal"] / 7,
                            summary["T_cal"] / 7, summary["monetary_value_cal"])
    fitted = {name: round(models.params[f"bgnbd_{name}"], 3)
              for name in ("r", "alpha", "a", "b")}
    assert fitted == {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    predicted = clv_model.expected_purchases(models, 39, summary["frequency_cal"],
                                       summary["recency_cal"] / 7, summary["T_cal"] / 7)
    # the published model underpredicts this sample's holdout too (1,653 vs 1,882)
    assert summary["frequency_holdout"].sum() == 1_882
    assert round(predicted.sum()) == 1_653
