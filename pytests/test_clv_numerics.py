"""BG/NBD expected purchases where lifetimes' log-space formula gives NaN.

With a + b < 1 (the fit of a 2,000-person sample gave a = 0.065, b = 0.617) and
frequency 0, eq. (10) of Fader, Hardie & Lee (2005) has a negative hypergeometric term,
and lifetimes takes its logarithm: NaN for recent non-repeaters, which failed the
int_person_clv_predictions range test. The oracle here is independent of the formula:
for x = 0 the person is alive, lambda ~ Gamma(r, alpha + T) and p ~ Beta(a, b), so
E[Y(t)] = E_p[(1 - ((alpha + T) / (alpha + T + p t))^r) / p], integrated numerically.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from lifetimes import BetaGeoFitter
from scipy import integrate
from scipy.special import beta

from lifecycle_warehouse.clv.model import FittedModels, expected_purchases

R, ALPHA, A, B = 0.39645572735413154, 15.3735878999903, 0.06527499922236038, 0.6174761035333628


def models() -> FittedModels:
    bgf = BetaGeoFitter()
    bgf.params_ = pd.Series({"r": R, "alpha": ALPHA, "a": A, "b": B})
    return FittedModels(bgf=bgf, ggf=None, fit_persons=0, gamma_gamma_persons=0,
                        fit_seconds=0.0, params={})


def integral_oracle(T: float, t: float) -> float:
    def integrand(p: float) -> float:
        return (1 - ((ALPHA + T) / (ALPHA + T + p * t)) ** R) / p if p > 0 else R * t / (ALPHA + T)
    value, _ = integrate.quad(integrand, 0, 1, weight="alg", wvar=(A - 1, B - 1))
    return value / beta(A, B)


@pytest.mark.parametrize("T", [3.0, 37.0, 85.0])
def test_recent_non_repeaters_get_the_integrated_expectation_not_nan(T):
    got = expected_purchases(models(), 90.0, np.array([0.0]), np.array([0.0]), np.array([T]))
    assert np.isfinite(got).all()
    assert got[0] == pytest.approx(integral_oracle(T, 90.0), rel=1e-9)


def test_values_lifetimes_computes_are_kept_as_they_are():
    frequency, recency, T = np.array([0.0, 3.0]), np.array([0.0, 120.0]), np.array([136.0, 200.0])
    lifetimes_values = models().bgf.conditional_expected_number_of_purchases_up_to_time(
        90.0, frequency, recency, T)
    assert np.isfinite(lifetimes_values).all()
    assert (expected_purchases(models(), 90.0, frequency, recency, T) == lifetimes_values).all()
