"""``stepgrad exam …``: the classroom from a terminal, over the same functions as the JSON
API (no HTTP), on the database of ``STEPGRAD_DATABASE_URL`` as the server."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from pathlib import Path

from fastapi import HTTPException
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from pydantic_core import PydanticCustomError

from app.classroom import exams
from app.classroom.api import paper_rows
from app.classroom.backlog import settle
from app.classroom.db import Database, get_database
from app.classroom.gradebook import Gradebook, gradebook, gradebook_csv, moodle_csv
from app.classroom.roster import parse_csv
from app.errors import describe_errors
from app.settings import Settings
from solvers.registry import TASKS


class CommandError(Exception):
    """A refusal to tell the user (the message), as the API's 4xx would."""


def add_parser(commands: argparse._SubParsersAction, settings: Settings) -> None:
    """The ``exam`` command and its subcommands."""
    exam = commands.add_parser(
        "exam", help="create, list, close, regrade exams; roster, paper answers, links, gradebook"
    )
    exam.add_argument(
        "--base-url",
        default=f"http://{settings.host}:{settings.port}",
        help="the server's address, for the students' links (default %(default)s)",
    )
    actions = exam.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", help="create an exam for a roster; print its links")
    create.add_argument("--title", required=True)
    create.add_argument(
        "--tasks",
        default=",".join(TASKS),
        help=f"comma-separated, of: {', '.join(TASKS)} (default %(default)s)",
    )
    create.add_argument(
        "--roster",
        type=Path,
        required=True,
        help="a CSV file: id, name, optional email (a header row or none)",
    )
    create.add_argument("--spec", type=Path, help="a JSON file with the variant spec")
    create.add_argument("--seed", type=int, default=2020, help="seed (default %(default)s)")
    create.add_argument("--attempts", type=int, default=1, help="default %(default)s")
    create.add_argument("--feedback", choices=("immediate", "after_close"), default="immediate")
    create.add_argument("--opens", type=datetime.fromisoformat, help="ISO 8601 (UTC if no zone)")
    create.add_argument("--closes", type=datetime.fromisoformat, help="ISO 8601 (UTC if no zone)")
    create.add_argument(
        "--points",
        action="append",
        metavar="TASK.PART=N",
        help="a part's points (default 1), e.g. loss.loss=2 or graph.gradients=0.5; repeat "
        "for more parts",
    )
    _tolerance_option(create)
    create.add_argument(
        "--links", type=Path, help="the links CSV to write (default exam-<id>-links.csv)"
    )
    actions.add_parser("list", help="the exams, newest first")
    for name, text in (("links", "the students' links as CSV"), ("close", "close the exam now")):
        actions.add_parser(name, help=text).add_argument("id", type=int)
    roster = actions.add_parser(
        "roster", help="add students from a CSV file; print their links as CSV"
    )
    roster.add_argument("id", type=int)
    roster.add_argument("file", type=Path, help="id, name, optional email (as --roster)")
    paper = actions.add_parser(
        "paper", help="grade paper answers (the CSV of the grading upload) into the gradebook"
    )
    paper.add_argument("id", type=int)
    paper.add_argument("file", type=Path, help="a row per student: student, then answer columns")
    regrade = actions.add_parser(
        "regrade", help="grade every submission again with a tolerance; print the gradebook"
    )
    regrade.add_argument("id", type=int)
    _tolerance_option(regrade)
    book = actions.add_parser("gradebook", help="students × parts (a table, or CSV)")
    book.add_argument("id", type=int)
    layout = book.add_mutually_exclusive_group()
    layout.add_argument("--csv", action="store_true", help="one row per student, a column a part")
    layout.add_argument("--moodle", action="store_true", help="the layout Moodle's import reads")


def _tolerance_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--tolerance",
        action="append",
        metavar="NAME=VALUE",
        help="the grading tolerance, as the grade API takes it: absolute=0.05, relative, "
        "decimals, sigfigs, intermediate_decimals=2 (or exact), a part's own bound as "
        "parts.<part>.<bound>=…; repeat for more (none: the grader's default)",
    )


def _pairs(values: list[str] | None, option: str) -> dict[str, str]:
    """The ``NAME=VALUE`` pairs of a repeated option, by name."""
    found = {}
    for item in values or []:
        name, equals, value = item.partition("=")
        if not equals or not name.strip():
            raise CommandError(f"{option}: write NAME=VALUE, not {item!r}")
        found[name.strip()] = value.strip()
    return found


