"""`lw export`: audiences of the served build to files and webhooks (docs/activation.md, Export).

Reads the serving file read-only (``marts.fct_audience_changes``,
``marts.fct_audience_membership``, ``meta.publish_info``) and the restricted contacts
file next to it (``publish.restricted_contacts_path``: external ids, raw email and
phone), and sends each configured destination (``destinations.yml``, schema below) the
rows of the audiences it asks for:

* **who**: never a holdout row (``is_holdout`` not false: the control group of a
  campaign), and only persons reachable on the destination's ``channel``
  (``is_reachable_<channel>``); ``channel: none`` exports everyone who is not holdout,
  with hashes only. A row that is left out is counted with its reason (holdout, no
  consent), never dropped silently.
* **what**: ``changes`` (entered / left since the previous published build) or
  ``members`` (the current members, change_type ``member``). Each row carries build_id,
  previous_build_id (of the change set), audience_id, change_type, person_id,
  external_id / external_id_type (the source's own user or customer id), entered_on,
  idempotency_key = sha256(build_id|audience_id|person_id|change_type|previous_build_id)
  (previous_build_id: '' on the first publish; it tells a rollback's reversal, which
  reuses the older build id, from that build's own first export), and email / phone
  only when the destination lists them in ``contact_fields`` (allowed only with the
  channel they belong to); otherwise email_sha256 / phone_sha256 (sha256 hex of the
  lower-cased email, of the E.164 phone).
* **files**: ``<dir>/<build_id>/<audience_id with ':' as '__'>.<changes|members>.csv``
  and ``.jsonl``, written in a private temporary directory and renamed into place
  (atomic), mode 0600 when they carry raw contact points. An audience without rows gets
  a file with the header only (csv) / no line (jsonl): "no changes" is visible.
* **webhooks**: batched POSTs of ``{build_id, audience_id, batch_number, records}`` with
  an ``Idempotency-Key`` header per batch (sha256 of build_id|destination|audience_id|
  batch_number|the records' keys). Connection errors, timeouts, 429 and 5xx are retried
  (tenacity, exponential backoff, Retry-After honoured up to backoff_max_s); any other
  non-2xx stops the destination with one line. Each acknowledged (2xx) batch is appended
  to ``<serving_dir>/exports/<destination>.ledger.jsonl`` and fsynced; a rerun skips the
  batches the ledger holds for the same change set (build_id, previous_build_id, what,
  url), so nothing acknowledged is sent twice. Delivery is
  at-least-once: a batch sent but not yet recorded when the process dies is sent again
  on the rerun, with the same Idempotency-Key, for the endpoint to deduplicate.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fnmatch
import hashlib
import json
import logging
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

import httpx
import tenacity
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from lifecycle_warehouse.activation.audiences import restricted_contacts_path
from lifecycle_warehouse.pipeline.project import PROJECT_ROOT
from lifecycle_warehouse.pipeline.publish import _fsync, _literal  # one copy of each, publish's

log = logging.getLogger(__name__)

DEFAULT_CONFIG_PATH = PROJECT_ROOT / "destinations.yml"
EXAMPLE_CONFIG_PATH = PROJECT_ROOT / "examples" / "destinations.yml"
EXPORTS_DIR = "exports"
CHANNELS = ("email", "sms", "push", "whatsapp")
# the contact point a channel may carry raw (push has none: the token is the tool's own)
CONTACT_FIELD_CHANNELS = {"email": ("email",), "phone": ("sms", "whatsapp")}
_NAME_RE = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")
_ENV_RE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_UNSAFE_FILE_CHARS = re.compile(r"[^A-Za-z0-9._-]")
_LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
_RESERVED_HEADERS = {"idempotency-key", "content-type", "content-length", "host"}


class ExportError(Exception):
    """The export cannot run or a destination failed; the message is one line with a fix."""


# ---------------------------------------------------------------------------------------
# configuration (destinations.yml)


class _Destination(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    audiences: list[str] = Field(min_length=1)
    what: Literal["changes", "members"] = "changes"
    channel: Literal["email", "sms", "push", "whatsapp", "none"]
    contact_fields: list[Literal["email", "phone"]] = Field(default_factory=list)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _NAME_RE.match(value):
            raise ValueError(f"name {value!r} must be lower-case letters, digits, '_' or '-', "
                             "starting with a letter (it names the ledger file)")
        return value

    @field_validator("audiences")
    @classmethod
    def _audiences(cls, value: list[str]) -> list[str]:
        for pattern in value:
            if not pattern.strip():
                raise ValueError("an audience is empty; write an audience_id such as "
                                 "lifecycle_stage:at_risk or a glob such as trigger:*")
        return value

    @model_validator(mode="after")
    def _contact_fields_need_their_channel(self) -> _Destination:
        if len(set(self.contact_fields)) != len(self.contact_fields):
            raise ValueError("contact_fields lists a field twice")
        for name in self.contact_fields:
            allowed = CONTACT_FIELD_CHANNELS[name]
            if self.channel not in allowed:
                raise ValueError(
                    f"contact_fields has {name!r} but channel is {self.channel!r}: raw "
                    f"{name} goes only to a destination on channel {' or '.join(allowed)} "
                    f"(consented persons only); remove {name!r} from contact_fields (rows "
                    f"then carry {name}_sha256) or set the channel")
        return self

    def matches(self, audience_id: str) -> bool:
        return any(fnmatch.fnmatchcase(audience_id, pattern) for pattern in self.audiences)


class FileDestination(_Destination):
    """Writes one CSV and / or JSON lines file per audience under dir/<build_id>/."""

    type: Literal["file"]
    dir: Path
    formats: list[Literal["csv", "jsonl"]] = Field(default_factory=lambda: ["csv", "jsonl"],
                                                   min_length=1)


class WebhookDestination(_Destination):
    """POSTs each audience's rows in batches to url; resumable through the ledger."""

    type: Literal["webhook"]
    url: str
    batch_size: int = Field(default=500, ge=1, le=100_000)
    timeout_s: float = Field(default=10.0, gt=0)
    max_attempts: int = Field(default=5, ge=1, le=100)
    backoff_initial_s: float = Field(default=1.0, ge=0)
    backoff_max_s: float = Field(default=30.0, ge=0)
    headers: dict[str, str] = Field(default_factory=dict)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"url {value!r} must be an http(s) URL such as "
                             "https://hooks.example.com/audiences")
        if parts.scheme == "http" and parts.hostname not in _LOCAL_HOSTS:
            raise ValueError(f"url {value!r} is plain http: person data goes only over https "
                             "(http is allowed for 127.0.0.1 / localhost only)")
        return value

    @field_validator("headers")
    @classmethod
    def _headers(cls, value: dict[str, str]) -> dict[str, str]:
        for name in value:
            if name.lower() in _RESERVED_HEADERS:
                raise ValueError(f"header {name!r} is set by lw export; remove it")
        return value

    @model_validator(mode="after")
    def _backoff(self) -> WebhookDestination:
        if self.backoff_max_s < self.backoff_initial_s:
            raise ValueError(f"backoff_max_s ({self.backoff_max_s:g}) is below "
                             f"backoff_initial_s ({self.backoff_initial_s:g})")
        return self

    def resolved_headers(self) -> dict[str, str]:
        """The headers with ${ENV_VAR} replaced; ExportError naming an unset variable."""
        resolved = {}
        for name, value in self.headers.items():
            missing = [var for var in _ENV_RE.findall(value) if var not in os.environ]
            if missing:
                raise ExportError(
                    f"Destination {self.name!r}: header {name} uses ${{{missing[0]}}}, which "
                    f"is not set; export {missing[0]}=... before `lw export`.")
            resolved[name] = _ENV_RE.sub(lambda m: os.environ[m.group(1)], value)
        return resolved


