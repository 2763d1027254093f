"""`lw bench`: the performance benchmark (lifecycle_warehouse.devtools.bench)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction) -> None:
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
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from lifecycle_warehouse.devtools import bench

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
