"""``lw generate`` handler (its options: ``lifecycle_warehouse.cli.generate``)."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from .config import SOURCES, DefectRates
from .generator import LandingDirNotEmpty, generate

log = logging.getLogger(__name__)


def run(args: argparse.Namespace) -> int:
    persons = args.persons if args.persons is not None else (None if args.events else 20_000)
    try:
        manifest = generate(
            Path(args.out),
            seed=args.seed,
            persons=persons,
            days=args.days,
            start_date=args.start_date,
            chunk_persons=args.chunk_persons,
            defects=None if args.no_defects else DefectRates(),
            progress=not args.no_progress,
            events=args.events,
            overwrite=args.overwrite,
            traps=not args.no_traps,
        )
    except LandingDirNotEmpty as exc:
        print(f"lw generate: error: {exc}", file=sys.stderr)
        return 2
    except ValueError as exc:
        print(f"lw generate: error: {exc}", file=sys.stderr)
        return 2
    rows = manifest["rows"]
    print(f"wrote {manifest['rows_total']:,} rows for {manifest['args']['persons']:,} persons "
          f"to {args.out}")
    for src in SOURCES:
        print(f"  {src:<20} {rows[src]:>12,}")
    return 0
