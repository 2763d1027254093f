"""`lw clv-holdout`: validate the CLV model on the CDNOW holdout."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "clv-holdout",
        help="validate the BG/NBD model on the CDNOW holdout (1997-10-01..1998-06-30)",
        description="Fits the warehouse's BG/NBD + Gamma-Gamma (lifecycle_warehouse.clv) "
        "on CDNOW 1997-01-01..1997-09-30 and compares predicted with actual repeat "
        "purchase days in 1997-10-01..1998-06-30.",
    )
    p.add_argument("--chart", type=Path, default=None,
                   help="write the weekly cumulative predicted vs actual chart (PNG) here")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from lifecycle_warehouse.clv import validation as clv_validation
    from lifecycle_warehouse.pipeline.runner import BuildError, cdnow_file

    try:
        path = cdnow_file()
    except BuildError as exc:
        print(exc, file=sys.stderr)
        return 2
    result = clv_validation.cdnow_holdout(path)
    print(f"CDNOW holdout {clv_validation.CALIBRATION_END} -> {clv_validation.OBSERVATION_END} "
          f"({result.customers} customers, {result.holdout_days} days)")
    print(f"  predicted repeat purchase days {result.predicted_total:,.1f}")
    print(f"  actual repeat purchase days    {result.actual_total:,.0f}")
    print(f"  error {result.relative_error:+.2%}, per-customer correlation "
          f"{result.correlation:.3f}, fit {result.fit_seconds:.2f} s")
    print("  " + ", ".join(f"{name} {value:.4g}" for name, value in result.params.items()))
    print(f"  calibration fit (cohort expectation) {result.calibration_predicted:,.0f} vs "
          f"actual {result.calibration_actual:,.0f} "
          f"({result.calibration_predicted / result.calibration_actual - 1:+.2%})")
    print("  holdout month   predicted   actual  actual/predicted")
    for row in result.monthly.itertuples():
        print(f"  {row.month_end:%Y-%m}      {row.predicted:9,.0f} {row.actual:8,.0f}  "
              f"{row.ratio:6.2f}")
    if args.chart is not None:
        print(f"  chart {clv_validation.holdout_chart(result, args.chart)}")
    return 0
