"""seeds/lifecycle_stages.csv is the one list of the lifecycle stages.

The seed (stage, precedence, display_order, description) is read here with the csv module,
independently of lifecycle_warehouse.seeds. Checked against it: the order in which the
macro lw_lifecycle_stage's case assigns the stages (its precedence), every stage name a
model, macro, YAML file (tests, unit-test rows, semantic-layer filters), gate config or the
report names, and that no YAML test spells the stage list again (they use a relationships
test to the seed). No dbt run: text and YAML only.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest
import yaml

from lifecycle_warehouse.pipeline.gates.config import parse_gate_config
from lifecycle_warehouse.pipeline.project import PROJECT_ROOT
from lifecycle_warehouse.report.data import STAGE_COLOURS, STAGES, stage_definitions

SEED = PROJECT_ROOT / "seeds" / "lifecycle_stages.csv"
MACRO = PROJECT_ROOT / "macros" / "lifecycle" / "lw_lifecycle_stage.sql"
# columns that hold a lifecycle stage (from_stage is 'none' for a person first seen
# within the period: not a stage)
STAGE_COLUMNS = ("lifecycle_stage", "previous_stage", "previous_snapshot_stage", "from_stage",
                 "to_stage")
NOT_A_STAGE = {"none"}
# a comparison of a stage column with literals: lifecycle_stage = 'x', from_stage in ('x', 'y')
_COMPARISON = re.compile(
    r"\b(?:" + "|".join(STAGE_COLUMNS) + r")\s*(?:=|<>|!=|\bnot\s+in\b|\bin\b)\s*\(?\s*"
    r"('[^']*'(?:\s*,\s*'[^']*')*)", re.I)


def seed_rows() -> list[dict[str, str]]:
    with SEED.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


SEED_STAGES = {row["stage"] for row in seed_rows()}
BY_PRECEDENCE = [r["stage"] for r in sorted(seed_rows(), key=lambda r: int(r["precedence"]))]


def macro_stage_order(sql: str) -> list[str]:
    """The stages of the `case ... end as lifecycle_stage` in the order its branches check
    them (the else last); a stage with two branches (churned) counts at its first."""
    end = sql.index("end as lifecycle_stage")
    case = sql[sql.rindex("case", 0, end):end]
    return list(dict.fromkeys(re.findall(r"\b(?:then|else)\s+'([a-z_]+)'", case)))


def stage_literals(text: str) -> list[str]:
    """Every literal a stage column is compared with in SQL text."""
    return [value for group in _COMPARISON.findall(text)
            for value in re.findall(r"'([^']*)'", group)]


def unit_test_stage_values(document: dict) -> list[str]:
    """Values of stage columns in the given and expected rows of a YAML file's unit tests."""
    values = []
    for unit_test in document.get("unit_tests") or []:
        tables = [*(unit_test.get("given") or []), unit_test.get("expect") or {}]
        for table in tables:
            rows = table.get("rows")
            for row in rows if isinstance(rows, list) else []:
                values += [str(row[c]) for c in STAGE_COLUMNS if row.get(c) is not None]
    return values


def not_in_seed(values) -> list[str]:
    return sorted(set(values) - SEED_STAGES - NOT_A_STAGE)


def project_files(*patterns: str) -> list[Path]:
    return sorted(p for pattern in patterns for p in PROJECT_ROOT.glob(pattern))


# ---------------------------------------------------------------- the seed itself


def test_the_seed_has_8_stages_with_precedence_and_display_order_1_to_8():
    rows = seed_rows()
    assert len(rows) == 8 == len(SEED_STAGES)
    # listed in precedence order, so the file reads as the rules are checked (and the
    # gate's expected_seed, which keeps file order, lists them so)
    assert [int(r["precedence"]) for r in rows] == list(range(1, 9))
    assert sorted(int(r["display_order"]) for r in rows) == list(range(1, 9))
    assert all(r["description"].strip() for r in rows)


# ---------------------------------------------------------------- the macro


def test_the_macro_assigns_the_seed_stages_in_the_seed_precedence():
    order = macro_stage_order(MACRO.read_text(encoding="utf-8"))
    assert order == BY_PRECEDENCE, (
        f"lw_lifecycle_stage checks {order}, seeds/lifecycle_stages.csv says {BY_PRECEDENCE}: "
        "change the macro's case and the seed's precedence together")


def test_the_order_check_fails_on_a_macro_that_disagrees_with_the_seed():
    swapped = """case
            when x then 'prospect'
            when y then 'dormant'
            when z then 'churned'
            else 'active'
        end as lifecycle_stage"""
    assert macro_stage_order(swapped) == ["prospect", "dormant", "churned", "active"]
    assert macro_stage_order(swapped) != BY_PRECEDENCE


# ---------------------------------------------------------------- names used elsewhere


