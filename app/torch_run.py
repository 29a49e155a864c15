"""The PyTorch view as people see it: the script, its notes in their language, and what it
printed when the server ran it.

The run (:func:`solvers.pytorch_view.run`) executes the generated script in the
threadpool, never on the event loop, at most :data:`PARALLEL_RUNS` at a time, and waits
``STEPGRAD_TORCH_RUN_SECONDS`` for it; past that, or when the run fails, the view comes
without its output (and the next request tries again). Runs are cached by their code,
which is a function of the problem alone: a page in another language or rounding, or the
API after the page, costs a lookup.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from app.cache import ResponseCache
from app.i18n import translate
from app.settings import get_settings
from solvers.core import N_, Task
from solvers.pytorch_view import TorchRun, TorchView, run, torch_view

PARALLEL_RUNS = 2
"""Scripts running at once (a run waits for a place within its time bound)."""
NO_OUTPUT = N_("The server has no output of this script; run it yourself.")

runs = ResponseCache()
"""Each script's run by a hash of its task and code (bounded by bytes, least recent out)."""
_places = threading.BoundedSemaphore(PARALLEL_RUNS)
logger = logging.getLogger(__name__)


def _run(view: TorchView, deadline: float) -> TorchRun | None:
    """The run of ``view`` in this thread, or ``None`` when no place freed in time."""
    if not _places.acquire(timeout=deadline):
        return None
    try:
        return run(view)
    finally:
        _places.release()


async def cached_run(task: Task, view: TorchView) -> TorchRun | None:
    """The run of ``view``'s code: cached, else run in the threadpool within the time bound
    (``None`` when it takes longer)."""
    key = ResponseCache.key(task.id, view.code)
    entry = runs.get(key)
    if entry is not None:
        return entry[1]
    seconds = get_settings().torch_run_seconds
    try:
        result = await asyncio.wait_for(run_in_threadpool(_run, view, seconds), seconds)
    except TimeoutError:
        result = None
    except Exception:  # a bug of a template, or the device failing: no output, never a 500
        logger.exception("the %s PyTorch view failed to run", task.id)
        return None
    if result is None:
        logger.warning("the %s PyTorch view did not run within %s s", task.id, seconds)
        return None
    runs.put(key, (result.model_dump_json().encode(), result))
    return result


async def torch_for_people(task: Task, problem: BaseModel | Any) -> TorchView | None:
    """The PyTorch view of ``problem`` (``None`` for a task without one), its notes
    translated into the current language, with what the script printed on the server."""
    view = torch_view(task, problem)
    if view is None:
        return None
    notes = [
        note.model_copy(update={"text": translate(note.text, note.params)}) for note in view.notes
    ]
    result = await cached_run(task, view)
    ran = result.model_dump() if result is not None else {"error": translate(NO_OUTPUT)}
    return view.model_copy(update={"notes": notes, **ran})
