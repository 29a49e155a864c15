"""The database queues' grouping: what arrives while the thread waits joins one group."""

from __future__ import annotations

import threading
import time

from app.classroom.queues import DatabaseQueue


def _groups(settle: float, gap: float) -> list[list[int]]:
    """The groups handled when three items arrive ``gap`` seconds apart."""
    handled: list[list[int]] = []
    done = threading.Event()

    def handle(db: object, group: list[int]) -> None:
        handled.append(group)
        if sum(map(len, handled)) == 3:
            done.set()

    queue: DatabaseQueue[int] = DatabaseQueue("test", handle, 10, settle=settle)
    db = object()
    for item in range(3):
        queue.add(db, [item])  # type: ignore[arg-type]
        time.sleep(gap)
    assert done.wait(10)
    return handled


def test_items_arriving_one_after_another_settle_into_one_group() -> None:
    assert _groups(settle=0.5, gap=0.05) == [[0, 1, 2]]


def test_without_settling_each_item_is_taken_as_it_comes() -> None:
    assert _groups(settle=0.0, gap=0.2) == [[0], [1], [2]]
