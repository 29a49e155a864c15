"""The response caches of the solve API and the pages: bounded by bytes, keyed by hashes."""

from __future__ import annotations

from app.cache import ResponseCache


def test_cache_is_bounded_by_bytes_not_entries() -> None:
    cache = ResponseCache(max_bytes=10_000)
    for i in range(100):
        cache.put(ResponseCache.key("loss", "en", str(i)), b"x" * 1000)
    assert cache.size <= 10_000
    assert cache.get(ResponseCache.key("loss", "en", "99")) == b"x" * 1000
    assert cache.get(ResponseCache.key("loss", "en", "0")) is None


def test_entry_larger_than_the_cache_is_not_kept() -> None:
    cache = ResponseCache(max_bytes=1000)
    cache.put(b"k", (b"x" * 5000, 200))
    assert cache.get(b"k") is None and cache.size == 0


def test_keys_are_short_hashes_of_their_parts() -> None:
    body = b"{" + b" " * 500_000 + b"}"
    key = ResponseCache.key("conv", "ru", "4", body)
    assert len(key) == 16
    assert key == ResponseCache.key("conv", "ru", "4", body)
    assert ResponseCache.key("ab", "c") != ResponseCache.key("a", "bc")
