"""The classroom's JSON API: exams and rosters, students' links, submissions, the
gradebook, analytics, regrading and paper answers (see the README's contract table).

Instructor endpoints need the instructor token; a student's endpoints need their link's
token. Database work runs in the threadpool (the routes are plain functions)."""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Annotated, Any, Literal, NamedTuple

from fastapi import APIRouter, HTTPException, Path, Query, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic_core import PydanticCustomError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile as StarletteUpload

from app.classroom import exams, intake
from app.classroom.backlog import settle
from app.classroom.db import get_database
from app.classroom.exams import ExamOut, RegradeIn, StudentOut, SubmissionIn
from app.classroom.gradebook import (
    Analytics,
    Gradebook,
    PartMark,
    analytics,
    gradebook,
    gradebook_csv,
    marks,
    moodle_csv,
)
from app.classroom.models import summarize
from app.classroom.roster import parse_csv
from app.classroom.tokens import read_token
from app.deps import Instructor, Language
from app.errors import CheckedJsonRoute, checked_json, error_responses
from app.exports import answer_cells
from app.grading import MAX_BATCH, Translations, submission_from_columns
from app.i18n import translate
from app.uploads import UploadError, read_answer_table
from solvers.core import N_
from solvers.grading.core import Grade, PartGrade
from solvers.registry import TASKS


