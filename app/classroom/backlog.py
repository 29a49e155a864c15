"""Submissions stored before they are graded: an exam whose feedback waits for its closing
answers a submission once its answers are checked and committed, and grades it afterwards,
many at once (one vectorized :func:`solvers.grading.batch.grade_batch` per task for up to
:data:`MAX_BATCH` submissions, instead of a batch per request).

A stored, ungraded submission has no ``grades`` (``NULL``). Each worker grades the ones it
took in a thread of its own; whoever reads grades first (the gradebook, the analytics, a
student's submissions, a closed exam's feedback) calls :func:`settle`, which grades every
one of the exam still waiting, so that a worker killed before grading loses nothing. The
grades are those :func:`solvers.grading.batch.grade` gives (``POST /api/v1/{task}/grade``),
with the exam's tolerance when they are written: a regrade in between leaves the
submission waiting for the next pass.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import Text, bindparam, cast, select, update

from app.classroom.db import READ_ONLY, Database
from app.classroom.grading import MAX_BATCH, stored_problems
from app.classroom.models import Exam, Student, Submission, summarize
from app.classroom.queues import DatabaseQueue
from solvers.grading.batch import grade, grade_batch
from solvers.grading.core import Grade, Tolerance

log = logging.getLogger("stepgrad.classroom")


def _pending(where: Any) -> Any:
    return (
        select(
            Submission.id,
            Submission.answers,
            cast(Student.problems, Text),  # read once per student (stored_problems)
            Exam.id,
            Exam.tasks,
            Exam.tolerance,
        )
        .join(Student, Student.id == Submission.student_pk)
        .join(Exam, Exam.id == Student.exam_id)
        .where(Submission.grades.is_(None), where)
        .order_by(Submission.id)
        .limit(MAX_BATCH)
    )


def _grades(
    task: str, problems: list[Any], answers: list[Any], rule: Tolerance | None
) -> list[dict[str, Any] | None]:
    """Each answer's grade (JSON data) in one batch; one by one if the batch does not grade
    (checked answers always do: None, logged, for one that does not)."""
    try:
        results: list[Grade] = grade_batch(task, problems, answers, rule, "cpu")
        return [r.model_dump(mode="json") for r in results]
    except Exception:
        log.exception("a batch of %d stored %s answers did not grade", len(answers), task)
    out: list[dict[str, Any] | None] = []
    for problem, answer in zip(problems, answers, strict=True):
        try:
            out.append(grade(task, problem, answer, rule).model_dump(mode="json"))
        except Exception:
            log.exception("a stored %s answer did not grade; it stays ungraded", task)
            out.append(None)
    return out


def _settle_batch(db: Database, where: Any) -> int:
    """Grade up to :data:`MAX_BATCH` waiting submissions matched by ``where``; how many
    were found."""
    with db.ready().engine.connect() as connection:
        connection.execution_options(**{READ_ONLY: True})
        with connection.begin():
            rows = connection.execute(_pending(where)).all()
        if not rows:
            return 0
        exams: dict[tuple[int, str], list[Any]] = {}
        for row in rows:  # (key, answers, problems, exam, its tasks, its tolerance)
            exams.setdefault((row[3], repr(row[5])), []).append(row)
        written: list[tuple[int, Any, list[dict[str, Any]]]] = []
        for group in exams.values():  # grading outside any transaction
            _, _, _, exam_id, tasks, stored = group[0]
            rule = Tolerance.model_validate(stored) if stored else None
            graded: list[dict[str, Any]] = [{} for _ in group]
            for task in tasks:
                problems = [stored_problems(stated)[task] for _, _, stated, *_ in group]
                answers = [given.get(task, {}) for _, given, *_ in group]
                for out, result in zip(graded, _grades(task, problems, answers, rule), strict=True):
                    out[task] = result
            written.append((exam_id, stored, [
                {"key": row[0], "grades": g, "summary": summarize(g)}
                for row, g in zip(group, graded, strict=True)
                if None not in g.values()
            ]))  # fmt: skip
        connection.execution_options(**{READ_ONLY: False})
        with connection.begin():
            for exam_id, stored, values in written:
                now = connection.scalar(select(Exam.tolerance).where(Exam.id == exam_id))
                if now != stored:
                    continue  # regraded meanwhile: the next pass grades with the new rule
                connection.execute(
                    update(Submission)
                    .where(Submission.id == bindparam("key"), Submission.grades.is_(None))
                    .values(grades=_value("grades"), summary=_value("summary")),
                    values,
                )
        return len(rows)


def _value(column: str) -> Any:
    return bindparam(column, type_=Submission.__table__.c[column].type)


def settle(db: Database, exam_id: int) -> None:
    """Grade every submission of the exam still waiting for its grade (before reading
    grades)."""
    while _settle_batch(db, Student.exam_id == exam_id) == MAX_BATCH:
        pass


LINGER = 0.5
"""Seconds the backlog's thread waits after a submission arrives before grading, so that
those arriving meanwhile share its batch (a batch's cost is mostly fixed: one submission
alone costs as much as a hundred)."""


def _grade_taken(db: Database, ids: list[int]) -> None:
    """Grade these stored submissions (those still waiting)."""
    try:
        _settle_batch(db, Submission.id.in_(ids))
    except Exception:  # never lost: the next reader settles them
        log.exception("grading %d stored submissions failed", len(ids))


BACKLOG: DatabaseQueue[int] = DatabaseQueue("backlog", _grade_taken, MAX_BATCH, LINGER)
"""The submissions this worker took and has not graded yet (one queue per process), graded
by a thread of its own in batches: what arrives within :data:`LINGER` seconds, or while a
batch is graded, makes the next batch."""
