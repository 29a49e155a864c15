"""The classroom's pages: the instructor's exams (list, create, roster, links, gradebook,
analytics with plots) and the student's exam (``/take/{token}``). Plain HTML forms over the
same functions as the JSON API; they work without JavaScript."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2.filters import do_urlencode
from markupsafe import Markup, escape
from pydantic import ValidationError
from pydantic_core import PydanticCustomError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from app.classroom import exams, intake, plots
from app.classroom.api import ExamId, graded_parts, located, paper_rows, take_view
from app.classroom.backlog import settle
from app.classroom.db import get_database, instructor_token
from app.classroom.gradebook import GradebookRow, analytics, exam_part_label, gradebook
from app.classroom.roster import parse_csv
from app.classroom.tokens import read_token
from app.deps import (
    TOKEN_COOKIE,
    Language,
    PageFormat,
    bearer,
    number_format,
    presented_token,
    same_token,
    solve_for_people,
)
from app.errors import describe_errors
from app.i18n import translate
from app.instructor import SET_FILES, set_response, spec_fields, spec_from_query
from app.pages import html_response, render_page
from app.tasks import view_for
from solvers.core import N_, NumberFormat
from solvers.registry import TASKS
from solvers.variants.sets import QuizSpecBase, quiz_spec

PREFIX = "a_"
"""Answer fields of the take page: ``a_<task>.<part>``."""
SORTS = ("id", "name", "variant", "score", "submitted_at")
"""The gradebook's columns to sort by, besides each part (``?sort=loss.loss``)."""
PAGE_SIZE = 100
"""Students a page of the gradebook shows (sorted and filtered over the whole class)."""
SET_CHUNK = 250
"""Most variants in one of the exam's printable sets (sheets, key, Moodle XML): 250 take
1.6–2 s of CPU, 3–4.8 s on a busy 2-core machine; 500, the sets' limit, 4 s of CPU and
5.4–5.9 s there."""


def _errors(exc: Exception) -> list[dict[str, Any]]:
    """A failed form's messages (validation, a classroom rule, a refusal)."""
    if isinstance(exc, RequestValidationError | ValidationError):
        return describe_errors(exc.errors())
    if isinstance(exc, HTTPException):
        return [{"field": "", "msg": str(exc.detail)}]
    raise exc


FIELD_LABELS = {
    "title": N_("Title"),
    "tasks": N_("Problems"),
    "seed": N_("Seed"),
    "attempts": N_("Attempts"),
    "feedback": N_("Feedback"),
    "opens_at": N_("Opens (UTC)"),
    "closes_at": N_("Closes (UTC)"),
    "roster": N_("Roster"),
    "file": N_("CSV file"),
}
"""The labels of the classroom forms' own fields, as the forms show them."""


def _field_labels() -> dict[str, str]:
    """Every field a classroom form's error can name, by name, with its label (a message
    id): the forms' own, the take page's answers, the parts' points, the variant spec."""
    labels = dict(FIELD_LABELS)
    for task in TASKS.values():
        for part, label in task.part_labels.items():
            labels[f"answers.{task.id}.{part}"] = labels[f"points.{task.id}.{part}"] = label
    for task, fields in spec_fields(quiz_spec()()).items():
        for field in fields:
            labels[f"spec.{task}.{field.name.removeprefix(f'{task}_')}"] = field.label
    return labels


def field_label(field: str) -> str:
    """A form's field (an error's ``field``) as the form labels it, in the current language:
    the label of its longest named start (``roster.3.id`` → Roster, ``answers.loss.loss`` →
    the loss L), or the field itself when none is named."""
    if field in FIELD_LABELS:  # the exams page labels its own fields so: no spec built
        return translate(FIELD_LABELS[field])
    labels = _field_labels()
    names = field.split(".")
    for end in range(len(names), 0, -1):
        if label := labels.get(".".join(names[:end])):
            return translate(label)
    return field


def _signed_in(given: str) -> bool:
    return bool(given) and same_token(given, instructor_token())


