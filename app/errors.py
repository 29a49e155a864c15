"""Readable, translatable 422 answers for every kind of bad input.

Solvers raise :class:`PydanticCustomError` with an English message template; pydantic keeps
only the formatted message and its context, so the template is found again among the
catalog's message ids (the one that formats to the same text), then translated.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Coroutine, Iterable, Iterator, Sequence
from functools import lru_cache
from http import HTTPStatus
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field, ValidationError
from pydantic_core import PydanticCustomError
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.i18n import translate, translations, use_language
from app.settings import get_settings
from solvers.core import N_, PLURALS

MOMENT = N_("must be a date and time, such as 2026-12-03 14:00")
# pydantic's own error types, in words a student understands.
BUILTIN_MESSAGES: dict[str, str] = {
    "missing": N_("this field is required"),
    "extra_forbidden": N_("unknown field; check its spelling"),
    "literal_error": N_("must be one of {expected}"),
    "enum": N_("must be one of {expected}"),
    "float_parsing": N_("must be a number"),
    "float_type": N_("must be a number"),
    "int_parsing": N_("must be a whole number"),
    "int_type": N_("must be a whole number"),
    "int_from_float": N_("must be a whole number"),
    "finite_number": N_("must be a finite number"),
    "greater_than_equal": N_("must be at least {ge}"),
    "greater_than": N_("must be greater than {gt}"),
    "less_than_equal": N_("must be at most {le}"),
    "less_than": N_("must be less than {lt}"),
    "string_too_long": N_("is too long: at most {max_length} characters"),
    "too_long": N_("is too long: at most {max_length} items"),
    "string_type": N_("must be text"),
    "list_type": N_("must be a list"),
    "dict_type": N_("must be an object of name: value pairs"),
    "model_type": N_("must be an object"),
    "model_attributes_type": N_("must be an object"),
    "json_invalid": N_("the request body is not valid JSON: {error}"),
    "bool_parsing": N_("must be true or false"),
    "datetime_parsing": MOMENT,
    "datetime_from_date_parsing": MOMENT,
    "datetime_type": MOMENT,
}
BODY_UNREADABLE = N_("the request body could not be read as JSON (nested too deeply?)")
BODY_TOO_LARGE = N_("the request body is {size} bytes; at most {limit} bytes are accepted")
NUMBER_TOO_LARGE = N_(
    "the number has {digits} digits: too large for a float (at most about 1.8e308); "
    "send a number within the field's limits"
)
LONE_SURROGATE = N_(
    "the text holds a lone UTF-16 surrogate ({code}), which is not a character; "
    "remove it or send the whole character"
)


@lru_cache(maxsize=1)
def _templates_with_placeholders() -> tuple[str, ...]:
    catalog = translations("ru")
    ids = getattr(catalog, "_catalog", {}).keys()
    return tuple(sorted(m for m in ids if isinstance(m, str) and "{" in m))


def _find_template(message: str, context: dict[str, Any]) -> str:
    """The message id that formats to ``message`` with ``context``, or ``message`` itself (a
    plural message is found by either of its forms)."""
    plurals = [(singular, plural) for singular, (plural, _) in PLURALS.items()]
    candidates = [(t, t) for t in _templates_with_placeholders()] + plurals
    for template, form in (pair for c in candidates for pair in ((c[0], c[0]), (c[0], c[1]))):
        try:
            if form.format(**context) == message:
                return template
        except (KeyError, IndexError, ValueError):
            continue
    return message


def _field_name(loc: Sequence[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query")]
    # pydantic puts function-validator names in the path; they mean nothing to a user
    return ".".join(p for p in parts if not p.startswith(("function-", "lax-", "json-or-")))


class ErrorDetail(BaseModel):
    """One rejected field (or row, column, character) of a request."""

    field: str = Field(description="The field, dotted (`scores`, `items.3.answer.loss`).")
    loc: list[str | int] = Field(description="Where the error is, as a path.")
    msg: str = Field(description="What is wrong, in the request's language.")
    type: str = Field(description="The error's kind (`matrix`, `missing`, `too_long`, …).")


class ErrorResponse(BaseModel):
    """The body of every rejected request."""

    message: str = Field(description="Every error in one line.")
    detail: list[ErrorDetail]


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    413: {"model": ErrorResponse,
          "description": "The body is over `STEPGRAD_MAX_BODY_BYTES` (`body_too_large`)."},
    422: {"model": ErrorResponse, "description": "The request is not valid: what and where."},
}  # fmt: skip
"""The error answers every API operation documents (routers pass them to each route)."""

_STATUS_TEXTS = {
    401: "No instructor token: send `Authorization: Bearer <token>`.",
    403: "Not allowed: a wrong token, or an exam that is not open (the message says which).",
    404: "No such exam or student.",
    409: "In conflict with the stored state (e.g. no attempt left).",
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """:data:`ERROR_RESPONSES` and the given statuses, each documented with the error shape."""
    extra = {s: {"model": ErrorResponse, "description": _STATUS_TEXTS[s]} for s in statuses}
    return {**ERROR_RESPONSES, **extra}


_CHOICES = re.compile(r", | or ")


def _with_part(loc: list[Any], part: Any) -> list[Any]:
    """``loc`` down to the answer part a grading error names (its ``part``, dotted), which
    its message leaves out: ``(body, answer, gradients)`` and ``gradients.w0`` give
    ``(body, answer, gradients, w0)``; a location that already ends with the part is kept."""
    if not isinstance(part, str) or not part:
        return loc
    path = [int(k) if k.isdigit() else k for k in part.split(".")]
    tail = [str(p) for p in loc]
    for k in range(min(len(path), len(loc)), 0, -1):
        if tail[len(loc) - k :] == [str(p) for p in path[:k]]:
            return loc + path[k:]
    return loc + path


def describe_error(error: dict[str, Any]) -> dict[str, Any]:
    """One pydantic error as ``{field, loc, msg, type}`` with a translated message."""
    kind = error.get("type", "")
    context = {k: v for k, v in (error.get("ctx") or {}).items() if k != "error"}
    if kind == "json_invalid":
        context["error"] = (error.get("ctx") or {}).get("error", "")
    if kind in ("literal_error", "enum") and isinstance(context.get("expected"), str):
        # pydantic lists the choices in English ("'en' or 'ru'"): a plain list reads in any
        context["expected"] = ", ".join(_CHOICES.split(context["expected"]))
    if kind in BUILTIN_MESSAGES:
        message = translate(BUILTIN_MESSAGES[kind], context)
    else:
        raw = str(error.get("msg", "")).removeprefix("Value error, ")
        message = translate(_find_template(raw, context), context) if context else translate(raw)
    loc = _with_part(list(error.get("loc", ())), context.get("part"))
    field = _field_name(loc) or str(context.get("field", ""))
    return {"field": field, "loc": loc, "msg": message, "type": kind}


MAX_ERRORS = 20
"""The most errors one answer describes; the rest are counted (a batch of 10 000 wrong
rows would otherwise spend seconds describing errors nobody reads)."""
MORE_ERRORS = N_("and {count} more errors")


def describe_errors(
    errors: Iterable[dict[str, Any]],
    describe: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """The errors of a validation failure, described (by ``describe``, default
    :func:`describe_error`): the first :data:`MAX_ERRORS`, then one detail counting the
    rest (type ``more_errors``)."""
    errors = list(errors)
    details = [(describe or describe_error)(e) for e in errors[:MAX_ERRORS]]
    if len(errors) > MAX_ERRORS:
        more = translate(MORE_ERRORS, {"count": len(errors) - MAX_ERRORS})
        details.append({"field": "", "loc": [], "type": "more_errors", "msg": more})
    return details


def error_response(details: list[dict[str, Any]], status_code: int = 422) -> JSONResponse:
    """The JSON body of every rejected request: a summary line plus per-field details."""
    summary = "; ".join(f"{d['field']}: {d['msg']}" if d["field"] else d["msg"] for d in details)
    return JSONResponse({"message": summary, "detail": details}, status_code=status_code)


def custom_error_detail(exc: PydanticCustomError, field: str = "") -> dict[str, Any]:
    """A solver's own error (raised while solving, not while validating), described."""
    context = dict(exc.context or {})
    return {
        "field": field,
        "loc": ["body", field] if field else ["body"],
        "msg": translate(exc.message_template, context),
        "type": exc.type,
    }


