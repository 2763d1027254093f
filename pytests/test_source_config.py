"""`lw build --sources FILE.yml`: loading and checking user-declared transaction sources.

Tiny hand-made files in tmp_path; each failing case asserts the one message the user sees
(source, field/column, fix). No dbt run here.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from lifecycle_warehouse.pipeline.project import PROJECT_ROOT
from lifecycle_warehouse.pipeline.sources import (
    DEFAULT_IDENTIFIER_TYPES,
    SourceConfigError,
    load_declaration,
    preflight,
)

CDNOW_TEXT = """customer_id   date      cd_count  dollar_value
00001   19970101   1    11.77
00002   19970112      1   12.00
00002 19970112 5     77.00
00003   19970102   2    20.76
"""

CDNOW_YAML = """
transaction_sources:
  - name: cdnow
    description: CDNOW sample
    path: "${LW_CDNOW_PATH}"
    format: text
    columns:
      customer_id: {column: customer_id, identifier_type: customer}
      ordered_at: {column: date, format: "%Y%m%d", time_zone: UTC}
      amount: {column: dollar_value}
"""

RETAIL_HEADER = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country"
RETAIL_ROWS = """536365,85123A,HEART T-LIGHT HOLDER,6,12/1/2010 8:26,2.55,17850,United Kingdom
536365,71053,"WHITE METAL LANTERN, LARGE",6,12/1/2010 8:26,3.39,17850,United Kingdom
C536379,D,Discount,-1,12/1/2010 9:41,27.5,14527,United Kingdom
536414,22139,,56,12/1/2010 11:52,0,,United Kingdom
"""

RETAIL_YAML = """
demo_sources: [crm, web]
transaction_sources:
  - name: online_retail
    path: {path}
    format: csv
    options: {{header: true, delimiter: ",", quote: '"'}}
    columns:
      customer_id: {{column: CustomerID, identifier_type: customer}}
      ordered_at: {{column: {date_column}, format: "%m/%d/%Y %H:%M", time_zone: Europe/London}}
      order_id: {{column: InvoiceNo}}
      quantity: {{column: Quantity}}
      unit_price: {{column: UnitPrice}}
      currency: {{value: GBP}}
      product_id: {{column: StockCode}}
    cancellation:
      order_id_prefix: "C"
