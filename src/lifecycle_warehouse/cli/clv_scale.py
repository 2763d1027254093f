"""`lw clv-scale`: time the CLV model (sample, fit, score) on simulated buyers."""

from __future__ import annotations

import argparse
import sys


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "clv-scale",
        help="time the CLV model (sample, fit, score) on simulated buyers, e.g. 5M",
        description="Draws --persons buyers from a BG/NBD + Gamma-Gamma process "
        "(lifecycle_warehouse.clv.model.simulate_persons, fixed seed) and runs the code of "
        "int_person_clv_predictions on them: fit on the deterministic sample, score "
        "everyone. Prints the seconds of each step, the peak RSS and the parameters "
        "recovered next to the simulated ones.",
    )
    p.add_argument("--persons", type=int, default=5_000_000, help="buyers (default 5M)")
    p.add_argument("--sample-size", type=int, default=200_000,
                   help="fit sample (default 200,000, the var clv_fit_sample_size)")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    import resource
    import time

    from lifecycle_warehouse.clv import model as clv_model

    if args.persons < clv_model.MIN_FIT_PERSONS or args.sample_size < clv_model.MIN_FIT_PERSONS:
        print(f"lw clv-scale: --persons and --sample-size must be at least "
              f"{clv_model.MIN_FIT_PERSONS} (fewer buyers are not fitted)", file=sys.stderr)
        return 2
    started = time.perf_counter()
    persons = clv_model.simulate_persons(args.persons)
    simulated = time.perf_counter() - started
    timings: dict[str, float] = {}
    started = time.perf_counter()
    scores, models = clv_model.predict_persons(persons, sample_size=args.sample_size,
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
                                     for name, value in clv_model.SIMULATED_PARAMS.items()))
    return 0
