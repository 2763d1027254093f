"""`lw report`: the lifecycle dashboard, one static HTML file read from the published marts.

A marketing analyst opens `data/serving/lifecycle_report.html` in a browser: no server,
no SQL, no login; it works offline (plotly.js is inlined) and can be mailed or hosted
anywhere. `lw build` writes it after every publish; `lw report` rewrites it from the
serving file (read-only, so BI readers are never blocked). Sections:

- lifecycle stage sizes (today and at every month end) and stage flows (Sankey per
  period and the transition matrix of the last period),
- the RFM R×F grid as heatmaps of customers and of net revenue, with segment names,
- growth accounting per month (new / retained / resurrected / churned, quick ratio),
- drill-down per RFM segment and per lifecycle stage: size, revenue, reachable
  customers per channel, split by the other dimension, top customers by net revenue.

Every number shown is also embedded as JSON (`<script id="lw-report-data">`), which the
tests compare with SQL on the marts. Same published file in → byte-identical report out.

A page older than the marts says so: publishing (and `lw rollback`) writes
`lifecycle.published.js` next to the serving file with the build it serves; the page
loads it from its own folder and, when that build is not the one the page shows (a
publish whose dashboard could not be written, a rollback), shows a banner naming both
builds and the fix (`lw report`). A page written elsewhere (--out), mailed or hosted
without that file shows no banner.
`dashboard_status` makes the same comparison on the command line (`lw versions`).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import decimal
import html
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

REPORT_NAME = "lifecycle_report.html"
# The order stages are shown in (funnel order, then the decline and the way back).
STAGES = ("prospect", "new", "active", "loyal_high_value", "at_risk", "dormant", "churned",
          "reactivated")
STAGE_COLOURS = {
    "none": "#bdbdbd", "prospect": "#9ecae1", "new": "#3182bd", "active": "#31a354",
    "loyal_high_value": "#006d2c", "at_risk": "#fd8d3c", "dormant": "#e6550d",
    "churned": "#a50f15", "reactivated": "#756bb1",
}
CHANNELS = ("email", "sms", "push", "whatsapp")
TOP_CUSTOMERS = 10
SANKEY_PERIODS = 12  # month-end periods selectable in the flow chart


class ReportError(RuntimeError):
    """The published file cannot be reported on (missing, or not a published build)."""


def default_report_path(serving_db: Path) -> Path:
    """The report lives next to the serving file it was read from."""
    return Path(serving_db).parent / REPORT_NAME


# ---------------------------------------------------------------------------------------
# data


def _rows(con: Any, sql: str) -> list[dict[str, Any]]:
    cursor = con.execute(sql)
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, map(_plain, row), strict=True)) for row in cursor.fetchall()]


def _plain(value: Any) -> Any:
    """JSON-friendly values: decimals as float (cents survive), dates as ISO strings."""
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def _stage_order(column: str) -> str:
    cases = " ".join(f"when '{stage}' then {i}" for i, stage in enumerate(("none", *STAGES)))
    return f"case {column} {cases} else 99 end"


def _reachable_counts(alias: str = "d") -> str:
    counts = [f"count(*) filter (where {alias}.is_reachable_{channel}) as reachable_{channel}"
              for channel in (*CHANNELS, "any")]
    return ",\n        ".join(counts)


def load_report_data(serving_db: Path) -> dict[str, Any]:
    """Everything the report shows, aggregated in DuckDB on a read-only connection."""
    import duckdb

    serving_db = Path(serving_db)
    if not serving_db.is_file():
        raise ReportError(
            f"No published marts at {serving_db}: run `lw build` (or `lw publish`) first, "
            "or point --serving / LW_SERVING_PATH at the published file."
        )
    with duckdb.connect(str(serving_db), read_only=True) as con:
        try:
            meta = _rows(con, "select build_id, published_at, as_of_date from meta.publish_info")
        except duckdb.CatalogException as error:
            raise ReportError(
                f"{serving_db} is not a published build (no meta.publish_info): the report "
                "reads the file `lw publish` writes, not the build database."
            ) from error
        order = _stage_order("segment_name")
        data: dict[str, Any] = {"meta": meta[0]}
        data["totals"] = _rows(con, """
            select
                count(*) as customers,
                count(*) filter (where order_count > 0) as buyers,
                sum(net_revenue) as net_revenue
            from marts.fct_customer_lifecycle""")[0]
        data["stages"] = _rows(con, f"""
            select segment_name as stage, customers, net_revenue, share_of_customers
            from marts.agg_segment_summary
            where dimension = 'lifecycle_stage'
            order by {order}""")
        data["stage_history"] = _rows(con, f"""
            select snapshot_date, to_stage as stage, sum(persons) as persons
            from marts.fct_lifecycle_transitions
            group by snapshot_date, to_stage
            order by snapshot_date, {_stage_order('to_stage')}""")
        data["transitions"] = _rows(con, f"""
            select snapshot_date, previous_snapshot_date, from_stage, to_stage, persons,
                share_of_from_stage
            from marts.fct_lifecycle_transitions
            order by snapshot_date, {_stage_order('from_stage')}, {_stage_order('to_stage')}""")
        data["rfm_grid"] = _rows(con, """
            select r_score, f_score, min(segment) as segment, count(*) as customers,
                sum(net_revenue) as net_revenue
            from marts.fct_rfm
            group by r_score, f_score
            order by r_score, f_score""")
        data["rfm_segments"] = _rows(con, """
            select segment_name as segment, customers, net_revenue, share_of_customers,
                share_of_revenue
            from marts.agg_segment_summary
            where dimension = 'rfm_segment'
            order by customers desc, segment_name""")
        data["growth"] = _rows(con, """
            select period_start, is_complete_period, active_persons, new_persons,
                retained_persons, resurrected_persons, churned_persons, quick_ratio,
                retention_rate
            from marts.fct_growth_accounting
            order by period_start""")
        data["drilldown"] = {
            "rfm_segment": _drilldown(con, "r.segment", "l.lifecycle_stage", buyers_only=True),
            "lifecycle_stage": _drilldown(con, "l.lifecycle_stage", "r.segment",
                                          buyers_only=False),
        }
    return data


def _drilldown(con: Any, segment: str, split: str, *, buyers_only: bool) -> list[dict]:
    """Per segment: size, revenue, reachable per channel, split and top customers."""
    join = "join" if buyers_only else "left join"
    base = f"""
        from marts.fct_customer_lifecycle as l
        {join} marts.fct_rfm as r on l.person_id = r.person_id
        join marts.dim_customers as d on l.person_id = d.person_id"""
    revenue = "r.net_revenue" if buyers_only else "l.net_revenue"
    totals = _rows(con, f"""
        select {segment} as segment, count(*) as customers, sum({revenue}) as net_revenue,
            {_reachable_counts()}
        {base}
        group by {segment}
        order by customers desc, segment""")
    splits = _rows(con, f"""
        select {segment} as segment, coalesce({split}, 'no purchase') as split,
            count(*) as customers, sum({revenue}) as net_revenue, {_reachable_counts()}
        {base}
        group by {segment}, {split}
        order by segment, customers desc, split""")
    top = _rows(con, f"""
        select segment, person_id, lifecycle_stage, rfm_segment, net_revenue, order_count,
            days_since_last_active, preferred_channel, reachable_channels
        from (
            select
                {segment} as segment, l.person_id, l.lifecycle_stage,
                r.segment as rfm_segment, {revenue} as net_revenue, l.order_count,
                l.days_since_last_active, d.preferred_channel,
                concat_ws(', ', {', '.join(
                    f"case when d.is_reachable_{c} then '{c}' end" for c in CHANNELS)})
                    as reachable_channels,
                row_number() over (
                    partition by {segment} order by {revenue} desc nulls last, l.person_id
                ) as rank_in_segment
            {base}
        ) as ranked
        where rank_in_segment <= {TOP_CUSTOMERS}
        order by segment, rank_in_segment""")
    for row in totals:
        row["splits"] = [s for s in splits if s["segment"] == row["segment"]]
        row["top_customers"] = [t for t in top if t["segment"] == row["segment"]]
    return totals


# ---------------------------------------------------------------------------------------
# figures


def _figure_html(fig: Any, div_id: str) -> str:
    fig.update_layout(margin={"l": 60, "r": 20, "t": 50, "b": 40}, template="plotly_white",
                      font={"family": "Liberation Sans, Arial, sans-serif", "size": 12})
    return fig.to_html(full_html=False, include_plotlyjs=False, div_id=div_id,
                       config={"displaylogo": False, "responsive": True})


def _stage_figures(data: dict) -> tuple[str, str]:
    import plotly.graph_objects as go

    stages = data["stages"]
    sizes = go.Figure(go.Bar(
        y=[s["stage"] for s in stages], x=[s["customers"] for s in stages], orientation="h",
        marker_color=[STAGE_COLOURS[s["stage"]] for s in stages],
        text=[f"{s['customers']:,} ({s['share_of_customers']:.1%})" for s in stages],
        textposition="auto",
        hovertemplate="%{y}: %{x:,} customers<extra></extra>",
    ))
    sizes.update_layout(title=f"Customers by lifecycle stage on {data['meta']['as_of_date']}",
                        height=360, yaxis={"autorange": "reversed"}, xaxis_title="customers")
    history = go.Figure()
    dates = sorted({row["snapshot_date"] for row in data["stage_history"]})
    for stage in STAGES:
        by_date = {row["snapshot_date"]: row["persons"] for row in data["stage_history"]
                   if row["stage"] == stage}
        history.add_trace(go.Scatter(
            x=dates, y=[by_date.get(d, 0) for d in dates], name=stage, stackgroup="stages",
            line={"color": STAGE_COLOURS[stage], "width": 0.5},
            hovertemplate=f"{stage}: %{{y:,}}<extra></extra>",
        ))
    history.update_layout(title="Stage sizes at every month end", height=360,
                          hovermode="x unified", yaxis_title="customers")
    return _figure_html(sizes, "lw-stage-sizes"), _figure_html(history, "lw-stage-history")


def _sankey_figure(data: dict) -> str:
    import plotly.graph_objects as go

    periods = sorted({row["snapshot_date"] for row in data["transitions"]})[-SANKEY_PERIODS:]
    fig = go.Figure()
    labels = []
    for period in periods:
        rows = [row for row in data["transitions"] if row["snapshot_date"] == period]
        sources = [s for s in ("none", *STAGES) if any(r["from_stage"] == s for r in rows)]
        targets = [s for s in STAGES if any(r["to_stage"] == s for r in rows)]
        nodes = [f"{s} (before)" for s in sources] + targets
        previous = rows[0]["previous_snapshot_date"] or "start"
        labels.append(f"{previous} → {period}")
        fig.add_trace(go.Sankey(
            visible=period == periods[-1],
            node={"label": nodes, "pad": 12, "thickness": 14,
                  "color": [STAGE_COLOURS[s] for s in (*sources, *targets)]},
            link={"source": [sources.index(r["from_stage"]) for r in rows],
                  "target": [len(sources) + targets.index(r["to_stage"]) for r in rows],
                  "value": [r["persons"] for r in rows],
                  # stays grey, moves blue: the moves are what the chart is for
                  "color": ["rgba(150,150,150,0.25)" if r["from_stage"] == r["to_stage"]
                            else "rgba(49,130,189,0.35)" for r in rows],
                  "hovertemplate": "%{source.label} → %{target.label}: %{value:,}"
                                   "<extra></extra>"},
        ))
    fig.update_layout(
        title=f"Stage flows {labels[-1]}" if labels else "Stage flows", height=460,
        updatemenus=[{
            "type": "dropdown", "x": 1.0, "xanchor": "right", "y": 1.15, "active": len(periods) - 1,
            "buttons": [{"label": label, "method": "update",
                         "args": [{"visible": [j == i for j in range(len(periods))]},
                                  {"title.text": f"Stage flows {label}"}]}
                        for i, label in enumerate(labels)],
        }] if labels else [],
    )
    return _figure_html(fig, "lw-stage-flows")


def _rfm_figures(data: dict) -> tuple[str, str]:
    import plotly.graph_objects as go

    cells = {(c["r_score"], c["f_score"]): c for c in data["rfm_grid"]}
    scores = [1, 2, 3, 4, 5]

    def heatmap(value: str, title: str, colours: str, fmt: str, div_id: str) -> str:
        z, text = [], []
        for r in scores:
            z.append([cells[(r, f)][value] if (r, f) in cells else None for f in scores])
            text.append([
                f"{cells[(r, f)]['segment']}<br>{fmt.format(cells[(r, f)][value])}"
                if (r, f) in cells else "" for f in scores])
        fig = go.Figure(go.Heatmap(
            z=z, x=[f"F{f}" for f in scores], y=[f"R{r}" for r in scores], text=text,
            texttemplate="%{text}", colorscale=colours, hoverongaps=False,
            hovertemplate="%{y} %{x}: %{text}<extra></extra>",
        ))
        fig.update_layout(title=title, height=430, xaxis_title="frequency score (5 = most orders)",
                          yaxis_title="recency score (5 = most recent)")
        return _figure_html(fig, div_id)

    return (heatmap("customers", "RFM grid: buyers per R×F cell", "Blues", "{:,}",
                    "lw-rfm-customers"),
            heatmap("net_revenue", "RFM grid: net revenue per R×F cell", "Greens", "{:,.0f}",
                    "lw-rfm-revenue"))


def _growth_figure(data: dict) -> str:
    import plotly.graph_objects as go

    rows = data["growth"]
    months = [r["period_start"][:7] + ("" if r["is_complete_period"] else " (to date)")
              for r in rows]
    fig = go.Figure()
    for column, name, colour, sign in (
        ("retained_persons", "retained", "#31a354", 1), ("new_persons", "new", "#3182bd", 1),
        ("resurrected_persons", "resurrected", "#756bb1", 1),
        ("churned_persons", "churned", "#a50f15", -1),
    ):
        fig.add_trace(go.Bar(x=months, y=[sign * r[column] for r in rows], name=name,
                             marker_color=colour,
                             hovertemplate=f"{name}: %{{y:,}}<extra></extra>"))
    fig.add_trace(go.Scatter(x=months, y=[r["quick_ratio"] for r in rows], name="quick ratio",
                             yaxis="y2", mode="lines+markers", line={"color": "#333"},
                             hovertemplate="quick ratio %{y:.2f}<extra></extra>"))
    fig.update_layout(barmode="relative", title="Growth accounting of active customers per month",
                      height=420, hovermode="x unified", yaxis_title="customers",
                      yaxis2={"title": "quick ratio", "overlaying": "y", "side": "right",
                              "showgrid": False, "rangemode": "tozero"},
                      legend={"orientation": "h", "y": -0.2})
    return _figure_html(fig, "lw-growth")


# ---------------------------------------------------------------------------------------
# html


def _num(value: Any, digits: int = 0) -> str:
    if value is None:
        return "–"
    return f"{value:,.{digits}f}"


def _pct(value: Any) -> str:
    return "–" if value is None else f"{value:.1%}"


def _table(headers: list[str], rows: list[list[str]], css: str = "") -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>"
                   for row in rows)
    return f'<table class="{css}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _transition_matrix(data: dict) -> str:
    periods = sorted({row["snapshot_date"] for row in data["transitions"]})
    if not periods:
        return "<p>No transitions yet.</p>"
    rows = [r for r in data["transitions"] if r["snapshot_date"] == periods[-1]]
    cell = {(r["from_stage"], r["to_stage"]): r for r in rows}
    sources = [s for s in ("none", *STAGES) if any(r["from_stage"] == s for r in rows)]
    body = []
    for source in sources:
        line = [f"<b>{source}</b>"]
        for target in STAGES:
            r = cell.get((source, target))
            if r is None:
                line.append('<span class="muted">·</span>')
                continue
            alpha = 0.08 + 0.6 * r["share_of_from_stage"]
            line.append(f'<span class="cell" style="background:rgba(49,130,189,{alpha:.2f})" '
                        f'title="{source} → {target}">{r["persons"]:,}<br>'
                        f'<small>{_pct(r["share_of_from_stage"])}</small></span>')
        body.append(line)
    previous = rows[0]["previous_snapshot_date"] or "start"
    caption = (f"<p class='caption'>Persons per stage on {previous} (rows; 'none' = first seen "
               f"in the period) and on {periods[-1]} (columns), with the share of the row.</p>")
    return caption + _table(["from \\ to", *STAGES], body, "matrix")


def _drilldown_html(segments: list[dict], split_name: str) -> str:
    parts = []
    channel_headers = [*CHANNELS, "any channel"]
    for position, seg in enumerate(segments):
        reach = ", ".join(
            f"{name} {seg[f'reachable_{c}']:,} ({seg[f'reachable_{c}'] / seg['customers']:.0%})"
            for name, c in zip(channel_headers, (*CHANNELS, "any"), strict=True))
        splits = _table(
            [split_name, "customers", "net revenue", *channel_headers],
            [[html.escape(str(s["split"])), _num(s["customers"]), _num(s["net_revenue"], 2),
              *(_num(s[f"reachable_{c}"]) for c in (*CHANNELS, "any"))]
             for s in seg["splits"]])
        top = _table(
            ["person_id", "stage", "RFM segment", "net revenue", "orders",
             "days since active", "preferred channel", "reachable on"],
            [[f"<code>{html.escape(t['person_id'])}</code>", html.escape(t["lifecycle_stage"]),
              html.escape(t["rfm_segment"] or "–"), _num(t["net_revenue"], 2),
              _num(t["order_count"]), _num(t["days_since_last_active"]),
              html.escape(t["preferred_channel"] or "–"),
              html.escape(t["reachable_channels"] or "none")]
             for t in seg["top_customers"]])
        is_open = " open" if position == 0 else ""
        parts.append(
            f'<details{is_open}><summary><b>{html.escape(str(seg["segment"]))}</b>: '
            f'{seg["customers"]:,} customers, net revenue {_num(seg["net_revenue"], 2)}; '
            f'reachable: {reach}'
            f'</summary><h4>By {split_name}</h4>{splits}'
            f'<h4>Top {TOP_CUSTOMERS} by net revenue</h4>{top}</details>'
        )
    return "\n".join(parts)


_CSS = """
body { font-family: 'Liberation Sans', Arial, sans-serif; margin: 0; color: #222;
       background: #f6f7f9; }
header { background: #1f2d3d; color: #fff; padding: 18px 32px; }
header h1 { margin: 0 0 4px 0; font-size: 24px; }
header p { margin: 0; opacity: 0.85; }
main { padding: 16px 32px 48px; max-width: 1400px; }
section { background: #fff; border-radius: 6px; padding: 12px 20px; margin: 16px 0;
          box-shadow: 0 1px 2px rgba(0,0,0,0.08); }
.grid2 { display: grid; grid-template-columns: 1fr 1fr; gap: 12px; }
.tiles { display: flex; gap: 16px; flex-wrap: wrap; }
.tile { background: #fff; border-radius: 6px; padding: 10px 18px; min-width: 160px;
        box-shadow: 0 1px 2px rgba(0,0,0,0.08); }
.tile .value { font-size: 22px; font-weight: bold; }
.tile .label { color: #666; font-size: 12px; }
table { border-collapse: collapse; margin: 8px 0; font-size: 13px; }
th, td { border-bottom: 1px solid #e3e3e3; padding: 4px 8px; text-align: right; }
th:first-child, td:first-child { text-align: left; }
table.matrix td { text-align: center; padding: 2px; }
.cell { display: block; padding: 3px 6px; border-radius: 3px; }
.muted { color: #bbb; }
.caption { color: #555; font-size: 13px; }
details { border-bottom: 1px solid #eee; padding: 6px 0; }
summary { cursor: pointer; }
code { font-size: 12px; }
.stale { background: #fdecea; color: #a50f15; border: 1px solid #a50f15; border-radius: 6px;
         padding: 10px 16px; margin: 16px 0 0; font-weight: bold; }
"""

# Shows #lw-stale when the serving file (window.LW_PUBLISHED, from lifecycle.published.js
# next to it) holds another build than the page. SHOWN is replaced by the page's build.
_STALE_CHECK = """(function () {
  var shown = SHOWN, served = window.LW_PUBLISHED;
  if (!served || !served.build_id || served.build_id === shown.build_id) { return; }
  var box = document.getElementById("lw-stale");
  box.textContent = "Out of date: this dashboard shows build " + shown.build_id +
    " (as of " + shown.as_of_date + "), but the serving file now holds build " +
    served.build_id + " (as of " + served.as_of_date + ", published " +
    served.published_at + " UTC). Refresh it with: lw report";
  box.hidden = false;
})();"""


def render_report(data: dict[str, Any], published_marker: str | None = None) -> str:
    """The whole page: a pure function of `data` (same data → same bytes).

    published_marker: URL of lifecycle.published.js relative to the page (None: the page
    never checks whether it is older than the served marts)."""
    from plotly.offline import get_plotlyjs

    meta, totals = data["meta"], data["totals"]
    shown = json.dumps({key: str(meta[key]) for key in ("build_id", "as_of_date", "published_at")},
                       sort_keys=True).replace("</", "<\\/")
    stale_check = ("" if published_marker is None else
                   f'<script src="{html.escape(published_marker)}"></script>\n'
                   f'<script>{_STALE_CHECK.replace("SHOWN", shown)}</script>')
    stage_sizes, stage_history = _stage_figures(data)
    rfm_customers, rfm_revenue = _rfm_figures(data)
    stage_rows = [[html.escape(s["stage"]), _num(s["customers"]), _pct(s["share_of_customers"]),
                   _num(s["net_revenue"], 2)] for s in data["stages"]]
    segment_rows = [[html.escape(s["segment"]), _num(s["customers"]), _pct(s["share_of_customers"]),
                     _num(s["net_revenue"], 2), _pct(s["share_of_revenue"])]
                    for s in data["rfm_segments"]]
    growth_rows = [[r["period_start"][:7] + ("" if r["is_complete_period"] else " (to date)"),
                    _num(r["active_persons"]), _num(r["new_persons"]),
                    _num(r["retained_persons"]), _num(r["resurrected_persons"]),
                    _num(r["churned_persons"]), _num(r["quick_ratio"], 2),
                    _pct(r["retention_rate"])] for r in data["growth"]]
    tiles = [("customers", _num(totals["customers"])), ("buyers", _num(totals["buyers"])),
             ("net revenue", _num(totals["net_revenue"], 2)),
             *((f"{s['stage']}", _num(s["customers"])) for s in data["stages"]
               if s["stage"] in ("active", "at_risk", "churned"))]
    payload = json.dumps(data, sort_keys=True, separators=(",", ":")).replace("</", "<\\/")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="lw-build-id" content="{html.escape(meta['build_id'])}">
<title>Customer lifecycle on {meta['as_of_date']}</title>
<style>{_CSS}</style>
<script>{get_plotlyjs()}</script>
</head><body>
<header><h1>Customer lifecycle and RFM on {meta['as_of_date']}</h1>
<p>Published build {html.escape(meta['build_id'])} (published {meta['published_at']} UTC).
Generated by <code>lw report</code> from the published marts; every figure below is a mart
of the Lifecycle Warehouse (see the dbt docs for definitions).</p></header>
<main>
<div id="lw-stale" class="stale" hidden></div>
{stale_check}
<div class="tiles">{''.join(
    f'<div class="tile"><div class="value">{v}</div><div class="label">{html.escape(k)}</div></div>'
    for k, v in tiles)}</div>

<section id="stages"><h2>Lifecycle stages</h2>
<div class="grid2"><div>{stage_sizes}</div><div>{stage_history}</div></div>
{_table(["stage", "customers", "share", "net revenue"], stage_rows)}
</section>

<section id="flows"><h2>Stage flows</h2>
{_sankey_figure(data)}
<h3>Transition matrix of the last period</h3>
{_transition_matrix(data)}
</section>

<section id="rfm"><h2>RFM grid (buyers)</h2>
<div class="grid2"><div>{rfm_customers}</div><div>{rfm_revenue}</div></div>
{_table(["segment", "buyers", "share", "net revenue", "share of revenue"], segment_rows)}
</section>

<section id="growth"><h2>Growth accounting</h2>
{_growth_figure(data)}
{_table(["month", "active", "new", "retained", "resurrected", "churned", "quick ratio",
         "retention"], growth_rows)}
</section>

<section id="drilldown"><h2>Segment drill-down</h2>
<p class="caption">Open a segment for its split by the other dimension, the customers
reachable per channel (consent given and a contact point known) and its top customers.</p>
<h3>RFM segments</h3>
{_drilldown_html(data["drilldown"]["rfm_segment"], "lifecycle stage")}
<h3>Lifecycle stages</h3>
{_drilldown_html(data["drilldown"]["lifecycle_stage"], "RFM segment")}
</section>
</main>
<script type="application/json" id="lw-report-data">{payload}</script>
</body></html>
"""


# A temporary page this old is a leftover of a killed `lw report`, not a running one.
STALE_TEMPORARY_SECONDS = 3600


def write_report(serving_db: Path, out: Path | None = None) -> Path:
    """Reads the published file read-only and writes the report atomically; returns its path.

    The page is written to a temporary file next to `out` and renamed onto it; when that
    fails (disk full), the temporary file is removed and `out` is unchanged."""
    from lifecycle_warehouse.publish import published_marker

    started = time.perf_counter()
    out = Path(out) if out else default_report_path(serving_db)
    out.parent.mkdir(parents=True, exist_ok=True)
    # looked up next to the page (same bytes wherever it is written): the default page
    # lives next to the serving file and its marker; a page elsewhere checks nothing
    page = render_report(load_report_data(serving_db),
                         published_marker=urllib.parse.quote(published_marker(serving_db).name))
    for leftover in out.parent.glob(f".{out.name}.*.tmp"):
        with contextlib.suppress(OSError):
            if time.time() - leftover.stat().st_mtime > STALE_TEMPORARY_SECONDS:
                leftover.unlink()
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(page)
        os.chmod(tmp, 0o644)  # a page to share, not a secret (the marts hold no PII)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    log.info("report written to %s in %.1f s", out, time.perf_counter() - started)
    return out


def dashboard_build_id(page: Path) -> str | None:
    """The build a dashboard page shows (its lw-build-id meta tag); None without one."""
    try:
        with open(page, encoding="utf-8", errors="replace") as handle:
            head = handle.read(4096)
    except OSError:
        return None
    found = re.search(r'<meta name="lw-build-id" content="([^"]*)">', head)
    return html.unescape(found.group(1)) if found else None


def dashboard_status(serving_db: Path, page: Path | None = None) -> str | None:
    """A warning when the dashboard shows another build than the serving file; else None."""
    from lifecycle_warehouse.publish import current_build_id

    page = Path(page) if page else default_report_path(serving_db)
    if not page.is_file():
        return None
    shown, served = dashboard_build_id(page), current_build_id(Path(serving_db))
    if served is None or shown == served:
        return None
    return (f"the dashboard {page} shows build {shown or 'unknown'}, but {serving_db} serves "
            f"build {served}: refresh it with `lw report`")


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        if found := shutil.which(name):
            return found
    return None


def screenshot(report: Path, png: Path, *, width: int = 1400, height: int = 4200) -> Path:
    """PNG of the rendered report with headless Chromium (apt-get install chromium)."""
    browser = find_chromium()
    if browser is None:
        raise ReportError("No Chromium found for the screenshot: `apt-get install chromium` "
                          "(or leave out --screenshot).")
    png.parent.mkdir(parents=True, exist_ok=True)
    command = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
               f"--window-size={width},{height}", "--virtual-time-budget=15000",
               f"--screenshot={png.resolve()}", Path(report).resolve().as_uri()]
    result = subprocess.run(command, capture_output=True, text=True, timeout=180)
    if result.returncode != 0 or not png.is_file():
        raise ReportError(f"Chromium could not screenshot {report}: {result.stderr[-800:]}")
    return png


# ---------------------------------------------------------------------------------------
# cli


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
                   help="also save a PNG of the page rendered by headless Chromium")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from lifecycle_warehouse.publish_command import default_serving_path

    serving = (args.serving or default_serving_path()).resolve()
    out = args.out or default_report_path(serving)
    try:
        out = write_report(serving, out)
        print(f"Report: {out}  (open it in a browser: {out.resolve().as_uri()})")
        if args.screenshot:
            print(f"Screenshot: {screenshot(out, args.screenshot)}")
    except ReportError as error:
        print(f"lw report failed: {error}", file=sys.stderr)
        return 1
    except OSError as error:
        print(f"lw report failed: cannot write {error.filename or out} "
              f"({error.strerror or error}); {out} is unchanged. Free space or give --out "
              "elsewhere.", file=sys.stderr)
        return 1
    return 0
