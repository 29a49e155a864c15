"""What every route asks of a request, as FastAPI dependencies: its language, its number
format, the instructor's token; and the one way to solve a problem for people to read.

The dependencies are ``async``: a plain ``def`` would run in the threadpool (slower, and the
language it sets, a context variable, would not reach the route).
"""

from __future__ import annotations

import hmac
import json
import re
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Annotated, Any, Literal

from fastapi import Depends, HTTPException, Query, Request
from fastapi.dependencies.utils import request_body_to_args
from fastapi.exceptions import RequestValidationError
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic_core import PydanticUndefined
from starlette.concurrency import run_in_threadpool

from app.classroom.db import instructor_token
from app.i18n import LANGUAGES, gettext, translate, use_language
from app.settings import get_settings
from solvers.core import N_, NumberFormat, Solution, Task, translate_steps

TOKEN_COOKIE = "stepgrad_instructor"
"""The cookie the instructor page sets with the token (the fallback to the bearer header)."""


async def request_language(request: Request) -> str:
    """The request's language (``?lang=``, the cookie, Accept-Language, the default)."""
    return use_language(request, get_settings().default_language)


Language = Annotated[str, Depends(request_language)]
"""The request's language, set as the current one for translations."""


MAX_DIGITS = 10
"""Display decimals run from 0 to this (the API answers 422 past it, pages clamp to it)."""

_WHOLE = re.compile(r"[0-9]{1,40}")


def query_int(text: str | None, low: int, high: int, *, clamp: bool) -> int | None:
    """A page's whole-number query parameter: ASCII digits only (``²`` or ``٣`` are not
    numbers here). Out of ``low…high`` it is clamped to the range, or ``None`` (ignored)
    when ``clamp`` is false; text that is no whole number (or has over 40 digits) is ``None``."""
    if text is None or not _WHOLE.fullmatch(text):
        return None
    value = int(text)
    if low <= value <= high:
        return value
    return min(max(value, low), high) if clamp else None


def number_format(lang: str, digits: int | None) -> NumberFormat:
    """The display format of a request: its rounding and, in Russian, decimal commas (one
    instance per format, so the number texts it remembers serve the next requests)."""
    chosen = get_settings().digits if digits is None else digits
    return _number_format(chosen, lang == "ru")


@lru_cache(maxsize=64)
def _number_format(digits: int, decimal_comma: bool) -> NumberFormat:
    return NumberFormat(digits=digits, decimal_comma=decimal_comma)


@dataclass(frozen=True)
class QueryParameter:
    """An optional query parameter read by :func:`read_query`: validated as FastAPI would
    validate ``Annotated[annotation, Query(...)]`` (the same errors), documented by
    :meth:`openapi` (routes pass it as ``openapi_extra``)."""

    name: str
    annotation: Any
    query: Any
    """The parameter's ``fastapi.Query(...)``: its constraints and description."""

    @cached_property
    def adapter(self) -> TypeAdapter[Any]:
        """Validates the parameter's text."""
        return TypeAdapter(Annotated[self.annotation, self.query])

    def openapi(self) -> dict[str, Any]:
        """The parameter as FastAPI documents a ``Query`` parameter."""
        schema = {**self.adapter.json_schema(), "title": self.name.title()}
        return {
            "name": self.name,
            "in": "query",
            "required": False,
            "description": self.query.description,
            "schema": schema,
        }


DIGITS = QueryParameter(
    "digits",
    int | None,
    Query(ge=0, le=MAX_DIGITS, description="Decimals in the steps' formulas (answers keep all)"),
)
LANG = QueryParameter(
    "lang",
    Literal[tuple(LANGUAGES)] | None,  # type: ignore[valid-type]
    Query(description="Language of the steps: " + " or ".join(LANGUAGES) + "."),
)
WITH = QueryParameter(
    "with",
    Literal["torch"] | None,
    Query(
        description="`torch`: add `torch`, the PyTorch script that computes the answer "
        "(`code`), its notes, what each printed line is (`prints`), and what it printed when "
        "the server ran it (`device`, `stdout`, `answer`)."
    ),
)


