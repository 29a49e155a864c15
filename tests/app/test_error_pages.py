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
