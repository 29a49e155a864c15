"""Security of the responses (issue #15): redirects stay on this server, CSV cells never run
as formulas, every response carries the security headers, HEAD answers every GET page."""

from __future__ import annotations

import csv
import io

import pytest
from fastapi.testclient import TestClient

from app.exports import csv_cell, variants_csv, write_csv
from app.grading import grades_csv
from app.main import SECURITY_HEADERS
from solvers.registry import TASKS
from solvers.variants.sets import generate_set, quiz_spec

# --- open redirect -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "referer",
    [
        "https://evil.example/phish",
        "http://evil.example/instructor",
        "//evil.example/x",
        "javascript:alert(1)",
        "http://testserver.evil.example/",
        "http://testserver@evil.example/",
        "http://testserver//evil.example/",
        "http://testserver/\\evil.example",
        "/instructor?x=1",  # not a URL of this host: only a full same-host URL counts
        "",
    ],
)
def test_token_never_redirects_away(client: TestClient, referer: str) -> None:
    headers = {"referer": referer} if referer else {}
    response = client.post(
        "/instructor/token", data={"token": "t"}, headers=headers, follow_redirects=False
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/instructor"


def test_token_goes_back_to_the_page_it_came_from(client: TestClient) -> None:
    referer = "http://testserver/instructor/key?tasks=loss&count=3"
    response = client.post(
        "/instructor/token", data={"token": "t"}, headers={"referer": referer},
        follow_redirects=False,
    )  # fmt: skip
    assert response.headers["location"] == "/instructor/key?tasks=loss&count=3"


# --- CSV formula injection -----------------------------------------------------------------

HOSTILE_CELLS = ['=HYPERLINK("http://x","y")', "=1+1", "+cmd|' /C calc'!A0", "@SUM(A1)",
                 "-2+3", "\tx", "\rx", "-"]  # fmt: skip


@pytest.mark.parametrize("text", HOSTILE_CELLS)
def test_formula_cells_are_neutralized(text: str) -> None:
    assert csv_cell(text) == "'" + text


@pytest.mark.parametrize("text", ["-0.39", "+1", "1e-5", "-1.5E+3", ".5", "0", "abc", "x=1", ""])
def test_plain_cells_stay(text: str) -> None:
    assert csv_cell(text) == text


def test_write_csv_neutralizes_header_and_cells() -> None:
    text = write_csv(["student", "=bad"], [{"student": "=1+1", "=bad": -0.39}, {}])
    rows = list(csv.reader(io.StringIO(text)))
    assert rows == [["student", "'=bad"], ["'=1+1", "-0.39"], ["", ""]]


def test_graded_csv_upload_neutralizes_student_ids(client: TestClient) -> None:
    task = next(iter(TASKS))
    students = HOSTILE_CELLS[:5]
    out = io.StringIO()
    csv.writer(out).writerows([["student", "variant"], *([s, "1"] for s in students)])
    body = out.getvalue()
    response = client.post(
        "/api/v1/grade/batch",
        data={"task": task, "seed": "7"},
        files={"file": ("answers.csv", body.encode(), "text/csv")},
    )
    assert response.status_code == 200, response.text
    column = [row["student"] for row in csv.DictReader(io.StringIO(response.text))]
    assert column == ["'" + s for s in students]


def test_grades_csv_and_answers_csv_use_the_one_writer() -> None:
    variant_set = generate_set(list(TASKS), quiz_spec()(), 1, 2)
    rows = list(csv.reader(io.StringIO(variants_csv(variant_set))))
    assert rows[0][0] == "variant"
    negative = [cell for row in rows[1:] for cell in row if cell.startswith("-")]
    assert all(float(cell) < 0 for cell in negative)  # numbers stay numbers
    assert grades_csv([], []).startswith("student,variant,score")


# --- headers and HEAD ------------------------------------------------------------------------

PAGES = ["/", *(f"/{t}" for t in TASKS), *(f"/{t}/try?seed=1" for t in TASKS), "/instructor",
         "/docs", "/openapi.json", "/api/v1/tasks", "/healthz", "/static/css/app.css"]  # fmt: skip


@pytest.mark.parametrize("url", PAGES)
def test_security_headers_and_head(client: TestClient, url: str) -> None:
    got = client.get(url)
    assert got.status_code == 200
    for name, value in SECURITY_HEADERS:
        assert got.headers[name.decode()] == value.decode()
    csp = got.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
    head = client.head(url)
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-type"] == got.headers["content-type"]
    assert head.headers["x-content-type-options"] == "nosniff"


def test_errors_carry_the_headers_too(client: TestClient) -> None:
    for response in (client.get("/nowhere"), client.post("/api/v1/loss/solve", json={})):
        assert response.headers["x-frame-options"] == "DENY"
        assert "content-security-policy" in response.headers


def test_docs_are_served_from_this_server(client: TestClient) -> None:
    html = client.get("/docs").text
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in html
    assert "http" not in html.replace('href="/"', "")  # no CDN, no absolute URL
    assert 'href="/"' in html  # the way back to the app
    assert client.get("/static/vendor/swagger-ui/swagger-ui-bundle.js").status_code == 200
    assert client.get("/redoc", follow_redirects=False).headers["location"] == "/docs"
