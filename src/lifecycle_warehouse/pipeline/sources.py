"""User-declared transaction sources: load, validate and hand over to dbt (`lw build --sources`).

A declaration is one YAML file::

    identifier_types:            # optional; merged field by field over DEFAULT_IDENTIFIER_TYPES
      customer: {normalise: trim, pattern: null, hashed: false, links_persons: true,
                 max_neighbours_per_type: 10}
    demo_sources: []             # built-in demo sources to build as well (default: none)
    transaction_sources:
      - name: cdnow              # ^[a-z][a-z0-9_]*$, unique, not a demo source name
        description: "..."       # optional
        path: "${LW_CDNOW_PATH}" # file or glob; ${VAR} from the environment; relative to
                                 # the YAML file's directory; must match >= 1 file
        format: text             # csv | parquet | json (JSON lines) | text (whitespace-separated)
        options: {header: true}  # csv/text: header (default true), columns (by position,
                                 # required when header is false); csv: delimiter, quote
        columns:                 # contract field -> source column
          customer_id: {column: customer_id, identifier_type: customer}
          ordered_at: {column: date, format: "%Y%m%d", time_zone: UTC}
          amount: {column: dollar_value}  # or quantity + unit_price
          # optional: order_id, quantity, unit_price, currency ({column} or {value: GBP}),
          # product_id, loaded_at ({column, format, time_zone})
        cancellation: {order_id_prefix: "C"}  # or {negative_quantity: true}
                                              # or {flag_column: status, flag_values: [...]}

Timestamp formats are a strptime format (``%Y%m%d``), ``iso8601`` (the default), ``epoch_s``,
``epoch_ms`` or ``epoch_us``; ``time_zone`` is an IANA name (default UTC).

`load_declaration` parses and validates the file (schema, cross-field rules, ${VAR}s, globs),
`check_declaration` reads the matched files with DuckDB (columns present, timestamps parse),
`dbt_vars` gives the dict passed to `dbt --vars`, and `preflight` does all three. Every user
mistake raises `SourceConfigError`: one message naming the source, the field and the fix.
"""

from __future__ import annotations

import csv
import difflib
import glob
import os
import re
import types
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import duckdb
import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

DEMO_SOURCES = ("web", "app", "messaging", "store_pos", "online_orders", "crm")
FILE_FORMATS = ("csv", "parquet", "json", "text")
NAMED_TIME_FORMATS = ("iso8601", "epoch_s", "epoch_ms", "epoch_us")
_EPOCH_DIVISORS = {"epoch_s": 1, "epoch_ms": 1_000, "epoch_us": 1_000_000}
# Epoch values outside 1900-01-01 .. 2200-01-01 count as unparsed (usually a wrong unit).
_EPOCH_RANGE_S = (-2_208_988_800, 7_258_118_400)
_SAMPLE_ROWS = 1000
_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_VAR_RE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")

Normaliser = Literal["none", "trim", "lower", "email", "e164"]
DemoSource = Literal["web", "app", "messaging", "store_pos", "online_orders", "crm"]


def _trim_type(pattern: str | None) -> dict[str, Any]:
    return {
        "normalise": "trim",
        "pattern": pattern,
        "hashed": False,
        "links_persons": True,
        "max_neighbours_per_type": 10,
    }


# The project's identifier types (dbt_project.yml var `identifier_types` holds the same).
DEFAULT_IDENTIFIER_TYPES: dict[str, dict[str, Any]] = {
    "user": _trim_type(r"^U[0-9]{8}$"),
    "cookie": _trim_type(r"^ck_[0-9a-f]{16}$"),
    "device": _trim_type(r"^dv_[0-9a-f]{16}$"),
    "loyalty_card": _trim_type(r"^LC[0-9]{10}$"),
    "email": {
        **_trim_type(r"^[a-z0-9._%+-]+@[a-z0-9-]+(\.[a-z0-9-]+)*\.[a-z]{2,}$"),
        "normalise": "email",
        "hashed": True,
    },
    "phone": {**_trim_type(r"^\+[1-9][0-9]{7,14}$"), "normalise": "e164", "hashed": True},
    "customer": _trim_type(None),
}
# A type the file adds (not in the defaults) starts from these values.
NEW_IDENTIFIER_TYPE = _trim_type(None)


class SourceConfigError(Exception):
    """A mistake in a source declaration; `str()` is the message to show the user."""

    def __init__(self, message: str, *, source: str | None = None) -> None:
        self.source = source
        self.message = message
        super().__init__(f"source '{source}': {message}" if source else message)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class IdentifierType(_Model):
    normalise: Normaliser = "trim"
    pattern: str | None = None
    hashed: bool = Field(default=False, strict=True)
    links_persons: bool = Field(default=True, strict=True)
    max_neighbours_per_type: int = Field(default=10, strict=True, gt=0)

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            # the pattern runs in DuckDB (RE2): no lookarounds, no backreferences
            try:
                with duckdb.connect() as con:
                    con.execute("select regexp_matches('', ?)", [value]).fetchall()
            except duckdb.Error as exc:
                reason = str(exc).splitlines()[0]
                raise ValueError(
                    f"{value!r} is not a valid regular expression ({reason}). "
                    "Fix: correct the regex (RE2 syntax, as DuckDB runs it) or set pattern: null"
                ) from None
        return value