"""


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def cdnow(tmp_path: Path, yaml_text: str = CDNOW_YAML) -> tuple[Path, dict[str, str]]:
    data = write(tmp_path / "data" / "cdnow.txt", CDNOW_TEXT)
    return write(tmp_path / "sources.yml", yaml_text), {"LW_CDNOW_PATH": str(data)}


def retail(tmp_path: Path, path: str = "retail.csv", date_column: str = "InvoiceDate") -> Path:
    write(tmp_path / "retail.csv", f"{RETAIL_HEADER}\n{RETAIL_ROWS}")
    return write(tmp_path / "sources.yml", RETAIL_YAML.format(path=path, date_column=date_column))


def error_of(path: Path, environ: dict[str, str] | None = None) -> str:
    with pytest.raises(SourceConfigError) as info:
        preflight(path, environ=environ or {})
    return str(info.value)


def test_cdnow_text_source_passes(tmp_path: Path) -> None:
    declaration, environ = cdnow(tmp_path)
    result = preflight(declaration, environ=environ)
    assert result["demo_sources"] == []
    assert result["identifier_types"] == dict(sorted(DEFAULT_IDENTIFIER_TYPES.items()))
    assert result["transaction_sources"] == [
        {
            "name": "cdnow",
            "description": "CDNOW sample",
            "paths": [str((tmp_path / "data" / "cdnow.txt").resolve())],
            "format": "text",
            # every column of the file, in file order: what dbt's reader selects
            "options": {"header": True,
                        "columns": ["customer_id", "date", "cd_count", "dollar_value"]},
            "where": None,
            "columns": {
                "customer_id": {"column": "customer_id", "identifier_type": "customer"},
                "ordered_at": {"column": "date", "format": "%Y%m%d", "time_zone": "UTC"},
                "amount": {"column": "dollar_value"},
            },
            "identifiers": [],
            "cancellation": None,
            "void": None,
        }
    ]
    assert result["event_sources"] == result["profile_sources"] == []
    assert json.loads(json.dumps(result)) == result


def test_online_retail_csv_passes_with_relative_path(tmp_path: Path) -> None:
    result = preflight(retail(tmp_path), environ={})
    assert result["demo_sources"] == ["web", "crm"]
    (source,) = result["transaction_sources"]
    assert source["paths"] == [str((tmp_path / "retail.csv").resolve())]
    assert source["options"] == {
        "header": True, "delimiter": ",", "quote": '"',
        "columns": ["InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate",
                    "UnitPrice", "CustomerID", "Country"],
    }
    assert source["columns"]["currency"] == {"value": "GBP"}
    assert source["columns"]["ordered_at"]["time_zone"] == "Europe/London"
    assert source["cancellation"] == {"order_id_prefix": "C"}
    assert "amount" not in source["columns"]


def test_gzip_compressed_csv_is_read_decompressed(tmp_path: Path) -> None:
    # UCI Online Retail ships as .csv.gz: preflight reads its header decompressed, as
    # DuckDB's reader does by the extension (a raw read saw "no UTF-8 header")
    import gzip

    with gzip.open(tmp_path / "retail.csv.gz", "wt", encoding="utf-8") as handle:
        handle.write(f"{RETAIL_HEADER}\n{RETAIL_ROWS}")
    declaration = write(tmp_path / "sources.yml",
                        RETAIL_YAML.format(path="retail.csv.gz", date_column="InvoiceDate"))
    (source,) = preflight(declaration, environ={})["transaction_sources"]
    assert source["options"]["columns"] == RETAIL_HEADER.split(",")


def test_identifier_types_merge_over_defaults(tmp_path: Path) -> None:
    yaml_text = CDNOW_YAML.replace("identifier_type: customer", "identifier_type: member") + (
        "identifier_types:\n  member: {pattern: '^M[0-9]+$'}\n  email: {hashed: false}\n"
    )
    declaration, environ = cdnow(tmp_path, yaml_text)
    types_ = preflight(declaration, environ=environ)["identifier_types"]
    assert types_["member"] == {
        "normalise": "trim",
        "pattern": "^M[0-9]+$",
        "hashed": False,
        "links_persons": True,
        "max_neighbours_per_type": 10,
    }
    assert types_["email"] == {**DEFAULT_IDENTIFIER_TYPES["email"], "hashed": False}
    assert list(types_) == sorted(types_)


def test_unknown_column_names_source_file_and_real_columns(tmp_path: Path) -> None:
    declaration, environ = cdnow(tmp_path, CDNOW_YAML.replace("dollar_value}", "dollars}"))
    data = (tmp_path / "data" / "cdnow.txt").resolve()
    assert error_of(declaration, environ) == (
        f"source 'cdnow': column 'dollars' (columns.amount) is not in {data}; its columns are: "
        "customer_id, date, cd_count, dollar_value. "
        "Fix: set columns.amount.column to one of them."
    )


def test_unknown_identifier_type(tmp_path: Path) -> None:
    declaration, environ = cdnow(tmp_path, CDNOW_YAML.replace("type: customer", "type: shopper"))
    message = error_of(declaration, environ)
    assert message.startswith(
        "source 'cdnow': columns.customer_id.identifier_type 'shopper' is not a configured "
        "identifier type; configured: cookie, customer, device, email, loyalty_card, phone, user."
    )
    assert "Fix: use one of them, or declare 'shopper' under identifier_types" in message


def test_timestamp_that_does_not_parse(tmp_path: Path) -> None:
    declaration = retail(tmp_path, date_column="Description")
    message = error_of(declaration)
    assert message.startswith(
        "source 'online_retail': column 'Description' (columns.ordered_at) does not parse "
        "with format '%m/%d/%Y %H:%M' in "
    )
    assert "3 of 3 sampled values fail, e.g. 'HEART T-LIGHT HOLDER'" in message
    assert "Fix: set columns.ordered_at.format" in message


def test_wrong_timestamp_format_suggests_one(tmp_path: Path) -> None:
    declaration, environ = cdnow(tmp_path, CDNOW_YAML.replace('"%Y%m%d"', "iso8601"))
    message = error_of(declaration, environ)
    assert "column 'date' (columns.ordered_at) does not parse with format 'iso8601'" in message
    assert "e.g. '19970101', '19970112', '19970102'" in message
    assert "(these values parse with '%Y%m%d')" in message


def test_unknown_file_format_names_allowed_values(tmp_path: Path) -> None:
    declaration, environ = cdnow(tmp_path, CDNOW_YAML.replace("format: text", "format: xlsx"))
    assert error_of(declaration, environ) == (
        "source 'cdnow': transaction_sources[0].format is 'xlsx'; allowed values: "
        "'csv', 'parquet', 'json' or 'text'. Fix: use one of them"
    )


def test_unknown_key(tmp_path: Path) -> None:
    yaml_text = CDNOW_YAML.replace("amount: {column", "amount: {colum")
    declaration, environ = cdnow(tmp_path, yaml_text)
    message = error_of(declaration, environ)
    assert message.startswith(
        "source 'cdnow': unknown key 'colum' in transaction_sources[0].columns.amount; "
        "allowed keys: column, value, expression, true_values. Fix: rename it to 'column'"
    )


def test_unknown_top_level_key(tmp_path: Path) -> None:
    declaration, environ = cdnow(tmp_path, CDNOW_YAML + "demo_source: [web]\nlabel: x\n")
    assert error_of(declaration, environ) == (
        "unknown key 'demo_source' in the top level; allowed keys: identifier_types, "
        "demo_sources, transaction_sources, event_sources, profile_sources, gates. "
        "Fix: rename it to 'demo_sources'"
    )


def test_unset_environment_variable(tmp_path: Path) -> None:
    declaration, _ = cdnow(tmp_path)
    assert error_of(declaration, {}) == (
        "source 'cdnow': transaction_sources[0].path uses ${LW_CDNOW_PATH} but environment "
        "variable LW_CDNOW_PATH is not set. Fix: export LW_CDNOW_PATH=<path to the files>, "
        "or write the path directly"
    )


def test_glob_matching_nothing(tmp_path: Path) -> None:
    declaration = retail(tmp_path, path="exports/*.csv")
    assert error_of(declaration) == (
        "source 'online_retail': transaction_sources[0].path 'exports/*.csv' (resolved to "
        f"{tmp_path.resolve()}/exports/*.csv) matches no file. Fix: correct the path or glob "
        "(relative paths start at the YAML file's directory)"
    )


def test_amount_and_quantity_both_given(tmp_path: Path) -> None:
    yaml_text = CDNOW_YAML + "      quantity: {column: cd_count}\n"
    declaration, environ = cdnow(tmp_path, yaml_text)
    assert error_of(declaration, environ) == (
        "source 'cdnow': transaction_sources[0].columns: give either amount or quantity and "
        "unit_price, not both. Fix: remove columns.amount, or remove columns.quantity and "
        "columns.unit_price"
    )


def test_bad_regex_in_identifier_types(tmp_path: Path) -> None:
    yaml_text = CDNOW_YAML + "identifier_types:\n  user: {pattern: '^U[0-9{8}$'}\n"
    declaration, environ = cdnow(tmp_path, yaml_text)
    message = error_of(declaration, environ)
    assert message.startswith(
        "identifier_types.user.pattern: '^U[0-9{8}$' is not a valid regular expression"
    )
    assert "Fix: correct the regex (RE2 syntax, as DuckDB runs it) or set pattern: null" in message


def test_regex_duckdb_cannot_run_is_refused(tmp_path: Path) -> None:
    """Python's re accepts a lookahead; DuckDB (RE2), where the pattern runs, does not."""
    yaml_text = CDNOW_YAML + "identifier_types:\n  user: {pattern: '^(?=U)U[0-9]{8}$'}\n"
    declaration, environ = cdnow(tmp_path, yaml_text)
    assert "is not a valid regular expression" in error_of(declaration, environ)


