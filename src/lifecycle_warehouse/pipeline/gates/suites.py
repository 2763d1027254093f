"""The checks of each layer's suite, measured with SQL aggregates.

Each layer's checks are a list of `Check`: a number measured in DuckDB over a
read-only connection (row counts, null counts, out-of-range counts, shares, a lag in
days — never whole tables) and the bounds it must lie in, from `quality_gates.yml`.
`run_gx_gate` turns them into one pandas row per layer (one column per check) and one
Great Expectations suite (one `expect_column_max_to_be_between` per column), so GX
decides pass / fail, keeps the result and renders Data Docs.

Which checks exist is decided here, per layer:

staging       volume and non-emptiness of every table; null rates of keys and event
              times; value ranges; quarantined / raw rows per landing source.
intermediate  (identity + intermediate schemas) volume; null rates; value ranges;
              share of events without a person; calibrated thresholds within bounds.
marts         volume; null rates; value ranges (RFM scores 1..5, …); share of every
              lifecycle stage and RFM segment; share of persons with negative net
              revenue; freshness of the newest user event vs as_of_date.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from lifecycle_warehouse.pipeline.gates.config import Bounds, LayerConfig, ShareBounds

LAYER_SCHEMAS = {
    "staging": ("staging",),
    "intermediate": ("identity", "intermediate"),
    "marts": ("marts",),
}


@dataclass
class Check:
    """One measured number of a suite and the bounds it must lie in."""

    check: str  # kind: volume, null_rate, value_range, lifecycle_stage_share, …
    subject: str  # what was measured: schema.table, schema.table.column, …[value]
    value: float | None  # None = could not be measured (fails)
    min_value: float | None
    max_value: float | None
    detail: str
    skipped: str | None = None  # reason; a skipped check is reported, not validated

    @property
    def column(self) -> str:
        """Column of the layer's metrics frame (and of the GX expectation)."""
        return f"{self.check}:{self.subject}"

    @property
    def expected(self) -> str:
        return format_bounds(self.min_value, self.max_value)


def format_bounds(low: float | None, high: float | None) -> str:
    if low is not None and high is not None:
        return f"between {_fmt(low)} and {_fmt(high)}"
    if low is not None:
        return f">= {_fmt(low)}"
    if high is not None:
        return f"<= {_fmt(high)}"
    return "any value"


def _fmt(value: float | None) -> str:
    if value is None:
        return "n/a"
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:.6g}"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _relation(table: str) -> str:
    schema, name = table.split(".", 1)
    return f"{_quote(schema)}.{_quote(name)}"


def _share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def _error_text(error: Exception) -> str:
    return str(error).strip().splitlines()[0][:200]


def tables_of_layer(con, layer: str) -> list[str]:
    """"schema.table" of every base table of the layer (dbt's __cc_ helpers excluded)."""
    schemas = LAYER_SCHEMAS[layer]
    rows = con.execute(
        "select schema_name, table_name from duckdb_tables() "
        f"where schema_name in ({', '.join('?' for _ in schemas)}) "
        "order by schema_name, table_name",
        list(schemas),
    ).fetchall()
    return [f"{schema}.{table}" for schema, table in rows if "__cc_" not in table]


def row_counts(con, layer: str) -> dict[str, int]:
    return {
        table: int(con.execute(f"select count(*) from {_relation(table)}").fetchone()[0])
        for table in tables_of_layer(con, layer)
    }


# ---------------------------------------------------------------- checks of every layer


def _is_raw(table: str) -> bool:
    """A base_ model: one row per raw row of every landing file read, duplicates and
    rejected rows included. Its volume is what landed (a file delivered twice doubles it);
    the staged tables carry the volume signal and the row-count reconciliation accounts
    for every raw row, so the volume check leaves these out."""
    return table.split(".")[-1].startswith("base_")


def volume_checks(con, layer: str, cfg: LayerConfig, history: dict[str, int] | None) -> list[Check]:
    """Row count of every table (base_ models aside: _is_raw) vs the previous successful
    run, and non-emptiness."""
    volume = cfg.volume
    current = {table: rows for table, rows in row_counts(con, layer).items()
               if not _is_raw(table)}
    tables = sorted(set(current) | {table for table in history or {} if not _is_raw(table)})
    checks = []
    for table in tables:
        rows = current.get(table)
        low = 0.0 if table in volume.allow_empty else 1.0
        high = None
        note = "" if rows is not None else "table missing; "
        previous = None if history is None else history.get(table)
        if history is None:
            note += "no previous run: change not checked"
        elif previous is None:
            note += "new table (not in the previous run): change not checked"
        elif previous < volume.min_previous_rows:
            note += (f"previous run {previous:,} rows < min_previous_rows "
                     f"{volume.min_previous_rows:,}: change not checked")
        else:
            decrease, increase = volume.tolerance(table)
            low = max(low, float(math.ceil(previous * (1 - decrease))))
            high = float(math.floor(previous * (1 + increase)))
            change = _share((rows or 0) - previous, previous)
            note += (f"previous run {previous:,} rows, change {change:+.1%}, "
                     f"allowed -{decrease:.0%} .. +{increase:.0%}")
        if low > 0 and (high is None):
            note += "; must not be empty"
        checks.append(Check(
            check="volume", subject=table, value=float(rows or 0), min_value=low,
            max_value=high, detail=f"{rows or 0:,} rows; {note}",
        ))
    return checks