class Options(_Model):
    header: bool = True
    delimiter: str | None = Field(default=None, min_length=1)
    quote: str | None = Field(default=None, min_length=1, max_length=1)
    columns: list[Annotated[str, Field(min_length=1)]] | None = None


class Column(_Model):
    """One mapped field: a column of the file, a constant, or SQL over the raw row."""

    column: str | None = Field(default=None, min_length=1)
    value: str | None = None
    expression: str | None = Field(default=None, min_length=1)
    # boolean fields (consent, account_closed): the values meaning true (case-insensitive)
    true_values: list[str] | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _exactly_one(self) -> Column:
        given = [name for name in ("column", "value", "expression")
                 if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError(
                "give exactly one of column, value and expression"
                + (f" (got {', '.join(given)})" if given else "")
                + ". Fix: write {column: <source column>}, {value: <constant>} or "
                "{expression: <SQL over the raw row>}"
            )
        return self


class IdentifierColumn(Column):
    identifier_type: str


class TimestampColumn(Column):
    format: str = "iso8601"
    time_zone: str = "UTC"

    @field_validator("format")
    @classmethod
    def _known_format(cls, value: str) -> str:
        if value not in NAMED_TIME_FORMATS and "%" not in value:
            raise ValueError(
                f"{value!r} is neither {', '.join(NAMED_TIME_FORMATS)} nor a strptime "
                "format. Fix: use one of those names or a strptime format such as '%Y-%m-%d'"
            )
        return value

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"{value!r} is not an IANA time zone. "
                "Fix: use a name such as UTC, Europe/London or America/New_York"
            ) from None
        return value


