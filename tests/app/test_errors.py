"""A browser meets errors as pages in the app's layout; the API keeps its JSON errors."""

from __future__ import annotations

HTML = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


def test_a_missing_page_is_a_page_in_the_language_asked(client) -> None:
    answer = client.get("/no-such-page?lang=ru", headers=HTML)
    assert answer.status_code == 404
    assert answer.headers["content-type"].startswith("text/html")
    assert "Страница не найдена" in answer.text
    assert '<a href="/">' in answer.text and 'class="site"' in answer.text


def test_a_bad_query_on_a_page_is_a_page_naming_the_value(client) -> None:
    answer = client.get("/instructor/sheets?count=abc", headers=HTML)
    assert answer.status_code == 422
    assert answer.headers["content-type"].startswith("text/html")
    assert "count" in answer.text or "число" in answer.text


def test_the_api_and_scripts_keep_json(client) -> None:
    for path, headers in (("/api/v1/nothing", HTML), ("/no-such-page", {})):
        answer = client.get(path, headers=headers)
        assert answer.status_code == 404
        assert answer.json()["detail"][0]["type"] == "http"


def test_a_page_form_over_the_size_limit_is_a_translated_page(client) -> None:
    """A browser's form over ``STEPGRAD_MAX_BODY_BYTES`` gets the 413 as a page in its
    language; the API and scripts get the same 413 in the error shape."""
    content = b"token=" + b"x" * 1_100_000
    for way in ("declared", "streamed"):  # a chunked body is counted as it comes
        body = content if way == "declared" else iter([content[:500_000], content[500_000:]])
        answer = client.post(
            "/instructor/token?lang=ru",
            content=body,
            headers={**HTML, "Content-Type": "application/x-www-form-urlencoded"},
        )
        assert answer.status_code == 413, way
        assert answer.headers["content-type"].startswith("text/html")
        assert "принимается не больше 1000000 байт" in answer.text
        assert '<a href="/">' in answer.text
    script = client.post("/api/v1/loss/solve?lang=ru", content=b"[" + b"1," * 600_000 + b"1]",
                         headers={"Content-Type": "application/json"})  # fmt: skip
    assert script.status_code == 413
    assert script.json()["detail"][0]["type"] == "body_too_large"
    assert "принимается не больше" in script.json()["message"]


def test_the_api_documents_the_size_limit(client) -> None:
    operation = client.get("/openapi.json").json()["paths"]["/api/v1/loss/solve"]["post"]
    assert "413" in operation["responses"] and "422" in operation["responses"]
