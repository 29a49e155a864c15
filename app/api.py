"""The JSON API: one ``POST /api/v1/{task}/solve`` per registered task, and the task list."""

from collections import OrderedDict
from typing import Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field

from app.graph_svg import render_graph_svg
from app.i18n import gettext, translate, use_language
from app.settings import get_settings
from solvers.core import NumberFormat, Step, Task
from solvers.registry import TASKS
from solvers.tasks.graph import GraphProblem

router = APIRouter(prefix="/api/v1", tags=["api"])


class TaskInfo(BaseModel):
    """One task as listed by ``GET /api/v1/tasks``."""

    id: str
    title: str
    summary: str
    solve: str = Field(description="Path of the task's solve endpoint.")
    page: str = Field(description="Path of the task's page.")


def translated_steps(steps: list[Step]) -> list[Step]:
    """Steps with title and text in the current language, placeholders filled in."""
    return [
        step.model_copy(
            update={
                "title": translate(step.title, step.params),
                "text": translate(step.text, step.params),
            }
        )
        for step in steps
    ]


def number_format(lang: str, digits: int | None) -> NumberFormat:
    """The display format of a request: its rounding and, in Russian, decimal commas."""
    chosen = get_settings().digits if digits is None else digits
    return NumberFormat(digits=chosen, decimal_comma=lang == "ru")


@router.get("/tasks", summary="List the tasks")
async def list_tasks(request: Request) -> list[TaskInfo]:
    """Every task stepgrad solves, with its endpoints."""
    use_language(request, get_settings().default_language)
    return [
        TaskInfo(
            id=t.id,
            title=translate(t.title),
            summary=translate(t.summary),
            solve=f"/api/v1/{t.id}/solve",
            page=f"/{t.id}",
        )
        for t in TASKS.values()
    ]


class ResponseCache:
    """The bodies of the most recent distinct requests (least recently used out).

    A solution depends only on the problem, the language and the rounding, so a repeated
    request (a class opening the same share link, a client retrying) costs one lookup.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: OrderedDict[tuple[Any, ...], Any] = OrderedDict()

    def get(self, key: tuple[Any, ...]) -> Any:
        """The cached body for ``key``, marked as recently used."""
        body = self._entries.get(key)
        if body is not None:
            self._entries.move_to_end(key)
        return body

    def put(self, key: tuple[Any, ...], body: Any) -> None:
        """Remember ``body``, forgetting the least recently used entry when full."""
        self._entries[key] = body
        if len(self._entries) > self.size:
            self._entries.popitem(last=False)


solutions = ResponseCache(size=256)

DIGITS = Query(None, ge=0, le=10, description="Decimals in the steps' formulas (answers keep all).")
LANG = Query(None, pattern="^(en|ru)$", description="Language of the steps: en or ru.")


def _add_solve_route(task: Task) -> None:
    problem_model = task.problem_model

    async def solve(
        problem: problem_model,  # type: ignore[valid-type]
        request: Request,
        digits: int | None = DIGITS,
        lang: str | None = LANG,
    ) -> Response:
        language = use_language(request, get_settings().default_language)
        key = (task.id, language, str(digits), await request.body())
        body = solutions.get(key)
        if body is None:
            solution = task.solve(problem, number_format(language, digits))
            solution = solution.model_copy(update={"steps": translated_steps(solution.steps)})
            body = solution.model_dump_json().encode()
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


for _task in TASKS.values():
    _add_solve_route(_task)


@router.post(
    "/graph/svg",
    response_class=Response,
    responses={200: {"content": {"image/svg+xml": {}}, "description": "The graph as SVG."}},
    summary="The computational graph as an SVG picture",
)
async def graph_svg(
    problem: GraphProblem, request: Request, digits: int | None = DIGITS, lang: str | None = LANG
) -> Response:
    """Forward values above the edges (green), gradients below them (red)."""
    language = use_language(request, get_settings().default_language)
    fmt = number_format(language, digits)
    return Response(
        graph_picture(TASKS["graph"].solve(problem, fmt), fmt), media_type="image/svg+xml"
    )


def graph_picture(solution: Any, fmt: NumberFormat) -> str:
    """The SVG of a graph solution, titled in the current language."""
    title = gettext("Computational graph") + ": " + solution.expression_read
    return render_graph_svg(solution, fmt, title=title)
