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


class DatabaseQueue(Generic[Item]):
    """Items waiting for ``handle(db, group)`` in groups of at most ``limit``; the thread
    (named ``name``) starts with the first item and waits ``linger`` seconds after being
    woken, so that what arrives meanwhile joins the group."""

    def __init__(
        self,
        name: str,
        handle: Callable[[Database, list[Item]], None],
        limit: int,
        linger: float = 0.0,
    ) -> None:
        self._name = name
        self._handle = handle
        self._limit = limit
        self._linger = linger
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

    def _run(self) -> None:
        while True:
            self._wake.wait()
            if self._linger:
                time.sleep(self._linger)
            self._wake.clear()
            while (work := self._take()) is not None:
                self._handle(*work)