class CurrencyColumn(Column):
    @field_validator("value")
    @classmethod
    def _iso_code(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[A-Z]{3}", value):
            raise ValueError(
                f"{value!r} is not an ISO 4217 currency code. Fix: use three capital letters "
                "such as GBP, EUR or USD"
            )
        return value


class Columns(_Model):
    customer_id: IdentifierColumn
    ordered_at: TimestampColumn
    order_id: Column | None = None
    amount: Column | None = None
    quantity: Column | None = None
    unit_price: Column | None = None
    currency: CurrencyColumn | None = None
    product_id: Column | None = None
    refund_amount: Column | None = None
    loaded_at: TimestampColumn | None = None

    @model_validator(mode="after")
    def _amount_xor_price(self) -> Columns:
        has_amount = self.amount is not None
        has_parts = self.quantity is not None and self.unit_price is not None
        if has_amount and (self.quantity is not None or self.unit_price is not None):
            raise ValueError(
                "give either amount or quantity and unit_price, not both. "
                "Fix: remove columns.amount, or remove columns.quantity and columns.unit_price"
            )
        if not has_amount and not has_parts:
            raise ValueError(
                "the line total is missing. Fix: set columns.amount, "
                "or both columns.quantity and columns.unit_price"
            )
        return self


class Cancellation(_Model):
    order_id_prefix: str | None = Field(default=None, min_length=1)
    negative_quantity: Literal[True] | None = None
    flag_column: str | None = Field(default=None, min_length=1)
    flag_values: list[str] | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _one_rule(self) -> Cancellation:
        rules = [self.order_id_prefix, self.negative_quantity, self.flag_column]
        if sum(rule is not None for rule in rules) != 1:
            raise ValueError(
                "give exactly one rule. Fix: keep one of order_id_prefix, "
                "negative_quantity: true, or flag_column with flag_values"
            )
        if (self.flag_column is None) != (self.flag_values is None):
            raise ValueError(
                "flag_column and flag_values go together. Fix: give both, e.g. "
                "{flag_column: status, flag_values: [cancelled]}"
            )
        return self


class EventColumns(_Model):
    event_id: Column
    event_name: Column
    occurred_at: TimestampColumn
    loaded_at: TimestampColumn | None = None
    device: Column | None = None


class ProfileColumns(_Model):
    account_id: IdentifierColumn
    updated_at: TimestampColumn
    signup_at: TimestampColumn | None = None
    email: Column | None = None
    phone: Column | None = None
    country_code: Column | None = None
    consent_email: Column | None = None
    consent_sms: Column | None = None
    consent_push: Column | None = None
    consent_whatsapp: Column | None = None
    account_closed: Column | None = None
    referred_by: Column | None = None


class _FileSource(_Model):
    """What every declared source has: a name, files, a format and a row filter."""

    name: str
    description: str | None = None
    path: str = Field(min_length=1)
    format: Literal["csv", "parquet", "json", "text"]
    options: Options = Field(default_factory=Options)
    # SQL condition over the raw row: only matching rows belong to this source (the rest
    # of the file is another source's, e.g. GA4 purchase events); not counted here.
    where: str | None = Field(default=None, min_length=1)

    _files: list[Path] = PrivateAttr(default_factory=list)

    @property
    def files(self) -> list[Path]:
        """The absolute, sorted files the path matched (set by `load_declaration`)."""
        return self._files

    @field_validator("name")
    @classmethod
    def _valid_name(cls, value: str) -> str:
        if not _NAME_RE.match(value):
            raise ValueError(
                f"{value!r} is not a valid source name. Fix: use lower-case letters, "
                "digits and underscores, starting with a letter (e.g. my_orders)"
            )
        # the demo sources, and the demo's order sources (order keys 'online:' / 'store:')
        reserved = (*DEMO_SOURCES, "online", "store")
        if value in reserved:
            raise ValueError(
                f"{value!r} is a built-in demo source name. Fix: choose another name "
                f"(reserved: {', '.join(reserved)})"
            )
        return value

    @model_validator(mode="after")
    def _options(self) -> _FileSource:
        given = self.options.model_fields_set
        csv_only = given & {"delimiter", "quote"}
        if self.format != "csv" and csv_only:
            raise ValueError(
                f"options.{sorted(csv_only)[0]} applies to format csv only. Fix: remove it"
                + (" (text splits on runs of whitespace)" if self.format == "text" else "")
            )
        if self.format in ("parquet", "json") and given:
            raise ValueError(
                f"format {self.format} takes no options (got {', '.join(sorted(given))}). "
                "Fix: remove options"
            )
        if self.options.header and self.options.columns is not None:
            raise ValueError(
                "options.columns is only used when options.header is false. "
                "Fix: remove options.columns, or set options.header: false"
            )
        if not self.options.header and not self.options.columns:
            raise ValueError(
                "options.header is false, so the column names are needed. "
                "Fix: set options.columns to the column names in file order"
            )
        if self.options.columns and len(set(self.options.columns)) < len(self.options.columns):
            raise ValueError("options.columns has duplicate names. Fix: make them unique")
        return self

    def mapped_columns(self) -> list[tuple[str, str]]:
        """(field path, source column) for every source column the declaration uses."""
        mapped = [
            (f"columns.{field}", ref.column)
            for field, ref in self.columns
            if ref is not None and ref.column is not None
        ]
        mapped += [
            (f"identifiers[{index}]", ref.column)
            for index, ref in enumerate(getattr(self, "identifiers", []))
            if ref.column is not None
        ]
        return mapped

    def timestamp_fields(self) -> list[str]:
        return [field for field, ref in self.columns if isinstance(ref, TimestampColumn)]

    def identifier_refs(self) -> list[tuple[str, IdentifierColumn]]:
        return [(f"identifiers[{i}]", ref)
                for i, ref in enumerate(getattr(self, "identifiers", []))]


class VoidRule(_Model):
    """Lines of a cancelled (never paid) order: they count nothing."""

    flag_column: str = Field(min_length=1)
    flag_values: list[str] = Field(min_length=1)


class TransactionSource(_FileSource):
    columns: Columns
    # more identifiers of the customer (each linked to customer_id); in order of precedence
    identifiers: list[IdentifierColumn] = Field(default_factory=list)
    # lines that reverse a sale (returns, refunds, C-invoices): money paid back
    cancellation: Cancellation | None = None
    # lines of an order cancelled before it was paid: no revenue, no refund, no order
    void: VoidRule | None = None

    @model_validator(mode="after")
    def _rules(self) -> TransactionSource:
        rule = self.cancellation
        if rule and rule.order_id_prefix is not None and self.columns.order_id is None:
            raise ValueError(
                "cancellation.order_id_prefix needs columns.order_id. Fix: map columns.order_id"
            )
        if rule and rule.negative_quantity and self.columns.quantity is None:
            raise ValueError(
                "cancellation.negative_quantity needs columns.quantity. "
                "Fix: map columns.quantity (with unit_price) or use another rule"
            )
        return self

    def mapped_columns(self) -> list[tuple[str, str]]:
        mapped = super().mapped_columns()
        if self.cancellation and self.cancellation.flag_column:
            mapped.append(("cancellation.flag_column", self.cancellation.flag_column))
        if self.void:
            mapped.append(("void.flag_column", self.void.flag_column))
        return mapped

    def identifier_refs(self) -> list[tuple[str, IdentifierColumn]]:
        return [("columns.customer_id", self.columns.customer_id), *super().identifier_refs()]


class EventName(_Model):
    """Where one source event name goes in the canonical taxonomy."""

    event_name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    event_category: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    channel: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    is_user_initiated: bool = Field(strict=True)


class EventSource(_FileSource):
    # the `source` of seeds/event_taxonomy.csv whose rows map this source's event names
    # (default: the source's name) ...
    taxonomy: str | None = None
    # ... or the mapping itself: source event name -> canonical event
    event_names: dict[str, EventName] | None = None
    columns: EventColumns

    @model_validator(mode="after")
    def _one_taxonomy(self) -> EventSource:
        if self.taxonomy is not None and self.event_names is not None:
            raise ValueError(
                "give taxonomy or event_names, not both. Fix: keep event_names to map the "
                "names here, or taxonomy to use rows of seeds/event_taxonomy.csv"
            )
        return self
    # in order of precedence: the first present resolves the person, the others link to it
    identifiers: list[IdentifierColumn] = Field(min_length=1)


class ProfileSource(_FileSource):
    columns: ProfileColumns

    def identifier_refs(self) -> list[tuple[str, IdentifierColumn]]:
        return [("columns.account_id", self.columns.account_id)]


SOURCE_KINDS = ("transaction_sources", "event_sources", "profile_sources")


class Declaration(_Model):
    identifier_types: dict[str, IdentifierType] = Field(default_factory=dict)
    demo_sources: list[DemoSource] = Field(default_factory=list)
    transaction_sources: list[TransactionSource] = Field(default_factory=list)
    event_sources: list[EventSource] = Field(default_factory=list)
    profile_sources: list[ProfileSource] = Field(default_factory=list)
    # Deployment bounds of the quality gates, deep-merged over quality_gates.yml (same
    # layout: {layer: {check: bounds}}); checked by lifecycle_warehouse.pipeline.gates.config.
    gates: dict[str, Any] = Field(default_factory=dict)

    def declared(self) -> list[tuple[str, int, _FileSource]]:
        """(kind, index, source) of every declared source, in file order per kind."""
        return [(kind, index, source) for kind in SOURCE_KINDS
                for index, source in enumerate(getattr(self, kind))]

    def merged_identifier_types(self) -> dict[str, dict[str, Any]]:
        """Defaults with the file's types merged over them field by field, sorted by name."""
        merged = {name: dict(spec) for name, spec in DEFAULT_IDENTIFIER_TYPES.items()}
        for name, spec in self.identifier_types.items():
            base = merged.get(name, NEW_IDENTIFIER_TYPE)
            merged[name] = {**base, **spec.model_dump(exclude_unset=True)}
        return {name: merged[name] for name in sorted(merged)}


# --- loading -------------------------------------------------------------------------------


def load_declaration(path: Path, *, environ: Mapping[str, str] = os.environ) -> Declaration:
    """Parse and validate a declaration file and resolve each source's files (no file reads)."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SourceConfigError(
            f"declaration file {path} does not exist. Fix: pass the path of your sources YAML"
        ) from None
    except yaml.YAMLError as exc:
        raise SourceConfigError(
            f"{path} is not valid YAML ({' '.join(str(exc).split())}). Fix: correct the syntax"
        ) from None
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise SourceConfigError(
            f"{path} must hold a mapping with transaction_sources. Fix: see the file format "
            "in lifecycle_warehouse/pipeline/sources.py"
        )
    try:
        decl = Declaration.model_validate(raw)
    except ValidationError as exc:
        raise _user_error(exc, raw) from None
    if not decl.declared() and not decl.demo_sources:
        raise SourceConfigError(
            f"{path} declares no sources. Fix: add transaction_sources, event_sources, "
            "profile_sources (or demo_sources)"
        )
    _check_cross_fields(decl)
    base_dir = path.resolve().parent
    for kind, index, source in decl.declared():
        source._files = _resolve_files(source, f"{kind}[{index}].path", base_dir, environ)
    return decl


def _check_cross_fields(decl: Declaration) -> None:
    if len(set(decl.demo_sources)) < len(decl.demo_sources):
        raise SourceConfigError("demo_sources lists a source twice. Fix: list each once")
    seen: set[str] = set()
    for _kind, _index, source in decl.declared():
        if source.name in seen:
            raise SourceConfigError(
                "the name is used by two declared sources. Fix: give each a unique name",
                source=source.name,
            )
        seen.add(source.name)
    taxonomies = _seed_taxonomies()
    for source in decl.event_sources:
        wanted = source.taxonomy or source.name
        if source.event_names is None and wanted not in taxonomies:
            raise SourceConfigError(
                f"taxonomy {wanted!r} has no rows in seeds/event_taxonomy.csv (taxonomies: "
                f"{', '.join(sorted(taxonomies))}), so every event would be quarantined. Fix: "
                "map the event names under event_names, name a taxonomy of the seed, or add "
                "its rows to the seed",
                source=source.name,
            )
    types_ = decl.merged_identifier_types()
    for _kind, _index, source in decl.declared():
        for field, ref in source.identifier_refs():
            wanted = ref.identifier_type
            if wanted not in types_:
                raise SourceConfigError(
                    f"{field}.identifier_type {wanted!r} is not a configured identifier "
                    f"type; configured: {', '.join(types_)}. Fix: use one of them, or declare "
                    f"{wanted!r} under identifier_types",
                    source=source.name,
                )


def _seed_taxonomies() -> set[str]:
    """The taxonomies (values of `source`) of seeds/event_taxonomy.csv."""
    from lifecycle_warehouse.pipeline.seeds import seed_column

    return set(seed_column("event_taxonomy", "source"))


def _resolve_files(
    source: _FileSource, where: str, base_dir: Path, environ: Mapping[str, str]
) -> list[Path]:

    def expand(match: re.Match[str]) -> str:
        var = match.group(1)
        if var not in environ:
            raise SourceConfigError(
                f"{where} uses ${{{var}}} but environment variable {var} is not set. "
                f"Fix: export {var}=<path to the files>, or write the path directly",
                source=source.name,
            )
        return environ[var]

    expanded = Path(_VAR_RE.sub(expand, source.path)).expanduser()
    pattern = os.path.normpath(expanded if expanded.is_absolute() else base_dir / expanded)
    if os.path.isdir(pattern):
        raise SourceConfigError(
            f"{where} {pattern} is a directory. Fix: name the files, e.g. {pattern}/*.csv",
            source=source.name,
        )
    if os.path.isfile(pattern):
        return [Path(pattern)]
    files = sorted(Path(p) for p in glob.glob(pattern, recursive=True) if os.path.isfile(p))
    if not files:
        raise SourceConfigError(
            f"{where} {source.path!r} (resolved to {pattern}) matches no file. "
            "Fix: correct the path or glob (relative paths start at the YAML file's directory)",
            source=source.name,
        )
    return files


def _loc_str(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _unwrap(tp: Any) -> Any:
    while True:
        origin = get_origin(tp)
        if origin is Annotated:
            tp = get_args(tp)[0]
        elif origin in (Union, types.UnionType):
            tp = next(arg for arg in get_args(tp) if arg is not type(None))
        else:
            return tp


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The model class validating the value at `loc` in the declaration, if any."""
    tp: Any = Declaration
    for part in loc:
        tp = _unwrap(tp)
        if isinstance(tp, type) and issubclass(tp, BaseModel) and part in tp.model_fields:
            tp = tp.model_fields[part].annotation
        elif get_origin(tp) in (list, dict):
            tp = get_args(tp)[-1]
        else:
            return None
    tp = _unwrap(tp)
    return tp if isinstance(tp, type) and issubclass(tp, BaseModel) else None


def _user_error(exc: ValidationError, raw: dict[str, Any]) -> SourceConfigError:
    """The first pydantic error as one message with the YAML path and a fix.

    An unknown key goes first: it usually is a misspelling that also causes a "missing" error.
    """
    errors = exc.errors(include_url=False)
    error = min(errors, key=lambda e: e["type"] != "extra_forbidden")
    loc, kind, value = tuple(error["loc"]), error["type"], error.get("input")
    source = None
    if len(loc) >= 2 and loc[0] in SOURCE_KINDS and isinstance(loc[1], int):
        items = raw.get(loc[0]) or []
        item = items[loc[1]] if loc[1] < len(items) else None
        name = item.get("name") if isinstance(item, dict) else None
        source = name if isinstance(name, str) else None
    where = _loc_str(loc)
    if kind == "extra_forbidden":
        parent = _loc_str(loc[:-1]) or "the top level"
        model = _model_at(loc[:-1])
        keys = list(model.model_fields) if model else []
        allowed = f"; allowed keys: {', '.join(keys)}" if keys else ""
        close = difflib.get_close_matches(str(loc[-1]), keys, n=1)
        fix = f"rename it to {close[0]!r}" if close else "remove it or correct its spelling"
        message = f"unknown key {loc[-1]!r} in {parent}{allowed}. Fix: {fix}"
    elif kind == "missing":
        message = f"{where} is required. Fix: add {loc[-1]}: to {_loc_str(loc[:-1]) or 'the file'}"
    elif kind == "literal_error":
        message = (
            f"{where} is {value!r}; allowed values: {error['ctx']['expected']}. "
            "Fix: use one of them"
        )
    elif kind == "value_error":
        message = f"{where}: {error['msg'].removeprefix('Value error, ')}"
    elif kind in ("model_type", "model_attributes_type") and (model := _model_at(loc)):
        keys = ", ".join(model.model_fields)
        column_ref = "column" in model.model_fields and isinstance(value, str)
        hint = f" such as {{column: {value}}}" if column_ref else ""
        message = (
            f"{where} must be a mapping (keys: {keys}), got {value!r}. "
            f"Fix: write it as a mapping{hint}"
        )
    else:
        message = f"{where}: {error['msg']} (got {value!r}). Fix: correct {where}"
    return SourceConfigError(message, source=source)


# --- checking the files --------------------------------------------------------------------


def _sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _check_line_lengths(source: _FileSource, file: Path) -> None:
    """A line longer than dbt's line reader holds (16 MiB) is refused before dbt runs."""
    from lifecycle_warehouse.pipeline.landing_check import _check_line_lengths as check
    from lifecycle_warehouse.pipeline.runner import BuildError

    try:
        check(file)
    except BuildError as error:
        raise SourceConfigError(str(error), source=source.name) from None


def _csv_rows(source: _FileSource, file: Path) -> tuple[list[str], list[list[str]]]:
    """The header names (or the declared columns) and the first rows of a csv file that
    are rows: UTF-8, quotes closed, one field per column (the others are quarantined)."""
    opts = source.options
    delimiter, quote = opts.delimiter or ",", opts.quote or chr(34)
    names: list[str] | None = None if opts.header else list(opts.columns or [])
    rows: list[list[str]] = []
    from lifecycle_warehouse.pipeline.landing_check import open_binary

    with open_binary(file) as handle:
        for raw in handle:
            try:
                line = raw.decode("utf-8-sig" if names is None else "utf-8").rstrip("\r\n")
            except UnicodeDecodeError:
                if names is None:
                    raise SourceConfigError(
                        f"{file}: its first line is not UTF-8 text, so it is no header. "
                        "Fix: write the file as UTF-8 with its header line",
                        source=source.name) from None
                continue
            if not line:
                continue
            try:
                fields = next(csv.reader([line], delimiter=delimiter, quotechar=quote,
                                         strict=True))
            except (csv.Error, StopIteration):
                continue
            if names is None:
                names = [name.strip() for name in fields]
            elif not opts.header and not rows and len(fields) != len(names):
                raise SourceConfigError(
                    f"{file} has {len(fields)} fields per line but options.columns names "
                    f"{len(names)}. Fix: list one name per field, in file order",
                    source=source.name,
                )
            elif len(fields) == len(names):
                rows.append(fields)
                if len(rows) >= _SAMPLE_ROWS:
                    break
    return names or [], rows


def _relation(con: duckdb.DuckDBPyConnection, source: _FileSource, file: Path) -> str:
    """A DuckDB relation of `file`'s rows as dbt reads them (csv values as text; csv and
    json: only the lines that are rows, a sample of csv)."""
    f = _sql_str(str(file))
    if source.format == "parquet":
        return f"read_parquet({f})"
    table = _ident(f"lw_check_{source.name}_{abs(hash(str(file)))}")
    exists = con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = ?",
                         [table.strip('"')]).fetchone()[0]
    if exists:
        return table
    if source.format == "json":
        from lifecycle_warehouse.pipeline.landing_check import json_object_lines

        objects = json_object_lines(f)
        structure = con.execute(
            f"SELECT CAST(json_group_structure(CAST(line AS JSON)) AS VARCHAR) FROM {objects}"
        ).fetchone()[0]
        if not structure or not structure.startswith("{") or structure == "{}":
            raise SourceConfigError(
                f"{file} has no line that is a JSON object. Fix: check the format and the file",
                source=source.name)
        structure = structure.replace('"NULL"', '"VARCHAR"')
        con.execute(f"CREATE TEMP TABLE {table} AS SELECT unnest(json_transform(line, "
                    f"{_sql_str(structure)})) FROM {objects}")
        return table
    names, rows = _csv_rows(source, file)
    if not names:
        raise SourceConfigError(f"{file} is empty. Fix: remove it or narrow the path",
                                source=source.name)
    con.execute(f"CREATE TEMP TABLE {table} ("
                + ", ".join(f"{_ident(name)} VARCHAR" for name in names) + ")")
    if rows:
        con.executemany(f"INSERT INTO {table} VALUES ({', '.join('?' * len(names))})",
                        [[value if value != "" else None for value in row] for row in rows])
    return table


