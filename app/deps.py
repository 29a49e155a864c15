"""What every route asks of a request, as FastAPI dependencies: its language, its number
format, the instructor's token; and the one way to solve a problem for people to read.

The dependencies are ``async``: a plain ``def`` would run in the threadpool (slower, and the
language it sets, a context variable, would not reach the route).
"""

from __future__ import annotations

import hmac
import re
from functools import lru_cache
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from app.classroom.db import instructor_token
from app.i18n import gettext, translate, use_language
from app.settings import get_settings
from solvers.core import N_, NumberFormat, Solution, Task

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


async def api_format(
    language: Language,
    digits: Annotated[
        int | None,
        Query(
            ge=0, le=MAX_DIGITS, description="Decimals in the steps' formulas (answers keep all)"
        ),
    ] = None,
    lang: Annotated[
        str | None, Query(pattern="^(en|ru)$", description="Language of the steps: en or ru.")
    ] = None,
) -> NumberFormat:
    """The API's number format: ``?digits=`` (checked) and ``?lang=`` (checked)."""
    return number_format(language, digits)


ApiFormat = Annotated[NumberFormat, Depends(api_format)]
"""The number format of an API request; a bad ``digits`` or ``lang`` is a 422."""


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


def solve_for_people(task: Task, problem: BaseModel | Any, fmt: NumberFormat) -> Solution:
    """Solve ``problem`` and translate its steps into the current language (titles and
    explanations with their placeholders filled): the API, the pages, the try pages and
    the instructor's sheets and keys all solve through here."""
    solution = task.solve(problem, fmt)
    steps = [
        step.with_text(translate(step.title, step.params), translate(step.text, step.params))
        for step in solution.steps
    ]
    return solution.model_copy(update={"steps": steps})