class _TooLarge:
    """A JSON integer beyond any float, kept as text until its place is known."""

    def __init__(self, text: str) -> None:
        self.digits = len(text.lstrip("-"))


def _parse_int(text: str) -> int | _TooLarge:
    # int() of over 4 300 digits raises; a float holds at most 309 digits before the point
    if len(text) > 320 or abs(value := int(text)) > sys.float_info.max:
        return _TooLarge(text)
    return value


_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")
_LONG_NUMBER = b"0" * 300


def _suspicious(body: bytes) -> bool:
    """Whether ``body`` may hold what :func:`_bad_values` finds: a surrogate's escape, or a
    run of 300 digits. Two C-speed scans (a regex per digit is 40–80 ms on 600 kB), so the
    ordinary body is parsed by plain ``json.loads``, neither hooked nor walked."""
    return bool(_SURROGATE_ESCAPE.search(body)) or _LONG_NUMBER in body.translate(_DIGITS_AS_ZERO)


_SURROGATE = re.compile("[\ud800-\udfff]")


def _bad_values(value: Any, loc: tuple[Any, ...]) -> Iterator[dict[str, Any]]:
    """Errors (pydantic-like dicts) for the huge numbers and lone surrogates in ``value``."""
    if isinstance(value, _TooLarge):
        yield {"loc": loc, "type": "number_too_large", "template": NUMBER_TOO_LARGE,
               "ctx": {"digits": value.digits}}  # fmt: skip
    elif isinstance(value, str):
        if match := _SURROGATE.search(value):
            yield {"loc": loc, "type": "lone_surrogate", "template": LONE_SURROGATE,
                   "ctx": {"code": f"U+{ord(match.group()):04X}"}}  # fmt: skip
    elif isinstance(value, dict):
        for key, item in value.items():
            place = (*loc, key.encode("utf-8", "backslashreplace").decode())
            yield from _bad_values(key, place)
            yield from _bad_values(item, place)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _bad_values(item, (*loc, index))