async def _page(
    request: Request, name: str, lang: str, fmt: Any, context: dict[str, Any], status: int = 200
) -> HTMLResponse:
    shared = {"state_names": exams.STATE_NAMES, "part_label": exam_part_label,
              "field_label": field_label, "moment": exams.moment_text}  # fmt: skip
    body = render_page(request, name, lang, fmt, {**shared, **context})
    return html_response(request, body, lang, status)


async def _gate(request: Request, lang: str, fmt: Any) -> Response | None:
    """``?token=`` (the login link) sets the cookie; without a valid token, the login form."""
    token = request.query_params.get("token")
    if token:
        response = RedirectResponse(request.url.path, status_code=303)
        response.set_cookie(
            TOKEN_COOKIE, token, httponly=True, samesite="strict", max_age=7 * 86400
        )
        return response
    given = presented_token(request, await bearer(request))
    if await run_in_threadpool(_signed_in, given):
        return None
    return await _page(request, "classroom/login.html", lang, fmt, {}, status=401)


def _exam_list() -> list[tuple[exams.Exam, int]]:
    with get_database().session(write=False) as session:
        return exams.exam_list(session)


async def _exams(
    request: Request,
    lang: str,
    fmt: NumberFormat,
    form: Any,
    errors: list[dict[str, Any]],
    status: int = 200,
) -> Response:
    """The exams page: the list and the new exam's form (as typed, with its errors)."""
    found = await run_in_threadpool(_exam_list)
    context = _form_context(found, form, errors)
    return await _page(request, "classroom/exams.html", lang, fmt, context, status=status)


async def exams_page(request: Request, lang: Language, fmt: PageFormat) -> Response:
    """The instructor's exams and the form of a new one."""
    if gate := await _gate(request, lang, fmt):
        return gate
    return await _exams(request, lang, fmt, {}, [])


def _form_context(
    found: list[tuple[exams.Exam, int]], form: Any, errors: list[dict[str, Any]]
) -> dict[str, Any]:
    """The exams page: the list, and the new exam's form with its errors beside their fields
    (the rest above the form)."""
    named = {f"points.{t}.{p}" for t in TASKS for p in TASKS[t].part_labels}
    return {"exams": found, "state": exams.state, **_fields_context(form, errors, named)}


def _fields_context(
    form: Any, errors: list[dict[str, Any]], named: set[str], tasks: list[str] | None = None
) -> dict[str, Any]:
    """A form with tolerance fields (the new exam's, the regrade's): its values, the errors
    of its fields (``named``, and the tolerance's) beside them, the others above it; the
    parts' own bounds of ``tasks`` (None: every task's)."""
    by_field: dict[str, list[str]] = {}
    for error in errors:
        by_field.setdefault(error["field"], []).append(error["msg"])
    parts = _tolerance_parts(tasks)
    bounds = exams.TOLERANCE_FIELDS
    named = named | {f"tolerance.{name}" for name in (*bounds, "intermediate_decimals")}
    named |= {f"tolerance.parts.{p}.{name}" for _, p, _ in parts for name in bounds}
    return {
        "form": form,
        "errors": [e for e in errors if e["field"] not in named],
        "field_errors": by_field,
        "wrong": {field.split(".")[0] for field in by_field},
        "tolerance_fields": bounds,
        "tolerance_parts": parts,
        "exact": exams.EXACT,
        "spec_fields": spec_fields(_form_spec(form)),
    }


def _form_spec(form: Any) -> QuizSpecBase:
    """The spec the form gives, to show again (the defaults where it does not read)."""
    try:
        return quiz_spec().model_validate(spec_from_query(form))
    except ValidationError:
        return quiz_spec()()


def _tolerance_parts(tasks: list[str] | None = None) -> list[tuple[str, str, str]]:
    """(task title, part, label) of each part a rule of its own can name, once a name, of
    ``tasks`` (None: every task's)."""
    found: dict[str, tuple[str, str, str]] = {}
    for task in TASKS.values() if tasks is None else [TASKS[t] for t in tasks]:
        for part, label in task.part_labels.items():
            found.setdefault(part, (task.title, part, label))
    return list(found.values())


