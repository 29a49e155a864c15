"""Exams on the database: create them with a roster (a variant per student), take the
students' submissions (graded by the same engine as ``POST /api/v1/{task}/grade``), store
paper answers, regrade. Generic: every task comes from the registry."""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Annotated, Any, Literal, NamedTuple

from fastapi import HTTPException
from fastapi.exceptions import RequestValidationError
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    WithJsonSchema,
    create_model,
    model_validator,
)
from pydantic_core import PydanticCustomError
from sqlalchemy import Connection, Text, bindparam, cast, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, object_session

from app.classroom.backlog import BACKLOG
from app.classroom.db import READ_ONLY, Database, signing_secret
from app.classroom.grading import (
    AnswerError,
    Submitted,
    grade_many,
    stored_problem,
    stored_problems,
)
from app.classroom.models import Exam, Student, Submission, now
from app.classroom.roster import MAX_ROSTER, RosterEntry, check_unique
from app.classroom.tokens import make_token
from app.exports import write_csv
from app.i18n import translate
from app.settings import get_settings
from solvers.core import N_, resolve_device
from solvers.grading.batch import check, grade_batch
from solvers.grading.core import Grade, Tolerance
from solvers.registry import TASKS
from solvers.variants.sets import (
    QuizSpecBase,
    Variant,
    VariantSet,
    normalize_tasks,
    quiz_spec,
    regenerate_many,
)

Feedback = Literal["immediate", "after_close"]
State = Literal["scheduled", "open", "closed"]
MAX_ATTEMPTS = 100
STATE_NAMES = {"scheduled": N_("scheduled"), "open": N_("open"), "closed": N_("closed")}
"""The states' names, for the pages to translate."""

NOT_OPEN = N_("the exam opens at {time}; submissions are not accepted before")
CLOSED = N_("the exam closed at {time}; submissions are no longer accepted")
NO_ATTEMPT = N_("no attempt left: all {attempts} used")
WAS_FINAL = N_("the answers were already submitted as final")
NO_EXAM = N_("there is no exam {exam}")
NO_STUDENT = N_("this link's student is not on the exam's roster")
NO_ROW_STUDENT = N_("row {row}: no student {id} in this exam")
WRONG_VARIANT = N_("row {row}: student {id} has variant {variant}, not {given}")
WINDOW = N_("the exam must close after it opens")