Destination = Annotated[FileDestination | WebhookDestination, Field(discriminator="type")]


class ExportConfig(BaseModel):
    """The parsed destinations.yml: a list of destinations with unique names."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    destinations: list[Destination] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_names(self) -> ExportConfig:
        seen: set[str] = set()
        for destination in self.destinations:
            if destination.name in seen:
                raise ValueError(f"two destinations are named {destination.name!r}; "
                                 "names must be unique (each has its own ledger)")
            seen.add(destination.name)
        return self


def load_config(path: Path) -> ExportConfig:
    """Reads and validates destinations.yml; a relative file dir is relative to its folder."""
    path = Path(path)
    if not path.is_file():
        raise ExportError(
            f"No destinations config at {path}: copy {EXAMPLE_CONFIG_PATH} there (or pass "
            "--destinations PATH) and edit it; it documents every key.")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        first = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ExportError(f"{path}: not readable YAML ({first}); fix the file "
                          f"(see {EXAMPLE_CONFIG_PATH}).") from None
    if not isinstance(raw, dict):
        raise ExportError(f"{path}: expected a mapping with a `destinations:` list "
                          f"(see {EXAMPLE_CONFIG_PATH}).")
    for item in raw.get("destinations") or []:
        if isinstance(item, dict) and isinstance(item.get("dir"), str):
            folder = Path(item["dir"]).expanduser()
            item["dir"] = str(folder if folder.is_absolute() else path.parent / folder)
    try:
        return ExportConfig.model_validate(raw)
    except ValidationError as error:
        raise ExportError(f"{path}: {_config_error(error)} (see {EXAMPLE_CONFIG_PATH}).") \
            from None


def _config_error(error: ValidationError) -> str:
    """The first pydantic error as 'destinations[1].url: ...' (the union tag left out)."""
    errors = error.errors(include_url=False)
    first = min(errors, key=lambda e: e["type"] != "extra_forbidden")
    where = ""
    for part in first["loc"]:
        if part in ("file", "webhook"):
            continue  # the discriminator's branch, not a key of the file
        where += f"[{part}]" if isinstance(part, int) else (f".{part}" if where else str(part))
    message = first["msg"].removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        message = "unknown key; remove it or correct its spelling"
    elif first["type"] == "union_tag_invalid" or first["type"] == "union_tag_not_found":
        message = "type must be file or webhook"
    elif "input" in first and first["type"] not in ("missing", "value_error"):
        message += f" (got {first['input']!r})"
    return f"{where or 'the file'}: {message}"


# ---------------------------------------------------------------------------------------
# summary


@dataclass
class AudienceResult:
    """One destination x audience: rows exported, rows left out and how they went out."""

    audience_id: str
    rows: int = 0
    excluded_holdout: int = 0
    excluded_no_consent: int = 0
    batches_sent: int = 0
    batches_skipped: int = 0  # acknowledged in an earlier run (ledger)
    retries: int = 0
    files: list[Path] = field(default_factory=list)


@dataclass
class DestinationResult:
    name: str
    type: str
    audiences: list[AudienceResult] = field(default_factory=list)
    error: str | None = None  # one line; the destination stopped there

    @property
    def rows(self) -> int:
        return sum(a.rows for a in self.audiences)


@dataclass
class ExportSummary:
    """What `export_all` did; `ok` is False when a destination failed (see `errors`)."""

    serving_db: Path
    build_id: str
    as_of_date: dt.date | None
    destinations: list[DestinationResult]
    seconds: float = 0.0

    @property
    def errors(self) -> list[str]:
        return [d.error for d in self.destinations if d.error]

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def rows(self) -> int:
        return sum(d.rows for d in self.destinations)

    def line(self) -> str:
        audiences = [a for d in self.destinations for a in d.audiences]
        return (f"Exported build {self.build_id} (as of {self.as_of_date}): "
                f"{len(self.destinations)} destination(s), {self.rows:,} rows, "
                f"{sum(a.batches_sent for a in audiences):,} batches sent "
                f"({sum(a.batches_skipped for a in audiences):,} already acknowledged, "
                f"{sum(a.retries for a in audiences):,} retries), "
                f"{sum(len(a.files) for a in audiences):,} files, "
                f"{len(self.errors)} failed destination(s) in {self.seconds:.1f} s")


# ---------------------------------------------------------------------------------------
# the export


def ledger_path(ledger_dir: Path, destination: str) -> Path:
    return Path(ledger_dir) / f"{destination}.ledger.jsonl"


def export_all(
    serving_db: Path,
    config: Path | ExportConfig,
    *,
    only: Sequence[str] | None = None,
    contacts_db: Path | None = None,
    ledger_dir: Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> ExportSummary:
    """Exports the served build to every destination of `config` (or those named `only`).

    `contacts_db` defaults to the restricted contacts file of `serving_db`, `ledger_dir`
    to <serving_dir>/exports. Problems with the input or the config raise ExportError; a
    destination that fails (refused, gave up after retries) stops, the others still run,
    and the summary's `errors` say why (`ok` is False).
    """
    started = time.perf_counter()
    say = progress or log.info
    serving_db = Path(serving_db).resolve()
    cfg = config if isinstance(config, ExportConfig) else load_config(Path(config))
    destinations = list(cfg.destinations)
    if only:
        unknown = sorted(set(only) - {d.name for d in destinations})
        if unknown:
            raise ExportError(f"No destination named {', '.join(map(repr, unknown))}; "
                              f"configured: {', '.join(d.name for d in destinations)}.")
        destinations = [d for d in destinations if d.name in set(only)]
    headers = {d.name: d.resolved_headers() for d in destinations
               if isinstance(d, WebhookDestination)}
    contacts_db = Path(contacts_db) if contacts_db else restricted_contacts_path(serving_db)
    ledger_dir = Path(ledger_dir) if ledger_dir else serving_db.parent / EXPORTS_DIR
    with _duckdb_errors(serving_db), _open_inputs(serving_db, contacts_db,
                                                   destinations) as inputs:
        if not inputs.has_contacts:
            say(f"warning: no restricted contacts file at {contacts_db}: rows carry no "
                "external_id and no email / phone hashes (publish with a current `lw build`)")
        summary = ExportSummary(serving_db, inputs.build_id, inputs.as_of_date, [])
        for destination in destinations:
            result = DestinationResult(destination.name, destination.type)
            summary.destinations.append(result)
            try:
                _export_destination(inputs, destination, result, say,
                                    headers.get(destination.name, {}), ledger_dir)
            except ExportError as error:
                result.error = str(error)
                say(f"export {destination.name}: FAILED: {error}")
    summary.seconds = time.perf_counter() - started
    return summary


@dataclass
class _Inputs:
    con: Any  # duckdb connection: serving file attached as s, contacts as c
    build_id: str
    previous_build_id: str | None  # of the change set (fct_audience_changes); None: first
    as_of_date: dt.date | None
    has_contacts: bool
    audience_ids: list[str]
    contacts: str  # the relation holding person_id, external_id(_type), email, phone_e164


@contextlib.contextmanager
def _open_inputs(serving_db: Path, contacts_db: Path,
                 destinations: Sequence[FileDestination | WebhookDestination]
                 ) -> Iterator[_Inputs]:
    """The serving file (and the contacts file) attached read-only to a private database.

    A private in-memory database, not duckdb.connect(path): a publish replaces the
    serving file meanwhile without disturbing us (we keep the old inode, one build)."""
    import duckdb

    if not serving_db.is_file():
        raise ExportError(f"No serving file at {serving_db}: run `lw build` (it publishes "
                          "there) or pass --serving PATH.")
    con = duckdb.connect(":memory:")
    try:
        _attach(con, serving_db, "s", "the serving file")
        present = set(con.execute(
            "select schema_name || '.' || table_name from duckdb_tables() "
            "where database_name = 's'").fetchall())
        present = {name for (name,) in present}
        missing = [t for t in ("meta.publish_info", "marts.fct_audience_membership",
                               "marts.fct_audience_changes") if t not in present]
        if missing:
            raise ExportError(
                f"{serving_db} has no {', '.join(missing)}: it is not a published file or was "
                "published before audience exports existed; publish a new build with "
                "`lw build`.")
        info = con.execute("select build_id, as_of_date from s.meta.publish_info").fetchall()
        if len(info) != 1:
            raise ExportError(f"{serving_db}: meta.publish_info has {len(info)} rows, not one; "
                              "publish the file again with `lw build`.")
        build_id, as_of_date = info[0]
        has_contacts = contacts_db.is_file()
        if has_contacts:
            _attach(con, contacts_db, "c", "the restricted contacts file")
            found = con.execute("select 1 from duckdb_tables() where database_name = 'c' "
                                "and schema_name = 'main' and table_name = 'person_contacts'"
                                ).fetchall()
            if not found:
                raise ExportError(f"{contacts_db} has no table main.person_contacts; publish "
                                  "again with `lw build` (it writes the contacts file).")
            contacts = "c.main.person_contacts"
            duplicate = con.execute(f"select person_id from {contacts} group by person_id "
                                    "having count(*) > 1 limit 1").fetchall()
            if duplicate:
                raise ExportError(f"{contacts_db}: person {duplicate[0][0]} has more than one "
                                  "row in person_contacts; publish again with `lw build`.")
        else:
            wanting = [d.name for d in destinations if d.contact_fields]
            if wanting:
                raise ExportError(
                    f"Destination {wanting[0]!r} lists contact_fields, but there is no "
                    f"restricted contacts file at {contacts_db}: publish with a current "
                    "`lw build` (it writes that file) or remove contact_fields.")
            con.execute("create temp table no_contacts (person_id varchar, external_id "
                        "varchar, external_id_type varchar, email varchar, phone_e164 varchar)")
            contacts = "temp.main.no_contacts"
        previous = [p for (p,) in con.execute(
            "select distinct previous_build_id from s.marts.fct_audience_changes "
            "where build_id = ?", [build_id]).fetchall()]
        if len(previous) > 1:
            raise ExportError(f"{serving_db}: marts.fct_audience_changes of build {build_id} "
                              f"mixes previous builds ({', '.join(map(str, previous))}); "
                              "publish again with `lw build`.")
        audience_ids = sorted(a for (a,) in con.execute(
            "select audience_id from s.marts.fct_audience_membership union "
            "select audience_id from s.marts.fct_audience_changes where build_id = ?",
            [build_id]).fetchall())
        yield _Inputs(con, build_id, previous[0] if previous else None, as_of_date,
                      has_contacts, audience_ids, contacts)
    finally:
        con.close()


@contextlib.contextmanager
def _duckdb_errors(serving_db: Path) -> Iterator[None]:
    """A DuckDB error reading the inputs or writing a file as one line (no traceback)."""
    import duckdb

    try:
        yield
    except duckdb.Error as error:
        first = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ExportError(f"Reading {serving_db} or writing an export failed ({first}); a "
                          "serving file from an older lw lacks the audience contract: "
                          "publish a new build with `lw build`.") from None


def _attach(con: Any, path: Path, alias: str, what: str) -> None:
    import duckdb

    try:
        con.execute(f"ATTACH {_literal(str(path))} AS {alias} (READ_ONLY)")
    except duckdb.Error as error:
        first = str(error).splitlines()[0]
        raise ExportError(f"Cannot open {what} {path} read-only ({first}); if another process "
                          "holds it read-write, close it and run again.") from None


def _export_destination(inputs: _Inputs, destination: FileDestination | WebhookDestination,
                        result: DestinationResult, say: Callable[[str], None],
                        headers: dict[str, str], ledger_dir: Path) -> None:
    audiences = [a for a in inputs.audience_ids if destination.matches(a)]
    for pattern in destination.audiences:
        if not any(fnmatch.fnmatchcase(a, pattern) for a in inputs.audience_ids):
            say(f"export {destination.name}: warning: audience {pattern!r} matches no audience "
                f"of build {inputs.build_id} (nothing to export for it)")
    counts = _select_rows(inputs, destination, audiences)
    for audience_id in audiences:
        result.audiences.append(counts[audience_id])
    if isinstance(destination, FileDestination):
        say(f"export {destination.name} (file): into {Path(destination.dir) / inputs.build_id}")
        for audience in result.audiences:
            _write_files(inputs, destination, audience)
            say(_audience_line(destination, audience))
    else:
        _send_webhook(inputs, destination, result, say, headers, ledger_dir)


def _select_rows(inputs: _Inputs, destination: FileDestination | WebhookDestination,
                 audiences: list[str]) -> dict[str, AudienceResult]:
    """Fills temp table export_out with the destination's rows; counts per audience."""
    con, build = inputs.con, _literal(inputs.build_id)
    previous = "null" if inputs.previous_build_id is None else _literal(inputs.previous_build_id)
    if destination.what == "changes":
        source = ("select audience_id, change_type, person_id, entered_on, is_holdout "
                  f"from s.marts.fct_audience_changes where build_id = {build}")
    else:
        source = ("select audience_id, 'member' as change_type, person_id, entered_on, "
                  "is_holdout from s.marts.fct_audience_membership")
    if destination.channel == "none":
        reach, consent = "", "true"
    else:
        # consent is the person's (int_person_contactability): any current membership row
        # says it; a person in no audience now (left them all) counts as not reachable
        column = f"is_reachable_{destination.channel}"
        reach = (f"left join (select person_id, bool_and({column}) as reachable "
                 "from s.marts.fct_audience_membership group by person_id) reach "
                 "using (person_id)")
        consent = "coalesce(reach.reachable, false)"
    con.execute("create or replace temp table export_audiences (audience_id varchar)")
    con.executemany("insert into export_audiences values (?)", [[a] for a in audiences])
    con.execute(f"""
        create or replace temp table export_rows as
        select src.audience_id, src.change_type, src.person_id, src.entered_on,
            case
                when src.is_holdout is distinct from false then 'holdout'
                when not {consent} then 'no_consent'
            end as excluded
        from ({source}) src
        {reach}
        where src.audience_id in (select audience_id from export_audiences)""")
    email = ("pc.email as email" if "email" in destination.contact_fields
             else "sha256(lower(trim(pc.email))) as email_sha256")
    phone = ("pc.phone_e164 as phone" if "phone" in destination.contact_fields
             else "sha256(pc.phone_e164) as phone_sha256")
    con.execute(f"""
        create or replace temp table export_out as
        select
            {build} as build_id, {previous}::varchar as previous_build_id, r.audience_id,
            r.change_type, r.person_id, pc.external_id, pc.external_id_type, r.entered_on,
            sha256({build} || '|' || r.audience_id || '|' || r.person_id || '|'
                || r.change_type || '|' || coalesce({previous}, '')) as idempotency_key,
            {email}, {phone}
        from export_rows r
        left join {inputs.contacts} pc using (person_id)
        where r.excluded is null
        order by r.audience_id, r.change_type, r.person_id""")
    results = {a: AudienceResult(a) for a in audiences}
    for audience_id, rows, holdout, no_consent in con.execute(
        "select audience_id, count(*) filter (where excluded is null), "
        "count(*) filter (where excluded = 'holdout'), "
        "count(*) filter (where excluded = 'no_consent') from export_rows group by 1"
    ).fetchall():
        results[audience_id].rows = rows
        results[audience_id].excluded_holdout = holdout
        results[audience_id].excluded_no_consent = no_consent
    return results


