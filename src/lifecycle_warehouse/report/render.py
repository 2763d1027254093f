"""`lw report`, the rendering half: the dashboard page from the data of `report.data`.

`render_report(data)` turns what `load_report_data` read into one self-contained HTML
page (plotly figures, tables, the embedded JSON the tests compare with SQL);
`write_report` reads the serving file and writes the page atomically next to it;
`dashboard_build_id` / `dashboard_status` say which build a page shows; `screenshot`
renders the page to PNG with headless Chromium.
"""

from __future__ import annotations

import contextlib
import html
import json
import logging
import os
import re
import shutil
import subprocess
import tempfile
import time
import urllib.parse
from pathlib import Path
from typing import Any

from lifecycle_warehouse.report.data import (
    CHANNELS,
    SANKEY_PERIODS,
    STAGE_COLOURS,
    STAGE_RULES_MACRO,
    STAGES,
    STAGES_SEED,
    TOP_CUSTOMERS,
    ReportError,
    default_report_path,
    load_report_data,
)

log = logging.getLogger(__name__)


# ---------------------------------------------------------------------------------------
# figures


def _figure_html(fig: Any, div_id: str, top: int = 50) -> str:
    fig.update_layout(margin={"l": 60, "r": 20, "t": top, "b": 40}, template="plotly_white",
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
        hovertemplate="%{y}: %{x:,} persons<extra></extra>",
    ))
    sizes.update_layout(title=f"Persons by stage on {data['meta']['as_of_date']}",
                        height=360, yaxis={"autorange": "reversed"},
                        xaxis_title="persons (prospects included)")
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
                          hovermode="x unified", yaxis_title="persons")
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
    empty_f = [f for f in scores if not any(key[1] == f for key in cells)]
    empty_r = [r for r in scores if not any(key[0] == r for key in cells)] if cells else []
    currency = data["meta"].get("base_currency")

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
        for f in empty_f:  # an empty column is the tie rule, not missing data
            fig.add_annotation(x=f"F{f}", y="R3", text="no buyers:<br>tie rule,<br>see below",
                               showarrow=False, font={"color": "#a50f15", "size": 12})
        for r in empty_r:
            fig.add_annotation(x="F3", y=f"R{r}", text="no buyers: tie rule, see below",
                               showarrow=False, font={"color": "#a50f15", "size": 12})
        fig.update_layout(title=title, height=430, xaxis_title="frequency score (5 = most orders)",
                          yaxis_title="recency score (5 = most recent)")
        return _figure_html(fig, div_id)

    return (heatmap("customers", "RFM grid: buyers per R×F cell", "Blues", "{:,}",
                    "lw-rfm-customers"),
            heatmap("net_revenue", f"RFM grid: net revenue{_in(currency)} per R×F cell", "Greens",
                    "{:,.0f}", "lw-rfm-revenue"))


def rfm_tie_notes(scores: dict[str, list[dict]]) -> list[str]:
    """Why an R or F score has no buyers, in the data's own numbers.

    lw_rfm_score gives equal values equal scores (percent rank), so a value held by more
    than a fifth of the buyers takes its score and the next: all buyers with 1 order score
    F1, and 2 orders, ranked above them, already scores F3."""
    units = {"r": ("day since the last order", "days since the last order"),
             "f": ("order", "orders")}
    notes = []
    for dimension, rows in scores.items():
        by_score = {row["score"]: row for row in rows}
        total = sum(row["buyers"] for row in rows)
        letter = dimension.upper()
        present = sorted(by_score)
        for lower, upper in zip(present, present[1:], strict=False):
            if upper - lower < 2 or not total:
                continue
            empty = [f"{letter}{k}" for k in range(lower + 1, upper)]
            named = empty[0] if len(empty) == 1 else ", ".join(empty[:-1]) + " or " + empty[-1]
            low, high = by_score[lower], by_score[upper]
            notes.append(
                f"No buyer scores {named}: equal values get equal scores (lw_rfm_score, "
                f"percent rank), and {_pct(low['buyers'] / total)} of buyers "
                f"({low['buyers']:,}) have {_value_range(low, units[dimension])}, so they all "
                f"score {letter}{lower}; the next value, {_value_range(high, units[dimension])}, "
                f"ranks above them and scores {letter}{upper}. "
                f"{letter} jumps from {lower} to {upper}.")
    return notes


