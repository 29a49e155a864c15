"""Submissions of an exam whose feedback waits for its closing: checked and stored at once,
graded afterwards (the worker's backlog, or whoever reads grades first), with exactly the
grades of ``POST /api/v1/{task}/grade``."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.classroom import backlog
from app.classroom.db import _database
from app.classroom.models import Submission
from tests.app.classroom.helpers import create, log10_loss, right


@pytest.fixture
def held(monkeypatch: pytest.MonkeyPatch) -> None:
    """No background grading: the stored submissions wait for a reader (as when their
    worker was killed before grading them)."""
    monkeypatch.setattr(backlog.BACKLOG, "add", lambda db, ids: None)


def waiting(url: str) -> list[bool]:
    """For each stored submission, in order, whether it still waits for its grade."""
    with _database(url).engine.connect() as connection:
        query = select(Submission.grades.is_(None)).order_by(Submission.id)
        return list(connection.scalars(query))


@pytest.fixture
def after_close(classroom: TestClient, teacher: dict[str, str]) -> Iterator[dict]:
    """An exam of three students whose feedback waits for its closing."""
    yield create(classroom, teacher, feedback="after_close", attempts=2)


def problems_of(classroom: TestClient, token: str) -> dict:
    return classroom.get(f"/api/v1/take/{token}").json()["problems"]


@pytest.mark.usefixtures("held")
def test_graded_when_read_as_the_grade_api(
    classroom: TestClient, teacher: dict[str, str], database_url: str, after_close: dict
) -> None:
    token = after_close["students"][0]["token"]
    problems = problems_of(classroom, token)
    answers = {"loss": log10_loss(problems["loss"]), "graph": right("graph", problems["graph"])}
    stored = classroom.post(f"/api/v1/take/{token}/submissions", json={"answers": answers})
    assert stored.status_code == 201 and "score" not in stored.json()
    assert waiting(database_url) == [True]
    book = classroom.get(f"/api/v1/exams/{after_close['id']}/gradebook", headers=teacher).json()
    assert waiting(database_url) == [False]
    row = book["students"][0]
    total = 0.0
    for task in ("loss", "graph", "conv"):
        api = classroom.post(
            f"/api/v1/{task}/grade",
            json={"problem": problems[task], "answer": answers.get(task, {})},
        ).json()
        total += api["score"]
        for part in api["parts"]:
            assert row["parts"][f"{task}.{part['name']}"]["score"] == part["score"]
    assert row["score"] == total
    assert row["parts"]["loss.per_example"]["misconception"] == "loss.log10"
    assert row["parts"]["conv.pool"]["verdict"] == "blank"


@pytest.mark.usefixtures("held")
def test_every_reader_grades_first(
    classroom: TestClient, teacher: dict[str, str], database_url: str, after_close: dict
) -> None:
    exam_id, (first, second, _) = after_close["id"], after_close["students"]
    url = f"/api/v1/take/{first['token']}/submissions"
    assert classroom.post(url, json={"answers": {}}).status_code == 201
    stats = classroom.get(f"/api/v1/exams/{exam_id}/analytics", headers=teacher).json()
    assert stats["submitted"] == 1 and stats["parts"]["loss.loss"]["blank"] == 1
    assert classroom.post(url, json={"answers": {}}).status_code == 201
    page = classroom.get(f"/instructor/exams/{exam_id}/students/{first['id']}", headers=teacher)
    assert page.status_code == 200 and waiting(database_url) == [False, False]
    url = f"/api/v1/take/{second['token']}/submissions"
    assert classroom.post(url, json={"answers": {}}).status_code == 201
    closed = classroom.post(f"/api/v1/exams/{exam_id}/close", headers=teacher)
    assert closed.status_code == 200 and waiting(database_url)[-1]
    view = classroom.get(f"/api/v1/take/{second['token']}").json()
    assert view["last"]["score"] == 0 and waiting(database_url) == [False] * 3


@pytest.mark.usefixtures("held")
def test_regrade_grades_the_waiting(
    classroom: TestClient, teacher: dict[str, str], database_url: str, after_close: dict
) -> None:
    token = after_close["students"][0]["token"]
    problems = problems_of(classroom, token)
    off = {"loss": {"loss": right("loss", problems["loss"])["loss"] + 0.2}}
    classroom.post(f"/api/v1/take/{token}/submissions", json={"answers": off})
    book = classroom.post(
        f"/api/v1/exams/{after_close['id']}/regrade",
        headers=teacher,
        json={"tolerance": {"absolute": 0.5}},
    ).json()
    assert book["students"][0]["parts"]["loss.loss"]["verdict"] == "right"
    assert waiting(database_url) == [False]


def test_refused_at_once_like_a_graded_one(
    classroom: TestClient, teacher: dict[str, str], database_url: str, after_close: dict
) -> None:
    """A malformed answer is the same 422 as when graded at once; nothing is stored."""
    immediate = create(classroom, teacher)
    for body in ({"answers": {"conv": {"pool": "x y"}}}, {"answers": {"nope": {}}}):
        answers = [
            classroom.post(f"/api/v1/take/{exam['students'][0]['token']}/submissions", json=body)
            for exam in (after_close, immediate)
        ]
        assert [a.status_code for a in answers] == [422, 422]
        assert answers[0].json() == answers[1].json()
    assert waiting(database_url) == []


def test_another_shape_is_graded_at_once(
    classroom: TestClient, teacher: dict[str, str], database_url: str, after_close: dict
) -> None:
    """A part in another shape than expected is graded before it is stored: a shape no
    named mistake explains is the same 422 as in an exam graded at once."""
    immediate = create(classroom, teacher)
    answers = []
    for exam in (after_close, immediate):
        token = exam["students"][0]["token"]
        pool = right("conv", problems_of(classroom, token)["conv"])["pool"]
        wider = [[[*row, 0] for row in grid] for grid in pool]  # each map one column wider
        body = {"answers": {"conv": {"pool": wider}}}
        answers.append(classroom.post(f"/api/v1/take/{token}/submissions", json=body))
    assert [a.status_code for a in answers] == [422, 422]
    assert answers[0].json() == answers[1].json()
    assert answers[0].json()["detail"][0]["type"] == "grading_shape"
    assert waiting(database_url) == []


def test_the_backlog_grades_soon(
    classroom: TestClient, database_url: str, after_close: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(backlog.BACKLOG, "_linger", 0.0)
    for student in after_close["students"]:
        url = f"/api/v1/take/{student['token']}/submissions"
        assert classroom.post(url, json={"answers": {}}).status_code == 201
    deadline = time.monotonic() + 30
    while any(waiting(database_url)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert waiting(database_url) == [False] * 3