def _audience_select(audience_id: str) -> str:
    return (f"select * from export_out where audience_id = {_literal(audience_id)} "
            "order by change_type, person_id")


def _audience_line(destination: FileDestination | WebhookDestination,
                   audience: AudienceResult) -> str:
    excluded = f"left out {audience.excluded_holdout:,} holdout"
    if destination.channel != "none":
        excluded += f", {audience.excluded_no_consent:,} without {destination.channel} consent"
    head = f"export {destination.name} ({destination.type}) {audience.audience_id}: "
    if isinstance(destination, FileDestination):
        stem = audience_file_name(audience.audience_id, destination.what, "")
        return (f"{head}{audience.rows:,} rows -> {stem}{{{','.join(destination.formats)}}}; "
                f"{excluded}")
    return (f"{head}{audience.rows:,} rows: {audience.batches_sent} batches sent, "
            f"{audience.batches_skipped} already acknowledged, {audience.retries} retries; "
            f"{excluded}")


# ---------------------------------------------------------------------------------------
# files


def audience_file_name(audience_id: str, what: str, fmt: str) -> str:
    """lifecycle_stage:at_risk -> lifecycle_stage__at_risk.changes.csv"""
    safe = _UNSAFE_FILE_CHARS.sub("_", audience_id.replace(":", "__"))
    return f"{safe}.{what}.{fmt}"


