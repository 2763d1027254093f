"""Online orders and store POS transactions.

Online orders come from converting web/app sessions: the order is placed 30 s-10 min
after the session's ``checkout_start``. Logged-in registered persons order with their
user id; everybody else (and ~10 % of registered persons by choice) checks out as a
guest with only an e-mail, typed with random case/spaces. A few guest orders carry the
placeholder e-mails of ``seeds/identity_exclusions.csv`` (over-merge trap). Order
value is log-normal (median ~55 in base currency) converted with ``seeds/fx_rates.csv``
to the country currency. The file holds each order's *latest* state: ~5 % cancelled,
~4 % refunded (30 % of them partially), otherwise placed -> paid (1-10 min) ->
shipped (6-30 h) as far as the range end allows. ``ordered_at``/``updated_at`` carry
the real UTC offset of the customer's country (DST aware). ``updated_at`` is at most
36 h after ``ordered_at``; the row's event time for loading is ``updated_at``.

Store visits become POS transactions in the person's home store (85 %) or another
store of their country, 1-5 line items at catalogue prices (store currency, ``.99``
endings, whole yuan in CNY), ~3 % return lines (negative quantity). Card holders
present their loyalty card ~80 % of the time (staff sometimes scan the demo card
instead); otherwise staff type the customer's phone in a random human format (or the
placeholder ``+10000000000``). Times are store-local (converted from UTC at write).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from .catalog import Catalog
from .config import GeneratorConfig, SeedData
from .contact import random_formats, typed_emails
from .events import IdTables, loaded_after
from .ids import arrow_strings, digit_ids, scramble_number, take_strings
from .persons import REGISTERED, Persons
from .timeline import US_PER_S, Sessions

ORDER_STATUSES = ("placed", "paid", "shipped", "cancelled", "refunded")
PLACED, PAID, SHIPPED, CANCELLED, REFUNDED = range(5)
MINUTE = 60 * US_PER_S
HOUR = 60 * MINUTE


def _cents(x: np.ndarray) -> np.ndarray:
    return np.round(x * 100).astype(np.int64)


def build_orders(rng: np.random.Generator, cfg: GeneratorConfig, seeds: SeedData,
                 p: Persons, s: Sessions, conv: np.ndarray, checkout_us: np.ndarray,
                 ids: IdTables, first_order: int,
                 cancellable: bool = True) -> tuple[pa.Table, dict[str, int]]:
    """Orders of converting sessions ``conv`` (global session indices).

    ``cancellable=False`` (the planted campaign orders) keeps an order that would have
    been cancelled in the status it reached instead, so every such order counts
    (``is_order``); the random draws are the same either way.
    """
    b = cfg.behaviour
    n = len(conv)
    person = s.person[conv]
    ordered = np.minimum(checkout_us + (rng.uniform(30, 600, n) * US_PER_S).astype(np.int64),
                         cfg.end_us - 1)
    guest = s.guest_checkout[conv] | (p.kind[person] != REGISTERED)

    email = typed_emails(rng, p.email[person])
    trap = np.zeros(n, dtype=bool)
    if cfg.traps:
        trap = guest & (rng.random(n) < b.exclusion_email_share)
        test_emails = np.array(seeds.exclusions.get("email", ()), dtype=email.dtype)
        if len(test_emails):
            email[trap] = test_emails[rng.integers(0, len(test_emails), trap.sum())]

    currencies = [c.currency for c in seeds.countries]
    cur_idx = p.country[person]
    fx = np.array([seeds.fx_to_base[c] for c in currencies])[cur_idx]
    base_total = np.clip(rng.lognormal(np.log(55.0), 0.75, n), 5.0, 2_500.0)
    total = _cents(base_total / fx)
    item_count = np.minimum(1 + rng.poisson(base_total / 60.0), 25)

    u = rng.random(n)
    paid_at = ordered + (rng.uniform(1, 10, n) * MINUTE).astype(np.int64)
    shipped_at = ordered + (rng.uniform(6, 30, n) * HOUR).astype(np.int64)
    cancelled_at = ordered + (rng.uniform(10 / 60, 12, n) * HOUR).astype(np.int64)
    refunded_at = ordered + (rng.uniform(12, 36, n) * HOUR).astype(np.int64)
    end = cfg.end_us
    status = np.where(shipped_at <= end, SHIPPED, np.where(paid_at <= end, PAID, PLACED))
    status = np.where(u < 0.02, PLACED, status)  # payment pending
    if cancellable:
        status = np.where((u >= 0.02) & (u < 0.07) & (cancelled_at <= end), CANCELLED, status)
    status = np.where((u >= 0.07) & (u < 0.11) & (refunded_at <= end), REFUNDED, status)
    updated = np.select([status == PAID, status == SHIPPED, status == CANCELLED,
                         status == REFUNDED], [paid_at, shipped_at, cancelled_at, refunded_at],
                        ordered)
    partial = rng.random(n) < 0.3
    refund = np.where(status == REFUNDED,
                      np.where(partial, _cents(total / 100 * rng.uniform(0.1, 0.9, n)), total), 0)

    number = scramble_number(first_order + np.arange(n), 10**10, 1_234_567_891, 987_654_321)
    table = pa.table({
        "order_id": digit_ids("O", number, 10),
        "user_id": ids.users.take(pa.array(person, mask=guest)),
        "customer_email": arrow_strings(email),
        "order_status": take_strings(list(ORDER_STATUSES), status),
        "currency": take_strings(currencies, cur_idx),
        "__total_cents": total,
        "__refund_cents": refund,
        "item_count": item_count.astype(np.int64),
        "__ordered_us": ordered,
        "__event_us": updated,
        "__tz": cur_idx.astype(np.int8),
        "__loaded_us": loaded_after(rng, updated),
    })
    table = table.take(pa.array(np.argsort(table["__loaded_us"].to_numpy(), kind="stable")))
    return table, {"orders_with_exclusion_email": int(trap.sum())}


def build_pos(rng: np.random.Generator, cfg: GeneratorConfig, seeds: SeedData, p: Persons,
              s: Sessions, visits: np.ndarray, catalog: Catalog,
              first_txn: int) -> tuple[pa.Table, dict[str, int]]:
    """Line items of the store visits ``visits`` (global session indices)."""
    b = cfg.behaviour
    V = len(visits)
    person = s.person[visits]
    store = s.store[visits].astype(np.int64)

    has_card = p.loyalty[person] & (rng.random(V) < 0.8)
    demo = np.zeros(V, dtype=bool)
    placeholder = np.zeros(V, dtype=bool)
    typed = p.has_phone[person] & (rng.random(V) < np.where(has_card, 0.25, 0.85))
    if cfg.traps:
        demo = p.loyalty[person] & ~has_card & (rng.random(V) < b.demo_card_share)
        placeholder = ~has_card & ~demo & ~typed & (rng.random(V) < b.placeholder_phone_share)
    card_no = p.pid[person] + 1
    card = digit_ids("LC", np.where(demo, 0, card_no), 10)
    phone = np.empty(V, dtype=np.dtypes.StringDType())
    phone[typed] = p.phones.render(person[typed], random_formats(rng, int(typed.sum())))
    phone[placeholder] = seeds.exclusions.get("phone", ("+10000000000",))[0]

    n_lines = rng.choice(np.arange(1, 6), size=V, p=[0.4, 0.25, 0.15, 0.12, 0.08])
    txn = np.repeat(np.arange(V), n_lines)
    L = len(txn)
    first = np.ones(L, dtype=bool)
    first[1:] = txn[1:] != txn[:-1]
    line_no = np.arange(L) - np.maximum.accumulate(np.where(first, np.arange(L), 0)) + 1

    currencies = [st.currency for st in seeds.stores]
    fx = np.array([seeds.fx_to_base[c] for c in currencies])[store[txn]]
    prod = catalog.sample(rng, L)
    local_price = catalog.base_price[prod] / fx
    is_cny = np.array([c == "CNY" for c in currencies])[store[txn]]
    cents = np.where(is_cny, np.maximum(np.round(local_price), 1) * 100,
                     np.floor(local_price) * 100 + 99).astype(np.int64)
    qty = rng.choice([1, 2, 3], size=L, p=[0.8, 0.15, 0.05])
    is_return = rng.random(L) < 0.03
    qty = np.where(is_return, -qty, qty)

    start = s.start_us[visits]
    loaded = loaded_after(rng, start)
    number = scramble_number(first_txn + np.arange(V), 10**10, 2_718_281_829, 314_159_265)
    txn_ids = digit_ids("T", number, 10)
    store_ids = pa.array([st.store_id for st in seeds.stores], pa.string())
    table = pa.table({
        "transaction_id": txn_ids.take(pa.array(txn)),
        "line_number": line_no.astype(np.int64),
        "store_id": store_ids.take(pa.array(store[txn])),
        "__event_us": start[txn],
        "__tz": store[txn].astype(np.int8),
        "loyalty_card": card.take(pa.array(txn, mask=~(has_card | demo)[txn])),
        "phone": arrow_strings(phone, ~(typed | placeholder)).take(pa.array(txn)),
        "sku": catalog.ids.take(pa.array(prod)),
        "quantity": qty.astype(np.int64),
        "__unit_price_cents": cents,
        "currency": take_strings(currencies, store[txn]),
        "is_return": is_return,
        "__loaded_us": loaded[txn],
    })
    table = table.take(pa.array(np.argsort(loaded[txn], kind="stable")))
    stats = {"pos_rows_with_demo_card": int(demo[txn].sum()),
             "pos_rows_with_placeholder_phone": int(placeholder[txn].sum())}
    return table, stats
