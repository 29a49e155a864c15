"""Caches bounded by the size of what they keep, not by how many entries they keep.

A function cached per expression (its parse, graph, layout, derivatives) keeps memory in
proportion to the expression: 50 entries of the longest expressions weigh as much as a
thousand of a class's short ones. :func:`sized_cache` weighs each entry by a cheap measure
of its arguments (characters, gates) and forgets the least recently used past a budget.
"""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Callable
from typing import Any, ParamSpec, Protocol, TypeVar

from cachetools import LRUCache

P = ParamSpec("P")
R = TypeVar("R", covariant=True)


class SizedCached(Protocol[P, R]):
    """A function cached by :func:`sized_cache`."""

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R: ...

    def cache_clear(self) -> None:
        """Forget every entry."""

    def holds(self, *args: Any) -> bool:
        """Whether the value for ``args`` is kept (a call would not compute it)."""


def sized_cache(
    budget: int, weight: Callable[..., int]
) -> Callable[[Callable[P, R]], SizedCached[P, R]]:
    """An LRU cache of a function of hashable positional arguments whose entries together
    weigh at most ``budget``, each ``weight(*args)`` (at least 1); thread-safe. Like
    ``functools.lru_cache``, an exception is not cached; an entry heavier than the whole
    budget is computed every time."""

    def decorate(function: Callable[P, R]) -> SizedCached[P, R]:
        entries: LRUCache[Any, tuple[int, R]] = LRUCache(budget, getsizeof=lambda e: e[0])
        lock = threading.Lock()

        @functools.wraps(function)
        def cached(*args: Any) -> R:
            with lock:
                found = entries.get(args)
            if found is not None:
                return found[1]
            value = function(*args)
            with lock, contextlib.suppress(ValueError):  # heavier than the budget
                entries[args] = (max(1, weight(*args)), value)
            return value

        def cache_clear() -> None:
            with lock:
                entries.clear()

        def holds(*args: Any) -> bool:
            with lock:
                return args in entries

        cached.cache_clear = cache_clear  # type: ignore[attr-defined]
        cached.holds = holds  # type: ignore[attr-defined]
        return cached  # type: ignore[return-value]

    return decorate
