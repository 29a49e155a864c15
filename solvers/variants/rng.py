"""Counter-based random numbers: variant n of (spec, seed, task) is the same everywhere.

Keys are derived in two steps:

1. a *set key*: SHA-256 of ``(version, task, canonical spec JSON, seed)``, or HMAC-SHA256
   of the same message with the server secret when one is given;
2. the *variant key* of number n: SipHash-2-4 (a keyed pseudo-random function) of n under
   the first 128 bits of the set key, computed vectorized in numpy ``uint64``.

Without the secret anybody who knows (spec, seed, n) can recompute a variant; with it,
nobody can, and seeing some variants does not reveal the others (SipHash is a PRF).

Every number of a variant is then one SplitMix64 output of ``key + (counter + 1)·γ``,
where the counter packs (attempt, stream, index): draws never depend on how many variants
are generated, in which batch, or in which order.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Sequence
from typing import Any

import numpy as np
from pydantic import BaseModel

VERSION = b"stepgrad-variants/v1"
"""Part of every key: bump it when a generator changes what a key produces."""

_U64 = np.uint64
_GOLDEN = _U64(0x9E3779B97F4A7C15)
_MIX1 = _U64(0xBF58476D1CE4E5B9)
_MIX2 = _U64(0x94D049BB133111EB)
_SIP = (0x736F6D6570736575, 0x646F72616E646F6D, 0x6C7967656E657261, 0x7465646279746573)
_INDEX_BITS = 16
_STREAM_BITS = 16
MAX_INDEX = 1 << _INDEX_BITS
"""Draws per stream per attempt."""


def canonical_json(spec: BaseModel) -> str:
    """The spec as JSON with sorted keys and no spaces: the text its keys are derived from."""
    return json.dumps(spec.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))


def set_key(task: str, spec: BaseModel, seed: int, secret: bytes | None = None) -> bytes:
    """The 32-byte key of every variant of ``task`` for (spec, seed), keyed by ``secret``."""
    message = b"\0".join((VERSION, task.encode(), canonical_json(spec).encode(), b"%d" % seed))
    if secret is None:
        return hashlib.sha256(message).digest()
    return hmac.new(secret, message, hashlib.sha256).digest()


def _rotl(x: np.ndarray, bits: int) -> np.ndarray:
    return (x << _U64(bits)) | (x >> _U64(64 - bits))


def _sip_round(v0: Any, v1: Any, v2: Any, v3: Any) -> tuple[Any, Any, Any, Any]:
    v0 = v0 + v1
    v1 = _rotl(v1, 13) ^ v0
    v0 = _rotl(v0, 32)
    v2 = v2 + v3
    v3 = _rotl(v3, 16) ^ v2
    v0 = v0 + v3
    v3 = _rotl(v3, 21) ^ v0
    v2 = v2 + v1
    v1 = _rotl(v1, 17) ^ v2
    v2 = _rotl(v2, 32)
    return v0, v1, v2, v3


def siphash24(key: bytes, messages: np.ndarray) -> np.ndarray:
    """SipHash-2-4 under the 16-byte ``key`` of each 8-byte little-endian uint64 message."""
    k0, k1 = (_U64(int.from_bytes(key[i : i + 8], "little")) for i in (0, 8))
    m = np.asarray(messages, dtype=_U64)
    full = np.ones_like(m)
    v0, v1, v2, v3 = (full * (k ^ _U64(c)) for k, c in zip((k0, k1, k0, k1), _SIP, strict=True))
    last = _U64(8 << 56)  # the length byte; an 8-byte message leaves no tail
    for word in (m, last):
        v3 = v3 ^ word
        for _ in range(2):
            v0, v1, v2, v3 = _sip_round(v0, v1, v2, v3)
        v0 = v0 ^ word
    v2 = v2 ^ _U64(0xFF)
    for _ in range(4):
        v0, v1, v2, v3 = _sip_round(v0, v1, v2, v3)
    return v0 ^ v1 ^ v2 ^ v3


def variant_keys(
    task: str,
    spec: BaseModel,
    seed: int,
    numbers: Sequence[int] | np.ndarray,
    secret: bytes | None = None,
) -> np.ndarray:
    """The uint64 keys of variants ``numbers`` (1-based) of ``task``, vectorized."""
    return siphash24(set_key(task, spec, seed, secret)[:16], np.asarray(numbers, dtype=_U64))


def mix64(z: np.ndarray) -> np.ndarray:
    """The SplitMix64 finalizer: a bijection of uint64 that mixes every bit into every bit."""
    z = (z ^ (z >> _U64(30))) * _MIX1
    z = (z ^ (z >> _U64(27))) * _MIX2
    return z ^ (z >> _U64(31))


class CounterRng:
    """Random numbers of B variants at once: a pure function of (key, attempt, stream, index).

    ``attempts`` (one per variant) selects the redraw: attempt 0 is the first draw, attempt
    a the a-th redraw of a variant that broke a rule or repeated an earlier one.
    """

    def __init__(self, keys: np.ndarray, attempts: np.ndarray | int = 0) -> None:
        self.keys = np.asarray(keys, dtype=_U64).reshape(-1)
        self.attempts = np.broadcast_to(np.asarray(attempts, dtype=_U64), self.keys.shape)

    @classmethod
    def of_key(cls, key: int, attempt: int = 0) -> CounterRng:
        """The random source of one variant (as :func:`variant_key` gives it)."""
        return cls(np.array([key], dtype=_U64), attempt)

    def first_attempt(self) -> CounterRng:
        """The same variants at attempt 0: for choices a redraw must not change (the loss
        kind, the expression family), so rules that reject one choice more often than
        another do not skew how often each is chosen."""
        return CounterRng(self.keys)

    def __len__(self) -> int:
        return len(self.keys)

    def bits(self, stream: int, size: int) -> np.ndarray:
        """(B, size) raw uint64 draws of ``stream`` (each stream is an independent sequence)."""
        if not 0 <= stream < 1 << _STREAM_BITS or not 0 < size <= MAX_INDEX:
            raise ValueError("stream or size out of range")
        base = (self.attempts << _U64(_STREAM_BITS + _INDEX_BITS)) | _U64(stream << _INDEX_BITS)
        counters = base[:, None] + np.arange(1, size + 1, dtype=_U64)
        return mix64(self.keys[:, None] + counters * _GOLDEN)

    def integers(self, stream: int, low: int, high: int, shape: tuple[int, ...] = ()) -> np.ndarray:
        """(B, *shape) int16 uniform in [low, high] (both included), by multiply-shift.

        Quiz numbers are small: int16 keeps bulk arrays compact (|low|, |high| < 2^14).
        """
        if not -(1 << 14) < low <= high < 1 << 14:
            raise ValueError("integers: the range must lie within ±2^14")
        size = int(np.prod(shape, dtype=np.int64)) if shape else 1
        span = _U64(high - low + 1)
        u = (self.bits(stream, size) >> _U64(32)) * span >> _U64(32)
        return (u.astype(np.int16) + np.int16(low)).reshape((len(self), *shape))