def _value_range(row: dict, unit: tuple[str, str]) -> str:
    low, high = sorted((row["min_value"], row["max_value"]))
    if low == high:
        return f"{low:,} {unit[0] if low == 1 else unit[1]}"
    return f"{low:,}–{high:,} {unit[1]}"


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
                             hovertemplate=f"{name}: %{{y:,}} persons<extra></extra>"))
    fig.add_trace(go.Scatter(x=months, y=[r["quick_ratio"] for r in rows], name="quick ratio",
                             yaxis="y2", mode="lines+markers", line={"color": "#333"},
                             hovertemplate="quick ratio %{y:.2f}<extra></extra>"))
    fig.update_layout(barmode="relative", xaxis={"type": "category"},
                      title="Growth accounting: persons active in the month (≥ 1 active day)",
                      height=420, hovermode="x unified", yaxis_title="persons",
                      yaxis2={"title": "quick ratio", "overlaying": "y", "side": "right",
                              "showgrid": False, "rangemode": "tozero"},
                      legend={"orientation": "h", "y": -0.2})
    return _figure_html(fig, "lw-growth")


def _retention_figure(rows: list[dict]) -> str:
    """The month-grain retention triangle: cohort (first active month) × months since."""
    import plotly.graph_objects as go

    cohorts = sorted({r["cohort_period_start"] for r in rows})
    periods = sorted({r["periods_since"] for r in rows})
    cell = {(r["cohort_period_start"], r["periods_since"]): r for r in rows}
    size = {r["cohort_period_start"]: r["cohort_persons"] for r in rows}
    z = [[cell[(c, p)]["retention_rate"] if (c, p) in cell else None for p in periods]
         for c in cohorts]
    text = [[_pct(cell[(c, p)]["retention_rate"]) if (c, p) in cell else "" for p in periods]
            for c in cohorts]
    custom = [[f"{cell[(c, p)]['retained_persons']:,} of {cell[(c, p)]['cohort_persons']:,}"
               if (c, p) in cell else "" for p in periods] for c in cohorts]
    labels = [f"{c[:7]} ({size[c]:,})" for c in cohorts]
    fig = go.Figure(go.Heatmap(
        z=z, x=[str(p) for p in periods], y=labels, text=text, customdata=custom,
        texttemplate="%{text}", colorscale="Purples", zmin=0, zmax=1, hoverongaps=False,
        colorbar={"title": "retained", "tickformat": ".0%"},
        hovertemplate="cohort %{y}, month %{x}: %{text} (%{customdata})<extra></extra>",
    ))
    fig.update_layout(title="Retention by monthly cohort (share of the cohort active N months "
                      "after its first active month)", height=max(320, 90 + 30 * len(cohorts)),
                      xaxis={"title": "months since the first active month", "type": "category"},
                      yaxis={"title": "cohort (persons)", "autorange": "reversed",
                             "type": "category"})
    return _figure_html(fig, "lw-retention")