def _text_lines(file: Path) -> list[list[str]]:
    """The first lines (header + sample) of a whitespace-separated file, split into fields."""
    rows: list[list[str]] = []
    with file.open(encoding="utf-8", errors="replace") as handle:
        for line in handle:
            if line.strip():
                rows.append(line.split())
            if len(rows) > _SAMPLE_ROWS:
                break
    return rows


def _file_columns(
    con: duckdb.DuckDBPyConnection, source: _FileSource, file: Path
) -> dict[str, str]:
    """Column name -> DuckDB type of one file, as the declared reader sees it."""
    opts = source.options
    if source.format == "text":
        rows = _text_lines(file)
        if not rows:
            raise SourceConfigError(
                f"{file} is empty. Fix: remove it or narrow the path", source=source.name
            )
        names = rows[0] if opts.header else [f"column{i}" for i in range(len(rows[0]))]
        found = dict.fromkeys(names, "VARCHAR")
    else:
        relation = _relation(con, source, file)
        try:
            described = con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()
        except duckdb.Error as exc:
            raise SourceConfigError(
                f"cannot read {file} as {source.format}: {str(exc).splitlines()[0]}. "
                "Fix: check format and options for this file",
                source=source.name,
            ) from None
        found = {row[0]: row[1] for row in described}
    if source.format == "text" and not opts.header:
        given = opts.columns or []
        if len(found) != len(given):
            raise SourceConfigError(
                f"{file} has {len(found)} fields per line but options.columns names "
                f"{len(given)}. Fix: list one name per field, in file order",
                source=source.name,
            )
        return dict.fromkeys(given, "VARCHAR")
    return found


