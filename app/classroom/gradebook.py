"""The gradebook (students × parts, from each student's latest submission) and what the
class got wrong: the score histogram, each part's verdicts, the misconceptions ranked."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.classroom.exams import aware
from app.classroom.models import Exam, Student, Submission
from app.exports import part_points, write_csv
from app.grading import Translations, part_label
from solvers.registry import TASKS

Verdict = Literal["right", "consistent", "wrong", "blank"]
VERDICTS: tuple[Verdict, ...] = ("right", "consistent", "wrong", "blank")
BINS = 10
"""Bars of the score histogram (each a tenth of the maximum)."""


def exam_part_label(name: str) -> str:
    """An exam's part ``<task>.<part>`` as the lecture writes it (``loss.per_example`` → Lᵢ,
    ``graph.gradients.w0`` → ∂f/∂w₀), in the current language; the name itself for a task
    not registered now."""
    task, _, part = name.partition(".")
    return part_label(task, part) if task in TASKS else name


@dataclass(frozen=True, slots=True)
class PartMark:
    """One part of a student's counted submission (a plain frozen dataclass: a gradebook of
    1 000 students has 15 000 of them, most of them equal and shared)."""

    score: float
    max_score: float
    verdict: Verdict
    misconception: Annotated[str | None, Field(description="``<task>.<id>`` of the mistake.")] = (
        None
    )


@dataclass(slots=True)
class GradebookRow:
    """A student, their counted (latest) submission's score and parts."""

    id: str
    name: str
    email: str | None
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


class Scale:
    """The exam's points of each part (``part_points``), and the marks they give, each
    computed once per distinct part grade (a class makes few distinct ones)."""

    def __init__(self, points: Mapping[str, float]) -> None:
        self._points = points
        self._marks: dict[tuple[Any, ...], PartMark] = {}

    def mark(
        self, name: str, score: float, max_score: float, verdict: Verdict, mistake: str | None
    ) -> PartMark:
        """A part's mark scaled to the exam's points (``name`` is ``<task>.<part>``)."""
        key = (name, score, max_score, verdict, mistake)
        found = self._marks.get(key)
        if found is None:
            task, _, part = name.partition(".")
            full = part_points(self._points, task, part, max_score)
            share = score / max_score if max_score else 0.0
            found = self._marks[key] = PartMark(
                round(full * share, 6), full, verdict, f"{task}.{mistake}" if mistake else None
            )
        return found

    def marks(self, summary: dict[str, list[Any]]) -> tuple[float, float, dict[str, PartMark]]:
        r"""A submission's score, maximum and part marks (from its :func:`summarize`\ d
        grades), scaled to the exam's points."""
        parts = {name: self.mark(name, *entry) for name, entry in summary.items()}
        score = round(sum(p.score for p in parts.values()), 6)
        return score, round(sum(p.max_score for p in parts.values()), 6), parts


def marks(exam: Exam, summary: dict[str, list[Any]]) -> tuple[float, float, dict[str, PartMark]]:
    """A submission's score, maximum and part marks on ``exam`` (see :meth:`Scale.marks`)."""
    return Scale(exam.points).marks(summary)


def gradebook(session: Session, exam: Exam) -> Gradebook:
    """Each student's latest submission (online or paper), scored with the exam's points:
    one query of the columns it needs (the roster, each latest attempt's summary)."""
    last = (
        select(Submission.student_pk, func.max(Submission.attempt).label("attempt"))
        .join(Student)
        .where(Student.exam_id == exam.id)
        .group_by(Submission.student_pk)
        .subquery()
    )
    query = (
        select(
            Student.student_id,
            Student.name,
            Student.email,
            Student.variant,
            Submission.attempt,
            Submission.submitted_at,
            Submission.summary,
        )
        .outerjoin(last, last.c.student_pk == Student.id)
        .outerjoin(
            Submission,
            (Submission.student_pk == last.c.student_pk) & (Submission.attempt == last.c.attempt),
        )
        .where(Student.exam_id == exam.id)
        .order_by(Student.variant)
    )
    session.flush()  # a regrade's or a paper upload's grades first
    scale = Scale(exam.points)
    rows = []
    for sid, name, email, variant, attempt, at, summary in session.connection().execute(query):
        score = max_score = None
        parts: dict[str, PartMark] = {}
        if summary is not None:  # None: not submitted, or waiting for its grade
            score, max_score, parts = scale.marks(summary)
        row = GradebookRow(
            sid, name, email, variant, aware(at), attempt or 0, score, max_score, parts
        )
        rows.append(row)
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
