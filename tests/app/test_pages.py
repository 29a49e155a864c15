"""GET / and the task pages (app/pages.py), shown with the loss task."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_page_shows_the_lecture_example(client: TestClient) -> None:
    page = client.get("/loss")
    assert page.status_code == 200
    assert "5.2667" in page.text
    assert 'class="hl"' in page.text


def test_page_solves_the_problem_in_the_url(client: TestClient) -> None:
    page = client.get("/loss", params={"scores": "1 2\n3 4", "labels": "0 1", "loss": "svm"})
    assert page.status_code == 200
    assert 'data-value="1.5"' in page.text


def test_page_in_russian_uses_decimal_commas(client: TestClient) -> None:
    page = client.get("/loss?lang=ru")
    assert "5,2667" in page.text
    assert "Функция потерь" in page.text
    assert page.cookies.get("lang") == "ru"


def test_page_keeps_input_and_shows_error_next_to_field(client: TestClient) -> None:
    page = client.get("/loss", params={"scores": "1 2\n3 zz", "labels": "0 1"})
    assert page.status_code == 422
    assert "3 zz" in page.text
    assert 'data-field="scores"' in page.text
    assert "row 2, column 2" in page.text


def test_page_error_in_russian(client: TestClient) -> None:
    page = client.get("/loss", params={"scores": "1 2\n3 zz", "labels": "0 1", "lang": "ru"})
    assert "строка 2, столбец 2" in page.text


def test_home_lists_tasks(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert 'href="/loss"' in page.text
