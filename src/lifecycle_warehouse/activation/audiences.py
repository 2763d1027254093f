"""Audience changes and restricted contacts: what publishing adds for marketing tools.

``marts.fct_audience_membership`` (a dbt mart) says who is in each audience on the
build's as_of_date. What a marketing tool acts on is the *change*: who entered and who
left since the build it last received. That needs the previous published build, which
only the publish step knows, so it is not a dbt model:

- `write_audience_changes` runs while a new serving file is written (publish) or put
  back (rollback). It compares the new file's membership with the file served until
  now, attached read-only, and writes ``marts.fct_audience_changes``: one row per
  audience × person who entered or left, with both build ids and as_of_dates. The
  first publish lists every member as entered. The same data published twice gives no
  rows. A rollback recomputes the table against the build being rolled back from, so
  destinations receive the reversal (DECISIONLOG "Audience changes at publish").
- `export_restricted_contacts` copies ``restricted.restricted_person_contacts`` (raw
  contact points and external ids) of the build database into
  ``restricted/<serving stem>.contacts.duckdb`` next to the serving file: directory
  0700, file 0600, never inside the file BI reads.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

MEMBERSHIP_TABLE = "fct_audience_membership"
CHANGES_TABLE = "fct_audience_changes"
RESTRICTED_DIR = "restricted"
RESTRICTED_SCHEMA = "restricted"
CONTACTS_MODEL = "restricted_person_contacts"

CHANGES_DDL = f"""
CREATE TABLE {{catalog}}.marts.{CHANGES_TABLE} (
    build_id VARCHAR NOT NULL,
    previous_build_id VARCHAR,
    as_of_date DATE,
    previous_as_of_date DATE,
    audience_id VARCHAR NOT NULL,
    audience_type VARCHAR NOT NULL,
    audience_name VARCHAR NOT NULL,
    person_id VARCHAR NOT NULL,
    change_type VARCHAR NOT NULL,
    entered_on DATE,
    is_holdout BOOLEAN NOT NULL
)
"""

# Entered: a member now who was not one before; left: a member before who is not now.
# A trigger's membership is one episode (entered_on = episode_started_on): a new episode
# for a person already in the audience (a second abandoned cart) is an entry, and the
# old episode a departure. A stage's entered_on is not compared: it moves with the
# snapshot dates (as_of_date, then the month end) while the person stays in the stage.
# entered_on: the membership's own entry date, else (RFM segments) the new build's
# as_of_date; a left row keeps the entry date of the membership that ended.
CHANGES_SQL = f"""
INSERT INTO {{catalog}}.marts.{CHANGES_TABLE}
WITH
current_members AS (SELECT * FROM {{catalog}}.marts.{MEMBERSHIP_TABLE}),
previous_members AS ({{previous_members}}),
entered AS (
    SELECT current_members.*
    FROM current_members
    ANTI JOIN previous_members
        ON {{same_membership}}
),
departed AS (
    SELECT previous_members.*
    FROM previous_members
    ANTI JOIN current_members
        ON {{same_membership}}
)
SELECT ? AS build_id, ? AS previous_build_id, ? AS as_of_date, ? AS previous_as_of_date,
       audience_id, audience_type, audience_name, person_id, 'entered' AS change_type,
       coalesce(entered_on, CAST(? AS DATE)) AS entered_on, is_holdout
FROM entered
UNION ALL
SELECT ?, ?, ?, ?, audience_id, audience_type, audience_name, person_id, 'left',
       entered_on, is_holdout
