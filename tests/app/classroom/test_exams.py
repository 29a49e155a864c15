"""Exams (app/classroom/exams.py) on SQLite and PostgreSQL: concurrent submissions of one
student, a regrade during grading, answers stored as sent."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from fastapi import HTTPException
from sqlalchemy import select

from app.classroom import exams
from app.classroom.db import get_database
from app.classroom.models import Submission, summarize
from solvers.grading.core import Tolerance
from tests.app.classroom.helpers import exam_body, students


def test_concurrent_submissions_of_one_student(database_url: str) -> None:
    db = get_database()
    with db.session() as session:
        body = exams.exam_create_model().model_validate(exam_body(students(2), attempts=3))
        exam_id = exams.create_exam(session, body).id

    def submit(student: str) -> int:
        try:
            return exams.submit(db, exam_id, student, exams.SubmissionIn(answers={}))[1].attempt
        except HTTPException as exc:
            return -exc.status_code

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(submit, ["s1"] * 10 + ["s2"] * 2))
    assert sorted(r for r in results[:10] if r > 0) == [1, 2, 3]
    assert sorted(r for r in results[:10] if r < 0) == [-409] * 7
    assert sorted(results[10:]) == [1, 2]
    with db.session() as session:
        stored = session.execute(select(Submission.student_pk, Submission.attempt)).all()
    assert len(stored) == 5 and len(set(stored)) == 5


def test_a_regrade_while_a_submission_is_graded(database_url: str, monkeypatch) -> None:
    """A submission graded with the tolerance of before a regrade is graded again with the
    new one before it is stored (and its summary is stored with it)."""
    db = get_database()
    with db.session() as session:
        body = exams.exam_create_model().model_validate(exam_body(students(1)))
        exam_id = exams.create_exam(session, body).id
    real = exams.grade_many
    seen: list[object] = []

    def grade_during_regrade(submitted):  # type: ignore[no-untyped-def]
        seen.extend(s.tolerance and s.tolerance.model_dump(exclude_unset=True) for s in submitted)
        if len(seen) == 1:
            with db.session() as session:
                exams.regrade(session, exams.get_exam(session, exam_id), Tolerance(absolute=0.5))
        return real(submitted)

    monkeypatch.setattr(exams, "grade_many", grade_during_regrade)
    _, submission = exams.submit(db, exam_id, "s1", exams.SubmissionIn(answers={}))
    assert seen == [None, {"absolute": 0.5}] and submission.attempt == 1
    with db.session() as session:
        stored = session.scalars(select(Submission)).one()
    assert stored.summary and stored.summary == summarize(stored.grades)


def test_answers_stored_as_sent(database_url: str) -> None:
    """JSON columns take any answer JSON takes (an integer past 64 bits, a non-ASCII
    text) and give it back as sent."""
    with get_database().session() as session:
        body = exams.exam_create_model().model_validate(exam_body(students(1)))
        exam_id = exams.create_exam(session, body).id
    answers = {"loss": {"loss": 10**30, "per_example": [1, 2.5, 0.1]}, "graph": {"output": 0}}
    _, submission = exams.submit(get_database(), exam_id, "s1", exams.SubmissionIn(answers=answers))
    with get_database().session(write=False) as session:
        stored = session.get(Submission, submission.id)
        assert stored.answers == answers and stored.grades["loss"]["parts"]
