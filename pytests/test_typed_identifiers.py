"""The typed-identifier convention '<type>:<value>' is written in one place.

macros/identity/lw_typed_identifier.sql (lw_typed_identifier for a type known in code,
lw_typed_identifier_of_type_column for a type held in data) is the only SQL that joins a
type and a value with ':'. Other ':'-joined keys are not identity-graph nodes and are
named here: the source-prefixed row keys (event_key, order_key, line_key), the audience id
and the holdout hash salt. Text only, no dbt run.
"""

from __future__ import annotations

import re

from lifecycle_warehouse.pipeline.project import PROJECT_ROOT

CONVENTION = PROJECT_ROOT / "macros" / "identity" / "lw_typed_identifier.sql"
# ':'-joined values that are keys of rows, not typed identifiers
NOT_IDENTIFIERS = {"event_key", "order_key", "line_key", "audience_id"}
NOT_IDENTIFIER_FILES = {"macros/cross_db/lw_holdout_unit.sql"}  # md5(salt || ':' || key)
# 'cookie:' || x, '{{ type }}:' || x, type || ':' || x
_JOIN = re.compile(r"'(?:[a-z_]+|\{\{[^}]*\}\}):'\s*\|\||\|\|\s*':'\s*\|\|")
_ALIAS = re.compile(r"\bas\s+([a-z_]+)\b")


def stragglers(text: str) -> list[str]:
    """':'-joins in SQL text whose column (the next `as <alias>`) is not a known row key."""
    found = []
    for match in _JOIN.finditer(text):
        alias = _ALIAS.search(text, match.end())
        if alias is None or alias.group(1) not in NOT_IDENTIFIERS:
            line = text.count("\n", 0, match.start()) + 1
            found.append(f"line {line}: {match.group(0)}")
    return found


def test_only_lw_typed_identifier_writes_the_type_prefix():
    found = {}
    for path in sorted([*PROJECT_ROOT.glob("models/**/*.sql"),
                        *PROJECT_ROOT.glob("macros/**/*.sql")]):
        relative = str(path.relative_to(PROJECT_ROOT))
        if path == CONVENTION or relative in NOT_IDENTIFIER_FILES:
            continue
        if hits := stragglers(path.read_text(encoding="utf-8")):
            found[relative] = hits
    assert not found, ("typed identifiers built outside macros/identity/lw_typed_identifier.sql "
                       f"(call lw_typed_identifier or lw_typed_identifier_of_type_column): {found}")


def test_the_check_finds_a_hand_written_prefix():
    sql = """select
        'cookie:' || cookie_id as left_identifier,
        identifier_type || ':' || value as identifier,
        '{{ t }}:' || x as other,
        'web:' || event_id as event_key
    from events"""
    assert [hit.split(": ", 1)[1] for hit in stragglers(sql)] == [
        "'cookie:' ||", "|| ':' ||", "'{{ t }}:' ||"]
