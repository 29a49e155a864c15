"""Submissions stored in groups (:func:`exams.submit_many`, the worker's intake): each has
the outcome it would have alone, in the order sent, in its own request's language."""

from __future__ import annotations

import asyncio
import contextvars

import pytest
from fastapi import HTTPException
from fastapi.exceptions import RequestValidationError
from sqlalchemy import select

from app.classroom import exams, intake
from app.classroom.db import get_database
from app.classroom.models import Submission
from app.i18n import current_language
from solvers.grading.batch import grade
from tests.app.classroom.helpers import exam_body, log10_loss, right, students


def _exam(**extra: object) -> int:
    with get_database().session() as session:
        body = exams.exam_create_model().model_validate(exam_body(students(3), **extra))
        return exams.create_exam(session, body).id


def _problems(exam_id: int, student: str) -> dict:
    with get_database().session(write=False) as session:
        return exams.get_student(session, exam_id, student).problems


def _attempt(exam_id: int, student: str, answers: dict, lang: str = "en") -> exams.Attempt:
    context = contextvars.copy_context()
    context.run(current_language.set, lang)
    return exams.Attempt(exam_id, student, exams.SubmissionIn(answers=answers), context)


@pytest.mark.parametrize("feedback", ["immediate", "after_close"])
def test_a_group_gives_each_its_own_outcome(database_url: str, feedback: str) -> None:
    exam_id = _exam(attempts=2, feedback=feedback)
    problems = {s: _problems(exam_id, s) for s in ("s1", "s2", "s3")}
    right_loss = {"loss": right("loss", problems["s1"]["loss"])}
    group = [
        _attempt(exam_id, "s1", right_loss),
        _attempt(exam_id, "s2", {"loss": log10_loss(problems["s2"]["loss"])}),
        _attempt(exam_id, "s1", {}),  # the student's second attempt, in the same group
        _attempt(exam_id, "s1", {}, "ru"),  # a third: none left
        _attempt(exam_id, "s3", {"loss": {"loss": "many"}}),  # does not grade
        _attempt(exam_id, "nobody", {}),
        _attempt(exam_id + 1, "s1", {}),
    ]
    exams.submit_many(get_database(), group)
    assert [a.result()[1].attempt for a in group[:3]] == [1, 1, 2]
    refused = [a.error for a in group[3:]]
    assert [getattr(e, "status_code", 422) for e in refused] == [409, 422, 404, 404]
    assert "попыт" in refused[0].detail  # the Russian request's own language
    assert isinstance(refused[1], RequestValidationError)
    assert refused[1].errors()[0]["loc"][:3] == ("body", "answers", "loss")
    assert "student" in refused[2].detail and f"exam {exam_id + 1}" in refused[3].detail
    if feedback == "immediate":
        alone = grade("loss", exams.problem("loss", _student(exam_id, "s1")), right_loss["loss"])
        assert group[0].result()[1].grades["loss"] == alone.model_dump(mode="json")
    with get_database().session(write=False) as session:
        stored = session.execute(select(Submission.student_pk, Submission.attempt)).all()
    assert len(stored) == 3 and len(set(stored)) == 3


def _student(exam_id: int, student: str) -> exams.Student:
    with get_database().session(write=False) as session:
        return exams.get_student(session, exam_id, student)


def test_requests_at_once_are_stored_together(database_url: str, monkeypatch) -> None:
    exam_id = _exam(attempts=3)
    groups: list[int] = []
    real = exams.submit_many

    def counted(db, attempts):  # type: ignore[no-untyped-def]
        groups.append(len(attempts))
        return real(db, attempts)

    monkeypatch.setattr(exams, "submit_many", counted)

    async def many() -> list[object]:
        body = exams.SubmissionIn(answers={})
        sent = [intake.submit(get_database(), exam_id, s, body) for s in ["s1"] * 4]
        return await asyncio.gather(*sent, return_exceptions=True)

    results = asyncio.run(many())
    attempts = sorted(r[1].attempt for r in results if isinstance(r, tuple))
    assert attempts == [1, 2, 3]
    [refused] = [r for r in results if isinstance(r, HTTPException)]
    assert refused.status_code == 409
    assert sum(groups) == 4 and len(groups) < 4  # the first alone, the others together
