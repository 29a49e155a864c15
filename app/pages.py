"""Server-rendered pages: the home page and one page per task (form + worked solution)."""

from __future__ import annotations

import re
from functools import lru_cache, partial
from pathlib import Path
from types import FunctionType
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, FileSystemLoader, pass_eval_context, select_autoescape
from jinja2.nodes import EvalContext
from jinja2.runtime import Context
from jinja2.utils import internalcode
from markupsafe import Markup
from pydantic import BaseModel, ValidationError
from pydantic_core import PydanticCustomError

from app.cache import ResponseCache
from app.deps import Language, PageFormat, page_options, solve_for_people
from app.errors import custom_error_detail, describe_errors, error_page
from app.forms import has_problem
from app.i18n import LANG_COOKIE, LANGUAGES, current_language, gettext, ngettext, translate
from app.render import (
    answer_table,
    error_summary,
    graded_cells,
    input_field,
    matrix,
    prose,
    read_as,
    select_field,
    steps_html,
    tex,
    textarea_field,
    value_html,
)
from app.tasks import task_templates, view_for
from app.torch_run import torch_for_people
from app.work import solve_work
from solvers.core import NumberFormat, Task
from solvers.registry import TASKS

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
STATIC_DIR = Path(__file__).resolve().parent.parent / "static"


def tex_name(name: str) -> str:
    """A variable name in LaTeX: ``w0`` → ``w_{0}``."""
    return re.sub(r"^(\D+?)_?(\d+)$", r"\1_{\2}", name)


@pass_eval_context
def _template_gettext(eval_ctx: EvalContext, message: str, **variables: Any) -> str:
    """The templates' ``_()`` and ``gettext()``: what Jinja's new-style gettext does (markup
    when autoescaping, always ``%``-formatted), calling the catalog directly (Jinja's own goes
    through three context calls per message, a fifth of a page's rendering)."""
    if not variables and eval_ctx.autoescape:
        markup = _message_markup(current_language.get(), message)
        if markup is not None:
            return markup
    text = gettext(message)
    if not variables and "%" not in text:  # what formatting would give, without its cost
        return Markup(text) if eval_ctx.autoescape else text
    return (Markup(text) if eval_ctx.autoescape else text) % variables


@lru_cache(maxsize=4096)
def _message_markup(lang: str, message: str) -> Markup | None:
    """A template's message in ``lang`` (the current language) as markup, remembered; ``None``
    when it has a ``%`` (formatting would change it)."""
    text = gettext(message)
    return None if "%" in text else Markup(text)


@pass_eval_context
def _template_ngettext(
    eval_ctx: EvalContext, singular: str, plural: str, n: int, **variables: Any
) -> str:
    """The templates' ``ngettext()``, as :func:`_template_gettext` (``num`` is ``n``)."""
    variables.setdefault("num", n)
    text = ngettext(singular, plural, n)
    return (Markup(text) if eval_ctx.autoescape else text) % variables


_EVAL_CONTEXT = pass_eval_context(lambda: None).jinja_pass_arg  # type: ignore[attr-defined]
"""Jinja's mark of a function that takes the evaluation context first (as
``_template_gettext``)."""


