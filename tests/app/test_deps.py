"""Request dependencies (app/deps.py): whole numbers of a page's query, number formats,
the query parameters checked as FastAPI checks them, tokens, solving for people."""

from __future__ import annotations

import anyio
import pytest
from fastapi.exceptions import RequestValidationError
from fastapi.security import HTTPAuthorizationCredentials
from starlette.requests import Request

from app.deps import (
    DIGITS,
    LANG,
    MAX_DIGITS,
    SOLVE_QUERY,
    TOKEN_COOKIE,
    WITH,
    number_format,
    page_digits,
    presented_token,
    query_docs,
    query_int,
    read_query,
    same_token,
    solve_for_people,
)
from app.i18n import current_language
from solvers.core import NumberFormat
from solvers.registry import TASKS
from solvers.tasks.loss import example


def _request(query: str = "", cookie: str = "") -> Request:
    headers = [(b"cookie", cookie.encode())] if cookie else []
    return Request({"type": "http", "method": "GET", "query_string": query.encode(),
                    "headers": headers, "path": "/"})  # fmt: skip


@pytest.mark.parametrize(
    ("text", "clamp", "value"),
    [
        ("3", False, 3),
        ("007", False, 7),
        ("11", True, 10),
        ("11", False, None),
        ("", True, None),
        ("-1", True, None),
        ("²", True, None),  # a digit to unicode, not to a page
        ("1" * 41, True, None),
        (None, True, None),
    ],
)
def test_query_int_takes_ascii_whole_numbers(text: str | None, clamp: bool, value: int) -> None:
    assert query_int(text, 0, 10, clamp=clamp) == value


def test_number_formats_are_shared_and_russian_has_decimal_commas() -> None:
    assert number_format("ru", 2) == NumberFormat(digits=2, decimal_comma=True)
    assert number_format("en", 2) is number_format("en", 2)
    assert number_format("en", None).digits == 4  # the settings' default


def test_page_digits_are_clamped_or_the_default() -> None:
    assert page_digits(_request("digits=99")) == MAX_DIGITS
    assert page_digits(_request("digits=x")) is None
    assert page_digits(_request()) is None


def test_the_query_is_read_once_and_bad_values_are_fastapis_422() -> None:
    values = anyio.run(read_query, _request("digits=3&with=torch"), *SOLVE_QUERY)
    assert values == {"digits": 3, "lang": None, "with": "torch"}
    with pytest.raises(RequestValidationError) as caught:
        anyio.run(read_query, _request("digits=11&lang=xx&with=tf"), *SOLVE_QUERY)
    assert [e["loc"] for e in caught.value.errors()] == [
        ("query", "digits"),
        ("query", "lang"),
        ("query", "with"),
    ]
    assert caught.value.errors()[0]["type"] == "less_than_equal"


def test_query_docs_as_fastapi_documents_a_query_parameter() -> None:
    [digits, lang] = query_docs(DIGITS, LANG)["parameters"]
    assert digits["name"] == "digits" and digits["in"] == "query" and not digits["required"]
    assert {"type": "integer", "minimum": 0, "maximum": MAX_DIGITS} in digits["schema"]["anyOf"]
    assert "en" in str(lang["schema"]) and "ru" in str(lang["schema"])
    assert WITH.openapi()["description"].startswith("`torch`")


def test_tokens_from_the_header_or_the_cookie() -> None:
    bearer = HTTPAuthorizationCredentials(scheme="Bearer", credentials=" t0ken ")
    assert presented_token(_request(cookie=f"{TOKEN_COOKIE}=c00kie"), bearer) == "t0ken"
    assert presented_token(_request(), None) == ""
    assert same_token("t0ken", "t0ken") and not same_token("t0ken", "t0ken2")
    assert not same_token("", "t0ken")


@pytest.mark.parametrize(
    ("lang", "title"), [("en", "Average over the examples"), ("ru", "Среднее по примерам")]
)
def test_solve_for_people_translates_the_steps(lang: str, title: str) -> None:
    token = current_language.set(lang)
    try:
        solution = solve_for_people(TASKS["loss"], example(), NumberFormat())
    finally:
        current_language.reset(token)
    assert solution.answer.loss == pytest.approx(TASKS["loss"].solve(example()).answer.loss)
    assert any(title in step.title for step in solution.steps), [s.title for s in solution.steps]
