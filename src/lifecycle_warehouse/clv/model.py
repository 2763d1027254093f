"""Predictive lifecycle: BG/NBD + Gamma-Gamma on the lifetimes-compatible summary.

One implementation for the dbt Python model `int_person_clv_predictions` and the CDNOW
holdout validation (`lifecycle_warehouse.clv.validation`, `lw clv-holdout`,
pytests/test_clv_holdout.py), so the model that is validated is the model that is built.

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
