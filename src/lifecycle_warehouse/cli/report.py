"""`lw report`: write the lifecycle dashboard from the published marts."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from lifecycle_warehouse.report.data import REPORT_NAME, ReportError, default_report_path
from lifecycle_warehouse.report.render import screenshot, write_report


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "report",
        help="write the lifecycle dashboard (static HTML) from the published marts",
        description="Reads the published serving file read-only and writes one self-contained "
        "HTML page: stage sizes and flows, RFM grid, growth accounting, segment drill-down. "
        "`lw build` does this after every publish.",
    )
    p.add_argument("--serving", type=Path, help="published file (default: LW_SERVING_PATH or "
                   "data/serving/lifecycle.duckdb)")
    p.add_argument("--out", type=Path, help=f"HTML file (default: {REPORT_NAME} next to the "
                   "serving file)")
    p.add_argument("--screenshot", type=Path, metavar="PNG",
                   help="also save a PNG of the whole page rendered by headless Chromium")
    p.add_argument("--screenshot-height", type=int, metavar="PIXELS",
                   help="height of the screenshot (default: the page's own height)")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from lifecycle_warehouse.pipeline.project import default_serving_path

    serving = (args.serving or default_serving_path()).resolve()
    out = args.out or default_report_path(serving)
    try:
        out = write_report(serving, out)
        print(f"Report: {out}  (open it in a browser: {out.resolve().as_uri()})")
        if args.screenshot:
            png = screenshot(out, args.screenshot, height=args.screenshot_height)
            print(f"Screenshot: {png}")
    except ReportError as error:
        print(f"lw report failed: {error}", file=sys.stderr)
        return 1
    except OSError as error:
        print(f"lw report failed: cannot write {error.filename or out} "
              f"({error.strerror or error}); {out} is unchanged. Free space or give --out "
              "elsewhere.", file=sys.stderr)
        return 1
    return 0
