"""Server-rendered pages: the home page and one page per task (form + worked solution)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from pydantic import ValidationError
from pydantic_core import PydanticCustomError

from app.api import ResponseCache, graph_picture, number_format, translated_steps
from app.errors import custom_error_detail, describe_errors
from app.forms import adapter_for, has_problem
from app.i18n import LANG_COOKIE, LANGUAGES, gettext, ngettext, translate, use_language
from app.render import graded_cells, loss_scores, matrix, tex
from app.settings import get_settings
from solvers.core import NumberFormat, Task
from solvers.registry import TASKS

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
STATIC_DIR = Path(__file__).resolve().parent.parent / "static"


def tex_name(name: str) -> str:
    """A variable name in LaTeX: ``w0`` → ``w_{0}``."""
    return re.sub(r"^(\D+?)_?(\d+)$", r"\1_{\2}", name)


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(["html", "xml", "svg"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(gettext, ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.filters["tr"] = translate
    env.filters["tex_name"] = tex_name
    env.globals.update(
        matrix=matrix, tex=tex, loss_scores=loss_scores, graded_cells=graded_cells,
        static_url="/static",
    )  # fmt: skip
    return env


templates = _environment()
router = APIRouter(include_in_schema=False)


def _graph_picture(solution: Any, fmt: NumberFormat) -> dict[str, Any]:
    return {"svg": Markup(graph_picture(solution, fmt))}


# What a task's template needs beyond the solution, computed from it.
EXTRA_CONTEXT = {"graph": _graph_picture}


def _language_links(request: Request) -> dict[str, str]:
    links = {}
    for code in LANGUAGES:
        query = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
        links[code] = f"{request.url.path}?{urlencode([*query, ('lang', code)])}"
    return links


def render_page(request: Request, name: str, lang: str, context: dict[str, Any]) -> str:
    """Render a page with what every page needs: language, its switch, the task list."""
    digits = request.query_params.get("digits", "")
    query = request.url.query
    defaults = {
        "request": request,
        "lang": lang,
        "languages": LANGUAGES,
        "language_links": _language_links(request),
        "tasks": list(TASKS.values()),
        "fmt": number_format(lang, int(digits) if digits.isdigit() else None),
        "share_link": request.url.path + (f"?{query}" if query else ""),
    }
    return templates.get_template(name).render({**defaults, **context})


def html_response(
    request: Request, body: str | bytes, lang: str, status: int = 200
) -> HTMLResponse:
    """The page's response; ``?lang=`` also remembers the language in a cookie."""
    response = HTMLResponse(body, status_code=status)
    if request.query_params.get("lang") in LANGUAGES:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 24 * 3600, samesite="lax")
    return response


# Rendered task pages by (task, language, query string): a shared link opened by a whole
# class is rendered once.
pages = ResponseCache(size=256)


@router.get("/", response_class=HTMLResponse)
async def home(request: Request) -> HTMLResponse:
    """The home page: the three tasks."""
    lang = use_language(request, get_settings().default_language)
    return html_response(request, render_page(request, "index.html", lang, {}), lang)


def _render_task_page(task: Task, request: Request, lang: str) -> tuple[bytes, int]:
    """The task's page for the problem in the query string (or its example): body, status."""
    adapter = adapter_for(task)
    form = dict(request.query_params)
    errors: dict[str, list[str]] = {}
    solution = None
    problem = None
    if has_problem(form):
        try:
            problem = task.problem_model.model_validate(adapter.to_data(form, task.problem_model))
        except ValidationError as exc:
            for detail in describe_errors(exc.errors()):
                errors.setdefault(adapter.form_field(detail["field"]), []).append(detail["msg"])
    else:
        problem = task.example()
        form = adapter.to_form(problem)
        if lang == "ru":
            form = adapter.with_decimal_commas(form)
    digits = request.query_params.get("digits", "")
    fmt = number_format(lang, int(digits) if digits.isdigit() else None)
    if problem is not None:
        try:
            solution = task.solve(problem, fmt)
            solution = solution.model_copy(update={"steps": translated_steps(solution.steps)})
        except PydanticCustomError as exc:
            errors.setdefault("", []).append(custom_error_detail(exc)["msg"])
    context = {
        "task": task,
        "form": form,
        "errors": errors,
        "solution": solution,
        "problem": problem,
    }
    if solution is not None and task.id in EXTRA_CONTEXT:
        context.update(EXTRA_CONTEXT[task.id](solution, fmt))
    body = render_page(request, f"{task.id}.html", lang, context).encode()
    return body, 422 if errors else 200


def _task_page(task: Task):
    async def page(request: Request) -> HTMLResponse:
        lang = use_language(request, get_settings().default_language)
        key = (task.id, lang, request.url.query)
        cached = pages.get(key)
        if cached is None:
            cached = _render_task_page(task, request, lang)
            pages.put(key, cached)
        body, status = cached
        return html_response(request, body, lang, status)

    return page


for _task in TASKS.values():
    router.add_api_route(
        f"/{_task.id}",
        _task_page(_task),
        methods=["GET"],
        response_class=HTMLResponse,
        name=f"page_{_task.id}",
    )
