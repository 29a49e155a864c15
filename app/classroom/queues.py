"""Work for each database, done by a thread of its own: items added from any thread are
taken in groups (one database per group), the group handled, then the next; what arrives
while a group is handled makes the next one."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from typing import Generic, TypeVar

from app.classroom.db import Database

Item = TypeVar("Item")

SETTLE_STEPS = 10
"""Most steps a queue waits for its group to stop growing."""


class DatabaseQueue(Generic[Item]):
    """Items waiting for ``handle(db, group)`` in groups of at most ``limit``; the thread
    (named ``name``) starts with the first item. Once woken it waits ``linger`` seconds, so
    that what arrives meanwhile joins the group; then, with ``settle``, it waits in steps of
    ``settle`` seconds as long as more items keep arriving (at most :data:`SETTLE_STEPS`),
    so that requests answered together, which come back together, are not split into a
    group of the first one alone and a group of all the others."""

    def __init__(
        self,
        name: str,
        handle: Callable[[Database, list[Item]], None],
        limit: int,
        linger: float = 0.0,
        settle: float = 0.0,
    ) -> None:
        self._name = name
        self._handle = handle
        self._limit = limit
        self._linger = linger
        self._settle = settle
        self._lock = threading.Lock()
        self._items: dict[Database, list[Item]] = {}
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def add(self, db: Database, items: Iterable[Item]) -> None:
        """Handle these items of ``db`` soon."""
        with self._lock:
            self._items.setdefault(db, []).extend(items)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                self._thread.start()
        self._wake.set()

    def _take(self) -> tuple[Database, list[Item]] | None:
        """Up to ``limit`` items of one database, or None."""
        with self._lock:
            for db, items in self._items.items():
                taken, rest = items[: self._limit], items[self._limit :]
                if rest:
                    self._items[db] = rest
                else:
                    del self._items[db]
                return db, taken
        return None

    def _waiting(self) -> int:
        with self._lock:
            return sum(map(len, self._items.values()))

    def _settled(self) -> None:
        """Wait while items keep arriving (steps of ``settle`` seconds)."""
        waiting = self._waiting()
        for _ in range(SETTLE_STEPS):
            if waiting >= self._limit:
                return
            time.sleep(self._settle)
            waiting, before = self._waiting(), waiting
            if waiting == before:
                return

    def _run(self) -> None:
        while True:
            self._wake.wait()
            if self._linger:
                time.sleep(self._linger)
            if self._settle:
                self._settled()
            self._wake.clear()
            while (work := self._take()) is not None:
                self._handle(*work)