def null_rate_checks(con, cfg: LayerConfig) -> list[Check]:
    checks = []
    for table, columns in cfg.null_rates.items():
        counts = ", ".join(f"count({_quote(c)})" for c in columns)
        try:
            total, *non_null = con.execute(
                f"select count(*), {counts} from {_relation(table)}").fetchone()
        except Exception as error:  # missing table / column: the check fails, says why
            for column, bound in columns.items():
                checks.append(Check("null_rate", f"{table}.{column}", None, None, bound,
                                    f"cannot measure: {_error_text(error)}"))
            continue
        for (column, bound), filled in zip(columns.items(), non_null, strict=True):
            nulls = total - filled
            checks.append(Check(
                "null_rate", f"{table}.{column}", _share(nulls, total), None, bound,
                f"{nulls:,} of {total:,} rows null",
            ))
    return checks


def _range_predicate(column: str, bounds: Bounds) -> str:
    low, high = bounds
    parts = []
    if low is not None:
        parts.append(f"{_quote(column)} < {low!r}")
    if high is not None:
        parts.append(f"{_quote(column)} > {high!r}")
    return " or ".join(parts) or "false"


def value_range_checks(con, cfg: LayerConfig) -> list[Check]:
    """Rows outside [min, max] per column (nulls are the null-rate check's business)."""
    checks = []
    for table, columns in cfg.value_ranges.items():
        selects = ", ".join(
            f"count(*) filter (where {_range_predicate(c, b)}), "
            f"min({_quote(c)})::varchar, max({_quote(c)})::varchar"
            for c, b in columns.items()
        )
        try:
            total, *values = con.execute(
                f"select count(*), {selects} from {_relation(table)}").fetchone()
        except Exception as error:
            for column in columns:
                checks.append(Check("value_range", f"{table}.{column}", None, None, 0.0,
                                    f"cannot measure: {_error_text(error)}"))
            continue
        for index, (column, (low, high)) in enumerate(columns.items()):
            outside, observed_min, observed_max = values[3 * index: 3 * index + 3]
            checks.append(Check(
                "value_range", f"{table}.{column}", float(outside), None, 0.0,
                f"{outside:,} of {total:,} rows outside {format_bounds(low, high)}; "
                f"observed min {observed_min}, max {observed_max}",
            ))
    return checks


def _measure(check: str, subject: str, bound: tuple[float | None, float | None],
             measure: Callable[[], tuple[float | None, str]]) -> Check:
    """A single-number check; a failing query becomes a failing check that says why."""
    try:
        value, detail = measure()
    except Exception as error:
        value, detail = None, f"cannot measure: {_error_text(error)}"
    return Check(check, subject, value, bound[0], bound[1], detail)


# A minimum share is enforced only where it asks for at least this many rows: with n rows
# and a true share p, a value is empty by chance with probability (1 - p)^n ~ e^(-np),
# under 1 % from np >= 4.6. Below that a small sample (a reviewer's 2,000 persons over
# 120 days) would fail on segments that are empty by chance, not by a defect.
MIN_EXPECTED_ROWS_AT_MINIMUM_SHARE = 5


def share_checks(con, check: str, table: str, column: str, bounds: ShareBounds,
                 population: str) -> list[Check]:
    """Share of rows per value of a column: every expected value, and any unexpected one."""
    try:
        counts = dict(con.execute(
            f"select {_quote(column)}, count(*) from {_relation(table)} "
            f"where {_quote(column)} is not null group by 1").fetchall())
        total = int(con.execute(f"select count(*) from {_relation(table)}").fetchone()[0])
    except Exception as error:
        return [Check(check, f"{table}.{column}", None, bounds.min, bounds.max,
                      f"cannot measure: {_error_text(error)}")]
    checks = []
    values = list(bounds.expected) + sorted(str(v) for v in counts if v not in bounds.expected)
    for value in values:
        rows = int(counts.get(value, 0))
        if value in bounds.expected:
            low, high = bounds.bounds(value)
            note = ""
            if low and low * total < MIN_EXPECTED_ROWS_AT_MINIMUM_SHARE:
                # too few rows for the minimum to mean anything: at that share an empty
                # value would be likely by chance alone (e.g. 850 buyers at 0.1 %)
                note = (f"; minimum {low:g} not applied: {total:,} {population} x {low:g} = "
                        f"{low * total:.2g} < {MIN_EXPECTED_ROWS_AT_MINIMUM_SHARE} expected rows")
                low = 0.0
        else:
            low, high = 0.0, 0.0
            note = "; not an expected value"
        checks.append(Check(
            check, f"{table}.{column}={value}", _share(rows, total), low, high,
            f"{rows:,} of {total:,} {population}{note}",
        ))
    return checks


# ---------------------------------------------------------------- per layer


