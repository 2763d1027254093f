"""The lifecycle dashboard (`lw report`) on the default sample's published marts, and on a
tiny hand-made serving file (a few hand-written rows per mart, built here with duckdb).

Every number the page shows is also embedded as JSON; each is compared here with SQL
written independently on the published file, and the HTML is checked to show them. The
hand-made file checks the labels, the numbers written into it, and the sections of marts a
build may not have ("not in this build").
"""

from __future__ import annotations

import csv
import html
import json
import re
import shutil

import duckdb
import pytest

from conftest import run_lw
from lifecycle_warehouse.pipeline.project import PROJECT_ROOT
from lifecycle_warehouse.report.data import (
    REPORT_NAME,
    STAGES,
    base_currency,
    load_report_data,
    stage_definitions,
)
from lifecycle_warehouse.report.render import find_chromium, page_height, render_report


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
    assert report["data"]["totals"]["persons"] == sum(expected.values())
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
    # a short id (first 8 characters), the whole id as its tooltip
    assert (f'<code title="{html.escape(best[0][0])}">{html.escape(best[0][0][:8])}</code>'
            in report["page"])
    assert f">{html.escape(best[0][0])}</code>" not in report["page"]
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
    # the whole page, drill-down included: the screenshot is as tall as the page
    height = page_height(tmp_path / "page.html")
    assert height is not None and height > 4200
    assert pixels.shape[0] == height + 16
    # charts drawn: many distinct colours, not a blank or error page
    distinct = {tuple(p) for p in (pixels[::7, ::7, :3] * 255).astype(int).reshape(-1, 3)}
    assert len(distinct) > 500


def test_rfm_tie_rule_is_explained_on_the_sample(report):
    ones, buyers = sql(report, "select count(*) filter (where order_count = 1), count(*) "
                               "from marts.fct_rfm")[0]
    f_scores = {f for (f,) in sql(report, "select distinct f_score from marts.fct_rfm")}
    assert 2 not in f_scores and 1 in f_scores, "the default sample's F2 column is empty"
    assert (f"No buyer scores F2: equal values get equal scores (lw_rfm_score, percent rank), "
            f"and {ones / buyers:.1%} of buyers ({ones:,}) have 1 order, so they all score F1"
            in html.unescape(report["page"]))


# ---------------------------------------------------------------------------------------
# a hand-made serving file: every number below is written here, the page must show it

P_PROSPECT = "11111111" + "a" * 24
P_ACTIVE = "22222222" + "b" * 24
P_CHURNED = "33333333" + "c" * 24
P_LOYAL = "44444444" + "d" * 24

