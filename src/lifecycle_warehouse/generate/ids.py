"""Vectorised identifier and string helpers.

Identifiers are derived, not drawn: ``splitmix64`` is a bijection on 64-bit integers,
so hashing a unique key (e.g. ``chunk << 40 | row``) XOR a per-seed salt gives unique,
random-looking hex ids without any bookkeeping. Fixed-width strings are assembled as
``uint8`` matrices and handed to Arrow as raw buffers (no Python objects per row).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_U64 = np.uint64


def salt(seed: int, stream: int) -> np.uint64:
    """A 64-bit salt for an id namespace, derived from the seed."""
    return splitmix64(np.array([(seed & 0xFFFFFFFF) << 20 | stream], dtype=np.uint64))[0]


def splitmix64(x: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser (bijective) applied element-wise."""
    with np.errstate(over="ignore"):
        z = x.astype(np.uint64) + _U64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> _U64(30))) * _U64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> _U64(27))) * _U64(0x94D049BB133111EB)
    return z ^ (z >> _U64(31))


def chunk_keys(chunk: int, n: int) -> np.ndarray:
    """Unique 64-bit keys for ``n`` rows of ``chunk``."""
    return (np.uint64(chunk) << _U64(40)) | np.arange(n, dtype=np.uint64)


def fixed_width_to_arrow(buf: np.ndarray) -> pa.StringArray:
    """Turn an ``(n, width)`` uint8 ASCII matrix into an Arrow string array."""
    n, width = buf.shape
    if n * width >= 2**31 - 1:
        raise ValueError("string column too large for one chunk; lower --chunk-persons")
    offsets = np.arange(0, (n + 1) * width, width, dtype=np.int32)
    data = np.ascontiguousarray(buf).reshape(-1)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(data))


def hex_ids(prefix: str, values: np.ndarray, key: np.uint64 | None = None) -> pa.StringArray:
    """``prefix`` + 16 lowercase hex digits of ``splitmix64(values ^ key)``."""
    v = values.astype(np.uint64)
    if key is not None:
        v = splitmix64(v ^ key)
    p = np.frombuffer(prefix.encode(), dtype=np.uint8)
    buf = np.empty((len(v), len(p) + 16), dtype=np.uint8)
    buf[:, : len(p)] = p
    for i in range(16):
        nibble = (v >> _U64(60 - 4 * i)) & _U64(15)
        buf[:, len(p) + i] = _HEX[nibble.astype(np.intp)]
    return fixed_width_to_arrow(buf)


def digit_ids(prefix: str, values: np.ndarray, width: int) -> pa.StringArray:
    """``prefix`` + ``values`` zero-padded to ``width`` digits."""
    v = values.astype(np.int64)
    p = np.frombuffer(prefix.encode(), dtype=np.uint8)
    buf = np.empty((len(v), len(p) + width), dtype=np.uint8)
    buf[:, : len(p)] = p
    for i in range(width):
        buf[:, len(p) + i] = 48 + (v // 10 ** (width - 1 - i)) % 10
    return fixed_width_to_arrow(buf)


def scramble_number(counter: np.ndarray, modulus: int, mult: int, offset: int) -> np.ndarray:
    """Bijective affine scramble of ``counter`` into ``[0, modulus)``.

    ``mult`` must be coprime with ``modulus``; the product is done in Python ints
    per-array via uint64 splitting to avoid overflow.
    """
    c = counter.astype(np.int64) % modulus
    hi, lo = divmod(mult, 1 << 16)
    # (c * mult) mod m = ((c * hi mod m) << 16 + c * lo) mod m, all fits in int64 for m < 2^40
    part = (c * hi) % modulus
    return ((part * (1 << 16)) % modulus + c * lo + offset) % modulus


def take_strings(vocab: list[str] | pa.Array, idx: np.ndarray,
                 null_mask: np.ndarray | None = None) -> pa.Array:
    """Vocabulary lookup; rows where ``null_mask`` is true become null."""
    arr = vocab if isinstance(vocab, pa.Array) else pa.array(vocab, pa.string())
    indices = pa.array(idx.astype(np.int64), mask=null_mask)
    return arr.take(indices)


def set_null(arr: pa.Array, null_mask: np.ndarray) -> pa.Array:
    """Return ``arr`` with rows of ``null_mask`` set to null."""
    if not null_mask.any():
        return arr
    return pc.if_else(pa.array(null_mask), pa.scalar(None, arr.type), arr)


def np_strings(arr: pa.Array) -> np.ndarray:
    """Arrow strings -> numpy StringDType (nulls become empty strings)."""
    return np.array(arr.fill_null("").to_numpy(zero_copy_only=False),
                    dtype=np.dtypes.StringDType())


def arrow_strings(arr: np.ndarray, null_mask: np.ndarray | None = None) -> pa.Array:
    """numpy StringDType -> Arrow strings, optionally with nulls."""
    out = pa.array(arr, type=pa.string())
    if null_mask is not None:
        out = set_null(out, null_mask)
    return out


def _civil(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Days since 1970-01-01 -> (year, month, day); H. Hinnant's civil_from_days."""
    z = days + 719_468
    era = np.floor_divide(z, 146_097)
    doe = z - era * 146_097
    yoe = (doe - doe // 1460 + doe // 36_524 - doe // 146_096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = np.where(mp < 10, mp + 3, mp - 9)
    y = yoe + era * 400 + (m <= 2)
    return y, m, d


def _put(buf: np.ndarray, col: int, value: np.ndarray, width: int) -> None:
    for i in range(width):
        buf[:, col + i] = 48 + (value // 10 ** (width - 1 - i)) % 10


def format_timestamps(us: np.ndarray, style: str = "iso_ms_z") -> pa.StringArray:
    """Vectorised timestamp formatting of epoch microseconds (UTC wall clock).

    ``iso_ms_z``: ``2025-03-01T12:34:56.789Z``; ``iso_s``: ``2025-03-01T12:34:56``;
    ``sql_s``: ``2025-03-01 12:34:56``.
    """
    us = us.astype(np.int64)
    days = np.floor_divide(us, 86_400_000_000)
    rem = us - days * 86_400_000_000
    y, m, d = _civil(days)
    secs = rem // 1_000_000
    ms = (rem // 1000) % 1000
    width = {"iso_ms_z": 24, "iso_s": 19, "sql_s": 19}[style]
    buf = np.empty((len(us), width), dtype=np.uint8)
    _put(buf, 0, y, 4)
    buf[:, 4] = buf[:, 7] = ord("-")
    _put(buf, 5, m, 2)
    _put(buf, 8, d, 2)
    buf[:, 10] = ord(" ") if style == "sql_s" else ord("T")
    _put(buf, 11, secs // 3600, 2)
    buf[:, 13] = buf[:, 16] = ord(":")
    _put(buf, 14, (secs // 60) % 60, 2)
    _put(buf, 17, secs % 60, 2)
    if style == "iso_ms_z":
        buf[:, 19] = ord(".")
        _put(buf, 20, ms, 3)
        buf[:, 23] = ord("Z")
    return fixed_width_to_arrow(buf)