def _given(form: FormData, prefix: str) -> dict[str, str]:
    """The form's non-empty fields ``<prefix><name>``, by name."""
    return {key[len(prefix) :]: str(value).strip() for key, value in form.items()
            if key.startswith(prefix) and str(value).strip()}  # fmt: skip


def _tolerance(form: FormData) -> dict[str, Any] | None:
    """The tolerance the form's ``tolerance.<name>`` fields give
    (:func:`exams.tolerance_from_fields`), None when none."""
    return exams.tolerance_from_fields(_given(form, "tolerance."))


def _create(form: FormData) -> int:
    data = {
        "points": _given(form, "points."),
        "tolerance": _tolerance(form),
        "title": form.get("title", ""),
        "tasks": form.getlist("tasks"),
        "spec": spec_from_query(form),
        "seed": form.get("seed") or 2020,
        "attempts": form.get("attempts") or 1,
        "feedback": form.get("feedback", "immediate"),
        # the model reads the moments: a bad one is its error, named and translated
        "opens_at": str(form.get("opens_at") or "").strip() or None,
        "closes_at": str(form.get("closes_at") or "").strip() or None,
    }
    with located():
        body = exams.exam_create_model().model_validate(data)
        roster = parse_csv(str(form.get("roster", "")).encode()) if form.get("roster") else []
    with get_database().session() as session:
        exam = exams.create_exam(session, body)
        with located():
            exams.add_students(session, exam, roster)
        return exam.id


async def create_page(request: Request, lang: Language, fmt: PageFormat) -> Response:
    """Create an exam from the form, then show it."""
    if gate := await _gate(request, lang, fmt):
        return gate
    form = await request.form()
    try:
        exam_id = await run_in_threadpool(_create, form)
    except (RequestValidationError, ValidationError, HTTPException) as exc:
        return await _exams(request, lang, fmt, form, _errors(exc), status=422)
    return RedirectResponse(f"/instructor/exams/{exam_id}", status_code=303)


def set_chunks(students: int) -> list[tuple[int, int, str]]:
    """The exam's printable sets (``/instructor/exams/{exam}/sheets?…``, ``key``,
    ``moodle.xml``, …) in chunks of at most :data:`SET_CHUNK` variants: ``(first, last,
    query)``."""
    total = max(1, students)
    return [
        (first, last, urlencode({"first": first, "count": last - first + 1}))
        for first in range(1, total + 1, SET_CHUNK)
        for last in [min(first + SET_CHUNK - 1, total)]
    ]


def _chunk(query: Any) -> tuple[int, int]:
    """``first`` and ``count`` of an exam's set from the query (lenient: clamped)."""
    try:
        first = max(1, int(query.get("first") or 1))
        count = min(max(1, int(query.get("count") or SET_CHUNK)), SET_CHUNK)
    except ValueError:
        return 1, SET_CHUNK
    return min(first, 2**31 - 1), count


async def exam_set(
    request: Request, exam_id: ExamId, file: str, lang: Language, fmt: PageFormat
) -> Response:
    """The sheets, key and downloads (:data:`app.instructor.SET_FILES`) of exactly the
    variants the exam's students have: ``first`` … ``first + count − 1``."""
    name, _, extension = file.partition(".")
    if (name, extension or "html") not in SET_FILES:
        raise HTTPException(404)
    if gate := await _gate(request, lang, fmt):
        return gate

    def build() -> tuple[exams.VariantSet, dict[str, float]]:
        with get_database().session(write=False) as session:
            exam = exams.get_exam(session, exam_id)
            return exams.assigned_set(session, exam, *_chunk(request.query_params)), exam.points

    variant_set, points = await run_in_threadpool(build)
    return await set_response(request, name, extension or "html", lang, variant_set, points)


