"""Defect injection (``docs/landing_contract.md``, "Injected defects").

Defects are applied per chunk and source to *disjoint* sets of rows drawn from one
random permutation, with stochastic rounding of ``rate * rows`` so that expected
counts equal the configured rates and the recorded counts are exact:

* ``negative_amount``: ``order_total`` / ``unit_price`` negated (non-return POS lines).
* ``malformed_email``: ``jane.doe@``, ``jane.doe.example.com`` or ``@example.com``.
* ``malformed_id``: one id column of the row replaced by e.g. ``U12?45``, ``null``,
  ``ck_XYZ``, ``dv_123``, ``LC12``.
* ``unknown_event_name``: names absent from ``seeds/event_taxonomy.csv``.
* ``future_timestamp``: event time moved to 1-30 days *after* ``_loaded_at`` (all
  event-time columns of the row move together: for orders ``ordered_at`` lands 1-30
  days after ``_loaded_at`` and ``updated_at`` keeps its distance after it).
* ``late_arriving``: ``_loaded_at`` = event time + 2-10 days (normal: 5-180 min). For
  orders the reference is ``updated_at`` (>= ``ordered_at``), so late rows are also
  >= 48 h after ``ordered_at`` while normal rows stay < 39 h after it.
* ``duplicate``: an exact copy of a clean (otherwise defect-free) row, appended to
  the end of the same file (a loader re-delivering a row).

The event time of a row is ``event_ts`` (web), ``event_ts_ms`` (app),
``occurred_at`` (messaging), the transaction time (POS) and ``ordered_at`` /
``updated_at`` (orders, see above).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .config import UNKNOWN_EVENT_NAMES, DefectRates
from .timeline import US_PER_DAY

MALFORMED_IDS: dict[str, tuple[str, ...]] = {
    "user": ("U12?45", "null", "U123", "user_00012345", "U0001234X", "N/A"),
    "cookie": ("ck_XYZ", "null", "ck_", "ck_12345", "cookie-9f86d081", "ck_ZZZZZZZZZZZZZZZZ"),
    "device": ("dv_123", "null", "dv_ZZZ", "device-unknown", "dv_"),
    "loyalty": ("LC12", "LC-000123", "null", "LCABCDEFGHIJ", "LC00012345678"),
}
EMAIL_BREAKERS = (("@.*$", "@"), ("@", "."), (r"^\s*[^@]*@", "@"))


@dataclass(frozen=True)
class DefectSpec:
    """Which defects apply to a source and on which columns."""

    time_cols: tuple[str, ...] = ()  # first one is the row's event time
    id_cols: tuple[tuple[str, str], ...] = ()  # (column, id kind)
    email_cols: tuple[str, ...] = ()
    event_col: str | None = None
    taxonomy_source: str | None = None
    amount_col: str | None = None
    amount_skip_col: str | None = None  # boolean column: rows that may not be negated
    extra: dict[str, str] = field(default_factory=dict)


SPECS: dict[str, DefectSpec] = {
    "web_events": DefectSpec(("__event_us",), (("cookie_id", "cookie"), ("user_id", "user")),
                             event_col="event_type", taxonomy_source="web"),
    "app_events": DefectSpec(("__event_us",), (("device_id", "device"), ("user_id", "user")),
                             event_col="event_name", taxonomy_source="app"),
    "messaging_webhooks": DefectSpec(("__event_us",), event_col="event",
                                     taxonomy_source="messaging"),
    "store_pos": DefectSpec(("__event_us",), (("loyalty_card", "loyalty"),),
                            amount_col="__unit_price_cents", amount_skip_col="is_return"),
    "online_orders": DefectSpec(("__event_us", "__ordered_us"), (("user_id", "user"),),
                                email_cols=("customer_email",), amount_col="__total_cents"),
    "crm_customers": DefectSpec(id_cols=(("customer_id", "user"),), email_cols=("email",)),
}


class _Picker:
    """Draws disjoint row sets from one permutation."""

    def __init__(self, rng: np.random.Generator, n: int) -> None:
        self.rng = rng
        self.n = n
        self.perm = rng.permutation(n)
        self.used = np.zeros(n, dtype=bool)

    def count(self, rate: float) -> int:
        x = rate * self.n
        return int(x) + int(self.rng.random() < x - int(x))

    def take(self, rate: float, eligible: np.ndarray | None = None) -> np.ndarray:
        k = self.count(rate)
        if k == 0:
            return np.zeros(0, dtype=np.int64)
        cand = self.perm[~self.used[self.perm]]
        if eligible is not None:
            cand = cand[eligible[cand]]
        sel = np.sort(cand[:k])
        self.used[sel] = True
        return sel


def _replace_rows(table: pa.Table, col: str, rows: np.ndarray, values: pa.Array) -> pa.Table:
    mask = np.zeros(table.num_rows, dtype=bool)
    mask[rows] = True
    arr = table[col].combine_chunks()
    new = pc.replace_with_mask(arr, pa.array(mask), values.cast(arr.type))
    return table.set_column(table.schema.get_field_index(col), col, new)


def _set_int(table: pa.Table, col: str, values: np.ndarray) -> pa.Table:
    return table.set_column(table.schema.get_field_index(col), col, pa.array(values))


def apply_defects(rng: np.random.Generator, source: str, table: pa.Table,
                  rates: DefectRates) -> tuple[pa.Table, dict[str, object]]:
    """Inject the defects of ``source`` into ``table``; returns it and exact counts."""
    spec = SPECS[source]
    pick = _Picker(rng, table.num_rows)
    counts: dict[str, object] = {}

    if spec.amount_col:
        eligible = None
        if spec.amount_skip_col:
            eligible = ~table[spec.amount_skip_col].to_numpy()
        rows = pick.take(rates.negative_amount, eligible)
        amount = table[spec.amount_col].to_numpy().copy()
        amount[rows] = -np.maximum(np.abs(amount[rows]), 1)
        table = _set_int(table, spec.amount_col, amount)
        counts["negative_amount"] = len(rows)

    if spec.email_cols:
        total = 0
        for col in spec.email_cols:
            rows = pick.take(rates.malformed_email / len(spec.email_cols))
            vals = table[col].combine_chunks().take(pa.array(rows)).fill_null("jane.doe@x.com")
            how = rng.integers(0, len(EMAIL_BREAKERS), len(rows))
            out = vals
            for j, (pattern, repl) in enumerate(EMAIL_BREAKERS):
                broken = pc.replace_substring_regex(vals, pattern=pattern, replacement=repl)
                out = pc.if_else(pa.array(how == j), broken, out)
            table = _replace_rows(table, col, rows, out)
            total += len(rows)
        counts["malformed_email"] = total

    if spec.id_cols:
        rows = pick.take(rates.malformed_id)
        which = rng.integers(0, len(spec.id_cols), len(rows))
        by_col: dict[str, int] = {}
        for j, (col, kind) in enumerate(spec.id_cols):
            r = rows[which == j]
            vocab = MALFORMED_IDS[kind]
            vals = pa.array([vocab[i] for i in rng.integers(0, len(vocab), len(r))], pa.string())
            table = _replace_rows(table, col, r, vals)
            by_col[col] = len(r)
        counts["malformed_id"] = len(rows)
        counts["malformed_id_by_column"] = by_col

    if spec.event_col and spec.taxonomy_source:
        rows = pick.take(rates.unknown_event_name)
        names = UNKNOWN_EVENT_NAMES[spec.taxonomy_source]
        vals = pa.array([names[i] for i in rng.integers(0, len(names), len(rows))], pa.string())
        table = _replace_rows(table, spec.event_col, rows, vals)
        counts["unknown_event_name"] = len(rows)

    if spec.time_cols:
        event = table[spec.time_cols[0]].to_numpy().copy()
        loaded = table["__loaded_us"].to_numpy().copy()
        rows = pick.take(rates.future_timestamp)
        # the earliest event-time column of the row lands 1-30 days after _loaded_at
        earliest = np.min(np.column_stack([table[c].to_numpy()[rows] for c in spec.time_cols]),
                          axis=1)
        new_event = loaded[rows] + (rng.uniform(1, 30, len(rows)) * US_PER_DAY).astype(np.int64)
        delta = new_event - earliest
        for col in spec.time_cols:
            vals = table[col].to_numpy().copy()
            vals[rows] += delta
            table = _set_int(table, col, vals)
        counts["future_timestamp"] = len(rows)

        rows = pick.take(rates.late_arriving)
        loaded[rows] = event[rows] + (rng.uniform(2, 10, len(rows)) * US_PER_DAY).astype(np.int64)
        table = _set_int(table, "__loaded_us", loaded)
        counts["late_arriving"] = len(rows)

    rows = pick.take(rates.duplicate)
    if len(rows):
        table = pa.concat_tables([table, table.take(pa.array(rows))])
    counts["duplicate"] = len(rows)
    return table, counts
