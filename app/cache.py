"""Bounded caches of answers: the solve API's, the pages', the PyTorch runs'."""

from __future__ import annotations

import contextlib
import hashlib
import threading
from typing import Any

from cachetools import LRUCache

CACHE_BYTES = 8 * 2**20
"""The bytes of answers each response cache keeps at most (the solve API's, the pages', the
PyTorch runs'): hundreds of typical answers (20–60 kB), a dozen of the largest; 16 MB each
made the memory of a long run of large requests grow by 32 MB."""


class ResponseCache:
    """The bodies of the most recent distinct requests (least recently used out), at most
    ``max_bytes`` of them: a request is remembered by a 128-bit hash of what it depends on,
    not by its body (up to 1 MB), so memory stays bounded however large the requests.

    A solution depends only on the problem, the language and the rounding, so a repeated
    request (a class opening the same share link, a client retrying) costs one lookup.
    Entries are ``bytes`` or tuples whose first item is the ``bytes`` body.
    """

    OVERHEAD = 200
    """Bytes counted per entry besides its body (the key, the tuple, the bookkeeping)."""

    def __init__(self, max_bytes: int = CACHE_BYTES) -> None:
        self._entries: LRUCache[bytes, Any] = LRUCache(max_bytes, getsizeof=self._size)
        self._lock = threading.Lock()

    @classmethod
    def _size(cls, entry: Any) -> int:
        body = entry[0] if isinstance(entry, tuple) else entry
        return len(body) + cls.OVERHEAD

    @staticmethod
    def key(*parts: str | bytes) -> bytes:
        """The hash of a request's parts (task, language, rounding, body or query)."""
        digest = hashlib.blake2b(digest_size=16)
        for part in parts:
            data = part.encode() if isinstance(part, str) else part
            digest.update(len(data).to_bytes(8, "little"))
            digest.update(data)
        return digest.digest()

    def get(self, key: bytes) -> Any:
        """The cached entry for ``key``, marked as recently used."""
        with self._lock:
            return self._entries.get(key)

    def put(self, key: bytes, entry: Any) -> None:
        """Remember ``entry``, forgetting the least recently used ones past the budget (an
        entry larger than the whole budget is not kept)."""
        with self._lock, contextlib.suppress(ValueError):  # ValueError: larger than the cache
            self._entries[key] = entry

    @property
    def size(self) -> int:
        """The bytes counted now."""
        return int(self._entries.currsize)
