"""Heavy work (solving, rendering a page, grading) off the event loop, in a few threads
taken first come, first served; quick work where it stands.

On the event loop, one slow request held up every other (reading bodies, accepting
connections, ``/healthz``). In as many threads as requests (Starlette's pool of 40), the
threads took the interpreter's lock in no order: under 64 connections some requests waited
over 2 s while later ones were answered (``bench/http_throughput.py --load``). A few
threads, waited for in order, keep the loop free and the order fair.

Work whose cost comes with a new kind of input (a task's ``slow_part``: sympy's derivatives
of a new expression, 10–30 ms) has a lane of its own, :data:`SLOW_THREADS` thread: a flood
of new expressions queues there behind itself, while every other request keeps the heavy
threads (``bench/fresh_flood.py``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import anyio
import anyio.to_thread

from solvers.core import Task

R = TypeVar("R")

HEAVY_THREADS = 2
"""Requests worked on at once: two let one run while the other waits on torch or I/O."""
_limiter = anyio.CapacityLimiter(HEAVY_THREADS)


async def off_loop(function: Callable[..., R], *args: object) -> R:
    """``function(*args)`` in one of :data:`HEAVY_THREADS` threads, in the order asked."""
    return await anyio.to_thread.run_sync(functools.partial(function, *args), limiter=_limiter)


SLOW_THREADS = 1
"""Slow parts worked on at once: one, as the interpreter's lock runs one anyway."""
SLOW_WAIT_SECONDS = 0.5
"""The longest a request waits for the slow lane; then it is answered without its slow part
(and says so): a flood of new expressions is answered in time, not left to time out."""
_slow_limiter = anyio.CapacityLimiter(SLOW_THREADS)


async def slow_part_first(task: Task, problem: Any) -> bool:
    """The task's slow part for ``problem`` (:attr:`solvers.core.Task.slow_part`), if it has
    one still to do, in the slow lane: the solve that follows finds it cached. False when
    the lane was not free within :data:`SLOW_WAIT_SECONDS` (the part is left undone)."""
    work = task.slow_part(problem) if task.slow_part is not None else None
    if work is None:
        return True
    with anyio.move_on_after(SLOW_WAIT_SECONDS):
        # cancelled only while waiting for the lane: once started, the work runs to its end
        await anyio.to_thread.run_sync(work, limiter=_slow_limiter)
        return True
    return False


async def solve_work(task: Task, problem: Any, work: Callable[[bool], R]) -> tuple[R, bool]:
    """``work(busy)``: the solving of ``problem`` (and what is made of it), and whether it is
    complete. Where the task says the problem is ``quick`` (:attr:`solvers.core.Task.quick`:
    a thread's hop costs ~0.3 ms of CPU, more than such a problem's work) it runs on the
    event loop; otherwise the task's slow part first, in its lane (:func:`slow_part_first`),
    then ``work`` in one of the heavy threads, ``busy`` when the slow part could not wait
    (the result is then incomplete: not to be cached)."""
    if problem is None or task.quick(problem):
        return work(False), True
    complete = await slow_part_first(task, problem)
    return await off_loop(work, not complete), complete
