"""Where work runs (app/work.py): quick problems where they stand, others in the heavy
threads after their slow part, which is waited for only so long."""

from __future__ import annotations

import threading
from types import SimpleNamespace
from typing import Any

import anyio
import pytest

from app import work


def _task(quick: bool, slow_part: Any = None) -> Any:
    """What solve_work reads of a Task: ``quick`` and ``slow_part``."""
    return SimpleNamespace(quick=lambda _problem: quick, slow_part=slow_part)


def _where(busy: bool) -> tuple[bool, bool]:
    return busy, threading.current_thread() is threading.main_thread()


def test_a_quick_problem_is_solved_on_the_event_loop() -> None:
    result = anyio.run(work.solve_work, _task(quick=True), object(), _where)
    assert result == ((False, True), True)


def test_no_problem_is_quick_too() -> None:
    assert anyio.run(work.solve_work, _task(quick=False), None, _where) == ((False, True), True)


def test_a_slow_problem_runs_its_slow_part_first_then_off_the_loop() -> None:
    done: list[str] = []
    task = _task(quick=False, slow_part=lambda _problem: lambda: done.append("slow part"))
    result = anyio.run(work.solve_work, task, object(), _where)
    assert done == ["slow part"]
    assert result == ((False, False), True)


def test_nothing_left_to_do_needs_no_lane() -> None:
    assert anyio.run(work.slow_part_first, _task(False, lambda _problem: None), object())
    assert anyio.run(work.slow_part_first, _task(False), object())


def test_a_busy_slow_lane_is_waited_for_only_so_long(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(work, "SLOW_WAIT_SECONDS", 0.05)
    monkeypatch.setattr(work, "_slow_limiter", anyio.CapacityLimiter(1))
    release = threading.Event()
    task = _task(quick=False, slow_part=lambda _problem: lambda: release.wait(5))

    async def two_at_once() -> tuple[Any, Any]:
        results: list[Any] = []
        async with anyio.create_task_group() as group:

            async def first() -> None:
                results.append(await work.slow_part_first(task, object()))

            group.start_soon(first)
            await anyio.sleep(0.01)  # the first one holds the lane
            second = await work.solve_work(task, object(), _where)
            release.set()
        return results[0], second

    first, second = anyio.run(two_at_once)
    assert first is True
    assert second == ((True, False), False)  # answered busy, not complete


def test_off_loop_passes_the_arguments() -> None:
    assert anyio.run(work.off_loop, divmod, 17, 5) == (3, 2)