def staging_checks(con, cfg: LayerConfig, history: dict[str, int] | None) -> list[Check]:
    checks = volume_checks(con, "staging", cfg, history)
    checks += null_rate_checks(con, cfg)
    checks += value_range_checks(con, cfg)
    if cfg.quarantine_share is not None:
        table = "staging.stg_landing__row_counts"
        try:
            rows = con.execute(
                "select source, raw_rows, quarantined_rows "
                f"from {_relation(table)} order by source").fetchall()
        except Exception as error:
            checks.append(Check("quarantine_share", table, None, None, cfg.quarantine_share,
                                f"cannot measure: {_error_text(error)}"))
            rows = []
        for source, raw, quarantined in rows:
            bound = cfg.quarantine_share_sources.get(source, cfg.quarantine_share)
            checks.append(Check(
                "quarantine_share", f"{table}[source={source}]", _share(quarantined, raw), None,
                bound, f"{quarantined:,} of {raw:,} raw rows quarantined",
            ))
    return checks


def intermediate_checks(con, cfg: LayerConfig, history: dict[str, int] | None) -> list[Check]:
    checks = volume_checks(con, "intermediate", cfg, history)
    checks += null_rate_checks(con, cfg)
    checks += value_range_checks(con, cfg)
    if cfg.events_without_person_max_share is not None:
        def events_without_person() -> tuple[float, str]:
            total, orphans = con.execute(
                "select count(*), count(*) filter (where person_id is null) "
                "from intermediate.int_events_unioned").fetchone()
            return _share(orphans, total), f"{orphans:,} of {total:,} events without person_id"

        checks.append(_measure(
            "events_without_person_share", "intermediate.int_events_unioned.person_id",
            (None, cfg.events_without_person_max_share), events_without_person,
        ))
    for name, bounds in cfg.thresholds.items():
        def threshold(name: str = name) -> tuple[float | None, str]:
            rows = con.execute(
                f"select {_quote(name)} from intermediate.int_lifecycle_thresholds").fetchall()
            if len(rows) != 1:
                return None, f"expected 1 row in int_lifecycle_thresholds, found {len(rows)}"
            value = rows[0][0]
            return (None if value is None else float(value)), f"{name} used = {value} days"

        checks.append(_measure(
            "threshold", f"intermediate.int_lifecycle_thresholds.{name}", bounds, threshold))
    return checks


def marts_checks(con, cfg: LayerConfig, history: dict[str, int] | None) -> list[Check]:
    checks = volume_checks(con, "marts", cfg, history)
    checks += null_rate_checks(con, cfg)
    checks += value_range_checks(con, cfg)
    if cfg.lifecycle_stage_shares is not None:
        checks += share_checks(con, "lifecycle_stage_share", "marts.fct_customer_lifecycle",
                               "lifecycle_stage", cfg.lifecycle_stage_shares, "persons")
    if cfg.rfm_segment_shares is not None:
        checks += share_checks(con, "rfm_segment_share", "marts.fct_rfm", "segment",
                               cfg.rfm_segment_shares, "buyers")
    if cfg.negative_net_revenue_max_share is not None:
        def negative_revenue() -> tuple[float, str]:
            total, negative, lowest = con.execute(
                "select count(*), count(*) filter (where net_revenue < 0), min(net_revenue) "
                "from marts.fct_customer_value").fetchone()
            return _share(negative, total), (
                f"{negative:,} of {total:,} persons with net revenue < 0 (lowest {lowest})")

        checks.append(_measure(
            "negative_net_revenue_share", "marts.fct_customer_value.net_revenue",
            (None, cfg.negative_net_revenue_max_share), negative_revenue,
        ))
    if cfg.freshness_max_lag_days is not None:
        def freshness() -> tuple[float | None, str]:
            as_of = con.execute("select max(as_of_date) from intermediate.int_as_of_date"
                                ).fetchone()[0]
            newest = con.execute(
                "select max(event_date) filter (where is_user_initiated) "
                "from intermediate.int_events_unioned").fetchone()[0]
            if not isinstance(as_of, date) or not isinstance(newest, date):
                return None, f"as_of_date {as_of}, newest user-initiated event {newest}"
            lag = (as_of - newest).days
            return float(lag), (f"newest user-initiated event {newest}, as_of_date {as_of}: "
                                f"{lag} day(s) behind")

        check = _measure(
            "freshness", "intermediate.int_events_unioned.event_date",
            (None, float(cfg.freshness_max_lag_days)), freshness,
        )
        user_initiated = con.execute(
            "select count(*) filter (where is_user_initiated) "
            "from intermediate.int_events_unioned").fetchone()[0]
        if check.value is None and user_initiated == 0:
            # nothing to be fresh about (a profiles-only build): reported, not validated;
            # a build that should have activity fails the volume checks instead
            check.skipped = "no user-initiated event in the build"
        checks.append(check)
    return checks


LAYER_CHECKS: dict[str, Callable[..., list[Check]]] = {
    "staging": staging_checks,
    "intermediate": intermediate_checks,
    "marts": marts_checks,
}
