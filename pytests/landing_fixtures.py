"""Hand-made landing files for small, exact tests (docs/landing_contract.md).

Each writer takes a list of partial rows; missing columns get a harmless default so a
test states only what matters to it. Files are written in the real formats (parquet,
JSON lines, CSV) so staging reads them exactly as it reads generated data.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

LOADED = datetime(2025, 6, 30, 23, 0, 0)

WEB_DEFAULTS: dict[str, Any] = {
    "event_id": None, "cookie_id": None, "user_id": None, "event_type": "page_view",
    "event_ts": datetime(2025, 6, 1, 12, 0, 0), "page_url": "/", "product_id": None,
    "device_type": "desktop", "browser": "firefox", "utm_source": None,
    "utm_medium": None, "utm_campaign": None, "_loaded_at": LOADED,
}
WEB_SCHEMA = pa.schema([
    ("event_id", pa.string()), ("cookie_id", pa.string()), ("user_id", pa.string()),
    ("event_type", pa.string()), ("event_ts", pa.timestamp("us")), ("page_url", pa.string()),
    ("product_id", pa.string()), ("device_type", pa.string()), ("browser", pa.string()),
    ("utm_source", pa.string()), ("utm_medium", pa.string()), ("utm_campaign", pa.string()),
    ("_loaded_at", pa.timestamp("us")),
])
APP_DEFAULTS: dict[str, Any] = {
    "event_id": None, "device_id": None, "user_id": None, "event_name": "app_open",
    "event_ts_ms": int(datetime(2025, 6, 1, 12, 0, 0).timestamp() * 1000),
    "platform": "iOS", "app_version": "5.0.0", "_loaded_at": LOADED,
}
APP_SCHEMA = pa.schema([
    ("event_id", pa.string()), ("device_id", pa.string()), ("user_id", pa.string()),
    ("event_name", pa.string()), ("event_ts_ms", pa.int64()), ("platform", pa.string()),
    ("app_version", pa.string()), ("_loaded_at", pa.timestamp("us")),
])
MESSAGING_DEFAULTS: dict[str, Any] = {
    "webhook_id": None, "message_id": "m1", "channel": "email", "event": "send",
    "recipient": None, "campaign_id": "C0001", "occurred_at": "2025-06-01T12:00:00.000Z",
    "_loaded_at": "2025-06-30T23:00:00Z",
}
POS_COLUMNS = [
    "transaction_id", "line_number", "store_id", "transaction_local_time", "loyalty_card",
    "phone", "sku", "quantity", "unit_price", "currency", "is_return", "_loaded_at",
]
POS_DEFAULTS: dict[str, Any] = {
    "transaction_id": None, "line_number": "1", "store_id": "S001",
    "transaction_local_time": "2025-06-01 12:00:00", "loyalty_card": "", "phone": "",
    "sku": "P00001", "quantity": "1", "unit_price": "10.00", "currency": "USD",
    "is_return": "false", "_loaded_at": "2025-06-30T23:00:00Z",
}
ORDER_COLUMNS = [
    "order_id", "user_id", "customer_email", "order_status", "currency", "order_total",
    "refund_amount", "item_count", "ordered_at", "updated_at", "_loaded_at",
]
ORDER_DEFAULTS: dict[str, Any] = {
    "order_id": None, "user_id": "", "customer_email": "", "order_status": "paid",
    "currency": "USD", "order_total": "50.00", "refund_amount": "0", "item_count": "1",
    "ordered_at": "2025-06-01T12:00:00+00:00", "updated_at": "2025-06-01T12:00:00+00:00",
    "_loaded_at": "2025-06-30T23:00:00Z",
}
CRM_COLUMNS = [
    "customer_id", "email", "phone", "first_name", "country", "signup_date", "consent_email",
    "consent_sms", "consent_push", "consent_whatsapp", "account_closed", "referred_by",
    "updated_at", "_loaded_at",
]
CRM_DEFAULTS: dict[str, Any] = {
    "customer_id": None, "email": None, "phone": "", "first_name": "Ann", "country": "US",
    "signup_date": "2025-01-01", "consent_email": "Y", "consent_sms": "", "consent_push": "N",
    "consent_whatsapp": "", "account_closed": "false", "referred_by": "",
    "updated_at": "2025-06-01T00:00:00Z", "_loaded_at": "2025-06-30T23:00:00Z",
}


def _fill(rows: list[dict[str, Any]], defaults: dict[str, Any], prefix: str) -> list[dict]:
    filled = []
    for i, row in enumerate(rows):
        unknown = set(row) - set(defaults)
        if unknown:
            raise KeyError(f"unknown landing column(s) {sorted(unknown)} for {prefix}")
        full = {**defaults, **row}
        first_key = next(iter(defaults))
        if full[first_key] is None:
            full[first_key] = f"{prefix}{i:016x}"
        filled.append(full)
    return filled


def _write_csv(path: Path, columns: list[str], rows: list[dict[str, Any]]) -> None:
    import csv

    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)


def write_landing(
    landing_dir: Path,
    web: list[dict] | None = None,
    app: list[dict] | None = None,
    messaging: list[dict] | None = None,
    pos: list[dict] | None = None,
    orders: list[dict] | None = None,
    crm: list[dict] | None = None,
) -> Path:
    """Writes one file per source (an empty file with the right schema when no rows)."""
    folders = {
        "web_events": "part-00000.parquet", "app_events": "part-00000.parquet",
        "messaging_webhooks": "part-00000.jsonl", "store_pos": "part-00000.csv",
        "online_orders": "part-00000.csv", "crm_customers": "part-00000.csv",
    }
    for folder in folders:
        (landing_dir / folder).mkdir(parents=True, exist_ok=True)
    web_rows = _fill(web or [], WEB_DEFAULTS, "we_")
    pq.write_table(pa.Table.from_pylist(web_rows, schema=WEB_SCHEMA),
                   landing_dir / "web_events" / folders["web_events"])
    app_rows = _fill(app or [], APP_DEFAULTS, "ae_")
    pq.write_table(pa.Table.from_pylist(app_rows, schema=APP_SCHEMA),
                   landing_dir / "app_events" / folders["app_events"])
    msg_rows = _fill(messaging or [], MESSAGING_DEFAULTS, "wh_")
    if not msg_rows:  # read_json needs at least one line to bind columns
        msg_rows = []
    with (landing_dir / "messaging_webhooks" / folders["messaging_webhooks"]).open("w") as fh:
        for row in msg_rows:
            fh.write(json.dumps(row) + "\n")
    _write_csv(landing_dir / "store_pos" / folders["store_pos"], POS_COLUMNS,
               _fill(pos or [], POS_DEFAULTS, "T"))
    _write_csv(landing_dir / "online_orders" / folders["online_orders"], ORDER_COLUMNS,
               _fill(orders or [], ORDER_DEFAULTS, "O"))
    _write_csv(landing_dir / "crm_customers" / folders["crm_customers"], CRM_COLUMNS,
               _fill(crm or [], CRM_DEFAULTS, "U"))
    return landing_dir
