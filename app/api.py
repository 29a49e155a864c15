"""The JSON API: one ``POST /api/v1/{task}/solve`` per registered task, and the task list."""

from collections.abc import Callable, Coroutine
from functools import partial
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field

from app.cache import ResponseCache
from app.deps import (
    SOLVE_QUERY,
    SOLVE_QUERY_DOCS,
    Language,
    query_errors_first,
    solve_for_people,
    solve_options,
)
from app.errors import ERROR_RESPONSES, CheckedJsonRoute
from app.i18n import translate
from app.torch_run import torch_for_people
from app.work import solve_work
from solvers.core import NumberFormat, Task
from solvers.registry import TASKS


class TaskInfo(BaseModel):
    """One task as listed by ``GET /api/v1/tasks``."""

    id: str
    title: str
    summary: str
    solve: str = Field(description="Path of the task's solve endpoint.")
    page: str = Field(description="Path of the task's page.")


solutions = ResponseCache()


def _solved(task: Task, problem: Any, fmt: NumberFormat, busy: bool) -> bytes:
    """The JSON of the solution: worked in a thread, off the event loop, so that other
    requests are read and answered meanwhile, unless the problem is quick (its PyTorch view
    runs apart, cached); ``busy``: without the task's slow part unless cached."""
    solution = solve_for_people(task, problem, fmt, busy)
    # model_dump_json()'s bytes, not decoded to a str (which .encode() copied back)
    return solution.__pydantic_serializer__.to_json(solution)


class SolveRoute(CheckedJsonRoute):
    """A solve route: its endpoint reads the query itself (:func:`app.deps.solve_options`);
    when FastAPI rejects the body, the query's errors are listed first, as they were when a
    dependency read it."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def solve_route(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError as exc:
                errors = query_errors_first(exc, request, *SOLVE_QUERY)
                if errors is exc:
                    raise
                raise errors from None

        return solve_route


def _add_solve_route(router: APIRouter, task: Task) -> None:
    problem_model = task.problem_model

    async def solve(
        problem: problem_model,  # type: ignore[valid-type]
        request: Request,
    ) -> Response:
        options = await solve_options(request)
        fmt = options.fmt
        key = ResponseCache.key(
            task.id,
            options.language,
            str(fmt.digits),
            "torch" if options.torch else "",
            await request.body(),
        )
        body = solutions.get(key)
        if body is None:
            body, complete = await solve_work(task, problem, partial(_solved, task, problem, fmt))
            view = await torch_for_people(task, problem) if options.torch else None
            if view is not None:  # one more member of the solution's object
                body = body[:-1] + b',"torch":' + view.model_dump_json().encode() + b"}"
            if complete:  # one left without its slow part is worked again when asked again
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
        openapi_extra=SOLVE_QUERY_DOCS,
        route_class_override=SolveRoute,
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