def gradebook_rows(
    exam_id: int, rows: list[GradebookRow], columns: list[str], fmt: NumberFormat
) -> Markup:
    """The gradebook table's rows: a student's id (a link to their submissions), name,
    variant, score, time, and one cell per part (its verdict as a class, the mistake as a
    title). Built here, not in Jinja: 1 000 students × 15 parts."""
    out = []
    for r in rows:
        sid = escape(r.id)
        score = f"{fmt.num(r.score)} / {fmt.num(r.max_score)}" if r.score is not None else "—"
        when = (f"{r.submitted_at.strftime('%Y-%m-%d %H:%M')} ({r.attempts})"
                if r.submitted_at else "—")  # fmt: skip
        out.append(
            f'<tr id="student-{sid}" data-student="{sid}">\n'
            f'<td><a class="student-link" href="/instructor/exams/{exam_id}/students/'
            f'{escape(do_urlencode(r.id))}">{sid}</a></td><td>{escape(r.name)}</td>'
            f'<td>{r.variant}</td>\n<td class="num">{score}</td>\n<td>{when}</td>\n'
        )
        for column in columns:
            mark = r.parts.get(column)
            if mark is None:
                out.append('<td class="num verdict-none"></td>\n')
                continue
            title = f' title="{escape(mark.misconception)}"' if mark.misconception else ""
            out.append(
                f'<td class="num verdict-{mark.verdict}"{title}>{fmt.num(mark.score)}</td>\n'
            )
        out.append("</tr>\n")
    return Markup("".join(out))


def _page_number(text: str | None, pages: int) -> int:
    """``?page=`` as a page from 1 to ``pages`` (anything else: the nearest, or 1)."""
    try:
        return min(max(1, int(text or 1)), pages)
    except ValueError:
        return 1


def sort_value(row: GradebookRow, sort: str) -> Any:
    """What the gradebook sorts a row by: a column of :data:`SORTS`, else a part's score
    (None when the student has no mark of it)."""
    if sort in SORTS:
        return getattr(row, sort)
    mark = row.parts.get(sort)
    return None if mark is None else mark.score


