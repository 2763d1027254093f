"""Predictive lifecycle: BG/NBD + Gamma-Gamma on the lifetimes-compatible summary.

One implementation for the dbt Python model `int_person_clv_predictions` and the CDNOW
holdout validation (`lw clv-holdout`, pytests/test_clv_holdout.py), so the model that is
validated is the model that is built.

Inputs per person (freq='D', as in int_person_value_metrics): frequency (repeat purchase
days), recency (days first -> last purchase day), T (days first purchase day -> as of)
and monetary_value (mean net revenue of the repeat purchase days, 0 when frequency = 0).

Determinism: lifetimes fits by scipy.optimize.minimize (BFGS with autograd gradients
from the fixed starting point log-params 0.1, ...) — there is no random state. The fit
sample is chosen by a fixed hash of person_id (pandas' hash_pandas_object with its
default, fixed key), not by row order: the same persons give the same sample and the
same numbers.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

logger = logging.getLogger(__name__)

# Days per month used for the monthly CLV steps (lifetimes' own factor for freq='D').
DAYS_PER_MONTH = 30
# Fewer buyers than this and no model is fitted (predictions null): BG/NBD has four
# parameters and Gamma-Gamma three; a handful of buyers (unit-test fixtures) cannot
# identify them.
MIN_FIT_PERSONS = 100
# Gamma-Gamma needs repeat buyers with a positive spend; fewer and its columns are null.
MIN_GAMMA_GAMMA_PERSONS = 30
PREDICTION_COLUMNS = (
    "p_alive", "churn_probability", "expected_purchases_90d", "expected_average_value",
    "expected_clv_12m",
)


@dataclass
class FittedModels:
    """The fitted BG/NBD and Gamma-Gamma models and what they were fitted on."""

    bgf: object
    ggf: object | None
    fit_persons: int
    gamma_gamma_persons: int
    fit_seconds: float
    params: dict[str, float] = field(default_factory=dict)


def fit_sample_mask(person_ids: pd.Series, sample_size: int | None) -> np.ndarray:
    """True for the (at most) sample_size persons with the smallest fixed hash of person_id.

    Independent of row order and of any random state: a person is in the sample or not
    by its id alone (given the population), so rebuilding gives the same fit.
    """
    n = len(person_ids)
    if sample_size is None or sample_size <= 0 or n <= sample_size:
        return np.ones(n, dtype=bool)
    ids = person_ids.astype(str)
    # the values of hash_pandas_object(ids, index=False), 8x faster on 5M ids: no
    # categorize step (ids are unique) and no hashing through the Arrow string array
    hashes = pd.util.hash_array(ids.to_numpy(dtype=object), categorize=False)
    order = np.argsort(hashes, kind="stable")
    if hashes[order[sample_size - 1]] == hashes[order[sample_size]]:
        # a 64-bit hash tie at the cut (practically never): break it by id, not row order
        order = np.lexsort((ids.to_numpy(), hashes))
    mask = np.zeros(n, dtype=bool)
    mask[order[:sample_size]] = True
    return mask


# Fallback box for the log-parameters when the unbounded fit does not converge: e^±12
# (6e-6 .. 1.6e5) is wide enough for any day-scale customer base. BFGS fails when the
# maximum is at infinity, e.g. BG/NBD's a, b -> inf when the data show no drop-out; the
# bounded fit (L-BFGS-B) then returns the boundary, i.e. the limiting model.
LOG_PARAM_BOUND = 12.0


def _fit_with_fallback(fit, parameters: int):
    """fit() unbounded (plain lifetimes); on ConvergenceError, fit within LOG_PARAM_BOUND."""
    import contextlib
    import io

    from lifetimes.utils import ConvergenceError

    try:
        with contextlib.redirect_stdout(io.StringIO()):  # lifetimes prints the failure
            return fit()
    except ConvergenceError:
        pass
    bounds = [(-LOG_PARAM_BOUND, LOG_PARAM_BOUND)] * parameters
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            model = fit(bounds=bounds)
    except ConvergenceError:
        logger.warning("CLV model with %d parameters did not converge, bounded or not: "
                       "its predictions are null", parameters)
        return None
    model.fit_bounded_ = True
    return model


def fit_models(
    frequency: np.ndarray,
    recency: np.ndarray,
    T: np.ndarray,
    monetary_value: np.ndarray,
    penalizer: float = 0.0,
) -> FittedModels:
    """Fits BG/NBD on every person given and Gamma-Gamma on repeat buyers with spend > 0.

    Persons are aggregated to distinct (frequency, recency, T) rows with weights before
    the BG/NBD fit: the likelihood is the same, the optimiser evaluates far fewer rows.
    """
    from lifetimes import BetaGeoFitter, GammaGammaFitter

    started = time.perf_counter()
    summary = pd.DataFrame({
        "frequency": np.asarray(frequency, dtype=float),
        "recency": np.asarray(recency, dtype=float),
        "T": np.asarray(T, dtype=float),
    })
    grouped = summary.groupby(["frequency", "recency", "T"], sort=True).size().reset_index(
        name="weight")
    bgf = _fit_with_fallback(
        lambda **bounds: BetaGeoFitter(penalizer_coef=penalizer).fit(
            grouped["frequency"], grouped["recency"], grouped["T"],
            weights=grouped["weight"].to_numpy(), **bounds),
        parameters=4)
    params = ({} if bgf is None else
              {f"bgnbd_{name}": float(value) for name, value in bgf.params_.items()})

    frequency = np.asarray(frequency, dtype=float)
    monetary_value = np.asarray(monetary_value, dtype=float)
    repeat = (frequency > 0) & (monetary_value > 0)
    ggf = None
    if repeat.sum() >= MIN_GAMMA_GAMMA_PERSONS:
        # fallback: lifetimes' own q_constraint (q >= 1, a finite expected spend)
        ggf = _fit_with_fallback(
            lambda **bounds: GammaGammaFitter(penalizer_coef=penalizer).fit(
                pd.Series(frequency[repeat]), pd.Series(monetary_value[repeat]),
                q_constraint=bool(bounds)),
            parameters=3)
        if ggf is not None:
            params.update({f"gamma_gamma_{name}": float(value)
                           for name, value in ggf.params_.items()})
    return FittedModels(bgf=bgf, ggf=ggf, fit_persons=len(summary),
                        gamma_gamma_persons=int(repeat.sum()),
                        fit_seconds=time.perf_counter() - started, params=params)


def expected_purchases(models: FittedModels, t: float, frequency, recency, T) -> np.ndarray:
    """Expected repeat purchase days in the next t days (BG/NBD conditional expectation).

    lifetimes evaluates eq. (10) of Fader, Hardie & Lee (2005) through log(2F1), which is
    NaN where the hypergeometric term is negative: with a + b < 1 (a fit this data can
    give) and frequency 0, c = a + b - 1 < 0 and 2F1 < 0 for recent persons, while the
    product with (a + b + x - 1) / (a - 1) is a positive expectation. Those entries are
    evaluated with the same equation without logarithms (`_expected_purchases_direct`);
    every finite lifetimes value is kept as it is.
    """
    frequency = np.asarray(frequency, dtype=float)
    recency = np.asarray(recency, dtype=float)
    T = np.asarray(T, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        values = np.asarray(models.bgf.conditional_expected_number_of_purchases_up_to_time(
            t, frequency, recency, T), dtype=float)
    broken = ~np.isfinite(values) & np.isfinite(frequency) & np.isfinite(recency) & np.isfinite(T)
    if broken.any():
        values = values.copy()
        values[broken] = _expected_purchases_direct(
            models.bgf.params_, t, frequency[broken], recency[broken], T[broken])
    return values


def _expected_purchases_direct(params, t: float, x: np.ndarray, recency: np.ndarray,
                               T: np.ndarray) -> np.ndarray:
    """Eq. (10) of Fader, Hardie & Lee (2005) evaluated directly (no logarithms)."""
    from scipy.special import hyp2f1

    r, alpha, a, b = (float(params[name]) for name in ("r", "alpha", "a", "b"))
    z = t / (alpha + T + t)
    hyp = hyp2f1(r + x, b + x, a + b + x - 1, z)
    numerator = (a + b + x - 1) / (a - 1) * (1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp)
    denominator = 1 + (x > 0) * (a / (b + x - 1)) * ((alpha + T) / (alpha + recency)) ** (r + x)
    return numerator / denominator


def score(
    models: FittedModels,
    frequency: np.ndarray,
    recency: np.ndarray,
    T: np.ndarray,
    monetary_value: np.ndarray,
    horizon_days: int = 90,
    clv_months: int = 12,
    monthly_discount_rate: float = 0.01,
) -> pd.DataFrame:
    """Vectorised per-person predictions, one row per input row (in input order).

    p_alive: BG/NBD probability the person has not dropped out (1 for frequency 0: in
    BG/NBD a person can only drop out right after a repeat purchase). churn_probability
    = 1 - p_alive. expected_purchases_90d: expected repeat purchase days in the next
    horizon_days. expected_average_value: Gamma-Gamma expected spend per purchase day
    (persons without a positive repeat spend get the population mean).
    expected_clv_12m: sum over months m = 1..clv_months of expected_average_value x
    expected purchase days in days (30(m-1), 30m] / (1 + monthly_discount_rate)^m —
    lifetimes' customer_lifetime_value(freq='D') formula, in the base currency.
    """
    frequency = np.asarray(frequency, dtype=float)
    recency = np.asarray(recency, dtype=float)
    T = np.asarray(T, dtype=float)
    monetary_value = np.asarray(monetary_value, dtype=float)
    # The BG/NBD quantities depend on (frequency, recency, T) only: evaluate them once per
    # distinct triple (hyp2f1 is the expensive part) and map back. Exact, not binned.
    # (pandas' hash-based grouping: np.unique(axis=0) sorts rows, 20x slower at 5M)
    grouped = pd.DataFrame({"f": frequency, "r": recency, "T": T}).groupby(
        ["f", "r", "T"], sort=True, dropna=False)  # a null input scores null, not a crash
    inverse = grouped.ngroup().to_numpy()
    triples = grouped.size().index
    uf, ur, uT = (triples.get_level_values(name).to_numpy(dtype=float)
                  for name in ("f", "r", "T"))
    p_alive = np.asarray(models.bgf.conditional_probability_alive(uf, ur, uT),
                         dtype=float)[inverse]
    purchases = expected_purchases(models, horizon_days, uf, ur, uT)[inverse]

    if models.ggf is not None:
        p, q, v = (models.ggf.params_[name] for name in ("p", "q", "v"))
        usable = (frequency > 0) & (monetary_value > 0)
        x = np.where(usable, frequency, 0.0)
        m = np.where(usable, monetary_value, 0.0)
        # GammaGammaFitter.conditional_expected_average_profit, without the pandas detour
        average_value = (p * (v + x * m)) / (p * x + q - 1)
        # discounted expected purchase days of months 1..clv_months, per distinct triple
        discounted = np.zeros(len(uf))
        previous = np.zeros(len(uf))
        for month in range(1, clv_months + 1):
            cumulative = expected_purchases(models, DAYS_PER_MONTH * month, uf, ur, uT)
            discounted += (cumulative - previous) / (1 + monthly_discount_rate) ** month
            previous = cumulative
        clv = average_value * discounted[inverse]
    else:  # too few repeat buyers with positive spend to fit Gamma-Gamma
        average_value = np.full(len(frequency), np.nan)
        clv = np.full(len(frequency), np.nan)
    return pd.DataFrame({
        "p_alive": p_alive,
        "churn_probability": 1.0 - p_alive,
        "expected_purchases_90d": purchases,
        "expected_average_value": average_value,
        "expected_clv_12m": clv,
    })


def predict_persons(
    persons: pd.DataFrame,
    sample_size: int | None = 200_000,
    penalizer: float = 0.0,
    horizon_days: int = 90,
    clv_months: int = 12,
    monthly_discount_rate: float = 0.01,
    timings: dict[str, float] | None = None,
) -> tuple[pd.DataFrame, FittedModels]:
    """person_id + predictions for every person with a purchase day (t not null).

    persons: columns person_id, frequency, recency, t, monetary_value (the value
    metrics). The fit uses a deterministic sample of at most sample_size buyers; every
    buyer is scored. Persons with t null (no purchase day) get no row. timings, when
    given, receives the seconds of sample selection, fit and scoring.
    """
    timings = {} if timings is None else timings
    buyers = persons.loc[persons["t"].notna()].reset_index(drop=True)
    person_ids = buyers["person_id"].astype(str).to_numpy()
    models = None
    if len(buyers) >= MIN_FIT_PERSONS:
        started = time.perf_counter()
        sample = buyers.loc[fit_sample_mask(buyers["person_id"], sample_size)]
        timings["sample_seconds"] = time.perf_counter() - started
        models = fit_models(sample["frequency"], sample["recency"], sample["t"],
                            sample["monetary_value"], penalizer=penalizer)
        timings["fit_seconds"] = models.fit_seconds
    if models is None or models.bgf is None:
        # too few buyers for a meaningful fit (tiny test fixtures) or no convergence:
        # rows, no predictions
        scores = pd.DataFrame({name: pd.array([None] * len(buyers), dtype="Float64")
                               for name in PREDICTION_COLUMNS})
        scores.insert(0, "person_id", pd.array(person_ids, dtype=object))
        return scores, None
    started = time.perf_counter()
    scores = score(models, buyers["frequency"], buyers["recency"], buyers["t"],
                   buyers["monetary_value"], horizon_days=horizon_days,
                   clv_months=clv_months, monthly_discount_rate=monthly_discount_rate)
    scores = scores.astype("Float64")  # NaN (no Gamma-Gamma fit) is stored as null
    scores.insert(0, "person_id", pd.array(person_ids, dtype=object))
    timings["score_seconds"] = time.perf_counter() - started
    return scores, models


# simulate_persons' defaults, named as in FittedModels.params: close to the CDNOW fit
SIMULATED_PARAMS = {"bgnbd_r": 0.25, "bgnbd_alpha": 35.0, "bgnbd_a": 0.7, "bgnbd_b": 2.2,
                    "gamma_gamma_p": 6.0, "gamma_gamma_q": 4.0, "gamma_gamma_v": 15.0}


def simulate_persons(
    n: int,
    r: float = SIMULATED_PARAMS["bgnbd_r"],
    alpha: float = SIMULATED_PARAMS["bgnbd_alpha"],
    a: float = SIMULATED_PARAMS["bgnbd_a"],
    b: float = SIMULATED_PARAMS["bgnbd_b"],
    gg_p: float = SIMULATED_PARAMS["gamma_gamma_p"],
    gg_q: float = SIMULATED_PARAMS["gamma_gamma_q"],
    gg_v: float = SIMULATED_PARAMS["gamma_gamma_v"],
    max_t_days: int = 365,
    whole_days: bool = True,
    seed: int = 7,
) -> pd.DataFrame:
    """n buyers drawn from BG/NBD + Gamma-Gamma with the given parameters, vectorised.

    Defaults are close to the CDNOW fit (days). Per person: purchase rate
    lambda ~ Gamma(r, 1/alpha), drop-out probability p ~ Beta(a, b), T ~ uniform on
    1..max_t_days. The person stops after K ~ Geometric(p) repeat purchases; the N
    purchases of a Poisson(lambda T) process fall uniformly on (0, T], so the x-th of
    them (x = min(K, N)) is at T x Beta(x, N - x + 1). Spend: nu ~ Gamma(q, 1/v), the
    mean of x purchases ~ Gamma(p x, 1 / (nu x)). whole_days floors recency to days (as
    the warehouse counts them) instead of keeping the continuous time; frequency still
    counts purchases, not distinct days, so a few buyers (0.8 % at the defaults) have
    recency < frequency, which warehouse data never shows: fine for timing and for the
    fit's arithmetic, not a model of the warehouse's day counting.
    """
    rng = np.random.default_rng(seed)
    t = rng.integers(1, max_t_days + 1, n).astype(float)
    rate = rng.gamma(r, 1.0 / alpha, n)
    drop = rng.beta(a, b, n)
    stop_after = rng.geometric(drop)
    purchases = rng.poisson(rate * t)
    frequency = np.minimum(stop_after, purchases)
    buyers = frequency > 0
    recency = np.zeros(n)
    recency[buyers] = t[buyers] * rng.beta(frequency[buyers],
                                           purchases[buyers] - frequency[buyers] + 1)
    if whole_days:
        recency = np.floor(recency)
    nu = rng.gamma(gg_q, 1.0 / gg_v, n)
    monetary = np.zeros(n)
    monetary[buyers] = rng.gamma(gg_p * frequency[buyers],
                                 1.0 / (nu[buyers] * frequency[buyers]))
    return pd.DataFrame({
        "person_id": "s" + pd.Series(np.arange(n)).astype(str).str.zfill(9),
        "frequency": frequency.astype(float),
        "recency": recency,
        "t": t,
        "monetary_value": monetary,
    })


# ---- CDNOW holdout validation ---------------------------------------------------------

CALIBRATION_END = "1997-09-30"
OBSERVATION_END = "1998-06-30"


@dataclass
class HoldoutResult:
    customers: int
    holdout_days: int
    predicted_total: float
    actual_total: float
    relative_error: float
    correlation: float
    fit_seconds: float
    params: dict[str, float]
    weekly: pd.DataFrame  # week_end, cumulative predicted, cumulative actual (holdout)
    # holdout by calendar month: month_end, predicted, actual (not cumulative), ratio
    monthly: pd.DataFrame
    # all 78 weeks, week_end, predicted, actual repeat purchase days of the week: the
    # model's unconditional expectation for the cohort (Fader, Hardie & Lee's tracking
    # plot), so the calibration weeks show the fit and the holdout weeks the forecast
    tracking: pd.DataFrame
    calibration_predicted: float  # unconditional expectation, 1997-01-01..1997-09-30
    calibration_actual: float


def read_cdnow(path: Path) -> pd.DataFrame:
    df = pd.read_csv(path, sep=r"\s+", dtype={"customer_id": str, "date": str,
                                               "dollar_value": float})
    df["date"] = pd.to_datetime(df["date"], format="%Y%m%d")
    return df


def cdnow_holdout(path: Path, penalizer: float = 0.0) -> HoldoutResult:
    """Calibrate on 1997-01-01..1997-09-30, predict the holdout 1997-10-01..1998-06-30."""
    from lifetimes.utils import calibration_and_holdout_data

    transactions = read_cdnow(path)
    summary = calibration_and_holdout_data(
        transactions, "customer_id", "date", calibration_period_end=CALIBRATION_END,
        observation_period_end=OBSERVATION_END, freq="D", monetary_value_col="dollar_value")
    models = fit_models(summary["frequency_cal"], summary["recency_cal"], summary["T_cal"],
                        summary["monetary_value_cal"], penalizer=penalizer)
    holdout_days = int(summary["duration_holdout"].iloc[0])
    predicted = expected_purchases(models, holdout_days, summary["frequency_cal"],
                                   summary["recency_cal"], summary["T_cal"])
    actual = summary["frequency_holdout"].to_numpy(dtype=float)

    # weekly cumulative: predicted repeat purchase days by day d of the holdout, summed
    # over customers, against the repeat purchase days actually observed by then
    cal_end = pd.Timestamp(CALIBRATION_END)
    first_purchase = transactions.groupby("customer_id")["date"].min()
    days = transactions.loc[transactions["date"] > cal_end, ["customer_id", "date"]]
    days = days.drop_duplicates()
    # a repeat purchase day in the holdout: every holdout purchase day of a customer
    # first seen in the calibration period (all CDNOW customers are)
    days = days.loc[days["customer_id"].map(first_purchase) <= cal_end]
    day_index = (days["date"] - cal_end).dt.days.to_numpy()
    week_ends = [0, *range(7, holdout_days, 7), holdout_days]
    weekly_predicted, weekly_actual = _holdout_cumulative(models, summary, day_index,
                                                          week_ends)
    weekly = pd.DataFrame({
        "week_end": [cal_end + pd.Timedelta(days=end) for end in week_ends],
        "predicted": weekly_predicted,
        "actual": weekly_actual,
    })
    monthly = _holdout_by_month(models, summary, day_index, holdout_days)
    tracking = _tracking(models, transactions, first_purchase)
    calibration = tracking.loc[tracking["week_end"] <= cal_end]
    predicted_total, actual_total = float(predicted.sum()), float(actual.sum())
    return HoldoutResult(
        customers=len(summary), holdout_days=holdout_days, predicted_total=predicted_total,
        actual_total=actual_total,
        relative_error=(predicted_total - actual_total) / actual_total,
        correlation=float(np.corrcoef(predicted, actual)[0, 1]),
        fit_seconds=models.fit_seconds, params=models.params, weekly=weekly,
        monthly=monthly, tracking=tracking,
        calibration_predicted=float(calibration["predicted"].sum()),
        calibration_actual=float(calibration["actual"].sum()))


def _holdout_by_month(models: FittedModels, summary: pd.DataFrame, day_index: np.ndarray,
                      holdout_days: int) -> pd.DataFrame:
    """Predicted (conditional, summed over customers) and actual repeat purchase days
    per calendar month of the holdout: where the forecast and the data part."""
    cal_end = pd.Timestamp(CALIBRATION_END)
    month_ends = pd.date_range(cal_end + pd.Timedelta(days=1), OBSERVATION_END, freq="ME")
    ends = [int((month_end - cal_end).days) for month_end in month_ends]
    if ends[-1] != holdout_days:
        raise ValueError(f"the holdout ends on {OBSERVATION_END}, {holdout_days} days after "
                         f"{CALIBRATION_END}, but its last month end is day {ends[-1]}")
    predicted, actual = _holdout_cumulative(models, summary, day_index, [0, *ends])
    monthly = pd.DataFrame({
        "month_end": month_ends,
        "predicted": np.diff(predicted),
        "actual": np.diff(actual),
    })
    monthly["ratio"] = monthly["actual"] / monthly["predicted"]
    return monthly


def _holdout_cumulative(models: FittedModels, summary: pd.DataFrame, day_index: np.ndarray,
                        ends: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """Repeat purchase days in holdout days 1..end, for each end (0 gives 0): predicted
    (the conditional expectation summed over customers) and actual (day_index: the
    holdout day of every observed repeat purchase day)."""
    predicted = [0.0 if end == 0 else
                 float(expected_purchases(models, end, summary["frequency_cal"],
                                          summary["recency_cal"], summary["T_cal"]).sum())
                 for end in ends]
    actual = [float((day_index <= end).sum()) for end in ends]
    return np.array(predicted), np.array(actual)


def _tracking(models: FittedModels, transactions: pd.DataFrame,
              first_purchase: pd.Series) -> pd.DataFrame:
    """Weekly repeat purchase days, actual vs the BG/NBD expectation, weeks 1..78.

    Expected: sum over customers of E[X(t)] (repeat purchases in the t days after the
    first purchase, unconditional on the customer's history) at the week's end minus at
    the previous week's end; customers are grouped by first purchase day (90 days in
    CDNOW's Q1-1997 cohort), so E[X(t)] is evaluated 90 x 78 times, not per customer.
    """
    start = pd.Timestamp(first_purchase.min()).normalize()
    end = pd.Timestamp(OBSERVATION_END)
    week_ends = pd.date_range(start + pd.Timedelta(days=6), end, freq="7D")
    if week_ends[-1] != end or pd.Timestamp(CALIBRATION_END) not in week_ends:
        raise ValueError(f"weeks from {start:%Y-%m-%d} must end on {CALIBRATION_END} and on "
                         f"{OBSERVATION_END}: the tracking splits calibration and holdout "
                         "at a week end")
    births = first_purchase.value_counts().sort_index()
    ages = np.clip((week_ends.to_numpy()[:, None] - births.index.to_numpy()[None, :])
                   / np.timedelta64(1, "D"), 0, None)  # weeks x birth days, in days
    expected = np.asarray(models.bgf.expected_number_of_purchases_up_to_time(
        ages.ravel()), dtype=float).reshape(ages.shape) @ births.to_numpy(dtype=float)
    days = transactions[["customer_id", "date"]].drop_duplicates()
    repeat_days = days.loc[days["date"] > days["customer_id"].map(first_purchase), "date"]
    cumulative_actual = np.searchsorted(np.sort(repeat_days.to_numpy()),
                                        week_ends.to_numpy(), side="right")
    return pd.DataFrame({
        "week_end": week_ends,
        "predicted": np.diff(np.concatenate([[0.0], expected])),
        "actual": np.diff(np.concatenate([[0], cumulative_actual])).astype(float),
    })


def holdout_chart(result: HoldoutResult, out: Path) -> Path:
    """The CDNOW validation as a PNG (matplotlib), two panels.

    Top: repeat purchase days per week over all 78 weeks, actual vs the model's
    expectation for the cohort (the calibration weeks show the fit, the holdout weeks
    the forecast). Bottom: cumulative repeat purchase days in the holdout, actual vs the
    per-customer (conditional) forecast, whose end point is the reported total.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out.parent.mkdir(parents=True, exist_ok=True)
    cal_end = pd.Timestamp(CALIBRATION_END)
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(8, 8), dpi=100)
    tracking = result.tracking
    top.plot(tracking["week_end"], tracking["actual"], label="actual", color="black")
    top.plot(tracking["week_end"], tracking["predicted"], label="BG/NBD expected",
             color="tab:blue", linestyle="--")
    top.axvline(cal_end, color="grey", linewidth=1)
    top.text(cal_end, top.get_ylim()[1] * 0.95, " holdout \u2192", color="grey", va="top")
    calibration_error = result.calibration_predicted / result.calibration_actual - 1
    top.set_title(
        "CDNOW cohort (first purchase Q1 1997): repeat purchase days per week\n"
        f"calibration fit {result.calibration_predicted:,.0f} vs "
        f"{result.calibration_actual:,.0f} ({calibration_error:+.1%})")
    top.set_ylabel("repeat purchase days per week")
    bottom.plot(result.weekly["week_end"], result.weekly["actual"], label="actual",
                color="black")
    bottom.plot(result.weekly["week_end"], result.weekly["predicted"],
                label="BG/NBD predicted (per customer)", color="tab:blue", linestyle="--")
    bottom.set_title(
        f"Holdout {cal_end + pd.Timedelta(days=1):%Y-%m-%d}..{OBSERVATION_END}: "
        "cumulative repeat purchase days\n"
        f"predicted {result.predicted_total:,.0f} vs actual {result.actual_total:,.0f} "
        f"({result.relative_error:+.1%}), per-customer r = {result.correlation:.2f}")
    bottom.set_ylabel("repeat purchase days (cumulative)")
    for ax in (top, bottom):
        ax.set_xlabel("week ending")
        ax.grid(alpha=0.3)
        ax.legend(loc="upper right" if ax is top else "upper left")
        for label in ax.get_xticklabels():
            label.set_rotation(30)
            label.set_horizontalalignment("right")
    fig.tight_layout()
    # fixed metadata: the same result gives the same bytes
    fig.savefig(out, metadata={"Software": None})
    plt.close(fig)
    return out
