"""`lw bench` at 1M events: a smoke test (it completes and computes every ratio), not a
timing test; `make bench` runs 1M, 10M and 100M (bench/results.md)."""

from __future__ import annotations

import json
import math

import duckdb
import pytest

from lifecycle_warehouse.devtools import bench

pytestmark = pytest.mark.e2e


def _result(scale: str, events: int, micro_batch_s: float, incremental_s: float):
    return bench.ScaleResult(
        scale=scale, events=events, landing_rows=events, persons=1, floor_s=1.0, full_s=100.0,
        full_peak_rss_gb=1.0, incremental_s=incremental_s, incremental_peak_rss_gb=1.0,
        increment_rows=1, value_rfm_s=1.0, pandas_s=1.0, orders=1,
        micro_batch_s=micro_batch_s, micro_batch_rows=1)


def test_growth_lines_compare_each_scale_with_the_one_before():
    results = [_result("1M", 1_000_000, 10.0, 20.0), _result("10M", 10_000_000, 15.0, 50.0),
               _result("100M", 100_000_000, 30.0, 75.0)]
    assert bench.growth_lines(results) == [
        "Growth with history, 1M → 10M (10× the events): incremental day 2.5×, "
        "micro-batch 1.5×.",
        "Growth with history, 10M → 100M (10× the events): incremental day 1.5×, "
        "micro-batch 2.0×.",
    ]
    assert bench.growth_lines(results[:1]) == []


def test_parse_scale():
    assert bench.parse_scale("1M") == 1_000_000
    assert bench.parse_scale("500k") == 500_000
    assert bench.parse_scale("2_500_000") == 2_500_000
    with pytest.raises(ValueError, match="bad scale"):
        bench.parse_scale("ten")


@pytest.fixture(scope="module")
def bench_1m(tmp_path_factory):
    work = tmp_path_factory.mktemp("bench")
    out = work / "results.md"
    results = bench.run_bench(["1M"], work, out, "lw bench --events 1M")
    return work, out, results


def test_bench_1m_completes_with_every_ratio(bench_1m):
    work, out, (result,) = bench_1m
    manifest = json.loads((work / "1M-data" / "history" / "manifest.json").read_text())
    # the history, the hour and the new day together are exactly the generated rows
    assert (result.landing_rows + result.micro_batch_rows + result.increment_rows
            == manifest["rows_total"])
    assert result.increment_rows > 1_000  # one day of ~1M events over a year
    assert 0 < result.micro_batch_rows < result.increment_rows  # one hour of loading
    assert 0 < result.micro_batch_s < result.full_s
    assert result.persons > 5_000 and result.orders > 1_000
    for value in (result.ratio_to_floor, result.incremental_share, result.speedup,
                  result.sql_speedup, result.full_peak_rss_gb, result.activation_share):
        assert math.isfinite(value) and value > 0
    # activation: the new day moved people between audiences, and every member of every
    # audience outside a holdout was exported (rows counted once, written as CSV and JSON lines)
    with duckdb.connect(str(work / "1M" / "serving.duckdb"), read_only=True) as con:
        members = con.execute("select count(*) from marts.fct_audience_membership "
                          "where not is_holdout").fetchone()[0]
    assert result.change_rows > 0
    assert result.exported_rows == members
    table = out.read_text()
    assert f"| 1M | {result.landing_rows:,} |" in table
    assert f"| {result.micro_batch_rows:,} | {result.micro_batch_s:.1f} |" in table
    assert f"{result.ratio_to_floor:.1f}×" in table
    assert out.with_suffix(".png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    saved = json.loads(out.with_suffix(".json").read_text())
    assert saved[0]["incremental_share"] == pytest.approx(result.incremental_share)


def test_incremental_day_reached_the_marts(bench_1m):
    """The incremental build of the benchmark published the new day: the marts' as_of_date
    moved forward to it (it is the last complete load day)."""
    work, _, _ = bench_1m

    new_day = json.loads((work / "1M-data" / "prepared.json").read_text())["new_day"]
    with duckdb.connect(str(work / "1M" / "serving.duckdb"), read_only=True) as con:
        as_of = con.sql("select max(as_of_date) from marts.fct_customer_lifecycle").fetchall()
    assert str(as_of[0][0]) >= new_day


def test_rfm_only_remeasures_on_the_kept_build(bench_1m):
    work, out, (result,) = bench_1m
    (again,) = bench.remeasure_rfm(work, out, "lw bench --rfm-only")
    # every figure of the build stays as measured; the RFM step has new, real timings
    assert (again.full_s, again.incremental_s, again.floor_s, again.orders) == (
        result.full_s, result.incremental_s, result.floor_s, result.orders)
    assert again.value_rfm_sql_s > 0 and again.pandas_s > 0
    table = out.read_text()
    assert "RFM step re-measured" in table and f"| {again.value_rfm_sql_s:.2f} |" in table
