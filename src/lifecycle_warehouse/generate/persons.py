"""Person-level behaviour model (vectorised per chunk of persons).

Every synthetic person is drawn once per chunk with these attributes:

* **country** US 60 % / GB 15 % / DE 15 % / CN 10 % (codes, currencies and time zones
  come from ``seeds/country_codes.csv``).
* **kind**: *registered* (70 %, has a user id and a CRM row; 8 % of them are
  *prospects* with a CRM row and messaging but no user-initiated events at all),
  *anonymous* (15 %, cookie-only web visitors that never identify themselves) and
  *guest* (15 %, unregistered buyers identified only by e-mail at guest checkout or
  by phone / loyalty card in stores).
* **first-seen time**: cohorts grow over the range (2x from first to last day) with
  weekly (weekend-heavy) and yearly (November/December peak) seasonality, so the
  last 2-3 weeks always hold a few percent of brand-new persons.
* **channels**: web (1-3 cookies), app (~40 % of persons, 1-2 devices), store
  shopper (~25 %, 85 % of registered shoppers hold a loyalty card, the others give a
  phone number at the till); e-mail for all registered and guests, phone for ~60 %
  of registered persons.
* **buyer propensity**: ~45 % of active persons ever buy. Per online session
  conversion is Pareto distributed, so a small head of heavy buyers exists
  ("champions"), and heavy buyers are also more engaged.
* **engagement**: occasions/day at first-seen (log-normal) decaying exponentially
  with a person-specific half-life of 20-300 days -> natural churn.
* **reactivation** (~10 %): a silent gap of 60-120 days followed by a renewed,
  decaying burst. **Recent decline** (~5 %): steady users whose activity collapses
  in the last 60 days of the range ("at risk").
* CRM attributes: consents Y/N/empty per channel, ~3 % closed accounts, ~10 %
  referred by another registered person of the same chunk.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .config import GeneratorConfig, SeedData
from .contact import Phones, names_and_emails

REGISTERED, PROSPECT, ANONYMOUS, GUEST = 0, 1, 2, 3
CONSENT_EMPTY, CONSENT_Y, CONSENT_N = 0, 1, 2
CONSENT_CHANNELS = ("email", "sms", "push", "whatsapp")

#: Relative weight of cohorts by weekday (Mon..Sun).
WEEKDAY_WEIGHT = np.array([1.0, 0.95, 0.95, 1.0, 1.1, 1.3, 1.25])


def yearly_weight(day_of_year: np.ndarray) -> np.ndarray:
    """Yearly seasonality: +35 % around late November, -15 % in early summer."""
    return 1.0 + 0.25 * np.cos(2 * np.pi * (day_of_year - 330) / 365.25)


@dataclass
class Persons:
    """Attributes of the persons of one chunk (arrays of length ``n``)."""

    n: int
    pid: np.ndarray  # global person index (int64); user id = U{pid+1:08d}
    country: np.ndarray  # index into seeds.countries
    kind: np.ndarray
    first_seen: np.ndarray  # days since range start (float)
    web: np.ndarray
    n_cookies: np.ndarray
    app: np.ndarray
    n_devices: np.ndarray
    store: np.ndarray
    loyalty: np.ndarray
    has_phone: np.ndarray
    has_email: np.ndarray
    buyer: np.ndarray
    rate0: np.ndarray  # occasions/day at first-seen
    half_life: np.ndarray
    react: np.ndarray
    gap_start: np.ndarray
    gap_len: np.ndarray
    react_boost: np.ndarray
    decline: np.ndarray
    conv: np.ndarray  # per online session conversion probability
    p_store: np.ndarray
    p_app: np.ndarray
    p_login: np.ndarray
    home_store: np.ndarray  # index into seeds.stores
    consent: np.ndarray  # (n, 4) consent codes for email, sms, push, whatsapp
    closed: np.ndarray
    first_name: np.ndarray
    email: np.ndarray  # canonical, lower case ("" when none)
    phones: Phones

    @property
    def registered(self) -> np.ndarray:
        return (self.kind == REGISTERED) | (self.kind == PROSPECT)

    @property
    def active(self) -> np.ndarray:
        return self.kind != PROSPECT


def cohort_weights(cfg: GeneratorConfig) -> np.ndarray:
    """Probability of a person's first-seen day, for each day of the range."""
    d = np.arange(cfg.days)
    dates = np.datetime64(cfg.start_date) + d
    weekday = (dates.astype("datetime64[D]").view("int64") - 4) % 7  # 1970-01-01 = Thu
    doy = (dates - dates.astype("datetime64[Y]")).astype(int)
    w = (1.0 + d / cfg.days) * WEEKDAY_WEIGHT[weekday] * yearly_weight(doy)
    return w / w.sum()


