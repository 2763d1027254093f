"""CDNOW: `lw build --source cdnow` checked against the lifetimes reference.

The real CDNOW transactions (shipped inside the lifetimes wheel) are built into their
own DuckDB file; the value mart must reproduce `summary_data_from_transaction_data`
(freq='D', observation end 1998-06-30) for every one of the 23,570 customers, RFM must
follow the SPEC rule exactly, and the segment distribution must be what this cohort
data set implies. The synthetic build's database must not be touched.
"""

from __future__ import annotations

import hashlib
import math
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from lifecycle_warehouse.pipeline.project import PROJECT_ROOT
from lifecycle_warehouse.pipeline.runner import CDNOW_AS_OF_DATE, cdnow_database

LW = [sys.executable, "-m", "lifecycle_warehouse.cli"]
SEGMENTS = (
    "champions", "loyal", "potential_loyalist", "new_customers", "promising",
    "need_attention", "about_to_sleep", "at_risk", "cannot_lose_them", "hibernating",
)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def cdnow_file() -> Path:
    lifetimes = pytest.importorskip("lifetimes")
    return Path(lifetimes.__file__).parent / "datasets" / "CDNOW_master.txt"


@pytest.fixture(scope="module")
def transactions(cdnow_file) -> pd.DataFrame:
    """The file as lifetimes users read it, ids kept as written."""
    df = pd.read_csv(cdnow_file, sep=r"\s+", dtype={"customer_id": str, "date": str,
                                                   "dollar_value": str})
    df["amount"] = df["dollar_value"].astype(float)
    df["date"] = pd.to_datetime(df["date"], format="%Y%m%d")
    return df


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("cdnow")
    synthetic, database = root / "synthetic.duckdb", root / "cdnow.duckdb"
    # Stand-in for the synthetic build the environment points at: it must survive as is.
    with duckdb.connect(str(synthetic)) as con:
        con.execute("create table sentinel as select 42 as answer")
    synthetic_hash = _sha256(synthetic)
    env = {key: value for key, value in os.environ.items() if key != "LW_CDNOW_PATH"}
    env.update({
        "LW_DUCKDB_PATH": str(synthetic),
        "LW_CDNOW_DUCKDB_PATH": str(database),
        "LW_CDNOW_SERVING_PATH": str(root / "serving" / "cdnow.duckdb"),
        "LW_GX_DOCS_DIR": str(root / "gx_docs"),
        "LW_DUCKDB_TEMP_DIR": str(root / "tmp"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    })
    result = subprocess.run([*LW, "build", "--source", "cdnow"], capture_output=True,
                            text=True, cwd=PROJECT_ROOT, env=env, timeout=900)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    con = duckdb.connect(str(database), read_only=True)
    yield {"con": con, "stdout": result.stdout, "database": database, "synthetic": synthetic,
           "synthetic_hash": synthetic_hash, "serving": root / "serving" / "cdnow.duckdb"}
    con.close()


def _df(built, sql: str) -> pd.DataFrame:
    return built["con"].execute(sql).df()


@pytest.fixture(scope="module")
def customer_of_person(built) -> pd.DataFrame:
    """person_id -> CDNOW customer id, through the orders (not by re-deriving the hash)."""
    return _df(built, """
        select distinct orders.person_id, lines.customer_id
        from intermediate.int_orders as orders
        inner join staging.stg_transactions__lines as lines
            on orders.order_key = lines.line_key
    """)


def test_cdnow_build_has_its_own_database(built):
    assert built["database"].is_file()
    assert _sha256(built["synthetic"]) == built["synthetic_hash"]
    with duckdb.connect(str(built["synthetic"]), read_only=True) as con:
        assert con.execute("select answer from sentinel").fetchall() == [(42,)]
    assert f"Built {built['database']}" in built["stdout"]
    assert "marts.fct_rfm" in built["stdout"] and "hibernating" in built["stdout"]


MARTS = ("dim_customers", "fct_customer_lifecycle", "fct_lifecycle_history",
         "fct_lifecycle_transitions", "fct_growth_accounting", "fct_customer_value", "fct_rfm",
         "fct_customer_triggers", "agg_segment_summary")


def test_cdnow_gets_all_nine_marts_gated_and_published(built):
    """A transactions-only input: every mart, through the gates, published."""
    with duckdb.connect(str(built["serving"]), read_only=True) as con:
        counts = dict(con.execute(
            "select table_name, row_count from meta.published_tables").fetchall())
        as_of = con.execute("select as_of_date from meta.publish_info").fetchone()[0]
    assert set(MARTS) <= set(counts), sorted(counts)
    assert str(as_of) == CDNOW_AS_OF_DATE
    # one person per customer; persons are buyers, so every person has a stage and a value
    assert counts["dim_customers"] == counts["fct_customer_lifecycle"] == 23_570
    assert counts["fct_customer_value"] == counts["fct_rfm"] == 23_570
    assert counts["fct_growth_accounting"] > 0 and counts["fct_lifecycle_transitions"] > 0
    stages = dict(_df(built, "select lifecycle_stage, count(*) as n from "
                             "marts.fct_customer_lifecycle group by 1").values)
    # no profile source: nobody is a prospect (known but never active); most of the
    # 1997 cohort stopped buying long before 1998-06-30
    assert "prospect" not in stages
    assert stages["churned"] / 23_570 > 0.6
    assert "Published" in built["stdout"]


def test_cdnow_reconciles(built):
    rows = built["con"].execute(
        "select source, raw_rows, staged_rows, quarantined_rows, duplicate_rows "
        "from staging.stg_landing__row_counts").fetchall()
    assert rows == [("cdnow", 69_659, 69_659, 0, 0)]


def test_default_cdnow_database_ignores_lw_duckdb_path(monkeypatch, tmp_path):
    monkeypatch.delenv("LW_CDNOW_DUCKDB_PATH", raising=False)
    monkeypatch.setenv("LW_DUCKDB_PATH", str(tmp_path / "synthetic.duckdb"))
    assert cdnow_database() == PROJECT_ROOT / "data" / "build" / "cdnow.duckdb"


def test_staging_reads_every_line(built, transactions):
    rows, customers, amount, first, last = built["con"].execute(
        "select count(*), count(distinct customer_id), sum(amount), min(order_date), "
        "max(order_date) from staging.stg_transactions__lines where source = 'cdnow'"
    ).fetchone()
    assert (rows, customers) == (69_659, 23_570) == (len(transactions),
                                                     transactions["customer_id"].nunique())
    assert amount == sum(Decimal(value) for value in transactions["dollar_value"])
    assert (str(first), str(last)) == ("1997-01-01", "1998-06-30")


def test_value_mart_equals_lifetimes_for_every_customer(built, transactions, customer_of_person):
    from lifetimes.utils import summary_data_from_transaction_data

    reference = summary_data_from_transaction_data(
        transactions, "customer_id", "date", monetary_value_col="amount", freq="D",
        observation_period_end=CDNOW_AS_OF_DATE,
    )
    mart = _df(built, "select person_id, as_of_date, frequency, recency, t, monetary_value "
                      "from marts.fct_customer_value")
    assert (mart["as_of_date"].astype(str) == CDNOW_AS_OF_DATE).all()
    mart = mart.merge(customer_of_person, on="person_id", validate="one_to_one")
    mart = mart.set_index("customer_id").sort_index()
    reference = reference.sort_index()
    assert len(reference) == len(mart) == 23_570
    assert list(mart.index) == list(reference.index)
    for ours, theirs in (("frequency", "frequency"), ("recency", "recency"), ("t", "T")):
        # lifetimes returns floats; they must be whole days equal to ours
        assert (reference[theirs] == reference[theirs].round()).all()
        mismatched = mart[ours].to_numpy() != reference[theirs].astype("int64").to_numpy()
        assert not mismatched.any(), f"{ours}: {mismatched.sum()} customers differ"
    ours, theirs = mart["monetary_value"].to_numpy(), reference["monetary_value"].to_numpy()
    assert np.allclose(ours, theirs, rtol=1e-9, atol=0.0)
    assert ((ours == 0) == (theirs == 0)).all()


def test_rfm_inputs_and_scores_follow_the_rule(built, transactions, customer_of_person):
    rfm = _df(built, "select *, cast(net_revenue as varchar) as net_revenue_text "
                     "from marts.fct_rfm").merge(customer_of_person, on="person_id")
    rfm = rfm.set_index("customer_id").sort_index()
    per_customer = transactions.groupby("customer_id").agg(
        last=("date", "max"), orders=("date", "size"),
        net=("dollar_value", lambda values: sum(Decimal(v) for v in values)))
    assert len(rfm) == len(per_customer) == 23_570
    as_of = pd.Timestamp(CDNOW_AS_OF_DATE)
    assert (rfm["recency_days"] == (as_of - per_customer["last"]).dt.days).all()
    assert (rfm["order_count"] == per_customer["orders"]).all()
    assert (rfm["net_revenue_text"].map(Decimal) == per_customer["net"]).all()

    # SPEC: least(5, 1 + floor(5 * percent_rank)), percent_rank = (min rank - 1) / (n - 1)
    def score(values: pd.Series, best_is_high: bool) -> pd.Series:
        ranks = (values if best_is_high else -values).rank(method="min")
        return ranks.map(lambda rank: min(5, 1 + math.floor(5 * (rank - 1) / (len(values) - 1))))

    assert (rfm["r_score"] == score(rfm["recency_days"].astype(float), False)).all()
    assert (rfm["f_score"] == score(rfm["order_count"].astype(float), True)).all()
    assert (rfm["m_score"] == score(rfm["net_revenue"].astype(float), True)).all()
    expected_cell = (rfm["r_score"].astype(str) + rfm["f_score"].astype(str)
                     + rfm["m_score"].astype(str))
    assert (rfm["rfm_cell"] == expected_cell).all()


def test_rfm_segments_are_what_the_cohort_implies(built):
    rfm = _df(built, "select r_score, f_score, order_count, recency_days, segment "
                     "from marts.fct_rfm")
    shares = rfm["segment"].value_counts(normalize=True)
    # CDNOW is one acquisition cohort: every customer's first purchase is in
    # 1997-01-01..1997-03-25, so a one-order buyer last bought >= 462 days before
    # 1998-06-30. Half the buyers have one order; they tie at f_score 1 (and no
    # buyer gets f_score 2), and none of them is recent enough for r_score 4 or 5.
    one_order = rfm["order_count"] == 1
    assert 0.45 < one_order.mean() < 0.55
    assert ((rfm["f_score"] == 1) == one_order).all()
    assert rfm.loc[one_order, "recency_days"].min() >= 462
    assert rfm.loc[one_order, "r_score"].max() == 3
    # hence the two recent-single-purchase segments (R4-5 F1) are empty here, and
    # every other segment is populated
    assert set(shares.index) == set(SEGMENTS) - {"new_customers", "promising"}
    # recency has few ties: the five R scores are near-quintiles
    r_shares = rfm["r_score"].value_counts(normalize=True)
    assert r_shares.between(0.18, 0.22).all() and len(r_shares) == 5
    # dormant single buyers (R1-2 F1-2) dominate: hibernating is the largest segment;
    # champions (R5 F4-5) a plausible minority
    assert shares.idxmax() == "hibernating"
    assert 0.30 < shares["hibernating"] < 0.45
    assert 0.01 < shares["champions"] < 0.30


def test_clv_predictions_in_the_marts(built):
    """The marts carry int_person_clv_predictions: every CDNOW buyer scored, the same
    numbers as lifecycle_warehouse.clv on the mart's own frequency / recency / T."""
    from lifecycle_warehouse.clv import model as clv

    value = _df(built, "select person_id, frequency, recency, t, monetary_value, p_alive, "
                       "churn_probability, expected_purchases_90d, expected_average_value, "
                       "expected_clv_12m from marts.fct_customer_value order by person_id")
    assert len(value) == 23_570
    assert value[list(clv.PREDICTION_COLUMNS)].notna().all().all()
    expected, _ = clv.predict_persons(value[["person_id", "frequency", "recency", "t",
                                             "monetary_value"]])
    for column in clv.PREDICTION_COLUMNS:
        assert np.allclose(value[column].to_numpy(dtype=float),
                           expected[column].to_numpy(dtype=float), rtol=1e-12), column
    assert (value.loc[value["frequency"] == 0, "p_alive"] == 1).all()
    lifecycle = _df(built, "select person_id, p_alive, churn_probability, "
                           "expected_purchases_90d, expected_clv_12m "
                           "from marts.fct_customer_lifecycle")
    merged = lifecycle.merge(value, on="person_id", suffixes=("", "_value"))
    assert len(merged) == 23_570
    for column in ("p_alive", "churn_probability", "expected_purchases_90d",
                   "expected_clv_12m"):
        assert (merged[column] == merged[f"{column}_value"]).all(), column