_CORE_TABLES = """
create schema meta;
create table meta.publish_info as select 'b2' as build_id,
    timestamp '2025-12-16 06:00:00' as published_at, date '2025-12-15' as as_of_date,
    '{"landing_dir": "x"}' as metadata;
create schema marts;
create table marts.fct_customer_lifecycle (person_id varchar, lifecycle_stage varchar,
    first_active_date date, order_count bigint, net_revenue decimal(18, 2),
    days_since_last_active integer, dormant_days integer, churned_days integer);
insert into marts.fct_customer_lifecycle values
    ('P_PROSPECT', 'prospect', null, 0, 0.00, null, 17, 45),
    ('P_ACTIVE', 'active', '2025-11-02', 1, 10.00, 3, 17, 45),
    ('P_CHURNED', 'churned', '2025-06-01', 1, 20.00, 200, 17, 45),
    ('P_LOYAL', 'loyal_high_value', '2025-11-05', 5, 120.50, 10, 17, 45);
create table marts.agg_segment_summary (dimension varchar, segment_name varchar,
    customers bigint, net_revenue decimal(18, 2), share_of_customers double,
    share_of_revenue double);
insert into marts.agg_segment_summary values
    ('lifecycle_stage', 'prospect', 1, 0.00, 0.25, 0.0),
    ('lifecycle_stage', 'active', 1, 10.00, 0.25, 0.066),
    ('lifecycle_stage', 'loyal_high_value', 1, 120.50, 0.25, 0.801),
    ('lifecycle_stage', 'churned', 1, 20.00, 0.25, 0.133),
    ('rfm_segment', 'champions', 1, 120.50, 0.3333, 0.801),
    ('rfm_segment', 'promising', 1, 10.00, 0.3333, 0.066),
    ('rfm_segment', 'hibernating', 1, 20.00, 0.3333, 0.133);
create table marts.fct_lifecycle_transitions (snapshot_date date, previous_snapshot_date date,
    from_stage varchar, to_stage varchar, persons bigint, share_of_from_stage double);
insert into marts.fct_lifecycle_transitions values
    ('2025-11-30', null, 'none', 'new', 2, 0.5), ('2025-11-30', null, 'none', 'churned', 1, 0.25),
    ('2025-11-30', null, 'none', 'prospect', 1, 0.25),
    ('2025-12-15', '2025-11-30', 'new', 'active', 1, 0.5),
    ('2025-12-15', '2025-11-30', 'new', 'loyal_high_value', 1, 0.5),
    ('2025-12-15', '2025-11-30', 'churned', 'churned', 1, 1.0),
    ('2025-12-15', '2025-11-30', 'prospect', 'prospect', 1, 1.0);
-- scores by lw_rfm_score: recency 200 / 10 / 3 days rank 0, 0.5, 1 -> R1, R3, R5;
-- orders 1, 1, 5 rank 0, 0, 1 -> F1, F1, F5
create table marts.fct_rfm (person_id varchar, recency_days integer, order_count bigint,
    net_revenue decimal(18, 2), r_score integer, f_score integer, segment varchar);
insert into marts.fct_rfm values
    ('P_ACTIVE', 3, 1, 10.00, 5, 1, 'promising'),
    ('P_CHURNED', 200, 1, 20.00, 1, 1, 'hibernating'),
    ('P_LOYAL', 10, 5, 120.50, 3, 5, 'champions');
create table marts.fct_growth_accounting (period_start date, is_complete_period boolean,
    active_persons bigint, new_persons bigint, retained_persons bigint,
    resurrected_persons bigint, churned_persons bigint, quick_ratio double,
    retention_rate double);
insert into marts.fct_growth_accounting values
    ('2025-11-01', true, 2, 2, 0, 0, 0, null, null),
    ('2025-12-01', false, 3, 1, 1, 1, 1, 2.0, 0.5);
create table marts.dim_customers (person_id varchar, preferred_channel varchar,
    is_reachable_email boolean, is_reachable_sms boolean, is_reachable_push boolean,
    is_reachable_whatsapp boolean, is_reachable_any boolean);
insert into marts.dim_customers values
    ('P_PROSPECT', null, true, false, false, false, true),
    ('P_ACTIVE', 'web', true, false, false, false, true),
    ('P_CHURNED', 'store', false, true, false, false, true),
    ('P_LOYAL', 'app', true, true, true, false, true);
"""

_NEW_TABLES = """
create table marts.fct_audience_membership (audience_id varchar, audience_type varchar,
    audience_name varchar, person_id varchar, as_of_date date, entered_on date,
    campaign_id varchar, is_holdout boolean, is_reachable_email boolean,
    is_reachable_sms boolean, is_reachable_push boolean, is_reachable_whatsapp boolean);
insert into marts.fct_audience_membership values
    ('lifecycle_stage:active', 'lifecycle_stage', 'active', 'P_ACTIVE', '2025-12-15',
     '2025-12-10', null, false, true, false, false, false),
    ('lifecycle_stage:churned', 'lifecycle_stage', 'churned', 'P_CHURNED', '2025-12-15',
     '2025-12-14', 'winback_test', true, false, true, false, false),
    ('rfm_segment:champions', 'rfm_segment', 'champions', 'P_LOYAL', '2025-12-15', null,
     null, false, true, true, true, false),
    ('trigger:first_purchase_not_repeated', 'trigger', 'first_purchase_not_repeated',
     'P_ACTIVE', '2025-12-15', '2025-12-01', null, false, true, false, false, false),
    ('trigger:first_purchase_not_repeated', 'trigger', 'first_purchase_not_repeated',
     'P_CHURNED', '2025-12-15', '2025-12-01', null, false, false, true, false, false);
create table marts.fct_audience_changes (build_id varchar, previous_build_id varchar,
    as_of_date date, previous_as_of_date date, audience_id varchar, audience_type varchar,
    audience_name varchar, person_id varchar, change_type varchar, entered_on date,
    is_holdout boolean);
insert into marts.fct_audience_changes values
    ('b2', 'b1', '2025-12-15', '2025-12-14', 'lifecycle_stage:active', 'lifecycle_stage',
     'active', 'P_ACTIVE', 'entered', '2025-12-15', false),
    ('b2', 'b1', '2025-12-15', '2025-12-14', 'lifecycle_stage:churned', 'lifecycle_stage',
     'churned', 'P_CHURNED', 'entered', '2025-12-15', true),
    ('b2', 'b1', '2025-12-15', '2025-12-14', 'lifecycle_stage:at_risk', 'lifecycle_stage',
     'at_risk', 'P_CHURNED', 'left', null, false),
    -- an older build's change: not this build's, not counted
    ('b1', null, '2025-12-14', null, 'lifecycle_stage:at_risk', 'lifecycle_stage',
     'at_risk', 'P_CHURNED', 'entered', '2025-12-14', false);
create table marts.fct_campaign_outcomes (campaign_id varchar, outcome_metric varchar,
    window_end_date date, is_window_complete boolean, treatment_persons bigint,
    control_persons bigint, treatment_value double, control_value double, difference double,
    ci_low double, ci_high double, test_method varchar);
insert into marts.fct_campaign_outcomes values
    ('winback_test', 'reactivation_rate', '2025-12-01', true, 300, 100, 0.25, 0.10, 0.15,
     0.05, 0.25, 'two-proportion Wald'),
    ('winback_test', 'net_revenue_per_person', '2025-12-01', true, 300, 100, 12.5, 11.0, 1.5,
     -2.0, 5.0, 'Welch'),
    -- a campaign on an RFM audience: no members, no estimate; its window still open
    ('vip_test', 'repurchase_rate', '2026-01-10', false, 0, 0, null, null, null, null, null,
     'two-proportion Wald');
create table marts.fct_cohort_retention (period_grain varchar, cohort_period_start date,
    periods_since integer, cohort_persons bigint, retained_persons bigint,
    retention_rate double);
insert into marts.fct_cohort_retention values
    ('month', '2025-11-01', 0, 2, 2, 1.0), ('month', '2025-11-01', 1, 2, 1, 0.5),
    ('month', '2025-12-01', 0, 1, 1, 1.0),
    ('week', '2025-11-03', 0, 2, 2, 1.0);
"""


