"""The classroom's fixtures: a database per test on SQLite and on a real PostgreSQL (one
server for the session), the app pointed at it, the instructor's headers."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from app.classroom.db import _database
from app.settings import get_settings
from tests.postgres import PostgresUnavailable, running_postgres

TOKEN = "teacher-token"


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A PostgreSQL server for the session; in CI (``CI=true``) one that cannot start fails
    the tests that need it, elsewhere they are skipped."""
    try:
        with running_postgres() as url:
            yield url
    except PostgresUnavailable as exc:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"PostgreSQL is needed in CI: {exc}")
        pytest.skip(f"no PostgreSQL here: {exc}")


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path, monkeypatch) -> Iterator[str]:
    """The app's database for one test, empty: a new SQLite file, or the session's
    PostgreSQL with its tables emptied afterwards."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'stepgrad.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    monkeypatch.setenv("STEPGRAD_DATABASE_URL", url)
    monkeypatch.setenv("STEPGRAD_INSTRUCTOR_TOKEN", TOKEN)
    monkeypatch.delenv("STEPGRAD_SECRET", raising=False)
    get_settings.cache_clear()
    yield url
    database = _database(url)
    if database._ready and request.param == "postgresql":
        _empty(database.engine)
    database.engine.dispose()
    _database.cache_clear()
    get_settings.cache_clear()


@pytest.fixture
def classroom(database_url: str) -> Iterator[TestClient]:
    """The app on that database."""
    from app.main import app

    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def teacher() -> dict[str, str]:
    """The instructor's authorization header."""
    return {"Authorization": f"Bearer {TOKEN}"}


TRUNCATE = "TRUNCATE exams, students, submissions, server_state RESTART IDENTITY CASCADE"


def _empty(engine: Any, tries: int = 5) -> None:
    """Empty the tables. A thread of the test's app may still be writing: where PostgreSQL
    finds the two waiting on each other it aborts one, and the emptying is tried again."""
    for attempt in range(tries):
        try:
            with engine.begin() as connection:
                connection.execute(text(TRUNCATE))
            return
        except OperationalError:
            if attempt == tries - 1:
                raise
            time.sleep(0.2)
