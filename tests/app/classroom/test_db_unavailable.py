"""A classroom database that cannot be reached: the app still starts and solves; the
classroom answers 503 saying why, and the log names the database without its password."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient

from app.classroom.db import _database
from app.settings import get_settings
from tests.app.classroom.conftest import TOKEN
from tests.app.classroom.helpers import call
from tests.conftest import start_server, stop_server

UNREACHABLE = "postgresql+psycopg://stepgrad:hunter2@127.0.0.1:9/stepgrad"
"""Port 9 (discard): the connection is refused at once."""


@pytest.fixture
def unreachable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STEPGRAD_DATABASE_URL", UNREACHABLE)
    monkeypatch.setenv("STEPGRAD_INSTRUCTOR_TOKEN", TOKEN)
    get_settings.cache_clear()
    yield
    _database.cache_clear()
    get_settings.cache_clear()


@pytest.mark.usefixtures("unreachable")
def test_an_unreachable_database(caplog: pytest.LogCaptureFixture) -> None:
    from app.main import app

    teacher = {"Authorization": f"Bearer {TOKEN}"}
    with (
        caplog.at_level(logging.ERROR, "stepgrad.classroom"),
        TestClient(app, raise_server_exceptions=False) as client,  # the start survives
    ):
        solved = client.post(
            "/api/v1/loss/solve", json={"scores": [[1, 2], [3, 4]], "labels": [0, 1]}
        )
        assert solved.status_code == 200
        answer = client.get("/api/v1/exams", headers=teacher)
        assert answer.status_code == 503 and answer.headers["retry-after"] == "60"
        assert "database is not available" in answer.json()["message"]
        page = client.get("/instructor/exams?lang=ru", headers={**teacher, "Accept": "text/html"})
        assert page.status_code == 503 and "база данных" in page.text
    logged = caplog.text
    assert "127.0.0.1:9" in logged and "hunter2" not in logged


def test_stepgrad_serve_starts_without_its_database() -> None:
    """``stepgrad serve`` (the README's start command) with the database down: it serves."""
    process, base = start_server({"STEPGRAD_DATABASE_URL": UNREACHABLE})
    try:
        status, answer = call(base, "GET", "/api/v1/exams", token="any")
        assert status == 503 and "not available" in answer["message"]
    finally:
        stop_server(process)
