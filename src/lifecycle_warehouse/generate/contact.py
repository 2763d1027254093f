"""Names, e-mail addresses and phone numbers, and their "as typed" variants.

Every person gets a canonical e-mail (``first.last<pid>@domain``, lower case, unique
by construction) and, if they have one, a canonical phone number derived bijectively
from the person index (unique, so phone never over-merges by accident). Sources then
render these in the messy ways humans type them: random case and stray spaces for
e-mails; E.164, international, ``00``-prefixed and national (with or without trunk
``0``) formats for phones, exactly the formats listed in the landing contract.
"""

from __future__ import annotations

import numpy as np

S = np.dtypes.StringDType()

FIRST_NAMES: dict[str, tuple[str, ...]] = {
    "US": ("James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda",
           "David", "Elizabeth", "William", "Barbara", "Olivia", "Noah", "Emma", "Liam"),
    "GB": ("Oliver", "Amelia", "George", "Isla", "Harry", "Ava", "Jack", "Mia", "Charlie",
           "Grace", "Thomas", "Sophie"),
    "DE": ("Lukas", "Anna", "Felix", "Lena", "Jonas", "Marie", "Paul", "Laura", "Max",
           "Julia", "Leon", "Sophia"),
    "CN": ("Wei", "Fang", "Lei", "Jing", "Hao", "Min", "Yang", "Xiu", "Jun", "Li", "Tao", "Yan"),
}
LAST_NAMES: dict[str, tuple[str, ...]] = {
    "US": ("smith", "johnson", "williams", "brown", "jones", "garcia", "miller", "davis",
           "rodriguez", "martinez", "wilson", "anderson"),
    "GB": ("taylor", "evans", "thomas", "roberts", "walker", "wright", "hughes", "green",
           "hall", "wood"),
    "DE": ("mueller", "schmidt", "schneider", "fischer", "weber", "meyer", "wagner",
           "becker", "schulz", "hoffmann"),
    "CN": ("wang", "li", "zhang", "liu", "chen", "yang", "huang", "zhao", "wu", "zhou"),
}
DOMAINS: dict[str, tuple[str, ...]] = {
    "US": ("gmail.com", "yahoo.com", "outlook.com", "icloud.com", "aol.com"),
    "GB": ("gmail.com", "hotmail.co.uk", "btinternet.com", "outlook.com"),
    "DE": ("gmx.de", "web.de", "gmail.com", "t-online.de"),
    "CN": ("qq.com", "163.com", "126.com", "gmail.com"),
}

# Phone formats (column codes used by render_phones).
E164, INTL_SPACE, INTL_DASH, DOUBLE_ZERO, NATIONAL, NATIONAL_ALT = range(6)
N_PHONE_FORMATS = 6


def _pick(vocab_by_country: dict[str, tuple[str, ...]], countries: list[str],
          country_idx: np.ndarray, u: np.ndarray) -> np.ndarray:
    out = np.empty(len(country_idx), dtype=S)
    for ci, code in enumerate(countries):
        m = country_idx == ci
        vocab = np.array(vocab_by_country[code], dtype=S)
        out[m] = vocab[(u[m] * len(vocab)).astype(np.intp)]
    return out