def _choose_eligible(rng: np.random.Generator, eligible: np.ndarray, base: np.ndarray,
                     share: float) -> np.ndarray:
    """Pick ~``share`` of ``base`` persons, restricted to ``eligible`` ones."""
    frac = eligible[base].mean() if base.any() else 0.0
    if frac <= 0:
        return np.zeros_like(eligible)
    return eligible & base & (rng.random(len(eligible)) < min(1.0, share / frac))


def sample_persons(rng: np.random.Generator, cfg: GeneratorConfig, seeds: SeedData,
                   first_pid: int, n: int) -> Persons:
    """Draw ``n`` persons with global indices ``first_pid .. first_pid + n - 1``."""
    b = cfg.behaviour
    codes = [c.code for c in seeds.countries]
    pid = first_pid + np.arange(n, dtype=np.int64)
    cw = np.array([b.country_weights.get(c, 0.0) for c in codes])
    country = rng.choice(len(codes), size=n, p=cw / cw.sum()).astype(np.int8)

    u = rng.random(n)
    kind = np.full(n, GUEST, dtype=np.int8)
    kind[u < b.p_registered] = REGISTERED
    kind[(u < b.p_registered) & (rng.random(n) < b.p_prospect_of_registered)] = PROSPECT
    kind[(u >= b.p_registered) & (u < b.p_registered + b.p_anonymous)] = ANONYMOUS
    reg_active = kind == REGISTERED
    anon, guest, prospect = kind == ANONYMOUS, kind == GUEST, kind == PROSPECT
    active = ~prospect

    first_day = rng.choice(cfg.days, size=n, p=cohort_weights(cfg))
    first_seen = first_day + rng.random(n)

    # channels
    r = lambda: rng.random(n)  # noqa: E731
    buyer = guest | (reg_active & (r() < 0.43))
    web = anon | (reg_active & (r() < 0.85)) | (guest & (r() < 0.7))
    app = (reg_active & (r() < 0.58)) | (guest & (r() < 0.1))
    store = buyer & ((reg_active & (r() < 0.58)) | (guest & (r() < 0.6)))
    store |= guest & ~web & ~app
    web |= reg_active & ~web & ~app & ~store
    loyalty = store & ((reg_active & (r() < 0.85)) | (guest & (r() < 0.4)))
    has_phone = ((reg_active | prospect) & (r() < 0.6)) | (guest & store & ~loyalty)
    has_phone |= guest & (r() < 0.3)
    has_email = ~anon
    n_cookies = rng.choice([1, 2, 3], size=n, p=[0.55, 0.3, 0.15]).astype(np.int8)
    n_devices = rng.choice([1, 2], size=n, p=[0.8, 0.2]).astype(np.int8)

    # engagement: log-normal occasions/day, exponential decay with person half-life
    sigma = 1.0
    rate0 = rng.lognormal(np.log(b.sessions_per_day_mean) - sigma**2 / 2, sigma, n)
    rate0 *= np.select([anon, guest], [0.35, 0.6], 1.0)
    lo, hi = b.half_life_days
    half_life = np.exp(rng.uniform(np.log(lo), np.log(hi), n))
    half_life[anon] = np.exp(rng.uniform(np.log(10), np.log(60), anon.sum()))

    conv = np.zeros(n)
    conv[buyer] = np.minimum(0.6, 0.02 * (1.0 + rng.pareto(1.6, buyer.sum())))
    heavy = conv > 0.12
    rate0[heavy] *= 2.0
    rate0 = np.minimum(rate0, 4.0)

    # reactivation spells: gap of 60-120 days after some initial activity, then a burst
    gap_start = first_seen + rng.uniform(7, 60, n)
    gap_len = rng.uniform(60, 120, n)
    room = cfg.days - 14 - gap_start
    react = _choose_eligible(rng, room >= 60, active & ~anon, b.p_reactivation)
    gap_len = np.where(react, np.minimum(gap_len, np.maximum(room, 60)), 0.0)
    react_boost = rng.uniform(1.0, 2.5, n)
    half_life[react] = np.maximum(half_life[react], 40.0)
    rate0[react] = np.maximum(rate0[react], 0.15)

    # recent decline: long-lived, steady users whose activity collapses in the last 60 days
    decline = _choose_eligible(rng, (first_seen < cfg.days - 90) & ~react, active & ~anon,
                               b.p_recent_decline)
    half_life[decline] = np.maximum(half_life[decline], 250.0)
    rate0[decline] = np.maximum(rate0[decline], 0.12)

    p_store = np.where(store, rng.uniform(0.08, 0.35, n), 0.0)
    p_store[store & ~web & ~app] = 1.0
    p_app = np.where(app & web, rng.uniform(0.3, 0.85, n), np.where(app, 1.0, 0.0))
    p_login = rng.uniform(0.3, 0.9, n)

    home_store = np.zeros(n, dtype=np.int8)
    store_country = np.array([codes.index(s.country) for s in seeds.stores])
    for ci in range(len(codes)):
        idx = np.flatnonzero(store_country == ci)
        m = country == ci
        if len(idx):
            home_store[m] = idx[rng.integers(0, len(idx), m.sum())]

    consent = np.zeros((n, 4), dtype=np.int8)
    for j, (py, pn) in enumerate([(0.72, 0.18), (0.40, 0.35), (0.55, 0.25), (0.25, 0.45)]):
        v = rng.random(n)
        consent[:, j] = np.where(v < py, CONSENT_Y, np.where(v < py + pn, CONSENT_N, 0))
    consent[~has_phone, 1] = np.where(consent[~has_phone, 1] == CONSENT_Y, 0,
                                      consent[~has_phone, 1])
    consent[~has_phone, 3] = np.where(consent[~has_phone, 3] == CONSENT_Y, 0,
                                      consent[~has_phone, 3])
    consent[~app, 2] = np.where(consent[~app, 2] == CONSENT_Y, 0, consent[~app, 2])
    consent[~(reg_active | prospect)] = CONSENT_EMPTY
    closed = (reg_active | prospect) & (rng.random(n) < b.p_account_closed)

    first_name, email = names_and_emails(rng, codes, country, pid)
    email[anon] = ""
    phones = Phones(codes, [c.calling_code for c in seeds.countries], country, pid)

    return Persons(
        n=n, pid=pid, country=country, kind=kind, first_seen=first_seen, web=web,
        n_cookies=n_cookies, app=app, n_devices=n_devices, store=store, loyalty=loyalty,
        has_phone=has_phone, has_email=has_email, buyer=buyer, rate0=rate0,
        half_life=half_life, react=react, gap_start=gap_start, gap_len=gap_len,
        react_boost=react_boost, decline=decline, conv=conv, p_store=p_store, p_app=p_app,
        p_login=p_login, home_store=home_store, consent=consent, closed=closed,
        first_name=first_name, email=email, phones=phones,
    )
