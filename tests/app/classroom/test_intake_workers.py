"""Two ``stepgrad serve`` workers on one PostgreSQL: 100 students submit 300 times in
parallel (each student three times at once, two attempts allowed). Every accepted
submission is stored exactly once, no attempt is exceeded, and the gradebook equals
grading the stored answers one by one through ``POST /api/v1/{task}/grade``."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import create_engine, select

from app.classroom.models import Student, Submission
from tests.app.classroom.helpers import call, exam_body, log10_loss, own_database, right, students
from tests.conftest import start_server, stop_server

TOKEN = "workers-token"


@pytest.fixture
def two_workers(postgres_url: str) -> Iterator[tuple[str, str]]:
    """``stepgrad serve --workers 2`` on a database of its own; yields (base URL, DB URL)."""
    with own_database(postgres_url, "workers") as url:
        env = {"STEPGRAD_DATABASE_URL": url, "STEPGRAD_INSTRUCTOR_TOKEN": TOKEN}
        process, base = start_server(env, "--workers", "2")
        yield base, url
        stop_server(process)


@pytest.mark.parametrize("feedback", ["immediate", "after_close"])
def test_two_workers_many_submissions(two_workers: tuple[str, str], feedback: str) -> None:
    """With feedback after closing, the submissions are graded after they are stored (by
    each worker's backlog, or by the gradebook's read): the same grades."""
    base, url = two_workers
    body = exam_body(students(100), attempts=2, feedback=feedback)
    status, exam = call(base, "POST", "/api/v1/exams", body, TOKEN)
    assert status == 201, exam
    tokens = {s["id"]: s["token"] for s in exam["students"]}
    with ThreadPoolExecutor(16) as pool:
        views = dict(
            zip(
                tokens,
                pool.map(lambda t: call(base, "GET", f"/api/v1/take/{t}")[1], tokens.values()),
                strict=True,
            )
        )

    def answers(student: str, kind: int) -> dict[str, Any]:
        problems = views[student]["problems"]
        if kind == 0:
            return {task: right(task, problems[task]) for task in problems}
        if kind == 1:
            return {
                "loss": log10_loss(problems["loss"]),
                "graph": right("graph", problems["graph"]),
            }
        return {"conv": right("conv", problems["conv"])}

    jobs = [(s, k) for k in range(3) for s in tokens]  # 300: each student three times at once

    def submit(job: tuple[str, int]) -> tuple[str, int]:
        student, kind = job
        body = {"answers": answers(student, kind)}
        return student, call(base, "POST", f"/api/v1/take/{tokens[student]}/submissions", body)[0]

    with ThreadPoolExecutor(32) as pool:
        results = list(pool.map(submit, jobs))
    assert Counter(code for _, code in results) == {201: 200, 409: 100}
    accepted = Counter(student for student, code in results if code == 201)
    assert set(accepted.values()) == {2}

    engine = create_engine(url)
    with engine.connect() as connection:
        stored = connection.execute(
            select(Student.student_id, Submission.attempt, Submission.answers).join(Student)
        ).all()
    engine.dispose()
    assert len(stored) == 200
    assert len({(s, a) for s, a, _ in stored}) == 200
    assert {a for _, a, _ in stored} == {1, 2}
    latest = {s: answers_ for s, a, answers_ in stored if a == 2}
    status, book = call(base, "GET", f"/api/v1/exams/{exam['id']}/gradebook", token=TOKEN)
    assert status == 200
    for row in book["students"][:30]:  # one by one through the grade API
        problems = views[row["id"]]["problems"]
        total = 0.0
        for task in problems:
            answer = latest[row["id"]].get(task, {})
            status, graded = call(
                base, "POST", f"/api/v1/{task}/grade", {"problem": problems[task], "answer": answer}
            )
            assert status == 200
            total += graded["score"]
            for part in graded["parts"]:
                assert row["parts"][f"{task}.{part['name']}"]["score"] == part["score"]
        assert row["score"] == pytest.approx(total) and row["attempts"] == 2