@contextmanager
def located() -> Iterator[None]:
    """A classroom rule broken (:class:`PydanticCustomError` with a ``field``) as a 422
    naming that field."""
    try:
        yield
    except PydanticCustomError as exc:
        context = dict(exc.context or {})
        loc = ("body", *str(context.get("field", "")).split("."))
        raise RequestValidationError(
            [{"type": exc.type, "loc": loc, "msg": exc.message_template, "ctx": context}]
        ) from None
    except ValidationError as exc:
        raise RequestValidationError(
            [{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]
        ) from None


class StudentsOut(BaseModel):
    """Students added, with their links."""

    students: list[StudentOut]


class ExamSummary(BaseModel):
    """An exam in the instructor's list."""

    id: int
    title: str
    state: exams.State
    students: int


class DraftIn(BaseModel):
    """Answers kept without submitting."""

    model_config = ConfigDict(extra="forbid")

    answers: dict[str, dict[str, Any]]


@dataclass(frozen=True, slots=True, kw_only=True)
class TakePart(PartMark):
    """A part of the student's own grade: the mark and its feedback (never the expected
    answer)."""

    feedback: str
    misconception_title: str | None = None


class SubmissionOut(BaseModel):
    """A stored attempt; the grade only when the exam shows feedback now."""

    attempt: int
    final: bool = False
    submitted_at: Any = None
    score: float | None = None
    max_score: float | None = None
    parts: dict[str, TakePart] | None = None


class TakeExam(BaseModel):
    """The exam as its student sees it."""

    title: str
    state: exams.State
    opens_at: Any
    closes_at: Any
    attempts: int
    attempts_used: int
    feedback: exams.Feedback


class TakeOut(BaseModel):
    """A student's exam: their variant's problems and the parts to answer (none before the
    exam opens); their draft and latest attempt. Never an answer, a key or another
    student's data."""

    exam: TakeExam
    student: dict[str, str]
    problems: dict[str, Any]
    parts: dict[str, list[str]]
    draft: dict[str, Any] | None = None
    last: SubmissionOut | None = None


def as_json(model: BaseModel, status_code: int = 200, exclude_none: bool = False) -> Response:
    """A model built by the server as the JSON answer, without validating it again (a
    1 000-student gradebook has 15 000 part marks)."""
    text = model.model_dump_json(by_alias=True, exclude_none=exclude_none)
    return Response(text, status_code, media_type="application/json")


def _base(request: Request) -> str:
    return str(request.base_url)


def _show_feedback(exam: exams.Exam) -> bool:
    return exam.feedback == "immediate" or exams.state(exam) == "closed"


class GradedPart(NamedTuple):
    """A part of a stored submission: its mark (the exam's points), the grader's part,
    its feedback and the named mistake's title, in the current language."""

    name: str
    mark: PartMark
    part: PartGrade
    feedback: str
    misconception_title: str | None


def graded_parts(
    exam: exams.Exam, grades: dict[str, Any], models: dict[str, Grade] | None = None
) -> tuple[float, float, list[GradedPart]]:
    """A stored submission's score, maximum and parts with their feedback (``models``: the
    same grades as models, when the caller has them: not read again)."""
    score, max_score, parts = marks(exam, summarize(grades))
    texts = Translations()
    graded = []
    for task in exam.tasks:
        grade = models[task] if models else Grade.model_validate(grades[task])
        for part in grade.parts:
            title = (
                texts.misconception(task, part.misconception).title if part.misconception else None
            )
            graded.append(GradedPart(f"{task}.{part.name}", parts[f"{task}.{part.name}"], part,
                                     texts.feedback(part), title))  # fmt: skip
    return score, max_score, graded


def submission_out(
    exam: exams.Exam, submission: exams.Submission, graded: dict[str, Grade] | None = None
) -> SubmissionOut:
    """An attempt for its student, graded parts with feedback when the exam shows them
    (``graded``: its grades as models, when the caller has them)."""
    out = SubmissionOut(
        attempt=submission.attempt,
        final=submission.final,
        submitted_at=exams.aware(submission.submitted_at),
    )
    if not _show_feedback(exam) or submission.grades is None:
        return out
    score, max_score, parts = graded_parts(exam, submission.grades, graded)
    taken = {
        p.name: TakePart(**asdict(p.mark), feedback=p.feedback,
                         misconception_title=p.misconception_title)
        for p in parts
    }  # fmt: skip
    return out.model_copy(update={"score": score, "max_score": max_score, "parts": taken})


def take_view(token: str) -> tuple[exams.Exam, exams.Student, TakeOut]:
    """The exam, the student and what they see, for a link's token."""
    exam_id, student_id = read_token(token)
    for settled in (False, True):
        with get_database().session(write=False) as session:
            exam = exams.get_exam(session, exam_id)
            student = exams.get_student(session, exam_id, student_id)
            submissions = list(student.submissions)
        last = submissions[-1] if submissions else None
        if settled or last is None or last.grades is not None or not _show_feedback(exam):
            break
        settle(get_database(), exam_id)  # closed with grades still waiting: grade them now
    current = exams.state(exam)
    shown = [] if current == "scheduled" else exam.tasks  # no problem before the exam opens
    view = TakeOut(
        exam=TakeExam(
            title=exam.title,
            state=current,
            opens_at=exams.aware(exam.opens_at),
            closes_at=exams.aware(exam.closes_at),
            attempts=exam.attempts,
            attempts_used=len(submissions),
            feedback=exam.feedback,
        ),  # type: ignore[arg-type]
        student={"id": student.student_id, "name": student.name},
        problems={t: student.problems[t] for t in shown},
        parts={t: TASKS[t].try_parts(exams.problem(t, student)) for t in shown},
        draft=student.draft,
        last=submission_out(exam, last) if last else None,
    )
    return exam, student, view


def _exam(exam_id: int) -> Any:
    with get_database().session(write=False) as session:
        exam = exams.get_exam(session, exam_id)
        list(exam.students)
        return exam


async def _upload(request: Request) -> bytes:
    form = await request.form()
    upload = form.get("file")
    if not isinstance(upload, UploadFile | StarletteUpload):
        raise RequestValidationError(
            [
                {
                    "type": "upload",
                    "loc": ("body", "file"),
                    "msg": N_("attach the CSV file as the form field file"),
                    "ctx": {},
                }
            ]
        )
    return await upload.read()


PAPER_COLUMNS = ("student", "name", "variant")
"""The columns of a paper upload besides the answers (``name`` and ``variant`` optional, as
in ``links.csv``; a ``variant`` given must be the student's)."""
UNKNOWN_COLUMN = N_(
    'column "{column}" is not one this exam reads: the columns are student, name '
    "(optional), variant (optional) and the answers of answers.csv ({expected})"
)


def _reads(task: str, cell: str) -> bool:
    """Whether ``cell`` is a column of ``task``'s answers (one that names a part but does not
    read is an error of its own, said when the answers are read)."""
    try:
        return bool(TASKS[task].answer_from_cells({cell: "0"}))
    except ValueError:
        return True


def _answer_columns(exam: exams.Exam) -> str:
    """The answer columns of the exam's first student's variant, shortened (``loss.L1 …
    loss.L``), for a message."""
    student = exam.students[0] if exam.students else None
    found = []
    for task in exam.tasks:
        if student is None:
            found.append(f"{task}.…")
            continue
        answer = TASKS[task].solve_batch([exams.problem(task, student)], "cpu")[0]
        columns = [cell.column for cell in answer_cells(task, answer)]
        found.append(f"{columns[0]} … {columns[-1]}" if len(columns) > 2 else ", ".join(columns))
    return "; ".join(found)


def _check_columns(exam: exams.Exam, columns: list[str], rows: list[dict[str, Any]]) -> None:
    """A 422 naming a column of a paper upload that the exam does not read, and the columns
    expected (a column without a name and without a value is a spreadsheet's trailing
    separator: skipped)."""
    for column in columns:
        task, _, cell = column.partition(".")
        if column in PAPER_COLUMNS or (task in exam.tasks and _reads(task, cell)):
            continue
        if not column.strip() and not any((r.get(column) or "").strip() for r in rows):
            continue
        context = {"column": column[:80], "expected": _answer_columns(exam)}
        raise RequestValidationError(
            [{"type": "paper_column", "loc": ("body", "file"),
              "msg": UNKNOWN_COLUMN, "ctx": context}]
        )  # fmt: skip


UNREADABLE = N_("the CSV file's answers do not read: {error}")


def paper_rows(exam: exams.Exam, data: bytes) -> list[dict[str, Any]]:
    """A paper upload's rows (a spreadsheet's CSV, as ``POST /api/v1/grade/batch`` reads it:
    a BOM, ``,`` ``;`` or tab, quoted fields): each ``student``, the ``variant`` given (empty
    when none), their answer to each of the exam's tasks and the row's ``line`` in the file;
    a column the exam does not read is a 422 naming it."""
    try:
        table = read_answer_table(data, required="student", limit=MAX_BATCH)
    except UploadError as exc:
        raise RequestValidationError(
            [{"type": "paper", "loc": ("body", "file"),
              "msg": translate(exc.template, exc.context)}]
        ) from None  # fmt: skip
    _check_columns(exam, table.columns, table.rows)
    try:
        return [
            {
                "student": (r.get("student") or "").strip(),
                "variant": (r.get("variant") or "").strip(),
                "answers": {t: submission_from_columns(t, r) for t in exam.tasks},
                "line": line,
            }
            for r, line in zip(table.rows, table.lines, strict=True)
        ]
    except (ValueError, KeyError) as exc:
        raise RequestValidationError(
            [
                {
                    "type": "paper",
                    "loc": ("body", "file"),
                    "msg": translate(UNREADABLE, {"error": str(exc)[:200]}),
                }
            ]
        ) from None


ExamId = Annotated[int, Path(ge=1, le=2**31 - 1, description="The exam's number.")]
"""An exam's number in a path (stored as a 32-bit integer)."""


def build_routers() -> tuple[APIRouter, APIRouter]:
    """The classroom's API routes (models built for the tasks registered now): the students'
    (a class's during an exam) and the instructor's."""
    router = APIRouter(
        route_class=CheckedJsonRoute, tags=["classroom"], responses=error_responses(403, 404, 409)
    )
    teacher = APIRouter(
        route_class=CheckedJsonRoute,
        tags=["classroom"],
        dependencies=[Instructor],
        responses=error_responses(401, 403, 404, 409),
    )
    create_model = exams.exam_create_model()

    def create_exam(request: Request, body: create_model, language: Language) -> JSONResponse:  # type: ignore[valid-type]
        """Create an exam with its roster; each student gets a variant and a link."""
        with located(), get_database().session() as session:
            exam = exams.create_exam(session, body)
            out = exams.exam_out(_base(request), exam)
        return JSONResponse(out.model_dump(mode="json"), status_code=201)

    teacher.add_api_route(
        "/api/v1/exams",
        create_exam,
        methods=["POST"],
        status_code=201,
        response_model=ExamOut,
        summary="Create an exam",
    )

    @teacher.get("/api/v1/exams", summary="List the exams")
    def list_exams(language: Language) -> list[ExamSummary]:
        """Every exam, newest first."""
        with get_database().session(write=False) as session:
            return [
                ExamSummary(id=e.id, title=e.title, state=exams.state(e), students=count)
                for e, count in exams.exam_list(session)
            ]

    @teacher.get("/api/v1/exams/{exam_id}", summary="An exam, its state and links")
    def get_exam(request: Request, exam_id: ExamId, language: Language) -> ExamOut:
        """The exam as created, with its state (scheduled, open, closed)."""
        return exams.exam_out(_base(request), _exam(exam_id))

    @teacher.post("/api/v1/exams/{exam_id}/roster", summary="Add students")
    async def add_roster(request: Request, exam_id: ExamId, language: Language) -> StudentsOut:
        """JSON ``{"roster": [...]}`` or a CSV upload (``file``): the students added."""
        if request.headers.get("content-type", "").startswith("multipart/form-data"):
            data = await _upload(request)
            with located():
                entries = await run_in_threadpool(parse_csv, data)
        else:
            try:
                data = checked_json(await request.body())
            except ValueError:
                raise HTTPException(400) from None  # answered as the app's unreadable body
            with located():
                entries = exams.RosterIn.model_validate(data).roster

        def add() -> StudentsOut:
            with located(), get_database().session() as session:
                exam = exams.get_exam(session, exam_id, lock=True)
                added = exams.add_students(session, exam, entries)
                return StudentsOut(students=[exams.student_out(_base(request), s) for s in added])

        return await run_in_threadpool(add)

    @teacher.get("/api/v1/exams/{exam_id}/links.csv", summary="The students' links as CSV")
    def links_csv(request: Request, exam_id: ExamId) -> Response:
        """``student,name,variant,url``, one row per student."""
        disposition = f'attachment; filename="exam-{exam_id}-links.csv"'
        return Response(
            exams.links_csv(exams.exam_out(_base(request), _exam(exam_id))),
            media_type="text/csv; charset=utf-8",
            headers={"content-disposition": disposition},
        )

    @teacher.post("/api/v1/exams/{exam_id}/close", summary="Close the exam")
    def close_exam(request: Request, exam_id: ExamId, language: Language) -> ExamOut:
        """The exam, closed now: no more submissions; feedback shown if it waited."""
        with get_database().session() as session:
            exam = exams.close(session, exams.get_exam(session, exam_id, lock=True))
            return exams.exam_out(_base(request), exam)

    @teacher.get(
        "/api/v1/exams/{exam_id}/gradebook", summary="The gradebook", response_model=Gradebook
    )
    def get_gradebook(
        exam_id: ExamId,
        language: Language,
        format: Literal["json", "csv", "moodle"] = Query("json"),
    ) -> Response:
        """Students × parts from each student's latest submission; ``?format=csv`` one row
        per student, ``?format=moodle`` the layout Moodle's grade import reads."""
        settle(get_database(), exam_id)
        with get_database().session(write=False) as session:
            exam = exams.get_exam(session, exam_id)
            book = gradebook(session, exam)
        if format == "json":
            return as_json(book)
        text = gradebook_csv(book) if format == "csv" else moodle_csv(book, exam.title)
        name = f"stepgrad-exam{exam_id}-{'gradebook' if format == 'csv' else 'moodle'}.csv"
        return Response(
            text,
            media_type="text/csv; charset=utf-8",
            headers={"content-disposition": f'attachment; filename="{name}"'},
        )

    @teacher.get(
        "/api/v1/exams/{exam_id}/analytics",
        summary="What the class got wrong",
        response_model=Analytics,
    )
    def get_analytics(exam_id: ExamId, language: Language) -> Response:
        """Score histogram, each part's right/consistent/wrong/blank, misconceptions
        ranked by how many students made them."""
        settle(get_database(), exam_id)
        with get_database().session(write=False) as session:
            book = gradebook(session, exams.get_exam(session, exam_id))
        return as_json(analytics(book))

    @teacher.post("/api/v1/exams/{exam_id}/regrade", summary="Grade again")
    def regrade(exam_id: ExamId, body: RegradeIn, language: Language) -> Gradebook:
        """Every submission graded again with ``tolerance``: the new gradebook."""
        with get_database().session() as session:
            exam = exams.get_exam(session, exam_id, lock=True)
            exams.regrade(session, exam, body.tolerance)
            return gradebook(session, exam)

    @teacher.post("/api/v1/exams/{exam_id}/paper", summary="Store paper answers")
    async def paper(request: Request, exam_id: ExamId, language: Language) -> Gradebook:
        """A CSV upload (``file``), one row per student: ``student`` and the answer
        columns of ``answers.csv``; graded and stored in the gradebook."""
        data = await _upload(request)

        def store() -> Gradebook:
            settle(get_database(), exam_id)
            with get_database().session() as session:
                exam = exams.get_exam(session, exam_id, lock=True)
                exams.store_paper(session, exam, paper_rows(exam, data))
                return gradebook(session, exam)

        return await run_in_threadpool(store)

    @router.get("/api/v1/take/{token}", summary="A student's exam")
    def take(token: str, language: Language) -> TakeOut:
        """The student's own variant and the parts to answer."""
        return take_view(token)[2]

    @router.put("/api/v1/take/{token}/draft", summary="Save answers without submitting")
    def draft(token: str, body: DraftIn, language: Language) -> dict[str, bool]:
        """Keep the answers for later (while the exam is open)."""
        exams.save_draft(get_database(), *read_token(token), body.answers)
        return {"saved": True}

    @router.post(
        "/api/v1/take/{token}/submissions",
        status_code=201,
        summary="Submit answers",
        response_model=SubmissionOut,
        response_model_exclude_none=True,
    )
    async def submit(token: str, body: SubmissionIn, language: Language) -> Response:
        """Grade and store an attempt: 201 once committed; 409 with no attempt left; 403
        before opening or after closing."""
        exam_id, student_id = read_token(token)
        stored = await intake.submit(get_database(), exam_id, student_id, body)
        return as_json(submission_out(*stored), status_code=201, exclude_none=True)

    return router, teacher
