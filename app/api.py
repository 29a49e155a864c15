"""The JSON API: one ``POST /api/v1/{task}/solve`` per registered task, and the task list."""

import contextlib
import hashlib
import threading
from typing import Annotated, Any, Literal

from cachetools import LRUCache
from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field

from app.deps import ApiFormat, Language, solve_for_people, torch_for_people
from app.errors import ERROR_RESPONSES, CheckedJsonRoute
from app.i18n import translate
from app.work import off_loop
from solvers.core import NumberFormat, Task
from solvers.registry import TASKS


class TaskInfo(BaseModel):
    """One task as listed by ``GET /api/v1/tasks``."""

    id: str
    title: str
    summary: str
    solve: str = Field(description="Path of the task's solve endpoint.")
    page: str = Field(description="Path of the task's page.")


CACHE_BYTES = 8 * 2**20
"""The bytes of answers each response cache keeps at most (the solve API's, the pages'):
hundreds of typical answers (20–60 kB), a dozen of the largest; 16 MB each made the
memory of a long run of large requests grow by 32 MB."""


class ResponseCache:
    """The bodies of the most recent distinct requests (least recently used out), at most
    ``max_bytes`` of them: a request is remembered by a 128-bit hash of what it depends on,
    not by its body (up to 1 MB), so memory stays bounded however large the requests.

    A solution depends only on the problem, the language and the rounding, so a repeated
    request (a class opening the same share link, a client retrying) costs one lookup.
    Entries are ``bytes`` or tuples whose first item is the ``bytes`` body.
    """

    OVERHEAD = 200
    """Bytes counted per entry besides its body (the key, the tuple, the bookkeeping)."""

    def __init__(self, max_bytes: int = CACHE_BYTES) -> None:
        self._entries: LRUCache[bytes, Any] = LRUCache(max_bytes, getsizeof=self._size)
        self._lock = threading.Lock()

    @classmethod
    def _size(cls, entry: Any) -> int:
        body = entry[0] if isinstance(entry, tuple) else entry
        return len(body) + cls.OVERHEAD

    @staticmethod
    def key(*parts: str | bytes) -> bytes:
        """The hash of a request's parts (task, language, rounding, body or query)."""
        digest = hashlib.blake2b(digest_size=16)
        for part in parts:
            data = part.encode() if isinstance(part, str) else part
            digest.update(len(data).to_bytes(8, "little"))
            digest.update(data)
        return digest.digest()

    def get(self, key: bytes) -> Any:
        """The cached entry for ``key``, marked as recently used."""
        with self._lock:
            return self._entries.get(key)

    def put(self, key: bytes, entry: Any) -> None:
        """Remember ``entry``, forgetting the least recently used ones past the budget (an
        entry larger than the whole budget is not kept)."""
        with self._lock, contextlib.suppress(ValueError):  # ValueError: larger than the cache
            self._entries[key] = entry

    @property
    def size(self) -> int:
        """The bytes counted now."""
        return int(self._entries.currsize)


solutions = ResponseCache()


def _solved(task: Task, problem: Any, fmt: NumberFormat, with_torch: bool) -> bytes:
    """The JSON of the solution (with its PyTorch view when asked): worked in a thread, off
    the event loop, so that other requests are read and answered meanwhile."""
    body = solve_for_people(task, problem, fmt).model_dump_json().encode()
    view = torch_for_people(task, problem) if with_torch else None
    if view is not None:  # one more member of the solution's object
        body = body[:-1] + b',"torch":' + view.model_dump_json().encode() + b"}"
    return body


def _add_solve_route(router: APIRouter, task: Task) -> None:
    problem_model = task.problem_model

    async def solve(
        problem: problem_model,  # type: ignore[valid-type]
        request: Request,
        language: Language,
        fmt: ApiFormat,
        with_: Annotated[
            Literal["torch"] | None,
            Query(
                alias="with",
                description="`torch`: add `torch`, the PyTorch script that computes the "
                "answer (`code`), its notes and what each printed line is (`prints`).",
            ),
        ] = None,
    ) -> Response:
        key = ResponseCache.key(
            task.id, language, str(fmt.digits), with_ or "", await request.body()
        )
        body = solutions.get(key)
        if body is None:
            body = await off_loop(_solved, task, problem, fmt, with_ == "torch")
            solutions.put(key, body)
        return Response(body, media_type="application/json")

    router.add_api_route(
        f"/{task.id}/solve",
        solve,
        methods=["POST"],
        response_model=task.solution_model,
        summary=f"Solve a {task.id} problem step by step",
        description=task.problem_model.__doc__ or "",
        name=f"solve_{task.id}",
    )


def build_router() -> APIRouter:
    """The API's routes for the tasks registered now: the task list, one solve route each."""
    router = APIRouter(
        prefix="/api/v1", tags=["api"], route_class=CheckedJsonRoute, responses=ERROR_RESPONSES
    )
    tasks = list(TASKS.values())

    async def list_tasks(language: Language) -> list[TaskInfo]:
        """Every task stepgrad solves, with its endpoints."""
        return [
            TaskInfo(
                id=t.id,
                title=translate(t.title),
                summary=translate(t.summary),
                solve=f"/api/v1/{t.id}/solve",
                page=f"/{t.id}",
            )
            for t in tasks
        ]

    router.add_api_route("/tasks", list_tasks, methods=["GET"], summary="List the tasks")
    for task in tasks:
        _add_solve_route(router, task)
    return router