class _Context(Context):
    """Jinja's template context, calling plain functions for less: every call in a template
    (each ``_()``, each field) goes through :meth:`call`, whose checks for what to pass cost
    ten times a function call (over 50 calls a task page)."""

    @internalcode
    def call(__self, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        """What :meth:`jinja2.runtime.Context.call` does, its checks shortened for a plain
        function that takes nothing or the evaluation context (``_()``) first."""
        if type(__obj) is FunctionType:
            pass_arg = getattr(__obj, "jinja_pass_arg", None)
            if pass_arg is None or pass_arg is _EVAL_CONTEXT:
                kwargs.pop("_block_vars", None)
                kwargs.pop("_loop_vars", None)
                if pass_arg is not None:
                    args = (__self.eval_ctx, *args)
                try:
                    return __obj(*args, **kwargs)
                except StopIteration:
                    return __self.environment.undefined(
                        "value was undefined because a callable raised a StopIteration exception"
                    )
        return super().call(__obj, *args, **kwargs)


def tasks_named() -> str:
    """The registered tasks' titles as a list in a sentence, in the current language:
    ``loss function, computational graph, convolution`` (the footer's)."""
    return _tasks_named(current_language.get(), tuple(t.title for t in TASKS.values()))


@lru_cache(maxsize=64)
def _tasks_named(lang: str, titles: tuple[str, ...]) -> str:
    """:func:`tasks_named` in ``lang`` (the current language, the cache's key)."""
    names = [gettext(title) for title in titles]
    # a title starts a sentence; in a list it starts lower case (not an acronym: "CNN")
    return ", ".join(n[:1].lower() + n[1:] if n[1:2].islower() else n for n in names)


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(["html", "xml", "svg"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,  # templates change only with a new release: no stat() per render
    )
    env.context_class = _Context
    env.install_gettext_callables(gettext, ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.globals.update(_=_template_gettext, gettext=_template_gettext, ngettext=_template_ngettext)
    env.filters["tr"] = translate
    env.filters["tex_name"] = tex_name
    env.filters["prose"] = prose
    env.globals["read_as"] = read_as
    env.globals.update(
        matrix=matrix, tex=tex, graded_cells=graded_cells,
        answer_table=answer_table, value_html=value_html, task_templates=task_templates,
        steps_html=steps_html, input_field=input_field, select_field=select_field,
        error_summary=error_summary, tasks_named=tasks_named,
        textarea_field=textarea_field,
        static_url="/static",
    )  # fmt: skip
    return env


def add_task_globals() -> None:
    """Add the template globals of every registered task's view to the environment."""
    for task in TASKS:
        templates.globals.update(view_for(task).template_globals)


templates = _environment()
add_task_globals()


def _language_links(request: Request) -> dict[str, str]:
    """The page in each language: its query (encoded once) with ``lang`` last."""
    query = urlencode([(k, v) for k, v in request.query_params.multi_items() if k != "lang"])
    start = f"{request.url.path}?{query}&" if query else f"{request.url.path}?"
    return {code: f"{start}lang={code}" for code in LANGUAGES}


def render_page(
    request: Request, name: str | list[str], lang: str, fmt: NumberFormat, context: dict[str, Any]
) -> str:
    """Render a page (the first of ``name`` that exists) with what every page needs:
    language, its switch, the task list, the number format."""
    query = request.url.query
    defaults = {
        "request": request,
        "lang": lang,
        "languages": LANGUAGES,
        "language_links": _language_links(request),
        "tasks": list(TASKS.values()),
        "fmt": fmt,
        "share_link": request.url.path + (f"?{query}" if query else ""),
    }
    template = templates.get_or_select_template(name)
    # What Template.render does, with the environment's globals merged into the page's
    # variables here (a dict's copy) instead of by Jinja from its template's ChainMap of
    # them, key by key in Python (~15 µs a page).
    shared = template.new_context({**templates.globals, **defaults, **context}, shared=True)
    try:
        return templates.concat(template.root_render_func(shared))  # type: ignore[attr-defined]
    except Exception:
        return templates.handle_exception()


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
pages = ResponseCache()


async def home(request: Request, lang: Language, fmt: PageFormat) -> HTMLResponse:
    """The home page: the tasks."""
    return html_response(request, render_page(request, "index.html", lang, fmt, {}), lang)


def _page_problem(
    task: Task, request: Request, lang: str
) -> tuple[dict[str, str], BaseModel | None, dict[str, list[str]]]:
    """The page's form, the problem it states (the task's example when the query states
    none) and the form's errors by field (the problem is ``None`` when there are any)."""
    adapter = view_for(task.id).adapter
    form = dict(request.query_params)
    errors: dict[str, list[str]] = {}
    if not has_problem(form):
        example = task.example()
        form = adapter.to_form(example)
        return (adapter.with_decimal_commas(form) if lang == "ru" else form), example, errors
    try:
        problem = task.problem_model.model_validate(adapter.to_data(form, task.problem_model))
    except ValidationError as exc:
        for detail in describe_errors(exc.errors()):
            errors.setdefault(adapter.form_field(detail["field"]), []).append(detail["msg"])
        return form, None, errors
    return form, problem, errors


def _problem_query(form: dict[str, str]) -> str:
    """The query string of the problem on the screen (its non-empty fields)."""
    return urlencode({k: v for k, v in form.items() if v and k != "lang"})


def _render_task_page(
    task: Task,
    request: Request,
    lang: str,
    fmt: NumberFormat,
    stated: tuple[dict[str, str], BaseModel | None, dict[str, list[str]]],
    busy: bool,
) -> tuple[bytes, int]:
    """The task's page for the problem ``stated`` by :func:`_page_problem`: body, status
    (``busy``: without the task's slow part unless cached). Its PyTorch section holds a link
    to the script's own page (:func:`_pytorch_page`), fetched when the section is opened:
    the script runs only for those who ask."""
    form, problem, errors = stated
    solution = None
    if problem is not None:
        try:
            solution = solve_for_people(task, problem, fmt, busy)
        except PydanticCustomError as exc:
            errors.setdefault("", []).append(custom_error_detail(exc)["msg"])
    context = {
        "task": task,
        "form": form,
        "errors": errors,
        "solution": solution,
        "problem": problem,
        "problem_query": _problem_query(form),  # the try page and the PyTorch view get it
    }
    if solution is not None:
        context.update(view_for(task.id).page_context(solution, problem, fmt))
    body = render_page(request, task_templates(task.id, "page"), lang, fmt, context).encode()
    return body, 422 if errors else 200


def _task_page(task: Task):
    async def page(request: Request) -> HTMLResponse:
        lang, fmt = page_options(request)
        key = ResponseCache.key(task.id, lang, request.url.query)
        cached = pages.get(key)
        if cached is None:
            stated = _page_problem(task, request, lang)
            work = partial(_render_task_page, task, request, lang, fmt, stated)
            cached, complete = await solve_work(task, stated[1], work)
            if complete:
                pages.put(key, cached)
        body, status = cached
        return html_response(request, body, lang, status)

    return page


def _pytorch_page(task: Task):
    """The PyTorch view of the problem in the query string (or the task's example): the
    script, its notes, and what it printed when the server ran it. The task page fetches
    it into its PyTorch section when that is opened (or links to it without JavaScript)."""

    async def page(request: Request) -> Response:
        lang, fmt = page_options(request)
        form, problem, errors = _page_problem(task, request, lang)
        if problem is None:
            return error_page(request, 422, [m for ms in errors.values() for m in ms])
        torch = await torch_for_people(task, problem)
        context = {"task": task, "torch": torch, "problem_query": _problem_query(form)}
        body = render_page(request, "pytorch.html", lang, fmt, context)
        return html_response(request, body, lang)

    return page


def build_router() -> APIRouter:
    """The home page and one page per task registered now (their views' template globals
    join the environment's)."""
    router = APIRouter(include_in_schema=False)
    router.add_api_route("/", home, methods=["GET"], response_class=HTMLResponse)
    add_task_globals()
    for task in TASKS.values():
        router.add_api_route(
            f"/{task.id}",
            _task_page(task),
            methods=["GET"],
            response_class=HTMLResponse,
            name=f"page_{task.id}",
        )
        if task.torch_form is not None:
            router.add_api_route(
                f"/{task.id}/pytorch", _pytorch_page(task), methods=["GET"],
                response_class=HTMLResponse,
            )  # fmt: skip
    return router