def _exam_context(request: Request, exam_id: int) -> dict[str, Any]:
    """The exam page: the analytics of the whole class; the gradebook filtered (``q``) and
    sorted (``sort``, ``order``) over the whole class, shown :data:`PAGE_SIZE` students a
    page (``page``), with those students' links."""
    settle(get_database(), exam_id)
    with get_database().session(write=False) as session:
        exam = exams.get_exam(session, exam_id)
        book = gradebook(session, exam)
        out = exams.exam_out(str(request.base_url), exam, students=[])
    stats = analytics(book)
    query = request.query_params
    wanted = (query.get("q") or "").strip().lower()
    rows = [
        r for r in book.students if not wanted or wanted in r.id.lower() or wanted in r.name.lower()
    ]
    columns = list(dict.fromkeys(name for r in book.students for name in r.parts))
    wanted_sort = query.get("sort")
    sort = wanted_sort if wanted_sort in SORTS or wanted_sort in columns else "variant"
    descending = query.get("order") == "desc"

    def key(row: Any) -> tuple[bool, Any]:
        value = sort_value(row, sort)
        return (value is None) != descending, value if value is not None else 0

    rows.sort(key=key, reverse=descending)
    pages = max(1, -(-len(rows) // PAGE_SIZE))
    page = _page_number(query.get("page"), pages)
    shown = rows[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    base = str(request.base_url)
    return {
        "exam": out,
        "gradebook_rows": gradebook_rows,
        "set_chunks": set_chunks(len(book.students)),
        "rows": shown,
        "links": {r.id: exams.link(base, exam_id, r.id)[1] for r in shown},
        "shown": {r.id for r in shown},
        "page": page,
        "pages": pages,
        "columns": columns,
        "stats": stats,
        "sort": sort,
        "descending": descending,
        "q": query.get("q", ""),
        "plots": {
            "histogram": plots.histogram(stats),
            "parts": plots.parts(stats),
            "misconceptions": plots.misconceptions(stats),
        },
    }


async def exam_page(request: Request, exam_id: ExamId, lang: Language, fmt: PageFormat) -> Response:
    """One exam: state, roster and links, gradebook, what the class got wrong."""
    if gate := await _gate(request, lang, fmt):
        return gate
    return await _exam_page(request, exam_id, lang, fmt)


async def _exam_page(
    request: Request,
    exam_id: int,
    lang: str,
    fmt: Any,
    errors: list[dict[str, Any]] | None = None,
    form: Any = None,
) -> Response:
    """The exam page; with ``errors``, a 422 with them, the regrade form as typed (``form``)
    or else with the exam's tolerance."""
    context = await run_in_threadpool(_exam_context, request, exam_id)
    if form is None:
        stored = exams.tolerance_as_fields(context["exam"].tolerance)
        form = {f"tolerance.{name}": value for name, value in stored.items()}
    return await _page(
        request,
        "classroom/exam.html",
        lang,
        fmt,
        {**context, **_fields_context(form, errors or [], set(), context["exam"].tasks)},
        status=422 if errors else 200,
    )


async def exam_action(
    request: Request, exam_id: ExamId, action: str, lang: Language, fmt: PageFormat
) -> Response:
    """The exam page's forms: ``close``, ``roster`` (a CSV file or typed), ``paper``,
    ``regrade`` (every submission graded again with the form's tolerance)."""
    if gate := await _gate(request, lang, fmt):
        return gate
    form = await request.form()
    upload = form.get("file")
    data = await upload.read() if isinstance(upload, UploadFile) else b""

    def act() -> None:
        with get_database().session() as session:
            exam = exams.get_exam(session, exam_id, lock=True)
            if action == "close":
                exams.close(session, exam)
            elif action == "roster":
                with located():
                    entries = parse_csv(data or str(form.get("roster", "")).encode())
                    exams.add_students(session, exam, entries)
            elif action == "paper":
                exams.store_paper(session, exam, paper_rows(exam, data))
            elif action == "regrade":
                with located():
                    body = exams.RegradeIn.model_validate({"tolerance": _tolerance(form)})
                exams.regrade(session, exam, body.tolerance)
            else:
                raise HTTPException(404)

    typed = form if action == "regrade" else None
    try:
        await run_in_threadpool(act)
    except (RequestValidationError, ValidationError, PydanticCustomError) as exc:
        return await _exam_page(request, exam_id, lang, fmt, _errors(exc), typed)
    except HTTPException as exc:
        if exc.status_code == 404:
            raise
        return await _exam_page(request, exam_id, lang, fmt, _errors(exc), typed)
    return RedirectResponse(f"/instructor/exams/{exam_id}", status_code=303)


def _student_context(request: Request, exam_id: int, student_id: str) -> dict[str, Any]:
    settle(get_database(), exam_id)
    with get_database().session(write=False) as session:
        exam = exams.get_exam(session, exam_id)
        student = exams.get_student(session, exam_id, student_id)
        submissions = list(student.submissions)
    attempts = []
    for submission in reversed(submissions):
        if submission.grades is None:  # stored since the settling, graded in a moment
            score = max_score = None
            parts = []
        else:
            score, max_score, parts = graded_parts(exam, submission.grades)
        attempts.append(
            {"submission": submission, "at": exams.aware(submission.submitted_at),
             "score": score, "max_score": max_score, "parts": parts}
        )  # fmt: skip
    return {
        "exam": exam,
        "student": student,
        "url": exams.student_out(str(request.base_url), student).url,
        "attempts": attempts,
        "verdict_names": plots.VERDICT_NAMES,
    }


async def student_page(
    request: Request, exam_id: ExamId, student_id: str, lang: Language, fmt: PageFormat
) -> Response:
    """One student's submissions, newest first, each part with the answer read, the
    expected one, the verdict, the score and the feedback (the instructor's view)."""
    if gate := await _gate(request, lang, fmt):
        return gate
    context = await run_in_threadpool(_student_context, request, exam_id, student_id)
    return await _page(request, "classroom/student.html", lang, fmt, context)


def _answers(form: FormData, tasks: list[str]) -> dict[str, dict[str, Any]]:
    """The take form's fields as answers, task by task (each through the task's view)."""
    fields: dict[str, dict[str, str]] = {}
    for name, value in form.multi_items():
        if name.startswith(PREFIX) and isinstance(value, str) and value.strip():
            task, _, part = name[len(PREFIX) :].partition(".")
            if task in tasks:
                fields.setdefault(task, {})[part] = value
    return {task: view_for(task).try_answer(parts) for task, parts in fields.items()}


def _take_context(token: str) -> dict[str, Any]:
    _, student, view = take_view(token)
    shown = list(view.problems)
    solutions = {}
    for task in shown:  # the statements of some tasks print a form of the problem
        problem = exams.problem(task, student)
        solutions[task] = solve_for_people(TASKS[task], problem, number_format("en", None))
    return {
        "take": view,
        "tasks_of": shown,
        "problems": {t: exams.problem(t, student) for t in shown},
        "solutions": solutions,
        "token": token,
        "prefix": PREFIX,
    }


async def take_page(request: Request, token: str, lang: Language, fmt: PageFormat) -> Response:
    """The student's exam: their problems, answer fields, save and submit; the grade when
    the exam shows it."""
    return await _take_page(request, token, lang, fmt)


async def _take_page(
    request: Request,
    token: str,
    lang: str,
    fmt: Any,
    form: dict[str, str] | None = None,
    errors: list[dict[str, Any]] | None = None,
    saved: bool = False,
) -> Response:
    context = await run_in_threadpool(_take_context, token)
    draft = context["take"].draft or {}
    values = (
        form
        if form is not None
        else {
            f"{PREFIX}{task}.{part}": str(value)
            for task, parts in draft.items()
            for part, value in parts.items()
        }
    )
    return await _page(
        request,
        "classroom/take.html",
        lang,
        fmt,
        {**context, "form": values, "errors": errors or [], "saved": saved},
        status=422 if errors else 200,
    )


async def take_action(request: Request, token: str, lang: Language, fmt: PageFormat) -> Response:
    """Save (a draft) or submit the take form."""
    exam_id, student_id = read_token(token)
    form = await request.form()
    with get_database().session(write=False) as session:
        tasks = exams.get_exam(session, exam_id).tasks
    answers = _answers(form, tasks)
    fields = {k: str(v) for k, v in form.items() if k.startswith(PREFIX)}
    try:
        if form.get("action") == "save":
            drafts = {}
            for name, value in fields.items():
                task, _, part = name[len(PREFIX) :].partition(".")
                drafts.setdefault(task, {})[part] = value
            await run_in_threadpool(exams.save_draft, get_database(), exam_id, student_id, drafts)
            return await _take_page(request, token, lang, fmt, fields, saved=True)
        body = exams.SubmissionIn(answers=answers, final=form.get("final") == "true")
        await intake.submit(get_database(), exam_id, student_id, body)
    except (RequestValidationError, HTTPException) as exc:
        return await _take_page(request, token, lang, fmt, fields, _errors(exc))
    return RedirectResponse(f"/take/{token}#result", status_code=303)


def build_router() -> APIRouter:
    """The classroom's pages."""
    router = APIRouter(include_in_schema=False)
    router.add_api_route("/instructor/exams", exams_page, methods=["GET"])
    router.add_api_route("/instructor/exams", create_page, methods=["POST"])
    router.add_api_route("/instructor/exams/{exam_id}", exam_page, methods=["GET"])
    router.add_api_route("/instructor/exams/{exam_id}/{action}", exam_action, methods=["POST"])
    router.add_api_route("/instructor/exams/{exam_id}/{file}", exam_set, methods=["GET"])
    router.add_api_route(
        "/instructor/exams/{exam_id}/students/{student_id:path}", student_page, methods=["GET"]
    )
    router.add_api_route("/take/{token}", take_page, methods=["GET"])
    router.add_api_route("/take/{token}", take_action, methods=["POST"])
    return router