def names_and_emails(rng: np.random.Generator, countries: list[str], country_idx: np.ndarray,
                     pid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First names and canonical (lower-case, unique) e-mails."""
    n = len(pid)
    first = _pick(FIRST_NAMES, countries, country_idx, rng.random(n))
    last = _pick(LAST_NAMES, countries, country_idx, rng.random(n))
    domain = _pick(DOMAINS, countries, country_idx, rng.random(n))
    sep = np.where(rng.random(n) < 0.6, ".", "_").astype(S)
    local = np.strings.add(np.strings.add(np.strings.lower(first), sep), last)
    local = np.strings.add(local, (pid + 1).astype(str).astype(S))
    email = np.strings.add(np.strings.add(local, "@"), domain)
    return first, email


def typed_emails(rng: np.random.Generator, email: np.ndarray) -> np.ndarray:
    """Render canonical e-mails as typed: random case and surrounding spaces."""
    n = len(email)
    out = email.copy()
    u = rng.random(n)
    cap = u < 0.20
    out[cap] = np.strings.capitalize(out[cap])
    up = (u >= 0.20) & (u < 0.25)
    out[up] = np.strings.upper(out[up])
    v = rng.random(n)
    out[v < 0.05] = np.strings.add(" ", out[v < 0.05])
    tail = (v >= 0.03) & (v < 0.09)
    out[tail] = np.strings.add(out[tail], " ")
    return out


class Phones:
    """Canonical phone numbers of a set of persons, stored as digit groups.

    ``g1`` is a string prefix (area / mobile prefix), ``g2``/``g3`` integers with
    per-country widths; ``cc`` is the calling code (from seeds/country_codes.csv).
    """

    # per country: (prefixes, digits of g2, digits of g3)
    LAYOUT: dict[str, tuple[tuple[str, ...], int, int]] = {
        "US": (("415", "212", "312", "646", "617", "305", "713", "206"), 3, 4),
        "GB": (("7700", "7711", "7723", "7755", "7801", "7912", "7400", "7542"), 3, 3),
        "DE": (("151", "160", "170", "176", "152", "162", "172", "157"), 4, 4),
        "CN": (("138", "139", "186", "150", "137", "158", "188", "133"), 4, 4),
    }

    def __init__(self, countries: list[str], calling_codes: list[str],
                 country_idx: np.ndarray, pid: np.ndarray) -> None:
        n = len(pid)
        self.country_idx = country_idx
        self.countries = countries
        self.cc = np.array(calling_codes, dtype=S)[country_idx]
        self.g1 = np.empty(n, dtype=S)
        self.g2 = np.empty(n, dtype=S)
        self.g3 = np.empty(n, dtype=S)
        for ci, code in enumerate(countries):
            m = country_idx == ci
            prefixes, w2, w3 = self.LAYOUT[code]
            modulus = 10 ** (w2 + w3)
            p = pid[m].astype(np.int64)
            # prefix = p mod 8; bijective scramble of p // 8 below it -> unique numbers
            block = p % len(prefixes)
            q = p // len(prefixes)
            if code == "US":  # NANP exchange must not start with 0/1
                v = 2 * 10**6 + (q * 7_368_787 + 1_234_567) % (8 * 10**6)
            else:
                v = (q * 7_368_787 + 1_234_567) % modulus
            self.g1[m] = np.array(prefixes, dtype=S)[block]
            self.g2[m] = np.strings.zfill((v // 10**w3).astype(str).astype(S), w2)
            self.g3[m] = np.strings.zfill((v % 10**w3).astype(str).astype(S), w3)

    def e164(self, idx: np.ndarray) -> np.ndarray:
        plain = np.strings.add(np.strings.add(self.g1[idx], self.g2[idx]), self.g3[idx])
        return np.strings.add(np.strings.add("+", self.cc[idx]), plain)

    def render(self, idx: np.ndarray, fmt: np.ndarray) -> np.ndarray:
        """Phone of persons ``idx`` in format codes ``fmt`` (see module constants)."""
        out = np.empty(len(idx), dtype=S)
        g1, g2, g3, cc = self.g1[idx], self.g2[idx], self.g3[idx], self.cc[idx]
        country = self.country_idx[idx]
        add = np.strings.add

        def join(sep: str, *parts: np.ndarray) -> np.ndarray:
            acc = parts[0]
            for p in parts[1:]:
                acc = add(add(acc, sep), p)
            return acc

        m = fmt == E164
        out[m] = add(add("+", cc[m]), add(add(g1[m], g2[m]), g3[m]))
        m = fmt == INTL_SPACE
        out[m] = add(add(add("+", cc[m]), " "), join(" ", g1[m], g2[m], g3[m]))
        m = fmt == INTL_DASH
        out[m] = add(add(add("+", cc[m]), "-"), join("-", g1[m], g2[m], g3[m]))
        m = fmt == DOUBLE_ZERO
        out[m] = add(add(add("00", cc[m]), " "), join(" ", g1[m], add(g2[m], g3[m])))
        for ci, code in enumerate(self.countries):
            m = (fmt == NATIONAL) & (country == ci)
            if code == "US":
                out[m] = add(add(add("(", g1[m]), ") "), join("-", g2[m], g3[m]))
            elif code == "CN":
                out[m] = join(" ", g1[m], g2[m], g3[m])
            else:  # trunk prefix 0
                out[m] = add("0", join(" ", g1[m], add(g2[m], g3[m])))
            m = (fmt == NATIONAL_ALT) & (country == ci)
            if code == "US":
                out[m] = join(".", g1[m], g2[m], g3[m])
            elif code == "CN":
                out[m] = add(add(g1[m], g2[m]), g3[m])
            else:
                out[m] = add("0", join(" ", g1[m], g2[m], g3[m]))
        return out


def random_formats(rng: np.random.Generator, n: int,
                   weights: tuple[float, ...] = (0.25, 0.2, 0.05, 0.1, 0.25, 0.15)) -> np.ndarray:
    """Random phone format codes."""
    w = np.asarray(weights, dtype=float)
    return rng.choice(N_PHONE_FORMATS, size=n, p=w / w.sum()).astype(np.int8)