def aware(moment: datetime | None) -> datetime | None:
    """A stored or given time as UTC (SQLite gives it back without a zone; a time given
    without one is taken as UTC)."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def moment_text(moment: datetime | None) -> str:
    """A time as a person reads it in a message or on a page, in UTC: ``2026-12-03 14:00
    UTC`` (empty for none)."""
    found = aware(moment)
    return found.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if found else ""


def _known(task: str) -> str:
    from app.grading import known_task

    return known_task(task)


def _check_window(value: Any) -> Any:
    opens, closes = aware(value.opens_at), aware(value.closes_at)
    if opens and closes and closes <= opens:
        raise PydanticCustomError("exam_window", WINDOW, {"field": "closes_at"})
    return value


def _check_points(value: Any) -> Any:
    from app.grading import check_points

    check_points(normalize_tasks(value.tasks), value.points)
    return value


@lru_cache(maxsize=16)
def _exam_models(spec: type[QuizSpecBase]) -> type[BaseModel]:
    return create_model(
        "ExamCreate",
        __config__=ConfigDict(extra="forbid", str_strip_whitespace=True),
        __doc__="An exam: its tasks, variants (spec, seed), window, attempts, feedback, "
        "points per part, and its roster.",
        __validators__={
            "window": model_validator(mode="after")(_check_window),
            "parts": model_validator(mode="after")(_check_points),
        },
        title=(str, Field(min_length=1, max_length=200)),
        tasks=(
            list[
                Annotated[
                    str,
                    AfterValidator(_known),
                    WithJsonSchema({"type": "string", "enum": list(TASKS)}),
                ]
            ],
            Field(min_length=1),
        ),
        spec=(spec, Field(default_factory=spec, description="The variant spec.")),
        seed=(int, Field(default=2020, ge=0, lt=2**63)),
        opens_at=(datetime | None, None),
        closes_at=(datetime | None, None),
        attempts=(int, Field(default=1, ge=1, le=MAX_ATTEMPTS)),
        feedback=(Feedback, "immediate"),
        points=(
            dict[str, Annotated[float, Field(ge=0, le=1000, allow_inf_nan=False)]],
            Field(default_factory=dict, description="``<task>.<part>`` → the part's points."),
        ),
        tolerance=(Tolerance | None, None),
        roster=(list[RosterEntry], Field(default_factory=list, max_length=MAX_ROSTER)),
    )


def exam_create_model() -> type[BaseModel]:
    """The body of ``POST /api/v1/exams`` for the tasks registered now."""
    return _exam_models(quiz_spec())


class RosterIn(BaseModel):
    """Students to add to an exam."""

    model_config = ConfigDict(extra="forbid")

    roster: list[RosterEntry] = Field(min_length=1, max_length=MAX_ROSTER)


class RegradeIn(BaseModel):
    """The tolerance to grade every submission with again (none: the grader's default)."""

    model_config = ConfigDict(extra="forbid")

    tolerance: Tolerance | None = None


class StudentOut(BaseModel):
    """A student of an exam, with the variant assigned and the personal link."""

    id: str
    name: str
    email: str | None = None
    variant: int
    token: str
    url: str


class ExamOut(BaseModel):
    """An exam as created, with its state now and its students' links."""

    id: int
    title: str
    tasks: list[str]
    spec: dict[str, Any]
    seed: int
    opens_at: datetime | None
    closes_at: datetime | None
    closed_at: datetime | None
    attempts: int
    feedback: Feedback
    points: dict[str, float]
    tolerance: dict[str, Any] | None
    state: State
    students: list[StudentOut]


class SubmissionIn(BaseModel):
    """A student's answers, task by task (each as the grade API takes it)."""

    model_config = ConfigDict(extra="forbid")

    answers: dict[str, dict[str, Any]] = Field(description="Task id → the answer.")
    final: bool = Field(False, description="No more attempts after this one.")


def state(exam: Exam, moment: datetime | None = None) -> State:
    """``scheduled`` before opening, ``closed`` after closing (or closed by hand), else
    ``open``."""
    moment = moment or now()
    closes = aware(exam.closes_at)
    if exam.closed_at is not None or (closes is not None and moment >= closes):
        return "closed"
    opens = aware(exam.opens_at)
    if opens is not None and moment < opens:
        return "scheduled"
    return "open"


def link(base_url: str, exam: int, student: str) -> tuple[str, str]:
    """The token and the URL of a student's link."""
    token = make_token(exam, student)
    return token, f"{base_url.rstrip('/')}/take/{token}"


def student_out(base_url: str, student: Any) -> StudentOut:
    """A student (a :class:`Student` or a row of :func:`roster`) with their link."""
    token, url = link(base_url, student.exam_id, student.student_id)
    return StudentOut(id=student.student_id, name=student.name, email=student.email,
                      variant=student.variant, token=token, url=url)  # fmt: skip


def exam_out(base_url: str, exam: Exam, students: list[StudentOut] | None = None) -> ExamOut:
    """The exam as the API answers it (with ``students`` given: those, else the whole
    roster with their links)."""
    return ExamOut(
        id=exam.id, title=exam.title, tasks=exam.tasks, spec=exam.spec, seed=exam.seed,
        opens_at=aware(exam.opens_at), closes_at=aware(exam.closes_at),
        closed_at=aware(exam.closed_at), attempts=exam.attempts,
        feedback=exam.feedback,  # type: ignore[arg-type]
        points=exam.points, tolerance=exam.tolerance, state=state(exam),
        students=(
            [student_out(base_url, s) for s in roster(exam)] if students is None else students
        ),
    )  # fmt: skip


def exam_list(session: Session) -> list[tuple[Exam, int]]:
    """Every exam, newest first, with its number of students (counted in SQL)."""
    count = (
        select(func.count(Student.id))
        .where(Student.exam_id == Exam.id)
        .correlate(Exam)
        .scalar_subquery()
    )
    return [(exam, n) for exam, n in session.execute(select(Exam, count).order_by(Exam.id.desc()))]


def roster(exam: Exam) -> list[Any]:
    """The exam's students by variant. In a session, their ids, names, emails and variants
    only (not their problems, 1 KB a student); detached, the students loaded with it."""
    session = object_session(exam)
    if session is None:
        return list(exam.students)
    query = (
        select(Student.exam_id, Student.student_id, Student.name, Student.email, Student.variant)
        .where(Student.exam_id == exam.id)
        .order_by(Student.variant)
    )
    return list(session.execute(query))


LINK_COLUMNS = ["student", "name", "variant", "url"]


def links_csv(exam: ExamOut) -> str:
    """The students' links as CSV: ``student,name,variant,url``, one row per student."""
    rows = [{"student": s.id, "name": s.name, "variant": str(s.variant), "url": s.url}
            for s in exam.students]  # fmt: skip
    return write_csv(LINK_COLUMNS, rows)


def _secret() -> bytes:
    """The key of the exams' variants: the server's secret (``STEPGRAD_SECRET`` or the one
    stored on first start), so that no public set, key or grade request reproduces them."""
    return signing_secret().encode()


def _spec(exam: Exam) -> QuizSpecBase:
    return quiz_spec().model_validate(exam.spec)


def add_students(session: Session, exam: Exam, roster: Sequence[RosterEntry]) -> list[Student]:
    """Add students, each with the next variant number and its problems (the variants an
    instructor's set of the same tasks, spec and seed numbers the same way)."""
    taken = set(session.scalars(select(Student.student_id).where(Student.exam_id == exam.id)))
    check_unique(list(roster), taken)
    if len(taken) + len(roster) > MAX_ROSTER:
        raise PydanticCustomError("roster_size", N_("an exam takes at most {limit} students"),
                                  {"field": "roster", "limit": MAX_ROSTER})  # fmt: skip
    last = session.scalar(select(func.max(Student.variant)).where(Student.exam_id == exam.id))
    numbers = list(range((last or 0) + 1, (last or 0) + 1 + len(roster)))
    spec = _spec(exam)
    problems = {task: regenerate_many(task, spec, exam.seed, numbers, _secret())
                for task in exam.tasks}  # fmt: skip
    students = [
        Student(exam_id=exam.id, student_id=entry.id, name=entry.name, email=entry.email,
                variant=number,
                problems={t: problems[t][i].model_dump(mode="json") for t in exam.tasks})
        for i, (entry, number) in enumerate(zip(roster, numbers, strict=True))
    ]  # fmt: skip
    session.add_all(students)
    session.flush()
    return students


def assigned_set(session: Session, exam: Exam, first: int, count: int) -> VariantSet:
    """Variants ``first`` … ``first + count − 1`` as the exam's students have them (their
    stored problems), with the answers: the exam's sheets and key."""
    students = session.scalars(
        select(Student)
        .where(Student.exam_id == exam.id, Student.variant.between(first, first + count - 1))
        .order_by(Student.variant)
    ).all()
    problems = {t: [problem(t, s) for s in students] for t in exam.tasks}
    device = resolve_device(get_settings().device)
    answers = {t: TASKS[t].solve_batch(problems[t], device) for t in exam.tasks}
    variants = [
        Variant(number=s.variant, problems={t: problems[t][i] for t in exam.tasks},
                answers={t: answers[t][i] for t in exam.tasks}, notes={t: [] for t in exam.tasks})
        for i, s in enumerate(students)
    ]  # fmt: skip
    return VariantSet(spec=_spec(exam), seed=exam.seed, count=len(variants), tasks=exam.tasks,
                      keyed=True, variants=variants)  # fmt: skip


def create_exam(session: Session, body: Any) -> Exam:
    """Store a new exam and its roster."""
    exam = Exam(
        title=body.title, tasks=normalize_tasks(body.tasks), spec=body.spec.model_dump(mode="json"),
        seed=body.seed, opens_at=body.opens_at, closes_at=body.closes_at,
        attempts=body.attempts, feedback=body.feedback, points=body.points,
        tolerance=_stored(body.tolerance),
    )  # fmt: skip
    session.add(exam)
    session.flush()
    add_students(session, exam, body.roster)
    session.refresh(exam)
    return exam


def get_exam(session: Session, exam_id: int, lock: bool = False) -> Exam:
    """The exam, or a 404."""
    exam = session.get(Exam, exam_id, with_for_update=lock)
    if exam is None:
        raise HTTPException(404, translate(NO_EXAM, {"exam": exam_id}))
    return exam


def get_student(session: Session, exam_id: int, student_id: str, lock: bool = False) -> Student:
    """The student of an exam (locked for an update when asked), or a 404."""
    query = select(Student).where(Student.exam_id == exam_id, Student.student_id == student_id)
    student = session.scalar(query.with_for_update() if lock else query)
    if student is None:
        raise HTTPException(404, translate(NO_STUDENT))
    return student


def _stored(tolerance: Tolerance | None) -> dict[str, Any] | None:
    """A tolerance as the exam keeps it: the fields given only, so that it reads back the
    same (bounds of its own without ``intermediate_decimals`` stay exact only)."""
    return tolerance.model_dump(mode="json", exclude_unset=True) if tolerance else None


TOLERANCE_FIELDS = ("absolute", "relative", "decimals", "sigfigs")
"""A tolerance's bounds (of the whole, or of a part): the fields of the forms and the CLI."""
EXACT = "exact"
"""``intermediate_decimals`` given as text for ``null`` (no rounding band; ``none`` too)."""


def tolerance_from_fields(fields: Mapping[str, Any]) -> dict[str, Any] | None:
    """A tolerance, as :class:`Tolerance` reads it, from flat named fields (a page's
    ``tolerance.<name>`` without the prefix, the CLI's ``--tolerance name=value``): a bound
    (``absolute``), a part's bound (``parts.<part>.<bound>``, ``<part>`` as
    ``Tolerance.parts`` names it), ``intermediate_decimals`` (a number of decimals, or
    :data:`EXACT`: null). Empty fields are left out; None when none is left. Unknown names
    are kept, for the model to refuse."""
    given: dict[str, Any] = {}
    for key, text in fields.items():
        value = str(text).strip()
        if not value:
            continue
        if key.startswith("parts."):
            part, _, name = key.removeprefix("parts.").rpartition(".")
            given.setdefault("parts", {}).setdefault(part, {})[name] = value
        elif key == "intermediate_decimals":
            given[key] = None if value.lower() in (EXACT, "none", "null") else value
        else:
            given[key] = value
    return given or None


def tolerance_as_fields(stored: Mapping[str, Any] | None) -> dict[str, str]:
    """An exam's stored tolerance as the fields :func:`tolerance_from_fields` reads back
    (without a prefix)."""
    fields: dict[str, str] = {}
    for key, value in (stored or {}).items():
        if key == "parts":
            for part, rule in value.items():
                fields.update({f"parts.{part}.{name}": str(bound)
                               for name, bound in rule.items() if bound is not None})  # fmt: skip
        elif key == "intermediate_decimals":
            fields[key] = EXACT if value is None else str(value)
        elif value is not None:
            fields[key] = str(value)
    return fields


def _tolerance(exam: Exam) -> Tolerance | None:
    return Tolerance.model_validate(exam.tolerance) if exam.tolerance else None


def problem(task: str, student: Student) -> BaseModel:
    """The student's problem of ``task`` as the task's model (validated once per worker)."""
    return stored_problem(task, student.problems[task])


def _known_tasks(exam: Exam, answers: dict[str, Any]) -> None:
    """A 422 naming an answered task the exam does not have."""
    unknown = sorted(set(answers) - set(exam.tasks))
    if unknown:
        raise RequestValidationError([{"type": "exam_task", "loc": ("body", "answers", unknown[0]),
                                       "msg": translate(N_("task must be one of {expected}"),
                                                        {"expected": ", ".join(exam.tasks)}),
                                       "ctx": {}}])  # fmt: skip


def _answer_error(task: str, error: ValidationError) -> RequestValidationError:
    """A task's malformed answer as a 422 located in the request's body."""
    return RequestValidationError(
        [{**e, "loc": ("body", "answers", task, *e["loc"])} for e in error.errors()]
    )


def grade_answers(
    exam: Exam, problems: dict[str, BaseModel], answers: dict[str, Any]
) -> dict[str, Grade]:
    """Each task's grade, exactly as ``POST /api/v1/{task}/grade`` computes it (a task
    not answered is graded blank); a malformed answer is a 422 naming it."""
    _known_tasks(exam, answers)
    return _graded(grade_many([_submitted(exam, problems, answers)])[0])


def _submitted(exam: Exam, problems: dict[str, BaseModel], answers: dict[str, Any]) -> Submitted:
    return Submitted(exam.tasks, problems, answers, _tolerance(exam))


def _graded(outcome: dict[str, Grade] | Exception) -> dict[str, Grade]:
    """A submission's grades, or its error raised (a malformed answer: a 422 naming it)."""
    if isinstance(outcome, AnswerError):
        raise _answer_error(outcome.task, outcome.error) from None
    if isinstance(outcome, Exception):
        raise outcome
    return outcome


def _as_stored(grades: dict[str, Grade] | None) -> dict[str, Any] | None:
    """Grades as a submission stores them (JSON data; None: not graded yet)."""
    if grades is None:
        return None
    return {task: grade.model_dump(mode="json") for task, grade in grades.items()}


def gradable_later(exam: Exam, problems: dict[str, BaseModel], answers: dict[str, Any]) -> bool:
    """Whether the answers may be stored now and graded later (:mod:`app.classroom.backlog`):
    every part in its expected shape (a part in another shape is graded at once: its shape
    may be a named mistake's, or an error). A malformed answer is a 422 now, as when graded."""
    _known_tasks(exam, answers)
    ready = True
    for task in exam.tasks:
        try:
            ready &= check(task, problems[task], answers.get(task, {}))
        except ValidationError as exc:
            raise _answer_error(task, exc) from None
    return ready


def check_open(exam: Exam) -> None:
    """403 with the reason when the exam takes no submission now."""
    current = state(exam)
    if current == "scheduled":
        raise HTTPException(403, translate(NOT_OPEN, {"time": moment_text(exam.opens_at)}))
    if current == "closed":
        closed = aware(exam.closed_at) or aware(exam.closes_at)
        raise HTTPException(403, translate(CLOSED, {"time": moment_text(closed)}))


def _attempts_used(session: Session, student: Student) -> tuple[int, bool]:
    rows = session.execute(
        select(Submission.attempt, Submission.final).where(Submission.student_pk == student.id)
    ).all()
    return max((r.attempt for r in rows), default=0), any(r.final for r in rows)


def _check_attempts(exam: Exam, used: int, final: bool) -> None:
    if final:
        raise HTTPException(409, translate(WAS_FINAL))
    if used >= exam.attempts:
        raise HTTPException(409, translate(NO_ATTEMPT, {"attempts": exam.attempts}))


_STATE_COLUMNS = (Exam.id, Exam.tasks, Exam.attempts, Exam.feedback, Exam.points,
                  Exam.tolerance, Exam.opens_at, Exam.closes_at, Exam.closed_at)  # fmt: skip
"""The exam's columns a submission reads (the rest of the row stays in the database)."""


@lru_cache(maxsize=1)
def _seat_queries() -> dict[str, Any]:
    """:func:`_seats`'s two statements, built once per process (building one costs more than
    running it): by exam and student ids, and by the students' keys with the rows locked."""
    used = select(func.max(Submission.attempt)).where(Submission.student_pk == Student.id)
    final = select(func.count()).where(Submission.student_pk == Student.id, Submission.final)

    def query(*problems: Any) -> Any:
        return select(
            Student.id, Student.student_id, used.scalar_subquery(), final.scalar_subquery(),
            *_STATE_COLUMNS, *problems,
        ).join(Exam, Exam.id == Student.exam_id)  # fmt: skip

    return {
        "student": query(cast(Student.problems, Text)).where(
            Student.exam_id.in_(bindparam("exams", expanding=True)),
            Student.student_id.in_(bindparam("students", expanding=True)),
        ),
        "locked": query()
        .where(Student.id.in_(bindparam("pks", expanding=True)))
        .order_by(Student.id)
        .with_for_update(of=Student),
    }


def _seats(connection: Connection, query: str, **where: Any) -> dict[Any, Seat]:
    """In one query (``"student"`` by ``exams`` and ``students`` ids, keyed by both; or
    ``"locked"`` by ``pks``, keyed by the student's key, the rows locked for an update in
    the keys' order, without the problems): each student's :class:`Seat`."""
    found = {}
    count = len(_STATE_COLUMNS)
    for row in connection.execute(_seat_queries()[query], where):
        pk, student_id, last, finals, *state = row
        columns = zip(_STATE_COLUMNS, state[:count], strict=True)
        exam = Exam(**{c.key: value for c, value in columns})
        problems = stored_problems(state[count]) if len(state) > count else {}
        seat = Seat(exam, pk, problems, last or 0, bool(finals))
        found[pk if query == "locked" else (exam.id, student_id)] = seat
    return found


class Seat(NamedTuple):
    """A student's place in an exam as a submission reads it: the exam (a detached
    :class:`Exam` of :data:`_STATE_COLUMNS`), the student's key and problems (the tasks'
    models), their last attempt and whether one was final."""

    exam: Exam
    pk: int
    problems: dict[str, BaseModel]
    used: int
    final: bool


@dataclass(eq=False)
class Attempt:
    """One submission on its way in (:func:`submit_many`): what the student sent, in the
    context of their request (its language), and what came of it."""

    exam_id: int
    student_id: str
    body: SubmissionIn
    context: contextvars.Context = field(default_factory=contextvars.copy_context)
    seat: Seat | None = None
    later: bool = False
    """Stored ungraded, graded by :mod:`app.classroom.backlog`."""
    grades: dict[str, Grade] | None = None
    graded_with: dict[str, Any] | None = None
    """The exam's tolerance when ``grades`` were graded."""
    stored: tuple[Exam, Submission] | None = None
    error: Exception | None = None

    def result(self) -> tuple[Exam, Submission]:
        """The exam (detached) and the stored submission; or the error that refused it."""
        if self.error is not None:
            raise self.error
        assert self.stored is not None
        return self.stored

    def run(self, step: Callable[[], Any]) -> None:
        """Run a step of this submission in its request's context (its language), unless it
        was refused already; what the step raises refuses it."""
        if self.error is None:
            try:
                self.context.run(step)
            except Exception as exc:
                self.error = exc


def submit(
    db: Database, exam_id: int, student_id: str, body: SubmissionIn
) -> tuple[Exam, Submission]:
    """Store one attempt (:func:`submit_many`); the exam (detached) and the submission, or
    the error that refused it raised."""
    attempt = Attempt(exam_id, student_id, body)
    submit_many(db, [attempt])
    return attempt.result()


def submit_many(db: Database, attempts: Sequence[Attempt]) -> None:
    """Store attempts, each graded (an exam whose feedback waits for its closing: checked,
    and graded soon after by :mod:`app.classroom.backlog`), each with its own outcome
    (:meth:`Attempt.result`) as if sent alone in the order given: refused (403) outside the
    window, (409) with no attempt left, (422) with an answer that does not grade. Stored
    only once committed.

    One connection for them all: one reading query for every seat; grading (one batch per
    task and tolerance) outside any transaction; then one transaction: the students' rows
    locked, the checks again, and one insert. ``(student, attempt)`` is unique and the rows
    are locked while attempts are counted, so two submissions at once (here or in another
    worker) never share or exceed an attempt. A regrade that changed an exam's tolerance
    meanwhile has its submissions graded again before storing."""
    with db.ready().engine.connect() as connection:
        connection.execution_options(**{READ_ONLY: True})
        with connection.begin():
            seats = _seats(
                connection,
                "student",
                exams=sorted({a.exam_id for a in attempts}),
                students=sorted({a.student_id for a in attempts}),
            )
            existing = set(connection.scalars(select(Exam.id).where(
                Exam.id.in_({a.exam_id for a in attempts if (a.exam_id, a.student_id) not in seats})
            )))  # fmt: skip
        for attempt in attempts:
            attempt.seat = seats.get((attempt.exam_id, attempt.student_id))
            attempt.run(lambda a=attempt: _admit(a, a.exam_id in existing))
        _grade_now([a for a in attempts if a.error is None and not a.later])
        connection.execution_options(**{READ_ONLY: False})
        for _ in range(5):
            try:
                with connection.begin():
                    outcomes = _store(connection, [a for a in attempts if a.error is None])
                break
            except IntegrityError:
                continue  # a paper upload took an attempt number meanwhile: count again
        else:  # never seen: a paper upload in between, five times
            for attempt in attempts:
                exam = attempt.seat.exam if attempt.seat else None
                attempt.run(lambda e=exam: _check_attempts(e, e.attempts, False))
            return
    for attempt, (stored, error) in outcomes.items():
        attempt.stored, attempt.error = stored, error
    BACKLOG.add(db, [a.stored[1].id for a in attempts if a.later and a.stored])


def _admit(attempt: Attempt, exam_exists: bool) -> None:
    """The checks before grading: the student on the exam's roster, the window, the attempts
    left, the answers' tasks (and their parts, when stored ungraded)."""
    if attempt.seat is None:
        raise HTTPException(404, translate(NO_STUDENT if exam_exists else NO_EXAM,
                                           {"exam": attempt.exam_id}))  # fmt: skip
    exam, _, problems, used, final = attempt.seat
    check_open(exam)
    _check_attempts(exam, used, final)
    answers = attempt.body.answers
    attempt.later = exam.feedback == "after_close" and gradable_later(exam, problems, answers)
    if not attempt.later:
        _known_tasks(exam, answers)


def _grade_now(attempts: list[Attempt]) -> None:
    """Grade the attempts shown their grade at once, together."""
    submitted = [_submitted(a.seat.exam, a.seat.problems, a.body.answers) for a in attempts]  # type: ignore[union-attr]
    for attempt, outcome in zip(attempts, grade_many(submitted), strict=True):
        attempt.graded_with = attempt.seat.exam.tolerance  # type: ignore[union-attr]
        attempt.run(lambda a=attempt, o=outcome: setattr(a, "grades", _graded(o)))


def _store(connection: Connection, attempts: list[Attempt]) -> dict[Attempt, Outcome]:
    """In a transaction: lock the students' rows, check each attempt again (in order: one
    of a student counts their earlier one here) and insert those accepted; each attempt's
    outcome."""
    locked = _seats(connection, "locked", pks=sorted({a.seat.pk for a in attempts}))  # type: ignore[union-attr]
    taken: dict[int, tuple[int, bool]] = {}
    accepted: list[tuple[Attempt, Exam, Submission]] = []
    outcomes: dict[Attempt, Outcome] = {}
    for attempt in attempts:
        seat = locked[attempt.seat.pk]  # type: ignore[union-attr]
        used, final = taken.get(seat.pk, (seat.used, seat.final))
        seat = seat._replace(problems=attempt.seat.problems, used=used, final=final)  # type: ignore[union-attr]
        try:
            attempt.context.run(_recheck, attempt, seat)
        except Exception as exc:
            outcomes[attempt] = (None, exc)
            continue
        taken[seat.pk] = (used + 1, final or attempt.body.final)
        submission = Submission(student_pk=seat.pk, attempt=used + 1, final=attempt.body.final,
                                answers=attempt.body.answers,
                                grades=_as_stored(attempt.grades),
                                submitted_at=now(), source="online")  # fmt: skip
        accepted.append((attempt, seat.exam, submission))
    if accepted:
        rows = [{c.key: getattr(s, c.key) for c in _INSERTED} for _, _, s in accepted]
        keys = connection.scalars(
            insert(Submission).returning(Submission.id, sort_by_parameter_order=True), rows
        ).all()
        for (attempt, exam, submission), key in zip(accepted, keys, strict=True):
            submission.id = key
            outcomes[attempt] = ((exam, submission), None)
    return outcomes


Outcome = tuple[tuple[Exam, Submission] | None, Exception | None]
"""A submission stored (the exam and it), or the error that refused it."""


def _recheck(attempt: Attempt, seat: Seat) -> None:
    """The checks again, on the locked row; graded again when a regrade changed the exam's
    tolerance since."""
    check_open(seat.exam)
    _check_attempts(seat.exam, seat.used, seat.final)
    if not attempt.later and seat.exam.tolerance != attempt.graded_with:
        attempt.grades = grade_answers(seat.exam, seat.problems, attempt.body.answers)
        attempt.graded_with = seat.exam.tolerance


_INSERTED = [c for c in Submission.__table__.columns if c.key != "id"]
"""The columns a new submission stores (its id is the database's)."""


def save_draft(db: Database, exam_id: int, student_id: str, answers: dict[str, Any]) -> None:
    """Keep a student's answers without submitting them (a task the exam does not have is a
    422 naming it)."""
    with db.session() as session:
        student = get_student(session, exam_id, student_id, lock=True)
        exam = get_exam(session, exam_id)
        check_open(exam)
        _known_tasks(exam, answers)
        student.draft = answers


def _grade_rows(
    exam: Exam, students: dict[str, Student], rows: list[dict[str, Any]]
) -> list[dict[str, Grade] | Exception]:
    """The paper rows graded together (one batch per task)."""
    known = set(exam.tasks)
    return grade_many([
        _submitted(exam, {t: problem(t, students[row["student"]]) for t in exam.tasks},
                   {t: a for t, a in row["answers"].items() if t in known})
        for row in rows
    ])  # fmt: skip


def close(session: Session, exam: Exam) -> Exam:
    """Close the exam now (it takes no more submissions)."""
    if exam.closed_at is None:
        exam.closed_at = now()
    return exam


def store_paper(session: Session, exam: Exam, rows: list[dict[str, Any]]) -> int:
    """Store graded paper answers, one per row (``student``, the ``variant`` given, if any,
    the task's answer for each task, and the row's ``line`` in the file): outside the window
    and the attempts, as the instructor typed them. A row of a student not on the roster, of
    a variant not the student's, or that does not grade rejects the whole upload."""
    students = {s.student_id: s for s in exam.students}
    for row in rows:
        student = students.get(row["student"])
        if student is None:
            message = translate(NO_ROW_STUDENT, {"row": row["line"], "id": row["student"]})
            raise HTTPException(422, message)
        given = row.get("variant", "")
        if given and given != str(student.variant):
            context = {"row": row["line"], "id": row["student"], "variant": student.variant,
                       "given": given[:40]}  # fmt: skip
            raise HTTPException(422, translate(WRONG_VARIANT, context))
    count = 0
    for row, outcome in zip(rows, _grade_rows(exam, students, rows), strict=True):
        student = students[row["student"]]
        try:
            _known_tasks(exam, row["answers"])
            grades = _graded(outcome)
        except RequestValidationError as exc:
            raise RequestValidationError(
                [{**e, "loc": ("body", "file", row["line"], *e["loc"][1:])} for e in exc.errors()]
            ) from None
        used, _ = _attempts_used(session, student)
        session.add(Submission(student_pk=student.id, attempt=used + 1, source="paper",
                               answers=row["answers"], grades=_as_stored(grades)))  # fmt: skip
        session.flush()
        count += 1
    return count


def regrade(session: Session, exam: Exam, tolerance: Tolerance | None) -> None:
    """Grade every stored submission again with ``tolerance`` (kept as the exam's),
    task by task in one batch (equal to grading them one by one)."""
    exam.tolerance = _stored(tolerance)
    submissions = list(session.scalars(
        select(Submission).join(Student).where(Student.exam_id == exam.id)
    ))  # fmt: skip
    students = {s.id: s for s in exam.students}
    updated: dict[int, dict[str, Any]] = {s.id: dict(s.grades or {}) for s in submissions}
    for task in exam.tasks:
        results: list[Grade] = grade_batch(
            task,
            [problem(task, students[s.student_pk]) for s in submissions],
            [s.answers.get(task, {}) for s in submissions],
            tolerance,
        )
        for submission, result in zip(submissions, results, strict=True):
            updated[submission.id][task] = result.model_dump(mode="json")
    for submission in submissions:
        submission.grades = updated[submission.id]
