"""Product catalogue shared by all chunks of a run (seeded by the run seed only)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from .ids import digit_ids

N_PRODUCTS = 5_000


@dataclass(frozen=True)
class Catalog:
    """Products ``P10000..``: Zipf-like popularity and a base-currency price."""

    number: np.ndarray  # 5-digit product numbers
    cdf: np.ndarray  # popularity CDF
    base_price: np.ndarray  # in base currency (USD)
    ids: pa.StringArray  # "P" + 5 digits

    @classmethod
    def build(cls, seed: int) -> Catalog:
        rng = np.random.default_rng([seed, 9_000_001])
        number = 10_000 + rng.permutation(90_000)[:N_PRODUCTS]
        weight = rng.lognormal(0.0, 1.3, N_PRODUCTS)
        cdf = np.cumsum(weight) / weight.sum()
        price = np.clip(rng.lognormal(np.log(30.0), 0.8, N_PRODUCTS), 2.0, 600.0)
        return cls(number=number, cdf=cdf, base_price=price, ids=digit_ids("P", number, 5))

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Indices of ``n`` products drawn by popularity."""
        return np.minimum(np.searchsorted(self.cdf, rng.random(n)), N_PRODUCTS - 1)
