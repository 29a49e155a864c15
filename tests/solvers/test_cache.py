"""sized_cache: an LRU cache bounded by the weight of its entries."""

from __future__ import annotations

import pytest

from solvers.cache import sized_cache


def _counted() -> tuple[list[str], object]:
    calls: list[str] = []

    @sized_cache(10, len)
    def upper(text: str) -> str:
        calls.append(text)
        if text == "boom":
            raise ValueError(text)
        return text.upper()

    return calls, upper


def test_entries_are_kept_until_their_weight_passes_the_budget() -> None:
    calls, upper = _counted()
    assert upper("abcd") == "ABCD" and upper("abcd") == "ABCD"
    assert calls == ["abcd"]
    upper("efgh")  # 8 of 10
    upper("ijk")  # 11: the least recently used (abcd) goes
    upper("efgh")
    upper("abcd")
    assert calls == ["abcd", "efgh", "ijk", "abcd"]


def test_an_entry_heavier_than_the_budget_is_computed_every_time() -> None:
    calls, upper = _counted()
    upper("x" * 11)
    upper("x" * 11)
    assert len(calls) == 2


def test_exceptions_are_not_cached_and_the_cache_clears() -> None:
    calls, upper = _counted()
    for _ in range(2):
        with pytest.raises(ValueError):
            upper("boom")
    upper("ok")
    upper.cache_clear()  # type: ignore[attr-defined]
    upper("ok")
    assert calls == ["boom", "boom", "ok", "ok"]


def test_known_tells_whether_a_value_is_kept_without_computing_it() -> None:
    calls, upper = _counted()
    assert not upper.holds("abc")  # type: ignore[attr-defined]
    upper("abc")
    assert upper.holds("abc") and not upper.holds("abd")  # type: ignore[attr-defined]
    assert calls == ["abc"]