def _write_files(inputs: _Inputs, destination: FileDestination,
                 audience: AudienceResult) -> None:
    """One file per format, atomically: DuckDB writes it in a private (0700) temporary
    directory next to the target, then chmod (0600 with raw contact points) and rename."""
    import duckdb

    carries_contacts = bool(destination.contact_fields)
    folder = Path(destination.dir) / inputs.build_id
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700 if carries_contacts else 0o777)
        scratch = Path(tempfile.mkdtemp(prefix=".lw-export-", dir=folder))
        try:
            for fmt in destination.formats:
                target = folder / audience_file_name(audience.audience_id, destination.what,
                                                     fmt)
                tmp = scratch / target.name
                options = "FORMAT csv, HEADER true" if fmt == "csv" else "FORMAT json"
                inputs.con.execute(f"COPY ({_audience_select(audience.audience_id)}) "
                                   f"TO {_literal(str(tmp))} ({options})")
                if carries_contacts:
                    os.chmod(tmp, 0o600)
                _fsync(tmp)
                os.replace(tmp, target)
                audience.files.append(target)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        _fsync(folder)
    except OSError as error:
        raise ExportError(f"Destination {destination.name!r}: cannot write "
                          f"{error.filename or folder} ({error.strerror or error}); make "
                          f"{destination.dir} writable or change dir.") from None
    except duckdb.IOException as error:  # COPY: disk full, no permission, ...
        first = str(error).splitlines()[0]
        raise ExportError(f"Destination {destination.name!r}: writing in {folder} failed "
                          f"({first}); free space or change dir.") from None


