"""The CDNOW holdout validation of the CLV model, and its charts (`lw clv-holdout`).

Fits `lifecycle_warehouse.clv.model` (the code `int_person_clv_predictions` runs) on the
CDNOW transactions of 1997-01-01..1997-09-30 and compares predicted with actual repeat
purchase days in 1997-10-01..1998-06-30: totals, per customer, per calendar month and
per week (`HoldoutResult`); `holdout_chart` draws the weekly tracking plot (PNG).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from lifecycle_warehouse.clv.model import FittedModels, expected_purchases, fit_models

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
