"""A worker killed in the middle of a load loses no accepted submission: ``stepgrad serve
--workers 2`` on SQLite and on PostgreSQL takes submissions from 8 threads; one worker gets
SIGKILL midway; every submission answered 201 is in the database afterwards, under the
attempt it was answered with (a request cut off with its worker may or may not be stored)."""

from __future__ import annotations

import http.client
import os
import signal
import time
import urllib.error
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select

from app.classroom.models import Student, Submission
from tests.app.classroom.helpers import call, exam_body, own_database, students
from tests.conftest import start_server, stop_server

TOKEN = "killed-worker-token"
STUDENTS, ATTEMPTS = 30, 4


def workers(server: int) -> list[int]:
    """The worker processes of a ``stepgrad serve --workers N`` (its spawned children)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            command = (entry / "cmdline").read_bytes()
        except (OSError, ValueError, IndexError):
            continue
        if parent == server and b"spawn_main" in command:
            found.append(int(entry.name))
    return found


@pytest.fixture(params=["sqlite", "postgresql"])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[object, str, str]]:
    """Two workers on a database of their own (a SQLite file, or a new PostgreSQL
    database): (process, base URL, database URL)."""
    with ExitStack() as stack:
        if request.param == "sqlite":
            url = f"sqlite:///{tmp_path / 'stepgrad.db'}"
        else:
            url = stack.enter_context(
                own_database(request.getfixturevalue("postgres_url"), "killed")
            )
        env = {"STEPGRAD_DATABASE_URL": url, "STEPGRAD_INSTRUCTOR_TOKEN": TOKEN}
        process, base = start_server(env, "--workers", "2")
        yield process, base, url
        stop_server(process)


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="finds workers in /proc")
@pytest.mark.parametrize("feedback", ["immediate", "after_close"])
def test_a_killed_worker_loses_no_accepted_submission(
    server: tuple[object, str, str], feedback: str
) -> None:
    """With feedback after closing, a submission the killed worker stored but had not
    graded yet is graded when the gradebook is read."""
    process, base, url = server
    body = exam_body(students(STUDENTS), tasks=["loss"], attempts=ATTEMPTS, feedback=feedback)
    status, exam = call(base, "POST", "/api/v1/exams", body, TOKEN)
    assert status == 201, exam
    tokens = {s["id"]: s["token"] for s in exam["students"]}
    jobs = [student for _ in range(ATTEMPTS) for student in tokens]

    def submit(student: str) -> tuple[str, int, int | None]:
        path = f"/api/v1/take/{tokens[student]}/submissions"
        try:
            status, answer = call(base, "POST", path, {"answers": {"loss": {}}})
        except (urllib.error.URLError, ConnectionError, http.client.HTTPException, TimeoutError):
            return student, 0, None  # cut off with its worker
        return student, status, answer.get("attempt") if status == 201 else None

    pids = workers(process.pid)  # type: ignore[attr-defined]
    assert len(pids) == 2
    with ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(submit, student) for student in jobs]
        deadline = time.monotonic() + 30
        while sum(f.done() for f in futures) < len(jobs) // 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        killed_after = sum(f.done() for f in futures)
        os.kill(pids[0], signal.SIGKILL)
        results = [f.result() for f in futures]
    assert killed_after < len(jobs)  # the kill came in the middle of the load
    codes = [code for _, code, _ in results]
    accepted = {(student, attempt) for student, code, attempt in results if code == 201}
    assert codes.count(201) == len(accepted) > len(jobs) // 2
    assert set(codes) <= {0, 201}  # as many attempts as submissions: never a 409

    engine = create_engine(url)
    with engine.connect() as connection:
        stored = set(
            connection.execute(select(Student.student_id, Submission.attempt).join(Student)).all()
        )
    engine.dispose()
    assert accepted <= stored
    assert len(stored) <= len(jobs) and all(a <= ATTEMPTS for _, a in stored)
    status, book = call(base, "GET", f"/api/v1/exams/{exam['id']}/gradebook", token=TOKEN)
    assert status == 200
    latest = {student: max(a for s, a in stored if s == student) for student, _ in stored}
    assert {row["id"]: row["attempts"] for row in book["students"] if row["attempts"]} == latest
    assert all(row["score"] == 0 for row in book["students"] if row["attempts"])