def _missing_column_error(
    source: _FileSource, field: str, column: str, file: Path, columns: list[str]
) -> SourceConfigError:
    hint = ""
    if source.format == "csv" and len(columns) == 1 and re.search(r"[;,|\t]", columns[0]):
        hint = " (only one column was found: is options.delimiter right?)"
    setting = field if field.startswith(("cancellation.", "void.")) else f"{field}.column"
    # only names are printed: a file without its header has data (email, phone) there
    names = [name for name in columns if _COLUMN_NAME.match(name)]
    if len(names) < len(columns):
        hint += (f" ({len(columns) - len(names)} of its header fields do not look like column "
                 "names and are not shown: is the header line missing?)")
    return SourceConfigError(
        f"column {column!r} ({field}) is not in {file}; its columns are: "
        f"{', '.join(names) or 'none that look like names'}{hint}. "
        f"Fix: set {setting} to one of them.",
        source=source.name,
    )


_COLUMN_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_ .-]{0,63}$")


def _sample_values(
    con: duckdb.DuckDBPyConnection, source: _FileSource, file: Path, column: str
) -> list[str]:
    if source.format == "text":
        rows = _text_lines(file)
        names = rows[0] if source.options.header else source.options.columns or []
        index = names.index(column)
        body = rows[1:] if source.options.header else rows
        return [row[index] for row in body if len(row) > index][:_SAMPLE_ROWS]
    col = _ident(column)
    query = (
        f"SELECT CAST({col} AS VARCHAR) FROM {_relation(con, source, file)} "
        f"WHERE {col} IS NOT NULL AND trim(CAST({col} AS VARCHAR)) <> '' LIMIT {_SAMPLE_ROWS}"
    )
    return [row[0] for row in con.execute(query).fetchall()]