def _outcome_figure(rows: list[dict], currency: str | None) -> str:
    """Per campaign × metric: the difference treatment − control with its 95 % interval."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    metrics = sorted({r["metric"] for r in rows})
    fig = make_subplots(rows=1, cols=len(metrics), subplot_titles=[
        f"{m} ({_outcome_unit(m, rows, currency)})" for m in metrics])
    for col, metric in enumerate(metrics, start=1):
        selected = [r for r in rows if r["metric"] == metric and None not in (
            r["difference"], r["ci_low"], r["ci_high"])]
        scale = 100 if _is_rate(metric, rows) else 1
        fig.add_trace(go.Scatter(
            x=[r["difference"] * scale for r in selected],
            y=[r["campaign_id"] for r in selected], mode="markers",
            marker={"size": 11, "color": "#3182bd"}, showlegend=False,
            error_x={"type": "data", "symmetric": False,
                     "array": [(r["ci_high"] - r["difference"]) * scale for r in selected],
                     "arrayminus": [(r["difference"] - r["ci_low"]) * scale for r in selected]},
            hovertemplate="%{y}: %{x:.2f}<extra></extra>"), row=1, col=col)
        fig.add_vline(x=0, line={"color": "#a50f15", "dash": "dot"}, row=1, col=col)
    fig.update_layout(title={"text": "Campaign effect: treatment − control, with the 95 % "
                             "confidence interval (a bar crossing the dotted 0 line: no clear "
                             "effect)", "y": 0.98, "yanchor": "top"},
                      height=max(280, 180 + 40 * len({r["campaign_id"] for r in rows})))
    return _figure_html(fig, "lw-campaign-outcomes", top=100)


def _is_rate(metric: str, rows: list[dict]) -> bool:
    """A metric is a rate (shown in %, its difference in percentage points) unless it is
    money (its name says revenue) or one of its values lies outside [0, 1]."""
    if "revenue" in metric:
        return False
    values = [r[k] for r in rows if r["metric"] == metric
              for k in ("treatment_value", "control_value") if r[k] is not None]
    return all(0 <= v <= 1 for v in values)


def _outcome_unit(metric: str, rows: list[dict], currency: str | None) -> str:
    if _is_rate(metric, rows):
        return "percentage points"
    return (currency or "base currency") if "revenue" in metric else "difference"


# ---------------------------------------------------------------------------------------
# html


def _num(value: Any, digits: int = 0) -> str:
    if value is None:
        return "–"
    return f"{value:,.{digits}f}"


def _pct(value: Any) -> str:
    return "–" if value is None else f"{value:.1%}"


def _in(currency: str | None) -> str:
    """" (USD)" after a money heading; nothing when the currency is unknown."""
    return f" ({currency})" if currency else ""


def _money(value: Any, currency: str | None) -> str:
    return _num(value, 2) if value is None or not currency else f"{currency} {value:,.2f}"


SHORT_ID = 8  # characters of a person_id shown (the whole id is its tooltip)


def short_id(person_id: str) -> str:
    return person_id[:SHORT_ID]


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


def _drilldown_html(segments: list[dict], split_name: str, currency: str | None,
                    counted: str) -> str:
    parts = []
    channel_headers = [*CHANNELS, "any channel"]
    for position, seg in enumerate(segments):
        reach = ", ".join(
            f"{name} {seg[f'reachable_{c}']:,} ({seg[f'reachable_{c}'] / seg['customers']:.0%})"
            for name, c in zip(channel_headers, (*CHANNELS, "any"), strict=True))
        splits = _table(
            [split_name, counted, f"net revenue{_in(currency)}", *channel_headers],
            [[html.escape(str(s["split"])), _num(s["customers"]), _num(s["net_revenue"], 2),
              *(_num(s[f"reachable_{c}"]) for c in (*CHANNELS, "any"))]
             for s in seg["splits"]])
        top = _table(
            ["person (id prefix)", "stage", "RFM segment", f"net revenue{_in(currency)}",
             "orders", "days since active", "preferred channel", "reachable on"],
            [[f'<code title="{html.escape(t["person_id"])}">'
              f'{html.escape(short_id(t["person_id"]))}</code>',
              html.escape(t["lifecycle_stage"]),
              html.escape(t["rfm_segment"] or "–"), _num(t["net_revenue"], 2),
              _num(t["order_count"]), _num(t["days_since_last_active"]),
              html.escape(t["preferred_channel"] or "–"),
              html.escape(t["reachable_channels"] or "none")]
             for t in seg["top_customers"]], "text2 text3")
        is_open = " open" if position == 0 else ""
        parts.append(
            f'<details{is_open}><summary><b>{html.escape(str(seg["segment"]))}</b>: '
            f'{seg["customers"]:,} {counted}, net revenue {_money(seg["net_revenue"], currency)}; '
            f'reachable: {reach}'
            f'</summary><h4>By {split_name}</h4>{splits}'
            f'<h4>Top {TOP_CUSTOMERS} by net revenue</h4>{top}</details>'
        )
    return "\n".join(parts)


def _missing_note(section: dict[str, Any], what: str) -> str | None:
    """The plain note for a section whose mart this build does not have (None: it has)."""
    if section["status"] == "absent":
        return (f'<p class="absent">{html.escape(what)}: not in this build '
                f'({html.escape(section["table"])} is not in the published file).</p>')
    if section["status"] == "incomplete":
        return (f'<p class="absent">{html.escape(what)}: {html.escape(section["table"])} is '
                f'in this build but lacks column(s) {html.escape(", ".join(section["missing"]))}'
                f"; rebuild with the current models.</p>")
    return None


def _stage_definitions_html(data: dict) -> str:
    definitions = data["stage_definitions"]
    if not definitions:
        return (f'<p class="absent">Stage definitions not found: the report reads them from '
                f"{STAGES_SEED} (columns stage, precedence, description).</p>")
    sizes = {s["stage"]: s for s in data["stages"]}
    rows = [[f"<b>{html.escape(d['stage'])}</b>", str(d["precedence"]), html.escape(d["rule"]),
             _num(sizes.get(d["stage"], {}).get("customers")),
             _pct(sizes.get(d["stage"], {}).get("share_of_customers"))]
            for d in definitions]
    return (_table(["stage", "checked", "rule (first match wins)", "persons now", "share"],
                   rows, "definitions")
            + f'<p class="caption">Rules as applied by the macro <code>lw_lifecycle_stage</code> '
              f"({STAGE_RULES_MACRO}); each person gets the first stage, in the order checked, "
              f"whose rule matches. dormant_days and churned_days are calibrated per build "
              f"(int_lifecycle_thresholds), the other thresholds are dbt vars "
              f"(dbt_project.yml).</p>")


def _audiences_html(section: dict[str, Any], meta: dict[str, Any]) -> str:
    note = _missing_note(section, "Audience sizes")
    changes = section["changes"]
    change_note = _missing_note(changes, "Audience changes (entered / left)")
    if note and change_note:
        return note + change_note
    parts = [note or "", change_note or ""]
    if not change_note:
        this = changes.get("this_build")
        if this is None:
            others = changes.get("other_builds") or []
            parts.append(
                f'<p class="caption">No audience changes for build '
                f'{html.escape(meta["build_id"])}: nobody entered or left since the previous '
                f"published build"
                + (f" (the table holds changes of build(s) {html.escape(', '.join(others))})"
                   if others else "") + ".</p>")
        elif this["previous_build_id"] is None:
            parts.append('<p class="caption">Changes since: none, this is the first published '
                         "build, so every member counts as entered.</p>")
        else:
            parts.append(
                f'<p class="caption">Entered / left: changes between build '
                f'{html.escape(this["previous_build_id"])} (as of {this["previous_as_of_date"]}) '
                f'and this build {html.escape(this["build_id"])} (as of {this["as_of_date"]}).</p>')
    with_members = not note
    headers = ["audience", "type"]
    if with_members:
        headers += ["members", "of which control (holdout)", "campaign"]
    if not change_note:
        headers += ["entered", "left", "net change"]
    if with_members:
        headers += [f"reachable {c}" for c in CHANNELS]
    rows = []
    for a in section["rows"]:
        row = [html.escape(str(a["audience_name"])), html.escape(str(a["audience_type"]))]
        if with_members:
            row += [_num(a.get("members", 0)), _num(a.get("holdout_members", 0)),
                    html.escape(a.get("campaign_id") or "–")]
        if not change_note:
            row += [_num(a["entered"]), _num(a["left"]), f"{a['entered'] - a['left']:+,}"]
        if with_members:
            row += [_num(a.get(f"reachable_{c}", 0)) for c in CHANNELS]
        rows.append(row)
    parts.append(_table(headers, rows, "text2") if rows else "<p>No audiences with members.</p>")
    parts.append('<p class="caption">An audience is a lifecycle stage, an RFM segment or a '
                 "trigger (fct_audience_membership: one row per audience × current member). "
                 "Control (holdout) members of a campaign are never exported. Reachable = "
                 "consent given and a contact point known.</p>")
    return "".join(parts)


def _campaigns_html(section: dict[str, Any], currency: str | None) -> str:
    note = _missing_note(section, "Campaign outcomes")
    if note:
        return note
    rows = section["rows"]
    if not rows:
        return "<p>No campaign has an outcome yet (marts.fct_campaign_outcomes is empty).</p>"
    body = []
    for r in rows:
        rate = _is_rate(r["metric"], rows)
        money = currency if "revenue" in r["metric"] else None

        def value(v: Any, rate: bool = rate, money: str | None = money) -> str:
            return _pct(v) if rate else _money(v, money)

        def delta(v: Any, rate: bool = rate, money: str | None = money) -> str:
            if v is None:
                return "–"
            if rate:
                return f"{v * 100:+.1f} pp"
            return f"{money + ' ' if money else ''}{v:+,.2f}"

        if not r["treatment_persons"] or not r["control_persons"]:
            verdict = "no estimate (a group has no members)"
        elif r["ci_low"] is None or r["ci_high"] is None:
            verdict = "no interval (too few persons)"
        elif r["ci_low"] > 0:
            verdict = "treatment higher (interval above 0)"
        elif r["ci_high"] < 0:
            verdict = "treatment lower (interval below 0)"
        else:
            verdict = "no clear difference (interval includes 0)"
        if r.get("is_window_complete") is False:
            verdict += f"; window open until {r.get('window_end_date') or '?'}, counted so far"
        body.append([html.escape(r["campaign_id"]), html.escape(r["metric"]),
                     value(r["treatment_value"]), value(r["control_value"]),
                     f"<b>{delta(r['difference'])}</b>",
                     f"{delta(r['ci_low'])} to {delta(r['ci_high'])}",
                     _num(r["treatment_persons"]), _num(r["control_persons"]), verdict])
    drawn = [r for r in rows if None not in (r["difference"], r["ci_low"], r["ci_high"])]
    methods = sorted({r["test_method"] for r in rows if r.get("test_method")})
    return ((_outcome_figure(drawn, currency) if drawn else "")
            + _table(["campaign", "metric", "treatment", "control", "difference",
                      "95 % confidence interval", "treatment persons", "control persons",
                      "reading"], body, "text2 outcomes")
            + '<p class="caption">Treatment = audience members the campaign reached; control = '
              "the deterministic holdout (never exported). Difference = treatment − control; "
              "rates in percentage points (pp)."
            + (f" Intervals: {html.escape('; '.join(methods))}." if methods else "") + "</p>")


def _retention_html(section: dict[str, Any]) -> str:
    note = _missing_note(section, "Retention triangle")
    if note:
        return note
    rows = section["rows"]
    if not rows:
        return "<p>No month-grain rows in marts.fct_cohort_retention.</p>"
    periods = sorted({r["periods_since"] for r in rows})
    cohorts = sorted({r["cohort_period_start"] for r in rows})
    cell = {(r["cohort_period_start"], r["periods_since"]): r for r in rows}
    size = {r["cohort_period_start"]: r["cohort_persons"] for r in rows}
    table = _table(["cohort", "persons", *(f"+{p}" for p in periods)],
                   [[c[:7], _num(size[c]), *(_pct(cell[(c, p)]["retention_rate"])
                                             if (c, p) in cell else "" for p in periods)]
                    for c in cohorts], "retention")
    others = [g for g in section["grains"] if g != "month"]
    return (_retention_figure(rows)
            + '<p class="caption">Cohort = persons whose first active month it is; a cell is the '
              "share of the cohort with at least one active day N months later (retained "
              "persons / cohort persons)."
            + (" The month of as_of_date is left out until it is complete."
               if section.get("complete_only") else "")
            + (f" The mart also has the {', '.join(map(html.escape, others))} grain(s): query "
               "marts.fct_cohort_retention." if others else "") + "</p>"
            + f"<details><summary>The triangle as a table</summary>{table}</details>")


def _glossary_html(data: dict) -> str:
    totals, currency = data["totals"], data["meta"].get("base_currency")
    money = (f"All money is in <b>{html.escape(currency)}</b>, the base currency every amount "
             "is converted to (dbt var base_currency, rates in seeds/fx_rates.csv); net "
             "revenue = gross revenue minus refunds and returns." if currency else
             "Money is in the base currency of the build (dbt var base_currency).")
    return f"""<ul class="glossary">
