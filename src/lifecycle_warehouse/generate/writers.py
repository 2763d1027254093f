"""Writers: canonical chunk tables -> landing files in the contract formats.

Canonical tables carry UTC epoch-microsecond columns (``__event_us``,
``__loaded_us``, ...) so that defects can move times around; the writer renders them
at the end: parquet timestamps (UTC, no time zone), epoch milliseconds, ISO-8601
strings in UTC (``2025-03-01T12:34:56.789Z``), with the country's UTC offset
(orders), or store-local wall-clock time (POS, via the store's IANA time zone).
Builders emit rows in ``_loaded_at`` order (a loader appends in arrival order);
defect rows keep their position and duplicates sit at the end of the file. Parquet
goes through pyarrow (zstd, 1M-row row groups), CSV through DuckDB ``COPY`` from
the Arrow table, and JSON lines through Arrow string concatenation (all messaging
values are plain ASCII needing no escaping; if that ever fails the check, DuckDB
``COPY (FORMAT json)`` is used instead - it is ~3x slower).
"""

from __future__ import annotations

import logging
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from .config import GeneratorConfig, SeedData
from .ids import format_timestamps

log = logging.getLogger(__name__)

ROW_GROUP = 1_000_000
ISO_MS = "%Y-%m-%dT%H:%M:%S.%gZ"


def _ts(us: np.ndarray) -> pa.Array:
    return pa.array(us.astype("datetime64[us]"))


def _col(t: pa.Table, name: str) -> np.ndarray:
    return t[name].to_numpy()