def _parsed(con: duckdb.DuckDBPyConnection, values: list[str], fmt: str) -> list[bool]:
    """Whether each value parses as a timestamp with `fmt` (DuckDB semantics, as in dbt)."""
    if fmt == "iso8601":
        expr, params = "try_cast(value AS TIMESTAMPTZ) IS NOT NULL", [values]
    elif fmt in _EPOCH_DIVISORS:
        low, high = _EPOCH_RANGE_S
        expr = (
            f"coalesce(try_cast(value AS DOUBLE) / {_EPOCH_DIVISORS[fmt]} "
            f"BETWEEN {low} AND {high}, false)"
        )
        params = [values]
    else:
        expr, params = "try_strptime(value, $2) IS NOT NULL", [values, fmt]
    query = f"SELECT {expr} FROM (SELECT unnest($1::VARCHAR[]) AS value)"
    return [row[0] for row in con.execute(query, params).fetchall()]


_GUESS_FORMATS = (
    "iso8601",
    "%Y-%m-%d %H:%M:%S %z",
    "%Y%m%d",
    "%m/%d/%Y %H:%M",
    "%d/%m/%Y %H:%M",
    "%m/%d/%Y",
    "%d/%m/%Y",
    "%d.%m.%Y",
    "%Y/%m/%d",
    "epoch_s",
    "epoch_ms",
)