class BodyRejected(StarletteHTTPException):
    """A JSON body that parses but holds what no field can take (a number beyond any float,
    a lone surrogate): a 422 naming each place, translated when it is answered."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(status_code=422)
        self.errors = errors


def checked_json(body: bytes) -> Any:
    """``body`` parsed as JSON; :class:`BodyRejected` when it holds an integer too large for
    a float or a lone surrogate (``json.JSONDecodeError`` when it is no JSON)."""
    if not _suspicious(body):
        return json.loads(body)
    value = json.loads(body, parse_int=_parse_int)
    if errors := list(_bad_values(value, ("body",))):
        raise BodyRejected(errors)
    return value


def reject_hostile_json(body: bytes) -> None:
    """For a body that a model parses itself (``model_validate_json``): raise
    :class:`BodyRejected` as :func:`checked_json` would; other bodies (malformed JSON
    included, which the model reports) pass at the cost of one regex search."""
    if _suspicious(body):
        try:
            checked_json(body)
        except ValueError:
            return


class CheckedJsonRequest(Request):
    """A request whose JSON body is checked as it is parsed: integers too large for a float
    and lone UTF-16 surrogates are refused with their place, before any field converts them."""

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = checked_json(await self.body())
        return self._json


class CheckedJsonRoute(APIRoute):
    """An API route whose JSON body goes through :class:`CheckedJsonRequest`."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def checked(request: Request) -> Response:
            return await handler(CheckedJsonRequest(request.scope, request.receive))

        return checked


PAGE_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")
"""The bodies a browser's page form posts."""


def wants_page(request: Request) -> bool:
    """A browser asking for a page, or posting a page's form (not the API, not a script):
    errors answer as pages."""
    if request.url.path.startswith(("/api/", "/openapi", "/docs", "/static/")):
        return False
    if "text/html" not in request.headers.get("accept", ""):
        return False
    if request.method in ("GET", "HEAD"):
        return True
    form = request.headers.get("content-type", "").startswith(PAGE_FORMS)
    return request.method == "POST" and form


def error_page(request: Request, status: int, messages: list[str]) -> Response:
    """An error as a page in the app's layout (its title, the messages, a way home)."""
    from app.deps import number_format
    from app.pages import html_response, render_page

    lang = use_language(request, get_settings().default_language)
    context = {"status": status, "messages": messages}
    body = render_page(request, "error.html", lang, number_format(lang, None), context)
    return html_response(request, body, lang, status)


async def request_validation_handler(request: Request, exc: Exception) -> Response:
    """422 for a body or query that does not validate."""
    assert isinstance(exc, RequestValidationError | ValidationError)
    use_language(request, get_settings().default_language)
    details = describe_errors(exc.errors())
    if wants_page(request):
        return error_page(request, 422, [d["msg"] for d in details])
    return error_response(details)


async def solver_error_handler(request: Request, exc: Exception) -> JSONResponse:
    """422 for a problem that validates but cannot be solved (log of a negative, …)."""
    assert isinstance(exc, PydanticCustomError)
    use_language(request, get_settings().default_language)
    return error_response([custom_error_detail(exc)])


def _reason(exc: StarletteHTTPException) -> list[str]:
    """Why ``exc`` was raised, for its page: its detail (translated where it was raised), none
    when it is only the status's English phrase (``Not Found``), which the page says anyway."""
    detail = exc.detail
    if not isinstance(detail, str) or not detail or detail == HTTPStatus(exc.status_code).phrase:
        return []
    return [detail]


async def http_error_handler(request: Request, exc: Exception) -> Response:
    """Starlette's own HTTP errors in the same shape; an unparsable body is a 422."""
    assert isinstance(exc, StarletteHTTPException)
    use_language(request, get_settings().default_language)
    if isinstance(exc, BodyRejected):
        return error_response([
            {"field": _field_name(e["loc"]), "loc": list(e["loc"]),
             "msg": translate(e["template"], e["ctx"]), "type": e["type"]}
            for e in exc.errors
        ])  # fmt: skip
    if exc.status_code == 400:
        detail = {"field": "", "loc": ["body"], "msg": translate(BODY_UNREADABLE),
                  "type": "json_invalid"}  # fmt: skip
        return error_response([detail])
    if wants_page(request):
        return error_page(request, exc.status_code, _reason(exc))
    detail = {"field": "", "loc": [], "msg": str(exc.detail), "type": "http"}
    response = error_response([detail], status_code=exc.status_code)
    response.headers.update(exc.headers or {})
    return response