def test_event_source_without_a_taxonomy_is_refused(tmp_path: Path) -> None:
    write(tmp_path / "events.jsonl", '{"id": "1", "name": "view", "ts": "2024-01-01T00:00:00Z", '
                                     '"uid": "7"}\n')
    declaration = tmp_path / "sources.yml"
    declaration.write_text(
        "event_sources:\n"
        "  - name: clicks\n"
        "    path: events.jsonl\n"
        "    format: json\n"
        "    columns:\n"
        "      event_id: {column: id}\n"
        "      event_name: {column: name}\n"
        "      occurred_at: {column: ts, format: iso8601}\n"
        "    identifiers:\n"
        "      - {column: uid, identifier_type: customer}\n")
    message = error_of(declaration, {})
    assert message.startswith("source 'clicks': taxonomy 'clicks' has no rows in "
                              "seeds/event_taxonomy.csv")
    assert "Fix: map the event names under event_names" in message


def test_a_demo_order_source_name_is_reserved(tmp_path: Path) -> None:
    declaration, environ = cdnow(tmp_path, CDNOW_YAML.replace("name: cdnow", "name: store"))
    assert "'store' is a built-in demo source name" in error_of(declaration, environ)


def test_second_csv_of_a_glob_lacks_a_column(tmp_path: Path) -> None:
    write(tmp_path / "exports" / "2010.csv", f"{RETAIL_HEADER}\n{RETAIL_ROWS}")
    no_customer = RETAIL_HEADER.replace(",CustomerID", "")
    second = write(tmp_path / "exports" / "2011.csv", f"{no_customer}\n")
    write(
        tmp_path / "sources.yml",
        RETAIL_YAML.format(path="exports/*.csv", date_column="InvoiceDate"),
    )
    assert error_of(tmp_path / "sources.yml") == (
        f"source 'online_retail': column 'CustomerID' (columns.customer_id) is not in "
        f"{second.resolve()}; its columns are: InvoiceNo, StockCode, Description, Quantity, "
        "InvoiceDate, UnitPrice, Country. Fix: set columns.customer_id.column to one of them."
    )


def test_load_does_not_read_the_data(tmp_path: Path) -> None:
    declaration, environ = cdnow(tmp_path, CDNOW_YAML.replace("dollar_value}", "dollars}"))
    decl = load_declaration(declaration, environ=environ)
    assert decl.transaction_sources[0].files == [(tmp_path / "data" / "cdnow.txt").resolve()]


def test_defaults_match_dbt_project_vars() -> None:
    project = yaml.safe_load((PROJECT_ROOT / "dbt_project.yml").read_text(encoding="utf-8"))
    assert project["vars"]["identifier_types"] == DEFAULT_IDENTIFIER_TYPES
