"""``lw`` command line: a small dispatcher; subcommand modules are imported lazily."""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import sys
from collections.abc import Sequence
from pathlib import Path


def _add_generate(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "generate",
        help="generate synthetic landing data (docs/landing_contract.md)",
        description="Generate the landing files of all sources plus manifest.json.",
    )
    p.add_argument("--out", required=True, help="landing directory to write")
    p.add_argument("--seed", type=int, default=42)
    size = p.add_mutually_exclusive_group()
    size.add_argument("--persons", type=int, help="number of persons (default 20000)")
    size.add_argument("--events", type=int,
                      help="approximate web+app+messaging rows; persons derived from a "
                           "measured events/person factor")
    p.add_argument("--days", type=int, default=365)
    p.add_argument("--start-date", type=dt.date.fromisoformat, default=dt.date(2025, 1, 1))
    p.add_argument("--chunk-persons", type=int, default=10_000,
                   help="persons per chunk / output part (default 10000)")
    p.add_argument("--no-defects", action="store_true", help="inject no defects, no drift")
    p.add_argument("--no-traps", action="store_true",
                   help="no kiosk ids / exclusion-seed ids (over-merge traps)")
    p.add_argument("--overwrite", action="store_true",
                   help="replace existing landing data in --out")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.set_defaults(handler=_run_generate)


def _run_generate(args: argparse.Namespace) -> int:
    from lifecycle_warehouse.generate.command import run

    return run(args)


def _add_clv_holdout(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "clv-holdout",
        help="validate the BG/NBD model on the CDNOW holdout (1997-10-01..1998-06-30)",
        description="Fits the warehouse's BG/NBD + Gamma-Gamma (lifecycle_warehouse.clv) "
        "on CDNOW 1997-01-01..1997-09-30 and compares predicted with actual repeat "
        "purchase days in 1997-10-01..1998-06-30.",
    )
    p.add_argument("--chart", type=Path, default=None,
                   help="write the weekly cumulative predicted vs actual chart (PNG) here")
    p.set_defaults(handler=_run_clv_holdout)