def query_docs(*parameters: QueryParameter) -> dict[str, Any]:
    """``openapi_extra`` documenting the query parameters a route reads with
    :func:`read_query`."""
    return {"parameters": [p.openapi() for p in parameters]}


def _checked_query(
    request: Request, parameters: tuple[QueryParameter, ...]
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The values of ``parameters`` in the request's query (``None`` when absent) and the
    errors of those that do not validate, located as FastAPI locates a query parameter's."""
    query = request.query_params
    values: dict[str, Any] = {}
    errors: list[dict[str, Any]] = []
    for parameter in parameters:
        text = query.get(parameter.name)
        if text is None:
            values[parameter.name] = None
            continue
        try:
            values[parameter.name] = parameter.adapter.validate_python(text)
        except ValidationError as exc:
            errors += [
                {**e, "loc": ("query", parameter.name, *e["loc"])}
                for e in exc.errors(include_url=False)
            ]
    return values, errors


async def read_query(request: Request, *parameters: QueryParameter) -> dict[str, Any]:
    """The route's optional query parameters, read once and validated (absent ones are
    ``None``). Bad ones are a 422 that lists the body's errors after them, as FastAPI's own
    parameters would (the body is checked here only then)."""
    values, errors = _checked_query(request, parameters)
    if errors:
        raise RequestValidationError(errors + await _body_errors(request))
    return values


def query_errors_first(
    exc: RequestValidationError, request: Request, *parameters: QueryParameter
) -> RequestValidationError:
    """For a route whose endpoint reads ``parameters`` with :func:`read_query`, after FastAPI
    checked the body: the body's errors (``exc``) with the query's listed first, as
    :func:`read_query` in a dependency (run before the body is validated) would list them;
    ``exc`` itself when it holds none of the body's errors (the body was no JSON: the query
    is not looked at) or already the query's, or when the query is right."""
    if isinstance(exc.__cause__, json.JSONDecodeError):
        return exc
    found = exc.errors()
    if any(e.get("loc", ())[:1] == ("query",) for e in found):
        return exc
    errors = _checked_query(request, parameters)[1]
    return RequestValidationError(errors + list(found), body=exc.body) if errors else exc


async def _body_errors(request: Request) -> list[dict[str, Any]]:
    """The errors FastAPI finds in the route's body (it parsed the body before the
    dependencies run; it validates it after them)."""
    route = request.scope.get("route")
    fields = getattr(getattr(route, "dependant", None), "body_params", None)
    if not fields:
        return []
    body = getattr(request, "_json", PydanticUndefined)
    if body is PydanticUndefined:
        body = getattr(request, "_body", b"") or PydanticUndefined
    embed = getattr(route, "_embed_body_fields", False)
    return (await request_body_to_args(fields, body, embed))[1]


async def api_format(request: Request) -> NumberFormat:
    """The API's number format: ``?digits=`` and ``?lang=`` (checked), and the request's
    language made current."""
    query = await read_query(request, DIGITS, LANG)
    return number_format(use_language(request, get_settings().default_language), query["digits"])


ApiFormat = Annotated[NumberFormat, Depends(api_format)]
"""The number format of an API request; a bad ``digits`` or ``lang`` is a 422. A route
using it documents them with ``openapi_extra=query_docs(DIGITS, LANG)``."""


@dataclass(frozen=True)
class SolveOptions:
    """What a solve request's query asks: its language, number format and extras."""

    language: str
    fmt: NumberFormat
    torch: bool
    """``?with=torch``: add the PyTorch script."""


SOLVE_QUERY = (DIGITS, LANG, WITH)
"""The query parameters of the solve API, in the order their errors are listed."""


async def solve_options(request: Request) -> SolveOptions:
    """The solve API's query: ``?digits=``, ``?lang=`` and ``?with=`` (checked); the
    request's language made current. Read by the endpoint itself, not as a dependency
    (solving one cost ~5 % of a solve): its route (:class:`app.api.SolveRoute`) lists the
    query's errors before the body's, as a dependency's would be. Routes document it with
    :data:`SOLVE_QUERY_DOCS`."""
    query = await read_query(request, *SOLVE_QUERY)
    language = use_language(request, get_settings().default_language)
    return SolveOptions(
        language, number_format(language, query["digits"]), query["with"] == "torch"
    )


SOLVE_QUERY_DOCS = query_docs(WITH, DIGITS, LANG)
"""The solve routes' ``openapi_extra``: the parameters :func:`solve_options` reads."""


def page_digits(request: Request) -> int | None:
    """A page's ``?digits=``, clamped to 0…:data:`MAX_DIGITS`; anything but a whole number
    means the default."""
    return query_int(request.query_params.get("digits"), 0, MAX_DIGITS, clamp=True)


async def page_format(request: Request, language: Language) -> NumberFormat:
    """A page's number format: ``?digits=`` (clamped) when it is a whole number, and the
    language."""
    return number_format(language, page_digits(request))


PageFormat = Annotated[NumberFormat, Depends(page_format)]
"""The number format of a page (lenient: a page never answers 422 for its rounding)."""


def page_options(request: Request) -> tuple[str, NumberFormat]:
    """:data:`Language` and :data:`PageFormat` at once, for a hot route that reads its query
    itself (no dependency to solve): the language, made current, and the number format."""
    language = use_language(request, get_settings().default_language)
    return language, number_format(language, page_digits(request))


bearer = HTTPBearer(auto_error=False, description="The instructor token.")


async def may_see_answers(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)] = None,
) -> bool:
    """Answers are open without a secret; with one, only to the instructor token's holder
    (``Authorization: Bearer …``, or the cookie the instructor page sets)."""
    settings = get_settings()
    if settings.secret is None:
        return True
    if not settings.instructor_token:
        return False
    return same_token(presented_token(request, credentials), settings.instructor_token)


