"""Answers for the classroom's tests: right ones, one with a named mistake, partly right."""

from __future__ import annotations

import json
import math
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from solvers.registry import TASKS

SPEC = {"loss": {"loss": "softmax"}}
"""Softmax losses, so that the log-base mistake can be made."""


def right(task: str, problem: dict[str, Any]) -> dict[str, Any]:
    """The solver's answer, as a submission of ``task``."""
    model = TASKS[task].problem_model.model_validate(problem)
    answer = TASKS[task].solve_batch([model], "cpu")[0].model_dump(mode="json")
    fields = TASKS[task].grader.submission_model.model_fields
    return {k: v for k, v in answer.items() if k in fields and v is not None}


def log10_loss(problem: dict[str, Any]) -> dict[str, Any]:
    """A softmax loss worked with log base 10 (the ``log10`` misconception)."""
    model = TASKS["loss"].problem_model.model_validate(problem)
    answer = TASKS["loss"].solve_batch([model], "cpu")[0]
    probabilities = answer.probabilities
    per_example = [-math.log10(probabilities[y][i]) for i, y in enumerate(model.labels)]
    return {"per_example": per_example, "loss": sum(per_example) / len(per_example)}


def exam_body(roster: list[dict[str, str]], **extra: Any) -> dict[str, Any]:
    """An exam of the three tasks for ``roster``."""
    return {
        "title": "Quiz 5",
        "tasks": ["loss", "graph", "conv"],
        "spec": SPEC,
        "seed": 11,
        "roster": roster,
        **extra,
    }


def students(n: int) -> list[dict[str, str]]:
    """A roster of ``n`` students."""
    return [{"id": f"s{i}", "name": f"Student {i}"} for i in range(1, n + 1)]


def call(base: str, method: str, path: str, body: Any = None, token: str | None = None):
    """One HTTP request: (status, parsed JSON)."""
    request = urllib.request.Request(
        base + path, method=method, data=json.dumps(body).encode() if body is not None else None
    )
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


@contextmanager
def own_database(postgres_url: str, name: str) -> Iterator[str]:
    """A new, empty database ``name`` on the session's PostgreSQL, dropped afterwards (with
    any connection a killed worker left behind); yields its URL."""
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        connection.execute(text(f"CREATE DATABASE {name}"))
    try:
        yield postgres_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


def create(client: TestClient, teacher: dict[str, str], n: int = 3, **extra: Any) -> dict:
    """A new exam of ``n`` students through the API; its JSON."""
    answer = client.post("/api/v1/exams", json=exam_body(students(n), **extra), headers=teacher)
    assert answer.status_code == 201, answer.text
    return answer.json()