def _run_clv_holdout(args: argparse.Namespace) -> int:
    from lifecycle_warehouse import clv
    from lifecycle_warehouse.runner import BuildError, cdnow_file

    try:
        path = cdnow_file()
    except BuildError as exc:
        print(exc, file=sys.stderr)
        return 2
    result = clv.cdnow_holdout(path)
    print(f"CDNOW holdout {clv.CALIBRATION_END} -> {clv.OBSERVATION_END} "
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
        print(f"  chart {clv.holdout_chart(result, args.chart)}")
    return 0


def _add_clv_scale(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "clv-scale",
        help="time the CLV model (sample, fit, score) on simulated buyers, e.g. 5M",
        description="Draws --persons buyers from a BG/NBD + Gamma-Gamma process "
        "(lifecycle_warehouse.clv.simulate_persons, fixed seed) and runs the code of "
        "int_person_clv_predictions on them: fit on the deterministic sample, score "
        "everyone. Prints the seconds of each step, the peak RSS and the parameters "
        "recovered next to the simulated ones.",
    )
    p.add_argument("--persons", type=int, default=5_000_000, help="buyers (default 5M)")
    p.add_argument("--sample-size", type=int, default=200_000,
                   help="fit sample (default 200,000, the var clv_fit_sample_size)")
    p.set_defaults(handler=_run_clv_scale)


def _run_clv_scale(args: argparse.Namespace) -> int:
    import resource
    import time

    from lifecycle_warehouse import clv

    if args.persons < clv.MIN_FIT_PERSONS or args.sample_size < clv.MIN_FIT_PERSONS:
        print(f"lw clv-scale: --persons and --sample-size must be at least "
              f"{clv.MIN_FIT_PERSONS} (fewer buyers are not fitted)", file=sys.stderr)
        return 2
    started = time.perf_counter()
    persons = clv.simulate_persons(args.persons)
    simulated = time.perf_counter() - started
    timings: dict[str, float] = {}
    started = time.perf_counter()
    scores, models = clv.predict_persons(persons, sample_size=args.sample_size,
                                         timings=timings)
    total = time.perf_counter() - started
    if models is None:
        print("lw clv-scale: the BG/NBD fit did not converge (predictions would be null); "
              "try a larger --sample-size", file=sys.stderr)
        return 1
    distinct = len(persons.drop_duplicates(["frequency", "recency", "t"]))
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    print(f"CLV model on {args.persons:,} simulated buyers ({distinct:,} distinct "
          f"frequency/recency/T), fit sample {models.fit_persons:,}")
    print(f"  simulate {simulated:.1f} s (not part of the model)")
    print(f"  sample selection {timings['sample_seconds']:.1f} s, fit "
          f"{timings['fit_seconds']:.1f} s, scoring {len(scores):,} buyers "
          f"{timings['score_seconds']:.1f} s; model total {total:.1f} s")
    print(f"  peak RSS {peak_gb:.2f} GB")
    print("  recovered " + ", ".join(f"{name} {value:.4g}"
                                     for name, value in models.params.items()))
    print("  simulated " + ", ".join(f"{name} {value:.4g}"
                                     for name, value in clv.SIMULATED_PARAMS.items()))
    return 0


def _add_bench(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "bench",
        help="benchmark: floor query, full gated build, one incremental day, RFM vs pandas",
        description="Generates (or reuses) landing data at each scale, then measures the floor "
        "query, the full gated build, one incremental day and RFM + value metrics against "
        "pandas + lifetimes; writes a results table (markdown + json) and a chart.",
    )
    p.add_argument("--events", default="1M,10M,100M",
                   help="comma-separated scales in events, e.g. 1M,10M,100M (default)")
    p.add_argument("--work", type=Path, default=None,
                   help="data and build directory (default: bench/data, git-ignored)")
    p.add_argument("--out", type=Path, default=None,
                   help="results file (default: bench/results.md; .json and .png beside it)")
    p.add_argument("--rfm-only", action="store_true",
                   help="only measure the RFM step again, on the builds the last run kept in "
                   "--work, and rewrite the results (other figures stay as measured)")
    p.set_defaults(handler=_run_bench)


def _run_bench(args: argparse.Namespace) -> int:
    from lifecycle_warehouse import bench

    try:
        scales = [s for s in args.events.split(",") if s.strip()]
        for scale in scales:
            bench.parse_scale(scale)
    except ValueError as error:
        print(f"lw bench: {error}", file=sys.stderr)
        return 2
    work = (args.work or bench.BENCH_DIR / "data").resolve()
    out = (args.out or bench.BENCH_DIR / "results.md").resolve()
    command = "lw bench --events " + ",".join(scales)
    try:
        if args.rfm_only:
            bench.remeasure_rfm(work, out, "lw bench --rfm-only")
        else:
            bench.run_bench(scales, work, out, command)
    except RuntimeError as error:
        print(f"lw bench failed: {error}", file=sys.stderr)
        return 1
    print(f"Results: {out} (chart {out.with_suffix('.png')})")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lw", description="Lifecycle Warehouse tooling")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)
    _add_generate(sub)
    from lifecycle_warehouse.build_command import add_parser as _add_build
    from lifecycle_warehouse.build_command import add_publish_parser as _add_publish_build

    _add_build(sub)
    _add_publish_build(sub)
    from lifecycle_warehouse.publish_command import add_parsers as _add_publish

    _add_publish(sub)
    from lifecycle_warehouse.report import add_parser as _add_report

    _add_report(sub)
    from lifecycle_warehouse.export import add_parser as _add_export

    _add_export(sub)
    _add_clv_holdout(sub)
    _add_clv_scale(sub)
    _add_bench(sub)
    from lifecycle_warehouse.spark import add_parser as _add_spark_build

    _add_spark_build(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    return int(args.handler(args))


if __name__ == "__main__":
    sys.exit(main())
