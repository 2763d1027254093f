"""docs/own_source_example.md: the worked example works as written.

The build command is taken from that page itself (so the page cannot drift from what
is tested), run on examples/my_shop, and the figures the page states are checked on
the published file: 5 persons, who they are, 3 buyers, the reconciliation. A declaration
with a wrong column fails before any model runs with the message the page shows.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from lifecycle_warehouse.pipeline.project import PROJECT_ROOT

EXAMPLE_PAGE = PROJECT_ROOT / "docs" / "own_source_example.md"
EXAMPLE = PROJECT_ROOT / "examples" / "my_shop"


def _documented_build_command() -> list[str]:
    """The `lw build --sources examples/my_shop/…` command of the example page, as arguments."""
    text = EXAMPLE_PAGE.read_text()
    match = re.search(r"\.venv/bin/lw build --sources examples/my_shop/sources\.yml[^`]*?"
                      r"--as-of-date \d{4}-\d{2}-\d{2}", text, re.S)
    assert match, f"{EXAMPLE_PAGE} lost its worked-example build command"
    return shlex.split(match.group(0).replace("\\\n", " "))[1:]  # without .venv/bin/lw


def _env(root: Path) -> dict[str, str]:
    return {**os.environ, "LW_GX_DOCS_DIR": str(root / "gx"),
            "LW_DUCKDB_TEMP_DIR": str(root / "tmp"), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("my_shop")
    args = _documented_build_command()
    assert args[:3] == ["build", "--sources", "examples/my_shop/sources.yml"]
    # the page's paths, moved into the test's directory
    database, serving = root / "my_shop.duckdb", root / "serving" / "my_shop.duckdb"
    args[args.index("--database") + 1] = str(database)
    args[args.index("--serving") + 1] = str(serving)
    result = subprocess.run([sys.executable, "-m", "lifecycle_warehouse.cli", *args],
                            capture_output=True, text=True, cwd=PROJECT_ROOT,
                            env=_env(root), timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    with duckdb.connect(str(serving), read_only=True) as con:
        yield {"serving": con, "database": database, "stdout": result.stdout}


def test_the_readme_figures_hold(built):
    con = built["serving"]
    assert con.execute("select count(*) from marts.dim_customers").fetchone()[0] == 5
    assert con.execute("select count(*) from marts.fct_rfm").fetchone()[0] == 3
    stages = dict(con.execute(
        "select lifecycle_stage, count(*) from marts.fct_customer_lifecycle group by 1"
    ).fetchall())
    assert sum(stages.values()) == 5 and stages["prospect"] == 1
    published = {row[0] for row in con.execute("select table_name from meta.published_tables")
                 .fetchall()}
    assert len(published & {
        "dim_customers", "fct_customer_lifecycle", "fct_lifecycle_history",
        "fct_lifecycle_transitions", "fct_growth_accounting", "fct_customer_value", "fct_rfm",
        "fct_customer_triggers", "agg_segment_summary"}) == 9


def test_persons_are_stitched_across_the_three_files(built):
    with duckdb.connect(str(built["database"]), read_only=True) as con:
        persons = con.execute("""
            select list(identifier order by identifier) from identity.int_identity__person_map
            where identifier not like 'email:%' and identifier not like 'phone:%'
            group by person_id order by 1
        """).fetchall()
        orders = dict(con.execute("""
            select order_id, struct_pack(person := person_map.identifier, status := order_status,
                                         net := cast(net_revenue as varchar))
            from intermediate.int_orders
            left join identity.int_identity__person_map as person_map
                on int_orders.person_id = person_map.person_id
                and person_map.identifier like 'shop_customer:%'
        """).fetchall())
    assert [p[0] for p in persons] == [
        ["shop_customer:1001", "visitor:a-1"],  # Ana: her visitor id logged in as her
        ["shop_customer:1002", "visitor:a-2"],  # Ben
        ["shop_customer:1003"],                 # Chloe
        ["shop_customer:1004"],                 # Dan: known from the customer list only
        ["visitor:a-9"],                        # an anonymous visitor
    ]
    # Chloe's guest order (no customer id) is hers through its email
    assert orders["5006"]["person"] == "shop_customer:1003"
    # Ben: the refunded order nets 0, the cancelled one counts nothing
    assert orders["5004"]["net"] == "0.00" and orders["5004"]["status"] == "paid"
    assert orders["5007"]["status"] == "cancelled" and orders["5007"]["net"] == "0.00"


def test_every_file_is_reconciled(built):
    with duckdb.connect(str(built["database"]), read_only=True) as con:
        rows = con.execute("select source, raw_rows, staged_rows, quarantined_rows, "
                           "duplicate_rows from staging.stg_landing__row_counts order by 1"
                           ).fetchall()
    assert rows == [("shop_customers", 5, 4, 0, 1), ("shop_orders", 8, 8, 0, 0),
                    ("shop_web", 8, 7, 0, 1)]


def test_a_wrong_column_fails_before_any_model_runs(tmp_path):
    for name in ("orders.csv", "customers.csv", "events.jsonl"):
        shutil.copy(EXAMPLE / name, tmp_path / name)
    declaration = tmp_path / "sources.yml"
    declaration.write_text((EXAMPLE / "sources.yml").read_text().replace(
        "{column: ordered_at, format", "{column: order_date, format"))
    database = tmp_path / "never.duckdb"
    result = subprocess.run(
        [sys.executable, "-m", "lifecycle_warehouse.cli", "build", "--sources",
         str(declaration), "--database", str(database), "--serving", str(tmp_path / "s.duckdb")],
        capture_output=True, text=True, cwd=PROJECT_ROOT, env=_env(tmp_path), timeout=120)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"lw build failed: {declaration}: source 'shop_orders': column 'order_date' "
        f"(columns.ordered_at) is not in {tmp_path / 'orders.csv'}; its columns are: order_id, "
        "customer_id, email, ordered_at, sku, quantity, unit_price, currency, status, refunded. "
        "Fix: set columns.ordered_at.column to one of them.")
    assert not database.exists()
