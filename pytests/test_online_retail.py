"""UCI Online Retail through the generic transactions adapter (sources/online_retail.yml).

The real 541,909-line file (`../shared/data/online_retail.csv.gz`, see its SOURCE file)
is built with `lw build --sources`, as of its last day, and checked against pandas reading
the same file: every line reconciled (staged + quarantined + duplicates), one person per
CustomerID, lines without a customer kept, C-invoices counted as money paid back, and
each customer's orders and net revenue equal to the file's. Skipped when ../shared is
not there (it exists in CI, not on a user's machine).
"""

from __future__ import annotations

import os
import subprocess
import sys
from decimal import ROUND_HALF_UP, Decimal

import duckdb
import pandas as pd
import pytest

from lifecycle_warehouse.pipeline.project import PROJECT_ROOT

DATA = PROJECT_ROOT.parent / "shared" / "data" / "online_retail.csv.gz"
AS_OF = "2011-12-09"
GBP_TO_USD = Decimal("1.270000")  # seeds/fx_rates.csv; the base currency is USD

pytestmark = pytest.mark.skipif(
    not DATA.is_file(), reason=f"{DATA} is not there (../shared exists in CI only)")


@pytest.fixture(scope="module")
def lines() -> pd.DataFrame:
    """The file as pandas reads it, every value as text."""
    return pd.read_csv(DATA, dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("online_retail")
    env = {**os.environ, "LW_ONLINE_RETAIL_PATH": str(DATA),
           "LW_GX_DOCS_DIR": str(root / "gx"), "LW_DUCKDB_TEMP_DIR": str(root / "tmp")}
    result = subprocess.run(
        [sys.executable, "-m", "lifecycle_warehouse.cli", "build",
         "--sources", str(PROJECT_ROOT / "sources" / "online_retail.yml"),
         "--database", str(root / "build.duckdb"), "--serving", str(root / "serving.duckdb"),
         "--as-of-date", AS_OF],
        capture_output=True, text=True, cwd=PROJECT_ROOT, env=env, timeout=900)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    with duckdb.connect(str(root / "build.duckdb"), read_only=True) as con:
        yield {"con": con, "serving": root / "serving.duckdb", "stdout": result.stdout}


def _money(quantity: str, price: str) -> Decimal:
    """A line in the base currency as the adapter converts it: rounded per line."""
    local = Decimal(quantity) * Decimal(price)
    return (local * GBP_TO_USD).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def test_every_line_is_reconciled(built, lines):
    (row,) = built["con"].execute(
        "select raw_rows, staged_rows, quarantined_rows, duplicate_rows "
        "from staging.stg_landing__row_counts where source = 'online_retail'").fetchall()
    exact_copies = int(lines.duplicated().sum())
    negative_prices = int((lines["UnitPrice"].astype(float) < 0).sum())
    assert row == (541_909, 541_909 - exact_copies - negative_prices, negative_prices,
                   exact_copies) == (541_909, 536_639, 2, 5_268)
    reasons = built["con"].execute(
        "select reject_reason, count(*) from staging.stg_landing__quarantined_rows "
        "group by 1").fetchall()
    assert reasons == [("negative_amount", 2)]  # the two "Adjust bad debt" lines


def test_lines_without_a_customer_are_kept(built, lines):
    distinct = lines.drop_duplicates()
    distinct = distinct[distinct["UnitPrice"].astype(float) >= 0]
    anonymous = int((distinct["CustomerID"] == "").sum())
    staged = built["con"].execute(
        "select count(*) from staging.stg_transactions__lines where customer_id is null"
    ).fetchone()[0]
    assert staged == anonymous > 100_000
    # their orders count in revenue without a person
    without_person = built["con"].execute(
        "select count(*) from intermediate.int_orders where person_id is null").fetchone()[0]
    assert without_person > 0


def test_every_mart_is_published(built):
    with duckdb.connect(str(built["serving"]), read_only=True) as con:
        counts = dict(con.execute("select table_name, row_count from meta.published_tables")
                      .fetchall())
    for mart in ("dim_customers", "fct_customer_lifecycle", "fct_lifecycle_history",
                 "fct_lifecycle_transitions", "fct_growth_accounting", "fct_customer_value",
                 "fct_rfm", "fct_customer_triggers", "agg_segment_summary"):
        assert counts.get(mart, 0) > 0, mart
    assert counts["dim_customers"] == 4_372  # distinct CustomerIDs of the file


def test_orders_and_net_revenue_per_customer_equal_the_file(built, lines):
    distinct = lines.drop_duplicates()
    distinct = distinct[(distinct["UnitPrice"].astype(float) >= 0)
                        & (distinct["CustomerID"] != "")].copy()
    distinct["money"] = [_money(q, p) for q, p in zip(distinct["Quantity"],
                                                      distinct["UnitPrice"], strict=True)]
    distinct["is_cancellation"] = distinct["InvoiceNo"].str.startswith("C")
    # a cancellation line pays money back whatever its sign
    distinct.loc[distinct["is_cancellation"], "money"] = [
        -abs(m) for m in distinct.loc[distinct["is_cancellation"], "money"]]
    expected_net = distinct.groupby("CustomerID")["money"].sum()
    expected_orders = (distinct[~distinct["is_cancellation"]]
                       .groupby("CustomerID")["InvoiceNo"].nunique())
    value = built["con"].execute("""
        select substr(person_map.identifier, length('uci_customer:') + 1) as customer_id,
               cast(value.net_revenue as varchar) as net_revenue, value.order_count
        from marts.fct_customer_value as value
        inner join identity.int_identity__person_map as person_map
            on value.person_id = person_map.person_id
    """).df().set_index("customer_id").sort_index()
    assert len(value) == len(expected_net) == 4_372
    assert (value["net_revenue"].map(Decimal) == expected_net.sort_index()).all()
    buyers = value[value["order_count"] > 0]
    assert len(buyers) == len(expected_orders) == 4_339
    assert (buyers["order_count"] == expected_orders.sort_index()).all()
    rfm_buyers = built["con"].execute("select count(*) from marts.fct_rfm").fetchone()[0]
    assert rfm_buyers == 4_339