def _handmade_serving(path, *, with_new_tables: bool):
    script = _CORE_TABLES + (_NEW_TABLES if with_new_tables else "")
    for name in ("P_PROSPECT", "P_ACTIVE", "P_CHURNED", "P_LOYAL"):
        script = script.replace(f"'{name}'", f"'{globals()[name]}'")
    with duckdb.connect(str(path)) as con:
        con.execute(script)
    return path


def page_text(page: str) -> str:
    """What a reader sees: the HTML without scripts, styles and tags, spaces collapsed."""
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", body)))


@pytest.fixture(scope="module")
def handmade(tmp_path_factory):
    root = tmp_path_factory.mktemp("handmade_report")
    pages = {}
    for name, with_new in (("full", True), ("core", False)):
        serving = _handmade_serving(root / f"{name}.duckdb", with_new_tables=with_new)
        pages[name] = render_report(load_report_data(serving))
        (root / f"{name}.html").write_text(pages[name], encoding="utf-8")
    return {"root": root, **pages, "text": page_text(pages["full"]),
            "core_text": page_text(pages["core"])}


def test_handmade_tiles_separate_prospects_and_the_two_actives(handmade):
    text = handmade["text"]
    # 4 known persons, 1 a prospect; 3 ever active; 3 buyers; 10 + 20 + 120.50 dollars
    assert "4 known persons incl. 1 prospects (never active)" in text
    assert "3 ever-active persons" in text and "3 buyers ≥ 1 order" in text
    assert "USD 150.50 net revenue" in text
    # the stage `active` (1 person) and persons active in the last complete month (2)
    assert "1 stage active 25.0% of known persons (lifecycle stage)" in text
    assert "2 active in 2025-11 ≥ 1 active day in the month (growth accounting)" in text
    assert 'Two kinds of "active"' in text
    assert "2025-12 (to date) 3 1 1 1 1 2.00 50.0%" in text  # the growth table row
    assert "net revenue (USD)" in text and "All money is in USD" in text


def test_handmade_stage_definitions_come_from_the_macro_with_thresholds(handmade):
    text = handmade["text"]
    assert "prospect 1 never user-active 1 25.0%" in text
    # dormant_days 17 and churned_days 45 written into the file; new_customer_days 30 is
    # the dbt_project.yml var
    assert "dormant 3 inactive longer than 17 days (dormant_days)" in text
    assert "churned 2 inactive longer than 45 days (churned_days)" in text
    assert "first active within 30 days (new_customer_days)" in text


