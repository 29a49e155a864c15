"""The classroom's tables: exams, their students (each with a variant), submissions, and
the server's shared state (the instructor token, the token-signing secret)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship, validates


def now() -> datetime:
    """The current time, timezone-aware (UTC)."""
    return datetime.now(UTC)


def verdict(part: dict[str, Any]) -> str:
    """A graded part's verdict: right, consistent (carried forward), wrong, or blank (not
    answered)."""
    if part["correct"]:
        return "right"
    if part["given"] is None:
        return "blank"
    return "consistent" if part.get("consistent") else "wrong"


def summarize(grades: dict[str, Any]) -> dict[str, list[Any]]:
    """The little of a submission's grades that the gradebook and analytics read:
    ``"<task>.<part>"`` → ``[score, max_score, verdict, misconception or None]`` (the
    grader's marks, before the exam's points)."""
    return {
        f"{task}.{part['name']}": [part["score"], part["max_score"], verdict(part),
                                   part.get("misconception")]
        for task, grade in grades.items()
        for part in grade["parts"]
    }  # fmt: skip


class Base(DeclarativeBase):
    """The classroom's declarative base (its metadata is what the migrations build)."""


class ServerState(Base):
    """Shared state of every worker, by key (``instructor_token``, ``token_secret``)."""

    __tablename__ = "server_state"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class Exam(Base):
    """An exam: its tasks and variant spec, window, attempts, feedback and points."""

    __tablename__ = "exams"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    tasks: Mapped[list[str]] = mapped_column(JSON)
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    seed: Mapped[int] = mapped_column(BigInteger)
    opens_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closes_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    feedback: Mapped[str] = mapped_column(String(16), default="immediate")
    points: Mapped[dict[str, float]] = mapped_column(JSON, default=dict)
    tolerance: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)

    students: Mapped[list[Student]] = relationship(
        back_populates="exam", order_by="Student.variant", cascade="all, delete-orphan"
    )


class Student(Base):
    """A student of one exam, with the variant (and its problems) assigned to them."""

    __tablename__ = "students"
    __table_args__ = (
        UniqueConstraint("exam_id", "student_id", name="uq_students_exam_student"),
        UniqueConstraint("exam_id", "variant", name="uq_students_exam_variant"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    exam_id: Mapped[int] = mapped_column(ForeignKey("exams.id", ondelete="CASCADE"), index=True)
    student_id: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    variant: Mapped[int] = mapped_column(Integer)
    problems: Mapped[dict[str, Any]] = mapped_column(JSON)
    draft: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    exam: Mapped[Exam] = relationship(back_populates="students")
    submissions: Mapped[list[Submission]] = relationship(
        back_populates="student", order_by="Submission.attempt", cascade="all, delete-orphan"
    )


class Submission(Base):
    """One attempt of a student (online or from a paper upload), graded when stored.

    ``(student, attempt)`` is unique: two submissions at once cannot both take an attempt."""

    __tablename__ = "submissions"
    __table_args__ = (
        UniqueConstraint("student_pk", "attempt", name="uq_submissions_student_attempt"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    student_pk: Mapped[int] = mapped_column(
        ForeignKey("students.id", ondelete="CASCADE"), index=True
    )
    attempt: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(16), default="online")
    final: Mapped[bool] = mapped_column(Boolean, default=False)
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)
    grades: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    """Each task's grade; None while the submission waits for it (``app.classroom.backlog``)."""
    summary: Mapped[dict[str, list[Any]] | None] = mapped_column(JSON(none_as_null=True))
    """:func:`summarize` of ``grades``, kept with them (a gradebook of 1 000 students reads
    this, not 4 MB of grades)."""
    submitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)

    student: Mapped[Student] = relationship(back_populates="submissions")

    @validates("grades")
    def _summarized(self, _key: str, grades: dict[str, Any] | None) -> dict[str, Any] | None:
        self.summary = None if grades is None else summarize(grades)
        return grades