def _check_timestamp(
    con: duckdb.DuckDBPyConnection,
    source: _FileSource,
    field: str,
    ref: TimestampColumn,
    kinds: dict[str, str],
) -> None:
    where = f"columns.{field}"
    kind = kinds.get(ref.column, "VARCHAR")
    if kind.startswith(("TIMESTAMP", "DATE")):
        if ref.format != "iso8601":
            raise SourceConfigError(
                f"column {ref.column!r} ({where}) is already of type {kind} in "
                f"{source.files[0]}, so format {ref.format!r} does not apply. "
                f"Fix: set {where}.format to iso8601",
                source=source.name,
            )
        return
    values, file = [], source.files[0]
    for file in source.files:
        values = _sample_values(con, source, file, ref.column)
        if values:
            break
    if not values:
        raise SourceConfigError(
            f"column {ref.column!r} ({where}) has no values in {file}. "
            f"Fix: set {where}.column to the column holding the time",
            source=source.name,
        )
    try:
        ok = _parsed(con, values, ref.format)
    except duckdb.Error as exc:
        raise SourceConfigError(
            f"{where}.format {ref.format!r} is not a valid strptime format "
            f"({str(exc).splitlines()[0]}). Fix: use DuckDB strptime specifiers such as %Y-%m-%d",
            source=source.name,
        ) from None
    failed = [value for value, good in zip(values, ok, strict=True) if not good]
    if len(failed) * 2 <= len(values):
        return
    examples = ", ".join(repr(value) for value in list(dict.fromkeys(failed))[:3])
    guess = next(
        (g for g in _GUESS_FORMATS if g != ref.format and all(_parsed(con, values, g))), None
    )
    suggestion = f" (these values parse with {guess!r})" if guess else ""
    raise SourceConfigError(
        f"column {ref.column!r} ({where}) does not parse with format {ref.format!r} in {file}: "
        f"{len(failed)} of {len(values)} sampled values fail, e.g. {examples}. "
        f"Fix: set {where}.format to the format of these values{suggestion}; allowed: a "
        f"strptime format, {', '.join(NAMED_TIME_FORMATS)}",
        source=source.name,
    )


