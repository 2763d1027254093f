"""The deterministic control-group rule, the Python twin of macro ``lw_holdout_unit``.

A person is in a campaign's holdout when ``holdout_unit(salt, key) < holdout_share``,
where ``key`` is the person's external id (``int_person_external_ids``: the smallest
source user / customer id, else the person_id). The rule needs no state, so it is
stable across builds and engines; the demo generator uses it to plant a campaign
effect on exactly the persons the warehouse treats (seeds/campaigns.csv).
"""

from __future__ import annotations

import hashlib


def holdout_unit(salt: str, key: str) -> float:
    """md5(salt + ':' + key), first 8 hex digits as an unsigned int, / 2**32: in [0, 1)."""
    digest = hashlib.md5(f"{salt}:{key}".encode()).hexdigest()
    return int(digest[:8], 16) / 4294967296.0


def is_holdout(salt: str, key: str, share: float) -> bool:
    """True when the person keyed `key` is in the control group of share `share`."""
    return holdout_unit(salt, key) < share
