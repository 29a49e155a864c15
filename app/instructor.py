"""For the instructor: variant sets as problem sheets, answer keys, JSON, CSV, Moodle XML, PDF.

A set is (tasks, spec, seed, count); the page's query string carries it, so every link is
reproducible. With ``STEPGRAD_SECRET`` set, variants are keyed by it and answers need the
instructor token (``Authorization: Bearer …`` or the cookie the page sets).
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Annotated, Any, Literal, get_args, get_origin
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    create_model,
)
from pydantic_core import PydanticCustomError
from starlette.concurrency import run_in_threadpool

from app.deps import TOKEN_COOKIE, InstructorAccess, Language, PageFormat, solve_for_people
from app.errors import (
    ERROR_RESPONSES,
    CheckedJsonRoute,
    custom_error_detail,
    describe_errors,
    error_page,
    error_response,
    wants_page,
)
from app.exports import answer_cells, for_moodle, html_to_pdf, moodle_xml, variants_csv
from app.grading import check_points, known_task
from app.i18n import gettext
from app.pages import STATIC_DIR, html_response, render_page, templates
from app.render import moodle_tex, steps_html
from app.settings import get_settings
from app.tasks import KeyItem, task_templates, view_for
from solvers.core import NumberFormat
from solvers.grading.batch import hand_answers
from solvers.registry import TASKS
from solvers.variants.sets import (
    MAX_SET_COUNT,
    QuizSpecBase,
    VariantSet,
    generate_set,
    quiz_spec,
)

MAX_COUNT = 500
"""Most variants in one set from the API or the pages (the CLI has the solvers' limit)."""
_WHOLE = re.compile(r"^-?\d{1,18}$")
MOODLE_TOLERANCE = 0.01
MAX_PDF_COUNT = 50
"""Most variants in a PDF from the web app: a key takes Chromium ~0.4 s a variant to print
(the CLI prints any number)."""


@lru_cache(maxsize=16)
def _variants_models(
    tasks: tuple[str, ...], spec: type[QuizSpecBase]
) -> tuple[type[BaseModel], type[BaseModel]]:
    request = create_model(
        "VariantsRequest",
        __config__=ConfigDict(extra="forbid"),
        __doc__="Which tasks, how hard (the spec), how many variants, and the seed.",
        tasks=(
            list[Annotated[str, AfterValidator(known_task)]],
            Field(
                default_factory=lambda: list(tasks),
                min_length=1,
                description="Tasks of every variant.",
                json_schema_extra={"items": {"enum": list(tasks)}},
            ),
        ),
        spec=(spec, Field(default_factory=spec, description="Size and difficulty.")),
        count=(int, Field(default=30, ge=1, le=MAX_COUNT, description="How many variants.")),
        first=(
            int,
            Field(
                default=1,
                ge=1,
                le=MAX_SET_COUNT,
                description="The first variant's number: the set is variants first … "
                "first + count − 1 (an exam's students beyond the count limit, in chunks).",
            ),
        ),
        seed=(int, Field(default=2020, ge=0, lt=2**63, description="Same seed, same variants.")),
    )
    response = create_model(
        "VariantsResponse",
        __doc__="A set of variants; ``answers_included`` says whether the answers are in it.",
        tasks=(list[str], ...),
        spec=(spec, ...),
        seed=(int, ...),
        count=(int, ...),
        keyed=(bool, Field(description="Whether the server secret keyed the variants.")),
        answers_included=(bool, ...),
        variants=(list[VariantOut], ...),
    )
    return request, response


def variants_request() -> type[BaseModel]:
    """``VariantsRequest`` for the tasks registered now."""
    return _variants_models(tuple(TASKS), quiz_spec())[0]


def variants_response() -> type[BaseModel]:
    """``VariantsResponse`` for the tasks registered now."""
    return _variants_models(tuple(TASKS), quiz_spec())[1]


class VariantOut(BaseModel):
    """One variant as the API returns it: answers only for the instructor."""

    number: int
    problems: dict[str, Any]
    answers: dict[str, Any] | None = None
    notes: dict[str, list[str]]


def build_set(wanted: Any) -> VariantSet:
    """Generate the set (seconds for large counts: call it in a thread)."""
    settings = get_settings()
    secret = settings.secret.encode() if settings.secret else None
    return generate_set(wanted.tasks, wanted.spec, wanted.seed, wanted.count, secret,
                        settings.device, wanted.first)  # fmt: skip


def spec_from_query(query: Mapping[str, Any]) -> dict[str, dict[str, str | int]]:
    """The variant spec a page's query string or form gives as ``<task>_<field>``
    (``loss_examples=4``, ``conv_stride=1``), by task (empty fields left out)."""
    spec: dict[str, dict[str, str | int]] = {}
    for key, value in query.items():
        task = next((t for t in TASKS if key.startswith(f"{t}_")), "")
        field = key[len(task) + 1 :]
        if task and field and isinstance(value, str) and value != "":
            # a whole number as a number: Literal[0, 1] does not take the text "1"
            spec.setdefault(task, {})[field] = int(value) if _WHOLE.match(value) else value
    return spec


def request_from_query(query: Mapping[str, Any], tasks: list[str]) -> Any:
    """The set a page's query string describes: ``tasks``, ``count``, ``seed`` and the spec
    (:func:`spec_from_query`)."""
    data: dict[str, Any] = {"spec": spec_from_query(query), "tasks": tasks or list(TASKS)}
    for key in ("count", "first", "seed"):
        if query.get(key, "") != "":
            data[key] = query[key]
    return variants_request().model_validate(data)


async def api_variants(wanted: Any, access: InstructorAccess) -> Any:
    """Variants 1 … count with problems, and answers when the caller may see them."""
    variant_set = await run_in_threadpool(build_set, wanted)
    return variants_response()(
        tasks=variant_set.tasks,
        spec=variant_set.spec,
        seed=variant_set.seed,
        count=variant_set.count,
        keyed=variant_set.keyed,
        answers_included=access,
        variants=[
            VariantOut(
                number=v.number,
                problems=v.problems,
                answers=v.answers if access else None,
                notes=v.notes,
            )
            for v in variant_set.variants
        ],
    )


def _solutions(variant_set: VariantSet, fmt: NumberFormat) -> dict[tuple[int, str], Any]:
    """Every problem's worked solution, steps translated (for statements and the key)."""
    solutions = {}
    for variant in variant_set.variants:
        for task in variant_set.tasks:
            solutions[(variant.number, task)] = solve_for_people(
                TASKS[task], variant.problems[task], fmt
            )
    return solutions


def render_set(
    request: Request | None, template: str, lang: str, variant_set: VariantSet,
    static_url: str = "/static",
) -> str:  # fmt: skip
    """The sheets or the key of a set as a standalone printable HTML page."""
    fmt = NumberFormat(digits=2 if template == "instructor/sheets.html" else 4,
                       decimal_comma=lang == "ru")  # fmt: skip
    context = {
        "set": variant_set,
        "solutions": _solutions(variant_set, fmt),
        "answer_cells": answer_cells,
        "key_items": key_items,
        "hand_values": _hand_values(variant_set) if template == "instructor/key.html" else {},
        "task_titles": {t: gettext(TASKS[t].title) for t in variant_set.tasks},
        "static_url": static_url,
        "fmt": fmt,
        "lang": lang,
    }
    if request is not None:
        return render_page(request, template, lang, fmt, context)
    return templates.get_template(template).render(tasks=list(TASKS.values()), **context)


def _hand_values(variant_set: VariantSet) -> dict[tuple[int, str], dict[str, float]]:
    """Per (variant, task) the key's cells worked by hand (column → value)."""
    out = {}
    for task in variant_set.tasks:
        problems = [v.problems[task] for v in variant_set.variants]
        answers = [v.answers[task] for v in variant_set.variants]
        for variant, hand in zip(
            variant_set.variants, hand_answers(task, problems, answers), strict=True
        ):
            out[(variant.number, task)] = {c.column: c.value for c in answer_cells(task, hand)}
    return out


def key_items(task: str, answer: Any) -> list[KeyItem]:
    """The entries of one task's answer in the key's table (the task's view groups them)."""
    return view_for(task).key_items(answer, answer_cells(task, answer))


def statements(
    variant_set: VariantSet, lang: str
) -> tuple[dict[tuple[int, str], str], dict[tuple[int, str], str]]:
    """Each problem's statement and its worked solution as HTML for Moodle (formulas as
    ``\\( … \\)``, highlights inline: :func:`app.exports.for_moodle`)."""
    fmt = NumberFormat(digits=4, decimal_comma=lang == "ru")
    solutions = _solutions(variant_set, fmt)
    texts, feedback = {}, {}
    for variant in variant_set.variants:
        for task in variant_set.tasks:
            where = (variant.number, task)
            template = templates.select_template(task_templates(task, "problem"))
            texts[where] = for_moodle(template.render(
                problem=variant.problems[task], solution=solutions[where], fmt=fmt,
                tex=moodle_tex,
            ))  # fmt: skip
            feedback[where] = for_moodle(steps_html(solutions[where], fmt, show_values=False))
    return texts, feedback


POINTS = TypeAdapter(dict[str, Annotated[float, Field(ge=0, le=1000)]])
POINTS_PREFIX = "points."
"""Query parameters ``points.<task>.<part>=2``: a part's points in the Moodle export."""


def query_points(query: Mapping[str, Any], tasks: list[str]) -> dict[str, float]:
    """The parts' points a page's query string gives (``points.loss.loss=2``) for a set of
    ``tasks``: a ``ValidationError`` names a value that is not a number from 0 to 1000, a
    ``PydanticCustomError`` a key that is no part of the tasks."""
    given = {key[len(POINTS_PREFIX) :]: value for key, value in query.items()
             if key.startswith(POINTS_PREFIX) and value != ""}  # fmt: skip
    points = POINTS.validate_python(given)
    check_points(tasks, points)
    return points


async def _set_from_page(request: Request) -> tuple[Any, list[dict]]:
    tasks = request.query_params.getlist("tasks")
    try:
        wanted = request_from_query(request.query_params, tasks)
    except ValidationError as exc:
        return None, describe_errors(exc.errors())
    return wanted, []


def _preview(wanted: Any, fmt: NumberFormat) -> tuple[VariantSet, dict[tuple[int, str], Any]]:
    """Variant 1 of the wanted set (the same as in the whole set) and its solutions."""
    preview = build_set(wanted.model_copy(update={"count": 1}))
    return preview, _solutions(preview, fmt)


async def instructor_page(
    request: Request, lang: Language, fmt: PageFormat, access: InstructorAccess
) -> HTMLResponse:
    """The form: tasks, spec, count, seed; then variant 1 as a preview, and links to the
    sheets, key and downloads of them all."""
    wanted, errors = await _set_from_page(request)
    generated = wanted is not None and "count" in request.query_params
    preview, solutions = None, {}
    if generated and not errors:
        preview, solutions = await run_in_threadpool(_preview, wanted, fmt)
    context = {
        "preview": preview,
        "solutions": solutions,
        "task_titles": {t: gettext(TASKS[t].title) for t in TASKS},
        "wanted": wanted or variants_request()(),
        "errors": errors,
        "generated": generated,
        "query": request.url.query,
        "locked": not access,
        "spec_fields": spec_fields((wanted or variants_request()()).spec),
        "keyed": get_settings().secret is not None,
    }
    body = render_page(request, "instructor/index.html", lang, fmt, context)
    return html_response(request, body, lang, 422 if errors else 200)


def same_site_path(request: Request, default: str = "/instructor") -> str:
    """Where to go back to: the Referer's path (and query) when it names this server, else
    ``default``; never another host, ``//host``, a backslash trick or ``javascript:``."""
    referer = urlsplit(request.headers.get("referer", ""))
    same_host = referer.scheme in ("http", "https") and referer.netloc == request.url.netloc
    path = referer.path
    if not same_host or not path.startswith("/") or path.startswith("//") or "\\" in path:
        return default
    return f"{path}?{referer.query}" if referer.query else path


async def instructor_token(request: Request, token: str = Form("")) -> RedirectResponse:
    """Remember the instructor token in a cookie (for the key and the downloads)."""
    response = RedirectResponse(same_site_path(request), status_code=303)
    response.set_cookie(TOKEN_COOKIE, token, httponly=True, samesite="strict", max_age=86400)
    return response


def _failure(request: Request, details: list[dict[str, Any]], status: int = 422) -> Response:
    """The errors as a page for a browser, in the API's shape otherwise."""
    if wants_page(request):
        return error_page(request, status, [d["msg"] for d in details])
    return error_response(details, status_code=status)


def _locked(request: Request) -> Response:
    detail = {"field": "", "loc": [], "type": "instructor_token",
              "msg": gettext("the answers need the instructor token")}  # fmt: skip
    response = _failure(request, [detail], status=401)
    response.headers["WWW-Authenticate"] = "Bearer"
    return response


async def _requested_set(request: Request) -> tuple[VariantSet | None, Response | None]:
    wanted, errors = await _set_from_page(request)
    if wanted is None:
        return None, _failure(request, errors)
    return await run_in_threadpool(build_set, wanted), None


SET_FILES = {("sheets", "html"), ("key", "html"), ("variants", "json"), ("answers", "csv"),
             ("moodle", "xml"), ("sheets", "pdf"), ("key", "pdf")}  # fmt: skip
"""A set's pages and downloads: (name, extension); all but the sheets show answers."""

DOWNLOADS = {"json": "application/json", "csv": "text/csv; charset=utf-8",
             "xml": "application/xml", "pdf": "application/pdf"}  # fmt: skip


async def sheets(request: Request, lang: Language) -> Response:
    """One printable A4 page per variant: number, name line, the problems, room to work."""
    return await _public_set(request, "sheets", "html", lang, access=False)


async def key(request: Request, lang: Language, access: InstructorAccess) -> Response:
    """Every variant's answers in one table, then every worked solution."""
    return await _public_set(request, "key", "html", lang, access)


async def download(
    request: Request, name: str, extension: str, lang: Language, access: InstructorAccess
) -> Response:
    """variants.json, answers.csv, moodle.xml, sheets.pdf, key.pdf."""
    if (name, extension) not in SET_FILES or extension == "html":
        return Response(status_code=404)
    return await _public_set(request, name, extension, lang, access)


async def _public_set(
    request: Request, name: str, extension: str, lang: str, access: bool
) -> Response:
    """A set the query string names: answers only with ``access``."""
    if name != "sheets" and not access:
        return _locked(request)
    variant_set, failure = await _requested_set(request)
    if failure:
        return failure
    assert variant_set is not None
    try:
        points = query_points(request.query_params, variant_set.tasks) if name == "moodle" else {}
    except ValidationError as exc:
        return _failure(request, describe_errors(exc.errors()))
    except PydanticCustomError as exc:
        return _failure(request, [custom_error_detail(exc, (exc.context or {}).get("field", ""))])
    return await set_response(request, name, extension, lang, variant_set, points)


async def set_response(
    request: Request, name: str, extension: str, lang: str, variant_set: VariantSet,
    points: dict[str, float],
) -> Response:  # fmt: skip
    """One of :data:`SET_FILES` of a set (Moodle XML with the parts' ``points``): the
    sheets or key as a page, else a download."""
    if extension == "html":
        template = f"instructor/{name}.html"
        body = await run_in_threadpool(render_set, request, template, lang, variant_set)
        return HTMLResponse(body)
    if extension == "json":
        content: str | bytes | None = variant_set.model_dump_json(indent=1)
    elif extension == "csv":
        content = variants_csv(variant_set)
    elif extension == "xml":
        texts, feedback = await run_in_threadpool(statements, variant_set, lang)
        content = moodle_xml(variant_set, texts, MOODLE_TOLERANCE, feedback, points)
    elif variant_set.count > MAX_PDF_COUNT:
        detail = {
            "field": "count",
            "loc": ["query", "count"],
            "type": "pdf_count",
            "msg": gettext(
                "a PDF holds at most {limit} variants here; print the page "
                "or use `stepgrad variants`"
            ).format(limit=MAX_PDF_COUNT),
        }
        return error_response([detail])
    else:
        html = await run_in_threadpool(
            render_set, None, f"instructor/{name}.html", lang, variant_set, STATIC_DIR.as_uri()
        )
        content = await run_in_threadpool(html_to_pdf, html)
        if content is None:
            detail = {
                "field": "",
                "loc": [],
                "type": "pdf",
                "msg": gettext("PDF needs Chromium on the server; print the page instead"),
            }
            return error_response([detail], status_code=501)
    filename = f"stepgrad-{name}-seed{variant_set.seed}.{extension}"
    return Response(
        content,
        media_type=DOWNLOADS[extension],
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def build_router() -> APIRouter:
    """The instructor's routes: the variants API (its models for the tasks registered now),
    the spec form, the token, sheets, key and downloads."""
    router = APIRouter(route_class=CheckedJsonRoute, responses=ERROR_RESPONSES)
    request_model, response_model = variants_request(), variants_response()

    async def variants_route(wanted: request_model, access: InstructorAccess) -> Any:  # type: ignore[valid-type]
        return await api_variants(wanted, access)

    variants_route.__doc__ = api_variants.__doc__
    router.add_api_route("/api/v1/variants", variants_route, methods=["POST"], tags=["api"],
                         summary="Generate a set of quiz variants", response_model=response_model,
                         name="api_variants")  # fmt: skip
    for path, page in (("", instructor_page), ("/sheets", sheets), ("/key", key)):
        router.add_api_route(f"/instructor{path}", page, methods=["GET"],
                             response_class=HTMLResponse, include_in_schema=False)  # fmt: skip
    router.add_api_route("/instructor/token", instructor_token, methods=["POST"],
                         include_in_schema=False)  # fmt: skip
    router.add_api_route("/instructor/{name}.{extension}", download, methods=["GET"],
                         include_in_schema=False)  # fmt: skip
    return router


@dataclass(frozen=True)
class SpecField:
    """One input of the spec form: its query name, label, current value and choices."""

    name: str
    label: str
    value: str
    choices: tuple[str, ...] = ()
    checkbox: bool = False
    choice_labels: Mapping[str, str] = field(default_factory=dict)
    """Message ids of the choices (a choice without one shows as it is)."""


def _choices(annotation: Any) -> tuple[str, ...]:
    """The values a ``Literal`` (or a union of them) allows; empty for anything else."""
    if get_origin(annotation) is Literal:
        return tuple(str(value) for value in get_args(annotation))
    return tuple(choice for part in get_args(annotation) for choice in _choices(part))


def spec_fields(spec: QuizSpecBase) -> dict[str, list[SpecField]]:
    """The spec form's inputs per task, from the spec models (choices from their Literals)."""
    fields: dict[str, list[SpecField]] = {}
    for task in TASKS:
        part = getattr(spec, task)
        for name, info in type(part).model_fields.items():
            value = getattr(part, name)
            fields.setdefault(task, []).append(
                SpecField(
                    name=f"{task}_{name}",
                    label=info.title or name,
                    value=str(value).lower() if isinstance(value, bool) else str(value),
                    choices=_choices(info.annotation),
                    checkbox=isinstance(value, bool),
                    choice_labels=getattr(type(part), "choice_labels", {}),
                )
            )
    return fields
