"""The lifecycle dashboard (`lw report`) on the default sample's published marts.

Every number the page shows is also embedded as JSON; each is compared here with SQL
written independently on the published file, and the HTML is checked to show them.
"""

from __future__ import annotations

import html
import json
import re
import shutil

import duckdb
import pytest

from conftest import run_lw
from lifecycle_warehouse.report import REPORT_NAME, STAGES, find_chromium


def embedded_data(page: str) -> dict:
    found = re.search(r'<script type="application/json" id="lw-report-data">(.*?)</script>',
                      page, re.S)
    assert found, "the report embeds its numbers as JSON"
    return json.loads(found.group(1).replace("<\\/", "</"))


@pytest.fixture(scope="module")
def report(sample_build):
    page_path = sample_build["serving"].parent / REPORT_NAME
    assert page_path.is_file(), "lw build writes the dashboard next to the serving file"
    assert f"dashboard: {page_path}" in sample_build["stdout"]
    page = page_path.read_text(encoding="utf-8")
    con = duckdb.connect(str(sample_build["serving"]), read_only=True)
    yield {"page": page, "data": embedded_data(page), "con": con, "path": page_path}
    con.close()


def sql(report, query: str) -> list[tuple]:
    return report["con"].execute(query).fetchall()


def test_stage_sizes_equal_the_lifecycle_mart(report):
    expected = dict(sql(report, "select lifecycle_stage, count(*) "
                                "from marts.fct_customer_lifecycle group by lifecycle_stage"))
    shown = {s["stage"]: s["customers"] for s in report["data"]["stages"]}
    assert shown == expected
    assert set(shown) == set(STAGES), "the default sample populates every stage"
    assert report["data"]["totals"]["customers"] == sum(expected.values())
    for stage, customers in expected.items():  # the stage table shows the same numbers
        assert f"<tr><td>{stage}</td><td>{customers:,}</td>" in report["page"]


def test_stage_flows_of_the_last_period_cover_everyone_seen(report):
    last = sql(report, "select max(snapshot_date) from marts.fct_lifecycle_history")[0][0]
    seen = sql(report, "select lifecycle_stage, count(*) from marts.fct_lifecycle_history "
                       f"where snapshot_date = '{last}' group by lifecycle_stage")
    flows = [t for t in report["data"]["transitions"] if t["snapshot_date"] == last.isoformat()]
    into = {}
    for flow in flows:
        into[flow["to_stage"]] = into.get(flow["to_stage"], 0) + flow["persons"]
    assert into == dict(seen)
    history = {row["stage"]: row["persons"] for row in report["data"]["stage_history"]
               if row["snapshot_date"] == last.isoformat()}
    assert history == dict(seen)
    churned_stay = next(f for f in flows if f["from_stage"] == f["to_stage"] == "churned")
    assert f'{churned_stay["persons"]:,}<br><small>' in report["page"]  # the matrix cell
    assert 'id="lw-stage-flows"' in report["page"] and '"type":"sankey"' in report["page"]


def test_rfm_grid_counts_and_revenue_equal_fct_rfm(report):
    frame = report["con"].execute("select r_score, f_score, segment, net_revenue "
                                  "from marts.fct_rfm").df()
    grouped = frame.groupby(["r_score", "f_score"]).agg(
        customers=("segment", "size"), net_revenue=("net_revenue", "sum"),
        segments=("segment", "nunique"), segment=("segment", "first"))
    assert (grouped["segments"] == 1).all(), "a cell has one segment"
    cells = {(c["r_score"], c["f_score"]): c for c in report["data"]["rfm_grid"]}
    assert set(cells) == set(grouped.index)
    for key, row in grouped.iterrows():
        assert cells[key]["customers"] == row["customers"]
        assert cells[key]["net_revenue"] == pytest.approx(float(row["net_revenue"]), abs=0.005)
        assert cells[key]["segment"] == row["segment"]
    assert sum(c["customers"] for c in cells.values()) == len(frame)
    assert 'id="lw-rfm-customers"' in report["page"] and 'id="lw-rfm-revenue"' in report["page"]


def test_growth_accounting_equals_the_mart(report):
    expected = sql(report, "select strftime(period_start, '%Y-%m-%d'), new_persons, "
                           "retained_persons, resurrected_persons, churned_persons "
                           "from marts.fct_growth_accounting order by period_start")
    shown = [(g["period_start"], g["new_persons"], g["retained_persons"],
              g["resurrected_persons"], g["churned_persons"]) for g in report["data"]["growth"]]
    assert shown == expected
    assert len(shown) == 12, "the default sample spans the 12 months of 2025"


def test_drilldown_reachability_and_top_customers(report):
    segments = {s["segment"]: s for s in report["data"]["drilldown"]["rfm_segment"]}
    counts = sql(report, """
        select r.segment, count(*), count(*) filter (where d.is_reachable_email),
            count(*) filter (where d.is_reachable_sms), count(*) filter (where d.is_reachable_any)
        from marts.fct_rfm as r join marts.dim_customers as d using (person_id)
        group by r.segment""")
    assert set(segments) == {row[0] for row in counts}
    for segment, customers, email, sms, reachable in counts:
        shown = segments[segment]
        assert (shown["customers"], shown["reachable_email"], shown["reachable_sms"],
                shown["reachable_any"]) == (customers, email, sms, reachable)
        assert sum(s["customers"] for s in shown["splits"]) == customers
    champions = segments["champions"]["top_customers"]
    best = sql(report, "select person_id, net_revenue from marts.fct_rfm "
                       "where segment = 'champions' order by net_revenue desc, person_id limit 10")
    assert [(t["person_id"], t["net_revenue"]) for t in champions] == [
        (person, float(revenue)) for person, revenue in best]
    assert f"<code>{html.escape(best[0][0])}</code>" in report["page"]
    stages = {s["segment"]: s["customers"] for s in report["data"]["drilldown"]["lifecycle_stage"]}
    assert stages == {s["stage"]: s["customers"] for s in report["data"]["stages"]}


def test_report_is_reproducible_and_read_only(report, sample_build, tmp_path):
    # written again from the same published file, while a reader holds it open
    again = tmp_path / "again.html"
    result = run_lw("report", "--serving", str(sample_build["serving"]), "--out", str(again))
    assert result.returncode == 0, result.stderr
    assert again.read_bytes() == report["path"].read_bytes()


def test_report_refuses_what_is_not_a_published_file(sample_build, tmp_path):
    missing = run_lw("report", "--serving", str(tmp_path / "nothing.duckdb"))
    assert missing.returncode == 1
    assert "No published marts at" in missing.stderr and "lw build" in missing.stderr
    build_copy = tmp_path / "build.duckdb"
    shutil.copyfile(sample_build["database"], build_copy)
    not_published = run_lw("report", "--serving", str(build_copy))
    assert not_published.returncode == 1
    assert "is not a published build" in not_published.stderr


@pytest.mark.skipif(find_chromium() is None, reason="no Chromium (apt-get install chromium)")
def test_report_renders_in_headless_chromium(report, tmp_path):
    from matplotlib.image import imread

    png = tmp_path / "report.png"
    result = run_lw("report", "--serving", str(report["path"].parent / "lifecycle.duckdb"),
                    "--out", str(tmp_path / "page.html"), "--screenshot", str(png))
    assert result.returncode == 0, result.stderr
    pixels = imread(png)
    assert pixels.shape[1] == 1400
    # charts drawn: many distinct colours, not a blank or error page
    distinct = {tuple(p) for p in (pixels[::7, ::7, :3] * 255).astype(int).reshape(-1, 3)}
    assert len(distinct) > 500