def _create(args: argparse.Namespace) -> str:
    """Store the exam and its roster; write the links CSV; answer the exam's id."""
    data = {
        "title": args.title,
        "tasks": [t.strip() for t in args.tasks.split(",") if t.strip()],
        "seed": args.seed,
        "attempts": args.attempts,
        "feedback": args.feedback,
        "opens_at": args.opens,
        "closes_at": args.closes,
        "points": _pairs(args.points, "--points"),
        "tolerance": exams.tolerance_from_fields(_pairs(args.tolerance, "--tolerance")),
        "roster": parse_csv(_read(args.roster)),
    }
    if args.spec:
        data["spec"] = json.loads(_read(args.spec))
    body = exams.exam_create_model().model_validate(data)
    with get_database().session() as session:
        out = exams.exam_out(args.base_url, exams.create_exam(session, body))
    path = args.links or Path(f"exam-{out.id}-links.csv")
    path.write_text(exams.links_csv(out))
    sys.stderr.write(f"exam {out.id}: {len(out.students)} students, their links in {path}\n")
    return str(out.id)


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise CommandError(f"{path}: {exc.strerror}") from None


def _table(rows: list[list[str]]) -> str:
    """Rows as aligned, space-separated columns (the first one a header)."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )


def run(args: argparse.Namespace) -> str:
    """Do the ``exam`` subcommand; return what to print (a refusal raises
    :class:`CommandError`)."""
    try:
        return _run(args)
    except (RequestValidationError, ValidationError) as exc:
        details = describe_errors(exc.errors())
        raise CommandError("; ".join(_detail(d) for d in details)) from None
    except PydanticCustomError as exc:
        raise CommandError(str(exc)) from None
    except HTTPException as exc:
        raise CommandError(str(exc.detail)) from None
    except json.JSONDecodeError as exc:
        raise CommandError(f"--spec: {exc}") from None


def _detail(detail: dict[str, object]) -> str:
    field = str(detail.get("field") or "")
    return f"{field}: {detail['msg']}" if field else str(detail["msg"])


def _gradebook_table(book: Gradebook) -> str:
    """The gradebook as a table: each student's id, name, variant, attempts and score."""
    rows = [
        [r.id, r.name, str(r.variant), str(r.attempts),
         "—" if r.score is None else f"{r.score:g} / {r.max_score:g}"]
        for r in book.students
    ]  # fmt: skip
    return _table([["student", "name", "variant", "attempts", "score"], *rows])


def _book(database: Database, exam_id: int) -> tuple[Gradebook, str]:
    """The exam's gradebook (its waiting submissions graded first) and its title."""
    settle(database, exam_id)
    with database.session(write=False) as session:
        exam = exams.get_exam(session, exam_id)
        return gradebook(session, exam), exam.title


def _run(args: argparse.Namespace) -> str:
    database = get_database()
    if args.action == "create":
        return _create(args)
    if args.action == "list":
        with database.session(write=False) as session:
            found = exams.exam_list(session)
            rows = [[str(e.id), exams.state(e), str(count), e.title] for e, count in found]
        return _table([["id", "state", "students", "title"], *rows])
    if args.action == "roster":
        entries = parse_csv(_read(args.file))
        with database.session() as session:
            exam = exams.get_exam(session, args.id, lock=True)
            added = exams.add_students(session, exam, entries)
            out = exams.exam_out(args.base_url, exam, [exams.student_out(args.base_url, s)
                                                       for s in added])  # fmt: skip
        return exams.links_csv(out)
    if args.action == "paper":
        data = _read(args.file)
        with database.session() as session:
            exam = exams.get_exam(session, args.id, lock=True)
            stored = exams.store_paper(session, exam, paper_rows(exam, data))
        sys.stderr.write(f"exam {args.id}: {stored} paper answers graded and stored\n")
        return _gradebook_table(_book(database, args.id)[0])
    if args.action == "regrade":
        fields = _pairs(args.tolerance, "--tolerance")
        body = exams.RegradeIn.model_validate({"tolerance": exams.tolerance_from_fields(fields)})
        with database.session() as session:
            exam = exams.get_exam(session, args.id, lock=True)
            exams.regrade(session, exam, body.tolerance)
            return _gradebook_table(gradebook(session, exam))
    if args.action == "gradebook":
        book, title = _book(database, args.id)
        if args.csv:
            return gradebook_csv(book)
        if args.moodle:
            return moodle_csv(book, title)
        return _gradebook_table(book)
    with database.session(write=args.action == "close") as session:
        exam = exams.get_exam(session, args.id, lock=args.action == "close")
        if args.action == "close":
            exams.close(session, exam)
        out = exams.exam_out(args.base_url, exam)
    return exams.links_csv(out) if args.action == "links" else f"exam {out.id}: {out.state}"


def main(args: argparse.Namespace) -> int:
    """Run the subcommand, print its answer; a refusal goes to stderr with status 1."""
    try:
        text = run(args)
    except CommandError as exc:
        sys.stderr.write(f"stepgrad exam {args.action}: {exc}\n")
        return 1
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
    return 0
