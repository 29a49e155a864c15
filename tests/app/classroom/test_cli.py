"""``stepgrad exam …``: create, list, links, close, gradebook on the database of
``STEPGRAD_DATABASE_URL`` (SQLite and PostgreSQL), and its refusals."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from app.classroom import exams
from app.classroom.db import get_database
from app.classroom.tokens import read_token
from app.cli import main
from tests.app.classroom.helpers import SPEC, right

ROSTER = '\ufeffid;name;email\ns1;Ann;ann@example.org\ns2;"Bob; Jr";\n'


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """``stepgrad *argv``: its status, stdout and stderr."""
    status = main(list(argv))
    out = capsys.readouterr()
    return status, out.out, out.err


@pytest.fixture
def exam_id(database_url: str, tmp_path: Path, monkeypatch, capsys) -> int:
    """An exam of two students made by ``stepgrad exam create`` in ``tmp_path``."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "roster.csv").write_text(ROSTER)
    (tmp_path / "spec.json").write_text(json.dumps(SPEC))
    status, out, err = run(
        capsys, "exam", "--base-url", "https://quiz.example.org", "create", "--title", "Quiz 5",
        "--tasks", "loss,conv", "--roster", "roster.csv", "--spec", "spec.json", "--seed", "7",
        "--attempts", "2", "--feedback", "after_close", "--closes", "2100-01-01T10:00",
    )  # fmt: skip
    assert status == 0, err
    number = int(out)
    assert f"exam {number}: 2 students" in err
    return number


def test_create_stores_the_exam_and_writes_its_links(exam_id: int, tmp_path: Path, capsys):
    with get_database().session(write=False) as session:
        exam = exams.get_exam(session, exam_id)
        assert (exam.title, exam.tasks, exam.seed, exam.attempts, exam.feedback) == (
            "Quiz 5", ["loss", "conv"], 7, 2, "after_close")  # fmt: skip
        assert exam.spec["loss"]["loss"] == "softmax"
        assert exams.aware(exam.closes_at).isoformat() == "2100-01-01T10:00:00+00:00"
        names = [(s.student_id, s.name, s.email, s.variant) for s in exam.students]
    assert names == [("s1", "Ann", "ann@example.org", 1), ("s2", "Bob; Jr", None, 2)]
    written = list(csv.DictReader((tmp_path / f"exam-{exam_id}-links.csv").open()))
    status, out, _ = run(capsys, "exam", "--base-url", "https://quiz.example.org", "links",
                         str(exam_id))  # fmt: skip
    printed = list(csv.DictReader(io.StringIO(out)))
    assert status == 0
    for rows in (written, printed):
        assert [(r["student"], r["name"], r["variant"]) for r in rows] == [
            ("s1", "Ann", "1"), ("s2", "Bob; Jr", "2")]  # fmt: skip
        for row in rows:
            assert row["url"].startswith("https://quiz.example.org/take/")
            assert read_token(row["url"].rsplit("/", 1)[1]) == (exam_id, row["student"])


def test_list_close_and_gradebook(exam_id: int, capsys):
    status, out, _ = run(capsys, "exam", "list")
    assert status == 0
    assert out.split("\n")[1].split() == [str(exam_id), "open", "2", "Quiz", "5"]
    with get_database().session(write=False) as session:
        student = exams.get_exam(session, exam_id).students[0]
        answers = {"loss": right("loss", student.problems["loss"])}
    exams.submit(get_database(), exam_id, "s1", exams.SubmissionIn(answers=answers))
    assert run(capsys, "exam", "close", str(exam_id))[:2] == (0, f"exam {exam_id}: closed\n")
    assert run(capsys, "exam", "list")[1].split("\n")[1].split()[1] == "closed"
    status, out, _ = run(capsys, "exam", "gradebook", str(exam_id), "--csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert status == 0
    assert [(r["student"], r["attempts"]) for r in rows] == [("s1", "1"), ("s2", "0")]
    assert float(rows[0]["loss.loss"]) > 0 and rows[1]["score"] == ""
    table = run(capsys, "exam", "gradebook", str(exam_id))[1].splitlines()
    assert table[0].split() == ["student", "name", "variant", "attempts", "score"]
    assert table[1].split()[:4] == ["s1", "Ann", "1", "1"] and table[2].endswith("—")
    moodle = run(capsys, "exam", "gradebook", str(exam_id), "--moodle")[1]
    assert moodle.startswith("ID number,Email address,Quiz 5\ns1,ann@example.org,")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["close", "999"], "there is no exam 999"),
        (["gradebook", "999"], "there is no exam 999"),
        (["create", "--title", "x", "--tasks", "nope", "--roster", "roster.csv"],
         "task must be one of"),
        (["create", "--title", "x", "--roster", "missing.csv"], "missing.csv"),
        (["create", "--title", "x", "--roster", "twice.csv"], "s1 is given twice"),
        (["create", "--title", "x", "--roster", "roster.csv", "--attempts", "0"], "attempts"),
        (["create", "--title", "x", "--roster", "roster.csv", "--opens", "2100-01-02",
          "--closes", "2100-01-01"], "must close after it opens"),
        (["create", "--title", "x", "--roster", "roster.csv", "--spec", "bad.json"], "--spec"),
        (["create", "--title", "x", "--roster", "roster.csv", "--points", "loss.bogus=2"],
         "points.loss.bogus: loss.bogus is not a part of these tasks"),
        (["create", "--title", "x", "--roster", "roster.csv", "--points", "loss.loss"],
         "--points: write NAME=VALUE"),
        (["create", "--title", "x", "--roster", "roster.csv", "--points", "loss.loss=-2"],
         "points.loss.loss: must be at least 0"),
        (["create", "--title", "x", "--roster", "roster.csv", "--tolerance", "wide=1"],
         "tolerance.wide"),
        (["regrade", "999"], "there is no exam 999"),
    ],
)  # fmt: skip
def test_refusals_say_why_and_store_nothing(
    argv: list[str], message: str, database_url: str, tmp_path: Path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "roster.csv").write_text(ROSTER)
    (tmp_path / "twice.csv").write_text("s1,Ann\ns1,Bob\n")
    (tmp_path / "bad.json").write_text("{")
    status, out, err = run(capsys, "exam", *argv)
    assert (status, out) == (1, "")
    assert err.startswith(f"stepgrad exam {argv[0]}: ") and message in err
    assert run(capsys, "exam", "list")[1] == "id  state  students  title\n"
    assert not list(tmp_path.glob("exam-*-links.csv"))