def _check_expressions(con: duckdb.DuckDBPyConnection, source: _FileSource, file: Path) -> None:
    """Every {expression: …} and the row filter run on the file (no rows read)."""
    checks = [(f"columns.{field}.expression", ref.expression)
              for field, ref in source.columns if ref is not None and ref.expression]
    checks += [(f"{field}.expression", ref.expression)
               for field, ref in source.identifier_refs() if ref.expression]
    if source.where:
        checks.append(("where", source.where))
    for field, sql in checks:
        relation = _relation(con, source, file)
        query = (f"SELECT ({sql}) FROM {relation}" if field != "where" else
                 f"SELECT count(*) FROM {relation} WHERE {sql}")
        try:
            con.execute(f"DESCRIBE {query}").fetchall()
        except duckdb.Error as exc:
            raise SourceConfigError(
                f"{field} {sql!r} does not run on {file}: {str(exc).splitlines()[0]}. "
                "Fix: correct the SQL (DuckDB syntax over the file's columns)",
                source=source.name,
            ) from None


def check_declaration(decl: Declaration) -> dict[str, list[str]]:
    """Read every source's files: mapped columns exist everywhere, expressions run,
    timestamps parse.

    Returns each source's columns as its first file has them (in file order): the
    column list dbt's reader selects (dbt_vars' options.columns).
    """
    file_columns: dict[str, list[str]] = {}
    with duckdb.connect() as con:
        for _kind, _index, source in decl.declared():
            first_kinds: dict[str, str] = {}
            for file in source.files:
                if source.format in ("csv", "json"):
                    _check_line_lengths(source, file)
                kinds = _file_columns(con, source, file)
                first_kinds = first_kinds or kinds
                for field, column in source.mapped_columns():
                    if column not in kinds:
                        raise _missing_column_error(source, field, column, file, list(kinds))
                _check_expressions(con, source, file)
            for field in source.timestamp_fields():
                ref = getattr(source.columns, field)
                if ref is not None and ref.column is not None:
                    _check_timestamp(con, source, field, ref, first_kinds)
            file_columns[source.name] = list(first_kinds)
    return file_columns


# --- handing over to dbt -------------------------------------------------------------------


def _options(source: _FileSource, columns: list[str] | None) -> dict[str, Any]:
    """Reader options with defaults filled; columns: every column of the files (the
    declared names without a header, else the first file's), which dbt selects."""
    opts = source.options
    columns = opts.columns or columns
    if source.format == "csv":
        return {
            "header": opts.header,
            "delimiter": opts.delimiter or ",",
            "quote": opts.quote or '"',
            "columns": columns,
        }
    if source.format == "text":
        return {"header": opts.header, "columns": columns}
    return {"columns": columns}


def _mapping(ref: BaseModel | None) -> dict[str, Any] | None:
    return None if ref is None else ref.model_dump(exclude_none=True)


def _source_vars(source: _FileSource, columns: list[str] | None) -> dict[str, Any]:
    """What the dbt adapters need of one declared source."""
    out: dict[str, Any] = {
        "name": source.name,
        "description": source.description,
        "paths": [str(file) for file in source.files],
        "format": source.format,
        "options": _options(source, columns),
        "where": source.where,
        "columns": {field: _mapping(ref) for field, ref in source.columns if ref is not None},
    }
    if isinstance(source, (TransactionSource, EventSource)):
        out["identifiers"] = [_mapping(ref) for ref in source.identifiers]
    if isinstance(source, TransactionSource):
        out["cancellation"] = _mapping(source.cancellation)
        out["void"] = _mapping(source.void)
    if isinstance(source, EventSource):
        out["taxonomy"] = source.taxonomy or source.name
        out["event_names"] = ({name: mapping.model_dump() for name, mapping
                               in sorted(source.event_names.items())}
                              if source.event_names else None)
    return out


def dbt_vars(
    decl: Declaration, file_columns: Mapping[str, list[str]] | None = None
) -> dict[str, Any]:
    """The JSON-serialisable dict for `dbt --vars` (deterministic: sorted, stable keys).

    file_columns: check_declaration's result; without it options.columns is only known
    for files without a header.
    """
    file_columns = file_columns or {}
    result: dict[str, Any] = {
        "identifier_types": decl.merged_identifier_types(),
        "demo_sources": [name for name in DEMO_SOURCES if name in decl.demo_sources],
    }
    for kind in SOURCE_KINDS:
        result[kind] = [_source_vars(source, file_columns.get(source.name))
                        for source in getattr(decl, kind)]
    return result


def preflight(path: Path, *, environ: Mapping[str, str] = os.environ) -> dict[str, Any]:
    """Load, check and translate a declaration: the dbt vars, or a SourceConfigError."""
    decl = load_declaration(path, environ=environ)
    return dbt_vars(decl, check_declaration(decl))
