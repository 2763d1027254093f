"""Configuration of the synthetic landing-data generator.

Everything that tunes *what* is generated lives here: the defect rates of
``docs/landing_contract.md`` (:class:`DefectRates`), the run parameters
(:class:`GeneratorConfig`), the behaviour-model knobs (:class:`Behaviour`) and the
reference data read from the dbt seeds (:class:`SeedData`, never duplicated here).

Volume factor used by ``--events``: the generator runs a pilot chunk (5,000 persons,
same seed/days, no files written) and divides the requested event count by the
measured mean of web + app + messaging rows per person (duplicates included). With
the default behaviour model the factor is ~124 events/person at 365 days (about 85
web + app events per active person and 60 messaging webhooks per registered
person); shorter ranges give fewer (~50 at 120 days, ~30 at 60 days).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from lifecycle_warehouse.pipeline.project import LANDING_SOURCES, SEEDS_DIR
from lifecycle_warehouse.pipeline.seeds import read_seed

GENERATOR_VERSION = "1.0.0"

# Landing folders, in the order they are written / reported; seeds the generator
# shares with dbt (stores, country codes, taxonomy). Defined once in project.py.
SOURCES: tuple[str, ...] = LANDING_SOURCES
#: Sources whose rows count as "events" for ``--events``.
EVENT_SOURCES: tuple[str, ...] = ("web_events", "app_events", "messaging_webhooks")

#: Event names that are *not* in seeds/event_taxonomy.csv (checked at start-up).
UNKNOWN_EVENT_NAMES: dict[str, tuple[str, ...]] = {
    "web": ("pageview_v2", "debug_ping", "scroll_depth", "web_vitals"),
    "app": ("app_heartbeat", "debug_ping", "push_received", "screen_view_v2"),
    "messaging": ("delivery_delayed", "deferred", "spam_report", "processed"),
}


@dataclass(frozen=True)
class DefectRates:
    """Row-level defect rates (fractions of the rows of a source).

    Defaults are the contract defaults. Each defect is applied to a disjoint set of
    rows, so the counts recorded in the manifest are exactly what is on disk.
    ``extra_column`` toggles the schema drift of web events (``experiment_variant``
    in ``part-*-drift.parquet`` for rows loaded after the range mid-point).
    """

    duplicate: float = 0.005
    late_arriving: float = 0.01
    future_timestamp: float = 0.0005
    malformed_id: float = 0.001
    malformed_email: float = 0.005
    unknown_event_name: float = 0.002
    negative_amount: float = 0.003
    extra_column: bool = True

    @classmethod
    def none(cls) -> DefectRates:
        """All rates zero, no schema drift (``--no-defects``)."""
        return cls(0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, False)

    def as_dict(self) -> dict[str, float | bool]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class Behaviour:
    """Knobs of the behaviour model (see the module docstrings of persons/events)."""

    country_weights: dict[str, float] = field(
        default_factory=lambda: {"US": 0.60, "GB": 0.15, "DE": 0.15, "CN": 0.10}
    )
    p_registered: float = 0.70
    p_prospect_of_registered: float = 0.08
    p_anonymous: float = 0.15  # cookie-only visitors; the rest are unregistered buyers
    p_reactivation: float = 0.10
    p_recent_decline: float = 0.05
    p_account_closed: float = 0.03
    p_referred: float = 0.10
    half_life_days: tuple[float, float] = (20.0, 300.0)
    sessions_per_day_mean: float = 0.3  # occasions/day at first-seen (log-normal mean)
    guest_checkout_share: float = 0.10
    kiosk_cookies: int = 5
    kiosk_devices: int = 2
    kiosk_users_per_chunk: int = 60
    exclusion_email_share: float = 0.02  # of guest orders typed with a test email
    placeholder_phone_share: float = 0.03  # of POS transactions without card/phone
    demo_card_share: float = 0.03  # of POS transactions of card holders w/o their card
    #: Planted campaign effects (campaign.py): campaign_id of seeds/campaigns.csv ->
    #: probability that a treated (non-holdout) eligible person places one extra online
    #: order in the campaign's outcome window. Campaigns not listed get no effect.
    campaign_effects: dict[str, float] = field(
        default_factory=lambda: {"winback_2025_09": 0.30}
    )


@dataclass(frozen=True)
class GeneratorConfig:
    """Run parameters (what the CLI passes)."""

    seed: int = 42
    persons: int = 20_000
    days: int = 365
    start_date: dt.date = dt.date(2025, 1, 1)
    chunk_persons: int = 10_000
    defects: DefectRates = field(default_factory=DefectRates)
    traps: bool = True
    behaviour: Behaviour = field(default_factory=Behaviour)

    def __post_init__(self) -> None:
        if self.persons < 1:
            raise ValueError("persons must be >= 1")
        if self.persons > 99_999_998:
            raise ValueError("persons must fit the 8-digit user id (< 99,999,999)")
        if self.days < 7:
            raise ValueError("days must be >= 7")
        if self.chunk_persons < 1:
            raise ValueError("chunk_persons must be >= 1")

    @property
    def start_us(self) -> int:
        """Range start as epoch microseconds (UTC midnight of start_date)."""
        epoch = dt.datetime(1970, 1, 1)
        start = dt.datetime.combine(self.start_date, dt.time())
        return int((start - epoch).total_seconds()) * 1_000_000

    @property
    def end_us(self) -> int:
        return self.start_us + self.days * 86_400_000_000

    @property
    def midpoint_us(self) -> int:
        """Schema-drift boundary: rows with ``_loaded_at`` >= this get the extra column."""
        return self.start_us + self.days * 43_200_000_000

    @property
    def n_chunks(self) -> int:
        return -(-self.persons // self.chunk_persons)


@dataclass(frozen=True)
class Country:
    code: str
    calling_code: str
    currency: str
    timezone: str


@dataclass(frozen=True)
class Store:
    store_id: str
    country: str
    timezone: str
    currency: str


@dataclass(frozen=True)
class CampaignSeed:
    """One row of seeds/campaigns.csv (the campaigns the warehouse measures)."""

    campaign_id: str
    audience_id: str
    starts_on: dt.date
    outcome_window_days: int
    holdout_share: float
    holdout_salt: str


@dataclass(frozen=True)
class SeedData:
    """Reference data read from the dbt ``seeds/`` folder."""

    countries: tuple[Country, ...]
    stores: tuple[Store, ...]
    fx_to_base: dict[str, float]
    taxonomy: dict[str, frozenset[str]]  # source -> valid source_event_name
    exclusions: dict[str, tuple[str, ...]]  # identifier_type -> values
    campaigns: tuple[CampaignSeed, ...] = ()

    def country_index(self, code: str) -> int:
        return [c.code for c in self.countries].index(code)


@lru_cache(maxsize=4)
def load_seeds(seeds_dir: Path = SEEDS_DIR) -> SeedData:
    """Read stores, countries, fx rates, the event taxonomy, identity exclusions and
    the campaigns."""
    countries = tuple(
        Country(r["country_code"], r["calling_code"], r["currency_code"], r["default_timezone"])
        for r in read_seed("country_codes", seeds_dir)
    )
    stores = tuple(
        Store(r["store_id"], r["country_code"], r["timezone"], r["currency_code"])
        for r in read_seed("stores", seeds_dir)
    )
    fx = {r["currency_code"]: float(r["rate_to_base"])
          for r in read_seed("fx_rates", seeds_dir)}
    taxonomy: dict[str, set[str]] = {}
    for r in read_seed("event_taxonomy", seeds_dir):
        taxonomy.setdefault(r["source"], set()).add(r["source_event_name"])
    exclusions: dict[str, list[str]] = {}
    for r in read_seed("identity_exclusions", seeds_dir):
        exclusions.setdefault(r["identifier_type"], []).append(r["identifier_value"])
    seeds = SeedData(
        countries=countries,
        stores=stores,
        fx_to_base=fx,
        taxonomy={k: frozenset(v) for k, v in taxonomy.items()},
        exclusions={k: tuple(v) for k, v in exclusions.items()},
        campaigns=tuple(
            CampaignSeed(r["campaign_id"], r["audience_id"], dt.date.fromisoformat(r["starts_on"]),
                         int(r["outcome_window_days"]), float(r["holdout_share"]),
                         r["holdout_salt"])
            for r in read_seed("campaigns", seeds_dir)
        ),
    )
    _validate(seeds)
    return seeds


def _validate(seeds: SeedData) -> None:
    codes = {c.code for c in seeds.countries}
    for s in seeds.stores:
        if s.country not in codes:
            raise ValueError(f"store {s.store_id} has unknown country {s.country}")
    for source, names in UNKNOWN_EVENT_NAMES.items():
        clash = set(names) & seeds.taxonomy.get(source, frozenset())
        if clash:
            raise ValueError(f"unknown-event defect names {clash} are valid {source} events")
