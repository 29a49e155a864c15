"""Heavy work (solving, rendering a page, grading) off the event loop, in a few threads
taken first come, first served; quick work where it stands.

On the event loop, one slow request held up every other (reading bodies, accepting
connections, ``/healthz``). In as many threads as requests (Starlette's pool of 40), the
threads took the interpreter's lock in no order: under 64 connections some requests waited
over 2 s while later ones were answered (``bench/http_throughput.py --load``). A few
threads, waited for in order, keep the loop free and the order fair.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TypeVar

import anyio
import anyio.to_thread

R = TypeVar("R")

HEAVY_THREADS = 2
"""Requests worked on at once: two let one run while the other waits on torch or I/O."""
_limiter = anyio.CapacityLimiter(HEAVY_THREADS)


async def off_loop(function: Callable[..., R], *args: object) -> R:
    """``function(*args)`` in one of :data:`HEAVY_THREADS` threads, in the order asked."""
    return await anyio.to_thread.run_sync(functools.partial(function, *args), limiter=_limiter)


async def solve_work(quick: bool, function: Callable[..., R], *args: object) -> R:
    """``function(*args)``, the solving of one problem: on the event loop when the task says
    it is ``quick`` (:attr:`solvers.core.Task.quick`: the hop to a thread and back costs
    ~0.3 ms of CPU, more than such a problem's work), else :func:`off_loop`."""
    return function(*args) if quick else await off_loop(function, *args)
