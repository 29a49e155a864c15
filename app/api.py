"""The JSON API: one ``POST /api/v1/{task}/solve`` per registered task, and the task list."""

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from app.i18n import translate, use_language
from app.settings import get_settings
from solvers.core import NumberFormat, Solution, Step, Task
from solvers.registry import TASKS

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


def _add_solve_route(task: Task) -> None:
    problem_model = task.problem_model

    async def solve(
        problem: problem_model,  # type: ignore[valid-type]
        request: Request,
        digits: int | None = Query(
            None, ge=0, le=10, description="Decimals in the steps' formulas (answers keep all)."
        ),
        lang: str | None = Query(
            None, pattern="^(en|ru)$", description="Language of the steps: en or ru."
        ),
    ) -> Solution:
        language = use_language(request, "en")
        solution = task.solve(problem, number_format(language, digits))
        return solution.model_copy(update={"steps": translated_steps(solution.steps)})

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