# ---------------------------------------------------------------------------------------
# webhooks


def batch_key(build_id: str, destination: str, audience_id: str, batch_number: int,
              record_keys: Sequence[str]) -> str:
    """The Idempotency-Key of a batch: sha256 of build_id|destination|audience_id|
    batch_number|key1|key2|... (the records' idempotency keys, in order)."""
    text = "|".join([build_id, destination, audience_id, str(batch_number), *record_keys])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class _RetryableStatus(Exception):
    """A 429 or 5xx answer: tenacity tries again."""

    def __init__(self, response: httpx.Response) -> None:
        super().__init__(response.status_code)
        self.response = response


class _Backoff(tenacity.wait.wait_base):
    """Exponential backoff (backoff_initial_s, doubling, at most backoff_max_s); a
    Retry-After of seconds on a 429 / 503 is honoured up to backoff_max_s."""

    def __init__(self, initial: float, maximum: float) -> None:
        self.exponential = tenacity.wait_exponential(multiplier=initial, max=maximum)
        self.maximum = maximum

    def __call__(self, retry_state: tenacity.RetryCallState) -> float:
        error = retry_state.outcome.exception() if retry_state.outcome else None
        if isinstance(error, _RetryableStatus):
            after = error.response.headers.get("retry-after", "").strip()
            if after.isdigit():
                return min(float(after), self.maximum)
        return self.exponential(retry_state)


