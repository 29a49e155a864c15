"""The classroom's storage on SQLite and PostgreSQL: migrations, the shared instructor
token, concurrent submissions of one student; and no database for everything else."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import inspect

from app.classroom.db import get_database, migrate
from app.settings import get_settings


def test_migrations_are_idempotent(database_url: str) -> None:
    database = get_database().ready()
    migrate(database.engine)
    tables = set(inspect(database.engine).get_table_names())
    assert {"exams", "students", "submissions", "server_state", "alembic_version"} <= tables


def test_token_made_on_first_start(database_url: str, monkeypatch, caplog) -> None:
    monkeypatch.delenv("STEPGRAD_INSTRUCTOR_TOKEN")
    get_settings.cache_clear()
    from app.main import app

    with caplog.at_level(logging.WARNING, "stepgrad.classroom"), TestClient(app) as client:
        [line] = [r.getMessage() for r in caplog.records if "login link" in r.getMessage()]
        token = line.rsplit("token=", 1)[1]
        assert len(token) >= 32
        headers = {"Authorization": f"Bearer {token}"}
        assert client.get("/api/v1/exams", headers=headers).status_code == 200
    # another worker (a new process's Database) reads the same token
    from app.classroom.db import Database

    assert Database(database_url).ready().state("instructor_token", create=False) == token


def test_no_database_needed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Solving, the try pages and the stateless APIs work with no database configured;
    no database file appears."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("STEPGRAD_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    from app.main import app

    with TestClient(app) as client:
        assert client.get("/loss").status_code == 200
        assert client.get("/conv/try?seed=3").status_code == 200
        assert client.post("/api/v1/variants", json={"count": 2}).status_code == 200
    assert list(tmp_path.iterdir()) == []
    get_settings.cache_clear()