<li><b>Known persons</b> ({totals['persons']:,}): everyone the warehouse has identified,
including <b>{totals['prospects']:,} prospects</b>: known (a CRM record, a message sent
to them) but never active themselves (no visit, app use or order). <b>Ever-active persons</b>
({totals['ever_active']:,}) are the others; <b>buyers</b> ({totals['buyers']:,}) have at
least one order.</li>
<li>Two kinds of "active": <b>stage <code>active</code></b> is one lifecycle stage (active
recently and none of the other stages applies, see the table below), while <b>active in a
month</b> (growth accounting, retention) counts every person with at least one active day
in that month, whatever their stage.</li>
<li>{money}</li>
</ul>"""


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
.tile .label { color: #333; font-size: 13px; font-weight: bold; }
.tile .note { color: #666; font-size: 11px; max-width: 200px; }
.glossary li { margin: 4px 0; font-size: 14px; }
table.definitions td:nth-child(3), table.definitions th:nth-child(3) { text-align: left;
                                                                    max-width: 720px; }
table.text2 td:nth-child(2), table.text2 th:nth-child(2),
table.text3 td:nth-child(3), table.text3 th:nth-child(3),
table.outcomes td:last-child, table.outcomes th:last-child { text-align: left; }
table.outcomes td:nth-child(n+3):nth-child(-n+6) { white-space: nowrap; }
.absent { color: #555; background: #f3f3f3; border-left: 4px solid #bbb; padding: 8px 12px; }
.tie { color: #7a3b00; background: #fff4e5; border-left: 4px solid #fd8d3c; padding: 6px 12px;
       font-size: 13px; }
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
    currency = meta.get("base_currency")
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
    complete = [r for r in data["growth"] if r["is_complete_period"]] or data["growth"]
    month_tile = ([(f"active in {complete[-1]['period_start'][:7]}",
                    _num(complete[-1]["active_persons"]),
                    "≥ 1 active day in the month (growth accounting)")] if complete else [])
    stage_tiles = [(f"stage {s['stage']}", _num(s["customers"]),
                    f"{_pct(s['share_of_customers'])} of known persons (lifecycle stage)")
                   for s in data["stages"] if s["stage"] in ("active", "at_risk", "churned")]
    tiles = [("known persons", _num(totals["persons"]),
              f"incl. {totals['prospects']:,} prospects (never active)"),
             ("ever-active persons", _num(totals["ever_active"]), "known persons − prospects"),
             ("buyers", _num(totals["buyers"]), "≥ 1 order"),
             ("net revenue", _money(totals["net_revenue"], currency),
              "all buyers, refunds deducted"),
             *month_tile, *stage_tiles]
    tie_notes = rfm_tie_notes(data["rfm_scores"])
    tie_html = ("".join(f'<p class="tie">{html.escape(note)}</p>' for note in tie_notes)
                if tie_notes else "")
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
of the Lifecycle Warehouse. Money in {html.escape(currency or 'the base currency')}.</p></header>
<main>
<div id="lw-stale" class="stale" hidden></div>
{stale_check}
<div class="tiles">{''.join(
    f'<div class="tile"><div class="value">{v}</div><div class="label">{html.escape(k)}</div>'
    f'<div class="note">{html.escape(n)}</div></div>'
    for k, v, n in tiles)}</div>

<section id="definitions"><h2>Reading this page</h2>
{_glossary_html(data)}
<h3>Lifecycle stages: definitions</h3>
{_stage_definitions_html(data)}
</section>

<section id="stages"><h2>Lifecycle stages</h2>
<div class="grid2"><div>{stage_sizes}</div><div>{stage_history}</div></div>
{_table(["stage", "persons", "share of known persons", f"net revenue{_in(currency)}"], stage_rows)}
</section>

<section id="flows"><h2>Stage flows</h2>
{_sankey_figure(data)}
<h3>Transition matrix of the last period</h3>
{_transition_matrix(data)}
</section>

<section id="rfm"><h2>RFM grid (buyers)</h2>
<div class="grid2"><div>{rfm_customers}</div><div>{rfm_revenue}</div></div>
{tie_html}
{_table(["segment", "buyers", "share", f"net revenue{_in(currency)}", "share of revenue"],
        segment_rows)}
</section>

<section id="growth"><h2>Growth accounting (persons active in the month)</h2>
<p class="caption">Active in a month = at least one active day (visit, app use, order) in
that month, whatever the lifecycle stage; not the stage <code>active</code>.</p>
{_growth_figure(data)}
{_table(["month", "active in month", "new", "retained", "resurrected", "churned",
         "quick ratio", "retention"], growth_rows)}
</section>

<section id="retention"><h2>Retention triangle (monthly cohorts)</h2>
{_retention_html(data["retention"])}
</section>

<section id="audiences"><h2>Audiences: sizes and changes since the previous build</h2>
{_audiences_html(data["audiences"], meta)}
</section>

<section id="campaigns"><h2>Campaign outcomes (treatment vs control)</h2>
{_campaigns_html(data["campaign_outcomes"], currency)}
</section>

<section id="drilldown"><h2>Segment drill-down</h2>
<p class="caption">Open a segment for its split by the other dimension, the persons
reachable per channel (consent given and a contact point known) and its top persons by net
revenue (person ids shortened to their first {SHORT_ID} characters; hover for the whole id).</p>
<h3>RFM segments (buyers)</h3>
{_drilldown_html(data["drilldown"]["rfm_segment"], "lifecycle stage", currency, "buyers")}
<h3>Lifecycle stages (known persons)</h3>
{_drilldown_html(data["drilldown"]["lifecycle_stage"], "RFM segment", currency, "persons")}
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
    from lifecycle_warehouse.pipeline.publish import published_marker

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
    from lifecycle_warehouse.pipeline.publish import current_build_id

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


# Appended to a copy of the page to measure it: the page's full height as its title.
_MEASURE = ("<script>window.addEventListener('load', function () { setTimeout(function () {"
            " document.title = 'lw-height:' + Math.ceil(document.documentElement"
            ".getBoundingClientRect().height); }, 0); });</script>")
MAX_SCREENSHOT_HEIGHT = 30000  # pixels; a taller page is cut there (and says so)


def page_height(report: Path, *, width: int = 1400, browser: str | None = None) -> int | None:
    """The rendered height of the page in pixels at `width` (headless Chromium), measured
    on a temporary copy next to it (same folder, so the page loads what it loads)."""
    browser = browser or find_chromium()
    if browser is None:
        return None
    report = Path(report).resolve()
    copy = report.parent / f".{report.stem}.measure.html"
    try:
        copy.write_text(report.read_text(encoding="utf-8").replace(
            "</body></html>", _MEASURE + "</body></html>"), encoding="utf-8")
        result = subprocess.run(
            [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
             f"--window-size={width},1000", "--virtual-time-budget=15000", "--dump-dom",
             copy.as_uri()], capture_output=True, text=True, timeout=180)
    finally:
        copy.unlink(missing_ok=True)
    found = re.search(r"<title>lw-height:(\d+)</title>", result.stdout)
    return int(found.group(1)) if found else None


def screenshot(report: Path, png: Path, *, width: int = 1400, height: int | None = None) -> Path:
    """PNG of the whole rendered report with headless Chromium (apt-get install chromium).

    height None: the page's own height (measured first), so nothing is cut off."""
    browser = find_chromium()
    if browser is None:
        raise ReportError("No Chromium found for the screenshot: `apt-get install chromium` "
                          "(or leave out --screenshot).")
    if height is None:
        measured = page_height(report, width=width, browser=browser)
        if measured is None:
            raise ReportError(f"Chromium could not measure {report} for the screenshot; "
                              "give the height with --screenshot-height.")
        if measured > MAX_SCREENSHOT_HEIGHT:
            log.warning("the page is %d px tall; the screenshot stops at %d px",
                        measured, MAX_SCREENSHOT_HEIGHT)
        height = min(measured + 16, MAX_SCREENSHOT_HEIGHT)
    png.parent.mkdir(parents=True, exist_ok=True)
    command = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
               f"--window-size={width},{height}", "--virtual-time-budget=15000",
               f"--screenshot={png.resolve()}", Path(report).resolve().as_uri()]
    result = subprocess.run(command, capture_output=True, text=True, timeout=180)
    if result.returncode != 0 or not png.is_file():
        raise ReportError(f"Chromium could not screenshot {report}: {result.stderr[-800:]}")
    return png