def _describe(error: BaseException) -> str:
    if isinstance(error, _RetryableStatus):
        return _status(error.response)
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


def _status(response: httpx.Response) -> str:
    body = " ".join(response.text.split())[:200]
    return f"HTTP {response.status_code} {response.reason_phrase}".rstrip() + \
        (f": {body}" if body else "")


class _Ledger:
    """<destination>.ledger.jsonl: one JSON line per acknowledged batch, fsynced."""

    def __init__(self, path: Path, identity: dict[str, Any]) -> None:
        self.path = path
        self.identity = identity  # build_id, previous_build_id, what, url: one change set
        self.acknowledged: dict[tuple[str, int], str] = {}  # (audience, batch) -> key
        if path.is_file():
            lines = path.read_text(encoding="utf-8").split("\n")
            for number, line in enumerate(lines, start=1):
                if not line.strip():
                    continue
                try:
                    entry = json.loads(line)
                    key = (entry["audience_id"], int(entry["batch_number"]))
                    matches = all(entry.get(k) == v for k, v in identity.items())
                    batch = str(entry["idempotency_key"])
                except (ValueError, KeyError, TypeError):
                    if number == len(lines):  # torn last line: the batch was not recorded
                        log.warning("ignoring the incomplete last line of %s", path)
                        continue
                    raise ExportError(f"{path}, line {number}: not a ledger entry; restore "
                                      "the file or move it aside (then every batch of this "
                                      "destination is sent again).") from None
                if matches:
                    self.acknowledged[key] = batch
        path.parent.mkdir(parents=True, exist_ok=True)
        created = not path.exists()
        self.handle = open(path, "a", encoding="utf-8")  # noqa: SIM115 - closed in close()
        if created:
            _fsync(path.parent)

    def record(self, entry: dict[str, Any]) -> None:
        self.handle.write(json.dumps(entry, sort_keys=True) + "\n")
        self.handle.flush()
        os.fsync(self.handle.fileno())

    def close(self) -> None:
        self.handle.close()