def test_points_tolerance_and_regrade(database_url: str, tmp_path: Path, monkeypatch, capsys):
    """``create --points --tolerance`` store them; ``regrade --tolerance`` grades again with
    another one (a refused one changes nothing)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "roster.csv").write_text(ROSTER)
    status, out, err = run(
        capsys, "exam", "create", "--title", "Q", "--tasks", "loss", "--roster", "roster.csv",
        "--points", "loss.loss=4", "--points", "loss.per_example=0.5",
        "--tolerance", "absolute=0.001", "--tolerance", "parts.loss.relative=0",
        "--tolerance", "intermediate_decimals=exact",
    )  # fmt: skip
    assert status == 0, err
    exam_id = int(out)
    with get_database().session(write=False) as session:
        exam = exams.get_exam(session, exam_id)
        assert exam.points == {"loss.loss": 4, "loss.per_example": 0.5}
        assert exam.tolerance == {"absolute": 0.001, "parts": {"loss": {"relative": 0.0}},
                                  "intermediate_decimals": None}  # fmt: skip
        answer = right("loss", exam.students[0].problems["loss"])
    off = {"loss": {"loss": answer["loss"] + 0.2}}
    exams.submit(get_database(), exam_id, "s1", exams.SubmissionIn(answers=off))
    assert run(capsys, "exam", "gradebook", str(exam_id))[1].splitlines()[1].endswith("0 / 4.5")
    refused = run(capsys, "exam", "regrade", str(exam_id), "--tolerance", "absolute=-1")
    assert refused[0] == 1 and "tolerance.absolute: must be at least 0" in refused[2]
    status, out, err = run(capsys, "exam", "regrade", str(exam_id), "--tolerance", "absolute=0.5")
    assert status == 0, err
    assert out.splitlines()[1].split()[:4] == ["s1", "Ann", "1", "1"]
    assert out.splitlines()[1].endswith("4 / 4.5")
    with get_database().session(write=False) as session:
        assert exams.get_exam(session, exam_id).tolerance == {"absolute": 0.5}
    status, out, _ = run(capsys, "exam", "regrade", str(exam_id))
    assert status == 0 and out.splitlines()[1].endswith("0 / 4.5")


def test_roster_and_paper_answers(exam_id: int, tmp_path: Path, capsys):
    """``exam roster`` adds students (their links printed), ``exam paper`` grades a paper
    CSV into the gradebook; a row of an unknown student refuses the whole file."""
    (tmp_path / "more.csv").write_text("s3,Cid\n")
    status, out, err = run(capsys, "exam", "roster", str(exam_id), "more.csv")
    assert status == 0, err
    added = list(csv.DictReader(io.StringIO(out)))
    assert [(r["student"], r["variant"]) for r in added] == [("s3", "3")]
    with get_database().session(write=False) as session:
        student = exams.get_student(session, exam_id, "s3")
        problem = student.problems["loss"]
    answer = right("loss", problem)
    row = {"student": "s3", "loss.L": str(answer["loss"])}
    row.update({f"loss.L{i + 1}": str(v) for i, v in enumerate(answer["per_example"])})
    (tmp_path / "paper.csv").write_text(",".join(row) + "\n" + ",".join(row.values()) + "\n")
    status, out, err = run(capsys, "exam", "paper", str(exam_id), "paper.csv")
    assert status == 0, err
    assert "1 paper answers graded and stored" in err
    line = next(line for line in out.splitlines() if line.startswith("s3"))
    assert line.split()[-3:] == ["2", "/", "5"]  # the loss's 2 parts right; conv's 3 blank
    (tmp_path / "bad.csv").write_text("student,loss.L\nzz,1\n")
    status, _, err = run(capsys, "exam", "paper", str(exam_id), "bad.csv")
    assert status == 1 and "row 2: no student zz in this exam" in err