def _local(us: np.ndarray, tz_idx: np.ndarray, zones: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """UTC microseconds -> (local wall-clock microseconds, UTC offset in minutes)."""
    local = us.copy()
    for i, zone in enumerate(zones):
        m = tz_idx == i
        if m.any():
            idx = pd.DatetimeIndex(us[m].astype("datetime64[us]")).tz_localize("UTC")
            local[m] = idx.tz_convert(zone).tz_localize(None).asi8
    return local, (local - us) // 60_000_000


def _json_safe(arr: pa.Array) -> bool:
    """True if every value can be embedded in a JSON string without escaping."""
    if arr.null_count:
        return False
    bad = pc.match_substring_regex(arr, r'["\\\x00-\x1f\x7f-\x{10FFFF}]')
    return not pc.any(bad).as_py()


def write_jsonl(path: Path, fields: list[tuple[str, pa.Array]],
                slice_rows: int = 1_000_000) -> None:
    """Write JSON lines of string fields by Arrow string concatenation.

    Only for values that need no escaping (checked by :func:`_json_safe`); the
    concatenated Arrow buffer of each slice is exactly the bytes of its lines.
    """
    n = len(fields[0][1]) if fields else 0
    with path.open("wb") as fh:
        for lo in range(0, n, slice_rows):
            parts: list[pa.Array | str] = []
            for i, (key, arr) in enumerate(fields):
                parts.append(f'{{"{key}":"' if i == 0 else f'","{key}":"')
                parts.append(arr.slice(lo, slice_rows))
            parts.append('"}\n')
            lines = pc.binary_join_element_wise(*parts, "")
            offsets = np.frombuffer(lines.buffers()[1], dtype=np.int32,
                                    count=len(lines) + 1, offset=lines.offset * 4)
            data = lines.buffers()[2]
            fh.write(memoryview(data)[offsets[0]:offsets[-1]])


def _offset_strings(minutes: np.ndarray) -> pa.Array:
    uniq, inv = np.unique(minutes, return_inverse=True)
    vocab = [f"{'+' if m >= 0 else '-'}{abs(m) // 60:02d}:{abs(m) % 60:02d}" for m in uniq]
    return pa.array(vocab, pa.string()).take(pa.array(inv))


class LandingWriter:
    """Writes one chunk's tables; returns ``{relative file name: rows}``."""

    def __init__(self, out_dir: Path, cfg: GeneratorConfig, seeds: SeedData) -> None:
        self.out = out_dir
        self.cfg = cfg
        self.seeds = seeds
        self.con = duckdb.connect()
        self.con.execute("SET preserve_insertion_order = true")

    def close(self) -> None:
        self.con.close()

    def write(self, source: str, chunk: int, table: pa.Table) -> dict[str, int]:
        folder = self.out / source
        folder.mkdir(parents=True, exist_ok=True)
        return getattr(self, f"_{source}")(folder, f"part-{chunk:05d}", table)

    # parquet -------------------------------------------------------------------------
    def _parquet(self, folder: Path, name: str, table: pa.Table) -> dict[str, int]:
        pq.write_table(table, folder / name, compression="zstd", row_group_size=ROW_GROUP)
        return {f"{folder.name}/{name}": table.num_rows}

    def _web_events(self, folder: Path, stem: str, t: pa.Table) -> dict[str, int]:
        loaded = _col(t, "__loaded_us")
        out = pa.table({
            "event_id": t["event_id"], "cookie_id": t["cookie_id"], "user_id": t["user_id"],
            "event_type": t["event_type"], "event_ts": _ts(_col(t, "__event_us")),
            "page_url": t["page_url"], "product_id": t["product_id"],
            "device_type": t["device_type"], "browser": t["browser"],
            "utm_source": t["utm_source"], "utm_medium": t["utm_medium"],
            "utm_campaign": t["utm_campaign"], "_loaded_at": _ts(loaded),
        })
        if not self.cfg.defects.extra_column:
            return self._parquet(folder, f"{stem}.parquet", out)
        drift = loaded >= self.cfg.midpoint_us
        files = self._parquet(folder, f"{stem}.parquet", out.filter(pa.array(~drift)))
        if drift.any():
            d = out.filter(pa.array(drift)).append_column(
                "experiment_variant", t["__variant"].filter(pa.array(drift)))
            files.update(self._parquet(folder, f"{stem}-drift.parquet", d))
        return files

    def _app_events(self, folder: Path, stem: str, t: pa.Table) -> dict[str, int]:
        out = pa.table({
            "event_id": t["event_id"], "device_id": t["device_id"], "user_id": t["user_id"],
            "event_name": t["event_name"],
            "event_ts_ms": pa.array(_col(t, "__event_us") // 1000),
            "platform": t["platform"], "app_version": t["app_version"],
            "_loaded_at": _ts(_col(t, "__loaded_us")),
        })
        return self._parquet(folder, f"{stem}.parquet", out)

    # DuckDB COPY ---------------------------------------------------------------------
    def _copy(self, table: pa.Table, select: str, path: Path, options: str) -> None:
        self.con.register("src", table)
        try:
            self.con.execute(f"COPY (SELECT {select} FROM src) TO '{path}' ({options})")
        finally:
            self.con.unregister("src")

    def _messaging_webhooks(self, folder: Path, stem: str, t: pa.Table) -> dict[str, int]:
        path = folder / f"{stem}.jsonl"
        fields = [(k, t[k].combine_chunks()) for k in
                  ("webhook_id", "message_id", "channel", "event", "recipient", "campaign_id")]
        fields += [("occurred_at", format_timestamps(_col(t, "__event_us"))),
                   ("_loaded_at", format_timestamps(_col(t, "__loaded_us")))]
        if all(_json_safe(a) for _, a in fields):
            write_jsonl(path, fields)
            return {f"{folder.name}/{path.name}": t.num_rows}
        log.debug("messaging values need JSON escaping; writing through DuckDB")
        src = t.drop_columns(["__event_us", "__loaded_us"]).append_column(
            "occurred", _ts(_col(t, "__event_us"))).append_column(
            "loaded", _ts(_col(t, "__loaded_us")))
        select = (f"webhook_id, message_id, channel, event, recipient, campaign_id, "
                  f"strftime(occurred, '{ISO_MS}') AS occurred_at, "
                  f"strftime(loaded, '{ISO_MS}') AS _loaded_at")
        self._copy(src, select, path, "FORMAT json")
        return {f"{folder.name}/{path.name}": t.num_rows}

    def _store_pos(self, folder: Path, stem: str, t: pa.Table) -> dict[str, int]:
        zones = [s.timezone for s in self.seeds.stores]
        local, _ = _local(_col(t, "__event_us"), _col(t, "__tz"), zones)
        src = t.append_column("local_ts", _ts(local)).append_column(
            "loaded", _ts(_col(t, "__loaded_us")))
        select = ("transaction_id, line_number, store_id, "
                  "strftime(local_ts, '%Y-%m-%d %H:%M:%S') AS transaction_local_time, "
                  "loyalty_card, phone, sku, quantity, "
                  "(__unit_price_cents / 100)::DECIMAL(12, 2) AS unit_price, currency, "
                  f"is_return, strftime(loaded, '{ISO_MS}') AS _loaded_at")
        path = folder / f"{stem}.csv"
        self._copy(src, select, path, "FORMAT csv, HEADER")
        return {f"{folder.name}/{path.name}": t.num_rows}

    def _online_orders(self, folder: Path, stem: str, t: pa.Table) -> dict[str, int]:
        zones = [c.timezone for c in self.seeds.countries]
        tz = _col(t, "__tz")
        o_local, o_off = _local(_col(t, "__ordered_us"), tz, zones)
        u_local, u_off = _local(_col(t, "__event_us"), tz, zones)
        src = t.append_column("o_local", _ts(o_local)).append_column(
            "o_off", _offset_strings(o_off)).append_column(
            "u_local", _ts(u_local)).append_column(
            "u_off", _offset_strings(u_off)).append_column(
            "loaded", _ts(_col(t, "__loaded_us")))
        select = ("order_id, user_id, customer_email, order_status, currency, "
                  "(__total_cents / 100)::DECIMAL(14, 2) AS order_total, "
                  "(__refund_cents / 100)::DECIMAL(14, 2) AS refund_amount, item_count, "
                  "strftime(o_local, '%Y-%m-%dT%H:%M:%S') || o_off AS ordered_at, "
                  "strftime(u_local, '%Y-%m-%dT%H:%M:%S') || u_off AS updated_at, "
                  f"strftime(loaded, '{ISO_MS}') AS _loaded_at")
        path = folder / f"{stem}.csv"
        self._copy(src, select, path, "FORMAT csv, HEADER")
        return {f"{folder.name}/{path.name}": t.num_rows}

    def _crm_customers(self, folder: Path, stem: str, t: pa.Table) -> dict[str, int]:
        src = t.append_column("updated", _ts(_col(t, "__updated_us"))).append_column(
            "loaded", _ts(_col(t, "__loaded_us")))
        select = ("customer_id, email, phone, first_name, country, signup_date, "
                  "consent_email, consent_sms, consent_push, consent_whatsapp, "
                  "account_closed, referred_by, "
                  f"strftime(updated, '{ISO_MS}') AS updated_at, "
                  f"strftime(loaded, '{ISO_MS}') AS _loaded_at")
        path = folder / f"{stem}.csv"
        self._copy(src, select, path, "FORMAT csv, HEADER")
        return {f"{folder.name}/{path.name}": t.num_rows}
