"""The gradebook (students × parts, from each student's latest submission) and what the
class got wrong: the score histogram, each part's verdicts, the misconceptions ranked."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.classroom.exams import aware
from app.classroom.models import Exam, Student, Submission
from app.exports import part_points, write_csv
from app.grading import Translations

Verdict = Literal["right", "consistent", "wrong", "blank"]
VERDICTS: tuple[Verdict, ...] = ("right", "consistent", "wrong", "blank")
BINS = 10
"""Bars of the score histogram (each a tenth of the maximum)."""


class PartMark(BaseModel):
    """One part of a student's counted submission."""

    score: float
    max_score: float
    verdict: Verdict
    misconception: str | None = Field(None, description="``<task>.<id>`` of the mistake.")


class GradebookRow(BaseModel):
    """A student, their counted (latest) submission's score and parts."""

    id: str
    name: str
    email: str | None = None
    variant: int
    submitted_at: datetime | None
    attempts: int
    score: float | None
    max_score: float | None
    parts: dict[str, PartMark]


class Gradebook(BaseModel):
    """Every student of the exam, in roster order."""

    students: list[GradebookRow]


class Bin(BaseModel):
    """A bar of the histogram: scores from ``from`` (included) to ``to`` percent."""

    from_: float = Field(alias="from")
    to: float
    count: int


class MisconceptionCount(BaseModel):
    """A named mistake and the students whose counted submission makes it."""

    id: str = Field(description="``<task>.<misconception id>``.")
    title: str
    count: int
    students: list[str]


class Analytics(BaseModel):
    """What the class got wrong."""

    students: int
    submitted: int
    score_histogram: list[Bin]
    parts: dict[str, dict[Verdict, int]]
    misconceptions: list[MisconceptionCount]


def marks(exam: Exam, summary: dict[str, list[Any]]) -> tuple[float, float, dict[str, PartMark]]:
    r"""A submission's score, maximum and part marks (from its :func:`summarize`\ d grades),
    scaled to the exam's points."""
    parts: dict[str, PartMark] = {}
    points = exam.points
    for name, (score, max_score, verdict, mistake) in summary.items():
        task, _, part = name.partition(".")
        full = part_points(points, task, part, max_score)
        share = score / max_score if max_score else 0.0
        parts[name] = PartMark(
            score=round(full * share, 6),
            max_score=full,
            verdict=verdict,
            misconception=f"{task}.{mistake}" if mistake else None,
        )
    score = round(sum(p.score for p in parts.values()), 6)
    return score, round(sum(p.max_score for p in parts.values()), 6), parts


def gradebook(session: Session, exam: Exam) -> Gradebook:
    """Each student's latest submission (online or paper), scored with the exam's points."""
    latest: dict[int, tuple[int, datetime, dict[str, Any]]] = {}
    last = (
        select(Submission.student_pk, func.max(Submission.attempt).label("attempt"))
        .join(Student)
        .where(Student.exam_id == exam.id)
        .group_by(Submission.student_pk)
        .subquery()
    )
    query = select(
        Submission.student_pk, Submission.attempt, Submission.submitted_at, Submission.summary
    ).join(
        last,
        (Submission.student_pk == last.c.student_pk) & (Submission.attempt == last.c.attempt),
    )
    for pk, attempt, at, summary in session.execute(query):
        latest[pk] = (attempt, at, summary)
    rows = []
    roster = (
        select(Student.id, Student.student_id, Student.name, Student.email, Student.variant)
        .where(Student.exam_id == exam.id)
        .order_by(Student.variant)
    )
    for student in session.execute(roster):
        found = latest.get(student.id)
        score = max_score = None
        parts: dict[str, PartMark] = {}
        if found:
            score, max_score, parts = marks(exam, found[2])
        rows.append(
            GradebookRow.model_construct(
                id=student.student_id,
                name=student.name,
                email=student.email,
                variant=student.variant,
                submitted_at=aware(found[1]) if found else None,
                attempts=found[0] if found else 0,
                score=score,
                max_score=max_score,
                parts=parts,
            )
        )
    return Gradebook.model_construct(students=rows)


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def gradebook_csv(book: Gradebook) -> str:
    """One row per student, one column per part (its score)."""
    columns = list(dict.fromkeys(name for row in book.students for name in row.parts))
    head = [
        "student",
        "name",
        "variant",
        "submitted_at",
        "attempts",
        "score",
        "max_score",
        *columns,
    ]
    table = [
        {
            "student": r.id,
            "name": r.name,
            "variant": str(r.variant),
            "submitted_at": r.submitted_at.isoformat() if r.submitted_at else "",
            "attempts": str(r.attempts),
            "score": _number(r.score),
            "max_score": _number(r.max_score),
            **{name: _number(mark.score) for name, mark in r.parts.items()},
        }
        for r in book.students
    ]
    return write_csv(head, table)


def moodle_csv(book: Gradebook, title: str) -> str:
    """The layout Moodle's gradebook import reads: the student's ID number and email, then
    one column with the exam's grade (map it to a grade item when importing)."""
    table = [
        {"ID number": r.id, "Email address": r.email or "", title: _number(r.score)}
        for r in book.students
    ]
    return write_csv(["ID number", "Email address", title], table)


def analytics(book: Gradebook) -> Analytics:
    """The histogram of the submitted scores (in percent of the maximum), each part's
    verdict counts, and the misconceptions by how many students made them."""
    submitted = [r for r in book.students if r.score is not None]
    counts = [0] * BINS
    for row in submitted:
        share = row.score / row.max_score if row.max_score else 0.0  # type: ignore[operator]
        counts[min(BINS - 1, int(share * BINS))] += 1
    histogram = [
        Bin.model_validate({"from": 100 * i / BINS, "to": 100 * (i + 1) / BINS, "count": c})
        for i, c in enumerate(counts)
    ]
    parts: dict[str, dict[Verdict, int]] = {}
    made: dict[str, list[str]] = defaultdict(list)
    for row in submitted:
        mistakes = set()
        for name, mark in row.parts.items():
            parts.setdefault(name, dict.fromkeys(VERDICTS, 0))[mark.verdict] += 1
            if mark.misconception:
                mistakes.add(mark.misconception)
        for mistake in mistakes:
            made[mistake].append(row.id)
    texts = Translations()
    ranked = sorted(made.items(), key=lambda item: (-len(item[1]), item[0]))
    misconceptions = [
        MisconceptionCount(
            id=key,
            title=texts.misconception(*key.split(".", 1)).title,
            count=len(ids),
            students=ids,
        )
        for key, ids in ranked
    ]
    return Analytics(
        students=len(book.students),
        submitted=len(submitted),
        score_histogram=histogram,
        parts=parts,
        misconceptions=misconceptions,
    )