def test_every_stage_compared_in_sql_and_yaml_is_in_the_seed():
    found = {}
    for path in project_files("models/**/*.sql", "models/**/*.yml", "macros/**/*.sql",
                              "tests/**/*.sql", "analyses/**/*.sql"):
        values = stage_literals(path.read_text(encoding="utf-8"))
        if not_in_seed(values):
            found[str(path.relative_to(PROJECT_ROOT))] = not_in_seed(values)
    assert not found, f"stage names not in seeds/lifecycle_stages.csv: {found}"
    semantic = (PROJECT_ROOT / "models" / "semantic" / "_semantic__models.yml").read_text()
    # the churn / reactivation measures name stages (MetricFlow filters need literals)
    assert {"churned", "reactivated", "dormant"} <= set(stage_literals(semantic))


def test_the_literal_check_flags_a_name_that_is_no_stage():
    sql = "where lifecycle_stage = 'at_risk' or from_stage in ('dormant', 'lapsed')"
    assert stage_literals(sql) == ["at_risk", "dormant", "lapsed"]
    assert not_in_seed(stage_literals(sql)) == ["lapsed"]
    rows = {"unit_tests": [{"given": [{"rows": [{"lifecycle_stage": "loyal"}]}],
                            "expect": {"rows": [{"to_stage": "active"}]}}]}
    assert not_in_seed(unit_test_stage_values(rows)) == ["loyal"]


def test_every_stage_in_unit_test_rows_is_in_the_seed():
    found, seen = {}, 0
    for path in project_files("models/**/*.yml"):
        values = unit_test_stage_values(yaml.safe_load(path.read_text(encoding="utf-8")) or {})
        seen += len(values)
        if not_in_seed(values):
            found[str(path.relative_to(PROJECT_ROOT))] = not_in_seed(values)
    assert not found, f"unit-test rows with stage names not in the seed: {found}"
    assert seen > 10  # the lifecycle and trigger unit tests name stages


def test_no_yaml_test_spells_the_stage_list_again():
    """Stage columns are tested with a relationships test to the seed; an accepted_values
    list of two or more stages would be a second copy of the list."""
    copies, relationships = [], 0
    for path in project_files("models/**/*.yml", "seeds/*.yml"):
        text = path.read_text(encoding="utf-8")
        relationships += text.count("to: ref('lifecycle_stages')")
        for values in re.findall(r"values:\s*\[([^\]]*)\]", text):
            names = {v.strip().strip("'\"") for v in values.split(",")}
            if len(names & SEED_STAGES) >= 2:
                copies.append(f"{path.relative_to(PROJECT_ROOT)}: [{values.strip()}]")
    assert not copies, ("accepted_values lists of stages (use relationships to "
                        f"ref('lifecycle_stages') instead): {copies}")
    # fct_customer_lifecycle (2 columns), fct_lifecycle_history, fct_lifecycle_transitions
    # (from_stage, to_stage) and agg_segment_summary
    assert relationships == 6


def test_the_gates_expect_the_seed_stages():
    config = yaml.safe_load((PROJECT_ROOT / "quality_gates.yml").read_text(encoding="utf-8"))
    assert "expected" not in config["marts"]["lifecycle_stage_shares"]
    shares = parse_gate_config(config).layer("marts").lifecycle_stage_shares
    assert list(shares.expected) == BY_PRECEDENCE
    for path in project_files("sources/*.yml", "examples/**/*.yml"):
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        gates = (document.get("gates") or {}).get("marts") or {}
        section = gates.get("lifecycle_stage_shares") or {}
        named = [*(section.get("expected") or []), *(section.get("overrides") or {})]
        assert not not_in_seed(named), f"{path}: stages not in the seed: {not_in_seed(named)}"


def test_a_listed_expected_wins_over_the_seed_and_a_bad_seed_is_an_error():
    from lifecycle_warehouse.pipeline.gates.config import GateConfigError

    listed = {"marts": {"lifecycle_stage_shares": {
        "expected": ["new", "active"], "expected_seed": {"seed": "lifecycle_stages",
                                                         "column": "stage"}}}}
    assert parse_gate_config(listed).layer("marts").lifecycle_stage_shares.expected == (
        "new", "active")
    for bad, says in (({"seed": "no_such_seed", "column": "stage"}, "no seed"),
                      ({"seed": "lifecycle_stages", "column": "name"}, "has no column 'name'"),
                      ("lifecycle_stages", "expected {seed:")):
        config = {"marts": {"lifecycle_stage_shares": {"expected_seed": bad}}}
        with pytest.raises(GateConfigError, match=re.escape(says)):
            parse_gate_config(config)


def test_the_report_shows_the_seed_stages_in_display_order_with_their_rules():
    rows = seed_rows()
    assert list(STAGES) == [r["stage"] for r in sorted(rows, key=lambda r: int(r["display_order"]))]
    assert set(STAGE_COLOURS) == SEED_STAGES | NOT_A_STAGE
    definitions = stage_definitions()
    assert [(d["stage"], d["precedence"], d["rule"]) for d in definitions] == [
        (r["stage"], int(r["precedence"]), r["description"])
        for r in sorted(rows, key=lambda r: int(r["precedence"]))]


def test_the_pytests_stage_lists_are_from_the_seed():
    import test_docs_semantic
    import test_end_to_end

    assert set(test_docs_semantic.CHURN_BASE_STAGES) <= SEED_STAGES
    assert set(test_docs_semantic.LAPSED_STAGES) <= SEED_STAGES
    assert test_end_to_end.LIFECYCLE_STAGES == SEED_STAGES