def presented_token(request: Request, credentials: HTTPAuthorizationCredentials | None) -> str:
    """The token a request presents: ``Authorization: Bearer …``, else the instructor
    page's cookie ("" when neither)."""
    given = credentials.credentials.strip() if credentials else ""
    return given or request.cookies.get(TOKEN_COOKIE, "")


def same_token(given: str, expected: str) -> bool:
    """Whether two tokens are equal (in constant time)."""
    return hmac.compare_digest(given.encode(), expected.encode())


InstructorAccess = Annotated[bool, Depends(may_see_answers)]
"""Whether the request may see answers (the instructor's token, when a secret is set)."""

TOKEN_MISSING = N_("this needs the instructor token (Authorization: Bearer …)")
TOKEN_WRONG = N_("the instructor token is wrong")


async def require_instructor(
    request: Request,
    language: Language,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)] = None,
) -> None:
    """The classroom's instructor endpoints: 401 without a token, 403 with a wrong one.
    The token is ``STEPGRAD_INSTRUCTOR_TOKEN`` or the one stored on first start."""
    given = presented_token(request, credentials)
    if not given:
        raise HTTPException(401, gettext(TOKEN_MISSING), headers={"WWW-Authenticate": "Bearer"})
    if not same_token(given, await run_in_threadpool(instructor_token)):
        raise HTTPException(403, gettext(TOKEN_WRONG))


Instructor = Depends(require_instructor)
"""The dependency of every classroom instructor endpoint (a router's ``dependencies``)."""


def solve_for_people(
    task: Task, problem: BaseModel | Any, fmt: NumberFormat, busy: bool = False
) -> Solution:
    """Solve ``problem`` and translate its steps into the current language (titles and
    explanations with their placeholders filled): the API, the pages, the try pages and
    the instructor's sheets and keys all solve through here. ``busy``: the task's slow part
    could not be waited for (:func:`app.work.slow_part_first`)."""
    solution = task.solve(problem, fmt, busy=True) if busy else task.solve(problem, fmt)
    translate_steps(solution.steps, translate)  # the solution's own: translated, not copied
    return solution