def _send_webhook(inputs: _Inputs, destination: WebhookDestination, result: DestinationResult,
                  say: Callable[[str], None], headers: dict[str, str], ledger_dir: Path) -> None:
    from lifecycle_warehouse.pipeline.locks import LockHeld, advisory_lock

    lock = Path(ledger_dir) / f".{destination.name}.lock"
    record = {"operation": "lw export", "pid": os.getpid(),
              "since": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
    try:
        with advisory_lock(lock, record, timeout=0):
            ledger = _Ledger(ledger_path(ledger_dir, destination.name),
                             {"build_id": inputs.build_id,
                              "previous_build_id": inputs.previous_build_id,
                              "what": destination.what, "url": destination.url})
            try:
                with httpx.Client(timeout=destination.timeout_s) as client:
                    for audience in result.audiences:
                        _send_audience(inputs, destination, audience, client, ledger,
                                       {**headers, "Content-Type": "application/json"}, say)
                        say(_audience_line(destination, audience))
            finally:
                ledger.close()
    except LockHeld as held:
        holder = held.holder or {}
        raise ExportError(f"Destination {destination.name!r} is being exported by another "
                          f"lw export (PID {holder.get('pid', '?')}, since "
                          f"{holder.get('since', '?')}); let it finish and run again.") \
            from None
    except OSError as error:
        raise ExportError(f"Destination {destination.name!r}: cannot write its ledger in "
                          f"{ledger_dir} ({error.strerror or error}); make it writable.") \
            from None


def _send_audience(inputs: _Inputs, destination: WebhookDestination, audience: AudienceResult,
                   client: httpx.Client, ledger: _Ledger, headers: dict[str, str],
                   say: Callable[[str], None]) -> None:
    if not audience.rows:
        return  # nothing to send: no request at all
    aid = audience.audience_id
    where = f"batch {{}} of audience {aid} (build {inputs.build_id})"

    def on_retry(state: tenacity.RetryCallState) -> None:
        audience.retries += 1
        error = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0.0
        say(f"export {destination.name} {aid}: batch {batch_number}: "
            f"{_describe(error) if error else '?'}; attempt {state.attempt_number + 1} of "
            f"{destination.max_attempts} in {wait:.2g} s")

    retrying = tenacity.Retrying(
        stop=tenacity.stop_after_attempt(destination.max_attempts),
        wait=_Backoff(destination.backoff_initial_s, destination.backoff_max_s),
        retry=tenacity.retry_if_exception_type((httpx.TransportError, _RetryableStatus)),
        before_sleep=on_retry,
        reraise=True,
    )
    cursor = inputs.con.execute(_audience_select(aid))
    columns = [d[0] for d in cursor.description]
    batch_number = 0
    while rows := cursor.fetchmany(destination.batch_size):
        batch_number += 1
        records = [{c: (v.isoformat() if isinstance(v, dt.date) else v)
                    for c, v in zip(columns, row, strict=True)} for row in rows]
        key = batch_key(inputs.build_id, destination.name, aid, batch_number,
                        [r["idempotency_key"] for r in records])
        done = ledger.acknowledged.get((aid, batch_number))
        if done == key:
            audience.batches_skipped += 1
            continue
        if done is not None:
            raise ExportError(
                f"Destination {destination.name!r}: its ledger ({ledger.path}) records "
                f"{where.format(batch_number)} as acknowledged with other records (batch_size "
                "or channel changed since): restore that config to resume, or move the ledger "
                "aside to send the build again.")
        body = {"build_id": inputs.build_id, "previous_build_id": inputs.previous_build_id,
                "audience_id": aid,
                "batch_number": batch_number, "records": records}
        content = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
        try:
            response = retrying(_post, client, destination.url, content,
                                {**headers, "Idempotency-Key": key})
        except _RetryableStatus as error:
            raise ExportError(
                f"Destination {destination.name!r} did not acknowledge "
                f"{where.format(batch_number)} after {destination.max_attempts} attempts "
                f"(last: {_status(error.response)}); run `lw export` again later: "
                "acknowledged batches are not sent again.") from None
        except httpx.HTTPError as error:
            raise ExportError(
                f"Destination {destination.name!r} did not acknowledge "
                f"{where.format(batch_number)} after {destination.max_attempts} attempts "
                f"(last: {_describe(error)}); check {destination.url} and run `lw export` "
                "again: acknowledged batches are not sent again.") from None
        if not response.is_success:
            raise ExportError(
                f"Destination {destination.name!r} refused {where.format(batch_number)}: "
                f"{_status(response)}. Fix the endpoint or the destination's config, then "
                "run `lw export` again (acknowledged batches are not sent again).")
        ledger.record({**ledger.identity, "audience_id": aid, "batch_number": batch_number,
                       "idempotency_key": key, "records": len(records),
                       "status": response.status_code,
                       "acknowledged_at": dt.datetime.now(dt.UTC).isoformat()})
        audience.batches_sent += 1


def _post(client: httpx.Client, url: str, content: bytes,
          headers: dict[str, str]) -> httpx.Response:
    """One POST; a 429 / 5xx raises _RetryableStatus (tenacity retries it)."""
    response = client.post(url, content=content, headers=headers)
    if response.status_code == 429 or response.status_code >= 500:
        raise _RetryableStatus(response)
    return response


# ---------------------------------------------------------------------------------------
# helpers