FROM departed
ORDER BY audience_id, change_type, person_id
"""

SAME_MEMBERSHIP = """
        current_members.audience_id = previous_members.audience_id
        AND current_members.person_id = previous_members.person_id
        AND (current_members.audience_type <> 'trigger'
             OR current_members.entered_on IS NOT DISTINCT FROM previous_members.entered_on)"""

CHANGES_COMMENT = (
    "One row per audience x person who entered or left the audience since the previously "
    "published build (previous_build_id; null on the first publish: every member entered). "
    "Written by lw build / lw publish / lw rollback, not by dbt (docs/activation.md)."
)

_EMPTY_MEMBERS = (
    "SELECT NULL::VARCHAR AS audience_id, NULL::VARCHAR AS audience_type, "
    "NULL::VARCHAR AS audience_name, NULL::VARCHAR AS person_id, NULL::DATE AS entered_on, "
    "NULL::BOOLEAN AS is_holdout WHERE false"
)


def _has_table(con: Any, catalog: str, schema: str, table: str) -> bool:
    return bool(con.execute(
        "select 1 from duckdb_tables() where database_name = ? and schema_name = ? "
        "and table_name = ?", [catalog, schema, table],
    ).fetchall())


def write_audience_changes(
    con: Any,
    catalog: str,
    *,
    build_id: str,
    as_of_date: Any,
    previous_serving: Path | None,
) -> int | None:
    """Writes `catalog`.marts.fct_audience_changes against `previous_serving`; returns rows.

    `con` has the new file attached read-write as `catalog`. Returns None (and writes
    nothing) when the new file has no membership mart (a build without the audience
    models). A missing previous file, or one without the membership mart, counts as no
    previous members.
    """
    if not _has_table(con, catalog, "marts", MEMBERSHIP_TABLE):
        return None
    previous_build_id = previous_as_of = None
    previous_members = _EMPTY_MEMBERS
    attached = previous_serving is not None and Path(previous_serving).is_file()
    if attached:
        con.execute(f"ATTACH '{_escape(str(previous_serving))}' AS previous_serving (READ_ONLY)")
        info = con.execute(
            "SELECT build_id, as_of_date FROM previous_serving.meta.publish_info"
        ).fetchone() if _has_table(con, "previous_serving", "meta", "publish_info") else None
        if info:
            previous_build_id, previous_as_of = info
        if _has_table(con, "previous_serving", "marts", MEMBERSHIP_TABLE):
            previous_members = f"SELECT * FROM previous_serving.marts.{MEMBERSHIP_TABLE}"
    try:
        con.execute(f"DROP TABLE IF EXISTS {catalog}.marts.{CHANGES_TABLE}")
        con.execute(CHANGES_DDL.format(catalog=catalog))
        row = [build_id, previous_build_id, as_of_date, previous_as_of]
        con.execute(
            CHANGES_SQL.format(catalog=catalog, previous_members=previous_members,
                               same_membership=SAME_MEMBERSHIP),
            [*row, as_of_date, *row],
        )
        con.execute(f"COMMENT ON TABLE {catalog}.marts.{CHANGES_TABLE} IS '{CHANGES_COMMENT}'")
        return con.execute(f"SELECT count(*) FROM {catalog}.marts.{CHANGES_TABLE}").fetchone()[0]
    finally:
        if attached:
            con.execute("DETACH previous_serving")


def restricted_contacts_path(serving_db: Path) -> Path:
    """Where the raw contact points of the served build live: never inside the serving file."""
    serving_db = Path(serving_db)
    return serving_db.parent / RESTRICTED_DIR / f"{serving_db.stem}.contacts.duckdb"


def export_restricted_contacts(build_db: Path, serving_db: Path, build_id: str) -> Path | None:
    """Writes the build's restricted contacts to a hidden temporary; returns it (or None).

    The caller os.replace-s it onto `restricted_contacts_path(serving_db)` once the
    serving file is replaced, so contacts and marts come from one build. None when the
    build database has no restricted contacts model (a build that skipped it).
    """
    import duckdb

    target = restricted_contacts_path(serving_db)
    tmp = target.parent / f".{target.name}.{build_id}.tmp"
    con = duckdb.connect(":memory:")
    try:
        con.execute(f"ATTACH '{_escape(str(build_db))}' AS build (READ_ONLY)")
        if not _has_table(con, "build", RESTRICTED_SCHEMA, CONTACTS_MODEL):
            return None
        target.parent.mkdir(mode=0o700, exist_ok=True)
        os.chmod(target.parent, 0o700)
        tmp.unlink(missing_ok=True)
        old_umask = os.umask(0o077)  # owner-only from the first byte
        try:
            con.execute(f"ATTACH '{_escape(str(tmp))}' AS contacts")
        finally:
            os.umask(old_umask)
        con.execute(
            f"CREATE TABLE contacts.main.person_contacts AS SELECT * FROM "
            f"build.{RESTRICTED_SCHEMA}.{CONTACTS_MODEL} ORDER BY person_id"
        )
        con.execute("CHECKPOINT contacts")
        con.execute("DETACH contacts")
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    finally:
        con.close()
    os.chmod(tmp, 0o600)
    return tmp


def _escape(text: str) -> str:
    return text.replace("'", "''")