def test_handmade_rfm_grid_explains_its_empty_scores(handmade):
    text = handmade["text"]
    assert ("No buyer scores F2, F3 or F4: equal values get equal scores (lw_rfm_score, "
            "percent rank), and 66.7% of buyers (2) have 1 order, so they all score F1; the "
            "next value, 5 orders, ranks above them and scores F5. F jumps from 1 to 5.") in text
    assert ("No buyer scores R2: equal values get equal scores (lw_rfm_score, percent rank), "
            "and 33.3% of buyers (1) have 200 days since the last order, so they all score R1; "
            "the next value, 10 days since the last order, ranks above them and scores R3."
            ) in text
    assert "no buyers:\\u003cbr\\u003etie rule" in handmade["full"]  # marked on the grid


def test_handmade_top_customers_show_short_ids_with_stage_and_segment(handmade):
    page = handmade["full"]
    assert f'<code title="{P_LOYAL}">44444444</code></td><td>loyal_high_value</td>' \
           f"<td>champions</td><td>120.50</td>" in page
    assert f">{P_LOYAL}</code>" not in page


def test_handmade_audiences_show_sizes_and_this_builds_changes(handmade):
    text = handmade["text"]
    assert ("changes between build b1 (as of 2025-12-14) and this build b2 "
            "(as of 2025-12-15)") in text
    # audience, type, members, control, campaign, entered, left, net, email sms push whatsapp
    assert "churned lifecycle_stage 1 1 winback_test 1 0 +1 0 1 0 0" in text
    assert "active lifecycle_stage 1 0 – 1 0 +1 1 0 0 0" in text
    # at_risk: nobody left in it; b1's 'entered' row is another build's change
    assert "at_risk lifecycle_stage 0 0 – 0 1 -1 0 0 0 0" in text
    assert "first_purchase_not_repeated trigger 2 0 – 0 0 +0 1 1 0 0" in text
    assert "champions rfm_segment 1 0 – 0 0 +0 1 1 1 0" in text


def test_handmade_campaign_outcome_with_its_interval(handmade):
    text = handmade["text"]
    assert ("winback_test reactivation_rate 25.0% 10.0% +15.0 pp +5.0 pp to +25.0 pp 300 100 "
            "treatment higher (interval above 0)") in text
    assert ("winback_test net_revenue_per_person USD 12.50 USD 11.00 USD +1.50 "
            "USD -2.00 to USD +5.00 300 100 no clear difference (interval includes 0)") in text
    assert ("vip_test repurchase_rate – – – – to – 0 0 no estimate (a group has no members); "
            "window open until 2026-01-10, counted so far") in text
    assert "Intervals: Welch; two-proportion Wald." in text
    assert 'id="lw-campaign-outcomes"' in handmade["full"]


def test_handmade_retention_triangle_month_grain(handmade):
    text = handmade["text"]
    assert 'id="lw-retention"' in handmade["full"] and '"type":"heatmap"' in handmade["full"]
    assert "cohort persons +0 +1 2025-11 2 100.0% 50.0% 2025-12 1 100.0%" in text
    assert "The mart also has the week grain(s)" in text
    assert "2025-11-03" not in text  # the week cohort is not in the month triangle


def test_handmade_sections_say_not_in_this_build_when_absent(handmade):
    text = handmade["core_text"]
    for what, table in (("Retention triangle", "fct_cohort_retention"),
                        ("Audience sizes", "fct_audience_membership"),
                        ("Audience changes (entered / left)", "fct_audience_changes"),
                        ("Campaign outcomes", "fct_campaign_outcomes")):
        assert (f"{what}: not in this build (marts.{table} is not in the published file)."
                in text)
    assert "not in this build" not in handmade["text"]
    assert "4 known persons" in text  # the rest of the page is there


def test_stage_definitions_come_from_the_seed_with_thresholds():
    definitions = stage_definitions({"churned_days": 45, "loyal_min_orders": 3})
    with (PROJECT_ROOT / "seeds" / "lifecycle_stages.csv").open(encoding="utf-8") as seed:
        by_precedence = sorted(csv.DictReader(seed), key=lambda row: int(row["precedence"]))
    assert [d["stage"] for d in definitions] == [row["stage"] for row in by_precedence]
    assert definitions[0]["rule"] == "never user-active"
    assert definitions[1]["rule"] == (
        "inactive longer than 45 days (churned_days), or opted out (account closed / "
        "unsubscribed everywhere) and not active in 30 days")
    assert definitions[6]["rule"] == "value tier high and at least 3 (loyal_min_orders) orders"


def test_base_currency_from_the_publish_metadata_else_the_dbt_var():
    assert base_currency('{"base_currency": "EUR"}', {"base_currency": "USD"}) == "EUR"
    assert base_currency('{"landing_dir": "x"}', {"base_currency": "USD"}) == "USD"
    assert base_currency(None, {}) is None
