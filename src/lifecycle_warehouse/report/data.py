"""`lw report`, the data half: what the dashboard shows, read from the published marts.

`load_report_data(serving_db)` reads every section below from the serving file
(read-only) into plain Python values; `report.render` turns them into the page.

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

import contextlib
import datetime as dt
import decimal
import json
import logging
import re
from pathlib import Path
from typing import Any

from lifecycle_warehouse.pipeline.seeds import (
    LIFECYCLE_STAGES_SEED,
    SeedError,
    lifecycle_stages,
    stages_in_display_order,
)

log = logging.getLogger(__name__)

REPORT_NAME = "lifecycle_report.html"
# The order stages are shown in (funnel order, then the decline and the way back): column
# display_order of seeds/lifecycle_stages.csv, the one list of the stages.
STAGES = stages_in_display_order()
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


def _rows(con: Any, sql: str, params: list | None = None) -> list[dict[str, Any]]:
    cursor = con.execute(sql, params) if params else con.execute(sql)
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


def _reachable_counts(alias: str = "d", channels: tuple[str, ...] = (*CHANNELS, "any")) -> str:
    counts = [f"count(*) filter (where {alias}.is_reachable_{channel}) as reachable_{channel}"
              for channel in channels]
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
            meta = _rows(con, "select build_id, published_at, as_of_date, metadata "
                              "from meta.publish_info")
        except duckdb.CatalogException as error:
            raise ReportError(
                f"{serving_db} is not a published build (no meta.publish_info): the report "
                "reads the file `lw publish` writes, not the build database."
            ) from error
        settings = project_vars()
        data: dict[str, Any] = {"meta": meta[0]}
        data["meta"]["base_currency"] = base_currency(data["meta"].pop("metadata"), settings)
        order = _stage_order("segment_name")
        data["totals"] = _rows(con, """
            select
                count(*) as persons,
                count(*) filter (where lifecycle_stage = 'prospect') as prospects,
                count(*) filter (where first_active_date is not null) as ever_active,
                count(*) filter (where order_count > 0) as buyers,
                sum(net_revenue) as net_revenue
            from marts.fct_customer_lifecycle""")[0]
        data["stage_definitions"] = stage_definitions(
            _stage_thresholds(con, settings))
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
        # per score: buyers and the range of the value scored (for the tie-rule note)
        data["rfm_scores"] = {
            dimension: _rows(con, f"""
                select {dimension}_score as score, count(*) as buyers,
                    min({value}) as min_value, max({value}) as max_value
                from marts.fct_rfm
                group by {dimension}_score
                order by {dimension}_score""")
            for dimension, value in (("r", "recency_days"), ("f", "order_count"))}
        data["rfm_segments"] = _rows(con, """
            select segment_name as segment, customers, net_revenue, share_of_customers,
                share_of_revenue
            from marts.agg_segment_summary
            where dimension = 'rfm_segment'
            order by customers desc, segment_name""")
        growth_columns = _columns(con, "fct_growth_accounting") or set()
        # with day / week / month grains in one mart, the page shows the month grain
        month_only = "where period_grain = 'month'" if "period_grain" in growth_columns else ""
        data["growth"] = _rows(con, f"""
            select period_start, is_complete_period, active_persons, new_persons,
                retained_persons, resurrected_persons, churned_persons, quick_ratio,
                retention_rate
            from marts.fct_growth_accounting
            {month_only}
            order by period_start""")
        data["retention"] = _retention(con)
        data["audiences"] = _audiences(con, data["meta"]["build_id"])
        data["campaign_outcomes"] = _campaign_outcomes(con)
        data["drilldown"] = {
            "rfm_segment": _drilldown(con, "r.segment", "l.lifecycle_stage", buyers_only=True),
            "lifecycle_stage": _drilldown(con, "l.lifecycle_stage", "r.segment",
                                          buyers_only=False),
        }
    return data


# ---------------------------------------------------------------------------------------
# definitions read from the project (one place each, never copied here)

# Where the lifecycle stages are defined: the seed (names, precedence, rules in words)
# and the macro that applies them.
STAGES_SEED = Path("seeds") / f"{LIFECYCLE_STAGES_SEED}.csv"
STAGE_RULES_MACRO = Path("macros") / "lifecycle" / "lw_lifecycle_stage.sql"
# Thresholds the stage rules name: calibrated per build (read from the marts) or vars.
_CALIBRATED_THRESHOLDS = ("dormant_days", "churned_days")
_VAR_THRESHOLDS = ("new_customer_days", "reactivation_window_days", "loyal_min_orders")


def project_vars(project_root: Path | None = None) -> dict[str, Any]:
    """The vars of dbt_project.yml (the defaults a build runs with); {} when unreadable."""
    import yaml

    from lifecycle_warehouse.pipeline.project import PROJECT_ROOT

    try:
        text = (Path(project_root or PROJECT_ROOT) / "dbt_project.yml").read_text(encoding="utf-8")
        return dict(yaml.safe_load(text).get("vars") or {})
    except (OSError, yaml.YAMLError, AttributeError):
        return {}


def base_currency(metadata_json: str | None, settings: dict[str, Any]) -> str | None:
    """The currency all money is in: the publish metadata's base_currency when the
    publishing run recorded one, else var base_currency of dbt_project.yml (the currency
    seeds/fx_rates.csv converts to); None when neither says."""
    with contextlib.suppress(TypeError, ValueError, AttributeError):
        recorded = json.loads(metadata_json or "{}").get("base_currency")
        if recorded:
            return str(recorded)
    found = settings.get("base_currency")
    return str(found) if found else None


def _stage_thresholds(con: Any, settings: dict[str, Any]) -> dict[str, Any]:
    thresholds: dict[str, Any] = {}
    columns = _columns(con, "fct_customer_lifecycle") or set()
    for name in _CALIBRATED_THRESHOLDS:
        if name in columns:
            values = con.execute(f"select distinct {name} from marts.fct_customer_lifecycle "
                                 f"where {name} is not null").fetchall()
            if len(values) == 1:
                thresholds[name] = values[0][0]
    for name in _VAR_THRESHOLDS:
        if settings.get(name) is not None:
            thresholds[name] = settings[name]
    return thresholds


def stage_definitions(thresholds: dict[str, Any] | None = None,
                      project_root: Path | None = None) -> list[dict[str, Any]]:
    """The stage rules of seeds/lifecycle_stages.csv (column description), in precedence
    order, with the thresholds they name filled in ("churned_days" → "45 days
    (churned_days)"). [] when the seed cannot be read."""
    try:
        stages = lifecycle_stages(Path(project_root) / "seeds" if project_root else None)
    except SeedError as error:
        log.warning("stage definitions not shown: %s", error)
        return []
    definitions: list[dict[str, Any]] = [
        {"stage": s.stage, "precedence": s.precedence, "rule": s.description} for s in stages]
    for definition in definitions:
        for name, value in (thresholds or {}).items():
            shown = f"{value} days ({name})" if name.endswith("_days") else f"{value} ({name})"
            definition["rule"] = re.sub(rf"\b{name}\b", shown, definition["rule"])
    return definitions


# ---------------------------------------------------------------------------------------
# sections read from marts that a build may not have yet

_RETENTION_COLUMNS = ("period_grain", "cohort_period_start", "periods_since", "cohort_persons",
                      "retained_persons", "retention_rate")
_MEMBERSHIP_COLUMNS = ("audience_id", "audience_type", "audience_name", "person_id",
                       "campaign_id", "is_holdout", *(f"is_reachable_{c}" for c in CHANNELS))
_CHANGES_COLUMNS = ("build_id", "previous_build_id", "as_of_date", "previous_as_of_date",
                    "audience_id", "audience_type", "audience_name", "change_type")
_OUTCOME_COLUMNS = ("campaign_id", "metric", "treatment_value", "control_value", "difference",
                    "ci_low", "ci_high", "treatment_persons", "control_persons")


def _columns(con: Any, table: str, schema: str = "marts") -> set[str] | None:
    """The columns of schema.table in the open file; None when there is no such table."""
    found = con.execute(
        "select column_name from duckdb_columns() where database_name = current_database() "
        "and schema_name = ? and table_name = ?", [schema, table]).fetchall()
    return {name for (name,) in found} or None


def _section_status(con: Any, table: str, required: tuple[str, ...]) -> dict[str, Any]:
    """{"table", "status": "present" | "absent" | "incomplete", "missing": [columns]}."""
    columns = _columns(con, table)
    missing = [] if columns is None else [c for c in required if c not in columns]
    status = "absent" if columns is None else "incomplete" if missing else "present"
    return {"table": f"marts.{table}", "status": status, "missing": missing}


def _retention(con: Any) -> dict[str, Any]:
    section = _section_status(con, "fct_cohort_retention", _RETENTION_COLUMNS)
    if section["status"] == "present":
        section["grains"] = [g for (g,) in con.execute(
            "select distinct period_grain from marts.fct_cohort_retention order by 1").fetchall()]
        # the month of as_of_date is still running: its cells would read as a drop
        section["complete_only"] = bool(con.execute(
            "select 1 from duckdb_columns() where schema_name = 'marts' and table_name = "
            "'fct_cohort_retention' and column_name = 'is_complete_period'").fetchall())
        complete = " and is_complete_period" if section["complete_only"] else ""
        section["rows"] = _rows(con, f"""
            select cohort_period_start, periods_since, cohort_persons, retained_persons,
                retention_rate
            from marts.fct_cohort_retention
            where period_grain = 'month'{complete}
            order by cohort_period_start, periods_since""")
    return section


def _audiences(con: Any, build_id: str) -> dict[str, Any]:
    section = _section_status(con, "fct_audience_membership", _MEMBERSHIP_COLUMNS)
    changes = _section_status(con, "fct_audience_changes", _CHANGES_COLUMNS)
    section["changes"] = changes
    by_id: dict[str, dict[str, Any]] = {}
    if section["status"] == "present":
        for row in _rows(con, f"""
                select audience_id, min(audience_type) as audience_type,
                    min(audience_name) as audience_name, count(*) as members,
                    count(*) filter (where is_holdout) as holdout_members,
                    min(campaign_id) as campaign_id,
                    {_reachable_counts('m', CHANNELS)}
                from marts.fct_audience_membership as m
                group by audience_id"""):
            by_id[row["audience_id"]] = row
    if changes["status"] == "present":
        builds = _rows(con, """
            select build_id, max(previous_build_id) as previous_build_id,
                max(as_of_date) as as_of_date, max(previous_as_of_date) as previous_as_of_date,
                count(*) as changes
            from marts.fct_audience_changes
            group by build_id
            order by build_id""")
        changes["this_build"] = next((b for b in builds if b["build_id"] == build_id), None)
        changes["other_builds"] = [b["build_id"] for b in builds if b["build_id"] != build_id]
        for row in _rows(con, """
                select audience_id, min(audience_type) as audience_type,
                    min(audience_name) as audience_name,
                    count(*) filter (where change_type = 'entered') as entered,
                    count(*) filter (where change_type = 'left') as left_persons
                from marts.fct_audience_changes
                where build_id = ?
                group by audience_id""", [build_id]):
            entry = by_id.setdefault(row["audience_id"], {
                "audience_id": row["audience_id"], "audience_type": row["audience_type"],
                "audience_name": row["audience_name"], "members": 0})
            entry.update(entered=row["entered"], left=row["left_persons"])
        for entry in by_id.values():
            entry.setdefault("entered", 0)
            entry.setdefault("left", 0)
    type_order = {"lifecycle_stage": 0, "rfm_segment": 1, "trigger": 2}
    stage_rank = {stage: i for i, stage in enumerate(STAGES)}
    section["rows"] = sorted(by_id.values(), key=lambda a: (
        type_order.get(a["audience_type"], 9), str(a["audience_type"]),
        stage_rank.get(a["audience_name"], 99) if a["audience_type"] == "lifecycle_stage"
        else -a.get("members", 0), a["audience_id"]))
    return section


def _campaign_outcomes(con: Any) -> dict[str, Any]:
    columns = _columns(con, "fct_campaign_outcomes") or set()
    # the mart names the metric outcome_metric; metric is accepted too
    metric = "outcome_metric" if "outcome_metric" in columns else "metric"
    required = tuple(metric if c == "metric" else c for c in _OUTCOME_COLUMNS)
    section = _section_status(con, "fct_campaign_outcomes", required)
    if section["status"] == "present":
        optional = [c for c in ("is_window_complete", "window_end_date", "test_method")
                    if c in columns]
        selected = [f"{metric} as metric" if c == metric else c for c in required]
        section["rows"] = _rows(con, f"""
            select {', '.join(selected + optional)}
            from marts.fct_campaign_outcomes
            order by campaign_id, {metric}""")
    return section


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
