"""The classroom's JSON API on SQLite and PostgreSQL: exams, rosters, links, submissions,
gradebook, analytics, regrade, paper answers; instructor and student tokens."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from itsdangerous import URLSafeTimedSerializer

from app.classroom.db import get_database
from app.classroom.models import Exam
from app.classroom.tokens import read_token
from tests.app.classroom.helpers import create, exam_body, log10_loss, right, students


def test_create_and_get(classroom: TestClient, teacher: dict[str, str]) -> None:
    exam = create(classroom, teacher)
    assert [s["variant"] for s in exam["students"]] == [1, 2, 3]
    assert all(s["url"].endswith("/take/" + s["token"]) for s in exam["students"])
    got = classroom.get(f"/api/v1/exams/{exam['id']}", headers=teacher).json()
    assert got["state"] == "open" and got["title"] == "Quiz 5"
    # links are signed when listed (their age counts from then): the same students' links
    assert [read_token(s["token"]) for s in got["students"]] == [
        read_token(s["token"]) for s in exam["students"]
    ]
    assert classroom.get("/api/v1/exams", headers=teacher).json()[0]["students"] == 3


def test_states(classroom: TestClient, teacher: dict[str, str]) -> None:
    soon = datetime.now(UTC) + timedelta(hours=1)
    scheduled = create(classroom, teacher, opens_at=soon.isoformat())
    assert scheduled["state"] == "scheduled"
    past = datetime.now(UTC) - timedelta(hours=1)
    closed = create(classroom, teacher, closes_at=past.isoformat())
    assert closed["state"] == "closed"
    for exam, word in ((scheduled, "opens"), (closed, "closed")):
        token = exam["students"][0]["token"]
        answer = classroom.post(f"/api/v1/take/{token}/submissions", json={"answers": {}})
        assert answer.status_code == 403 and word in answer.json()["message"]
    bad = exam_body(students(1), opens_at=soon.isoformat(), closes_at=past.isoformat())
    answer = classroom.post("/api/v1/exams", json=bad, headers=teacher)
    assert answer.status_code == 422 and answer.json()["detail"][0]["field"] == "closes_at"


def test_a_scheduled_exam_shows_no_problem_before_it_opens(
    classroom: TestClient, teacher: dict[str, str]
) -> None:
    """Before opening, the student's link says when the exam opens and shows no problem
    (API and page); once open, the problems."""
    soon = datetime.now(UTC) + timedelta(hours=1)
    exam = create(classroom, teacher, n=1, opens_at=soon.isoformat())
    token = exam["students"][0]["token"]
    view = classroom.get(f"/api/v1/take/{token}").json()
    assert view["exam"]["state"] == "scheduled" and view["exam"]["opens_at"]
    assert view["problems"] == {} and view["parts"] == {}
    page = classroom.get(f"/take/{token}?lang=ru").text
    assert 'id="opens"' in page and soon.strftime("%Y-%m-%d %H:%M") in page
    assert "<textarea" not in page and 'data-task="loss"' not in page
    with get_database().session() as session:
        session.get(Exam, exam["id"]).opens_at = datetime.now(UTC) - timedelta(minutes=1)
    view = classroom.get(f"/api/v1/take/{token}").json()
    assert set(view["problems"]) == set(view["parts"]) == {"loss", "graph", "conv"}
    assert "<textarea" in classroom.get(f"/take/{token}").text


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/api/v1/exams"),
        ("get", "/api/v1/exams/1"),
        ("get", "/api/v1/exams/1/gradebook"),
        ("get", "/api/v1/exams/1/analytics"),
        ("post", "/api/v1/exams/1/close"),
        ("get", "/api/v1/exams/1/links.csv"),
        ("post", "/api/v1/exams/1/regrade"),
    ],
)
def test_instructor_token(classroom: TestClient, method: str, path: str) -> None:
    assert getattr(classroom, method)(path).status_code == 401
    wrong = {"Authorization": "Bearer nope"}
    assert getattr(classroom, method)(path, headers=wrong).status_code == 403


def test_take_shows_own_variant_only(classroom: TestClient, teacher: dict[str, str]) -> None:
    exam = create(classroom, teacher)
    views = [classroom.get(f"/api/v1/take/{s['token']}").json() for s in exam["students"]]
    assert [v["student"]["id"] for v in views] == ["s1", "s2", "s3"]
    assert views[0]["problems"] != views[1]["problems"]
    assert views[0]["parts"]["conv"] == ["conv", "activation", "pool"]
    text = str(views[0])
    for secret in ("answers", "expected", "probabilities", "s2", "token"):
        assert secret not in text


def _given(data: Any) -> Any:
    """JSON data without its None fields."""
    if isinstance(data, dict):
        return {k: _given(v) for k, v in data.items() if v is not None}
    return data


def test_grade_is_the_grade_api(classroom: TestClient, teacher: dict[str, str]) -> None:
    exam = create(classroom, teacher, attempts=3)
    token = exam["students"][0]["token"]
    problems = classroom.get(f"/api/v1/take/{token}").json()["problems"]
    answers = {
        "loss": log10_loss(problems["loss"]),
        "graph": right("graph", problems["graph"]),
        "conv": {"conv": [[[0, 0], [0, 0]]]},
    }
    stored = classroom.post(f"/api/v1/take/{token}/submissions", json={"answers": answers})
    assert stored.status_code == 201, stored.text
    parts = stored.json()["parts"]
    total = 0.0
    for task in ("loss", "graph", "conv"):
        api = classroom.post(
            f"/api/v1/{task}/grade", json={"problem": problems[task], "answer": answers[task]}
        ).json()
        total += api["score"]
        for part in api["parts"]:
            mine = parts[f"{task}.{part['name']}"]
            assert mine["score"] == part["score"] and mine["feedback"] == part["feedback"]
            assert mine.get("misconception") == (
                f"{task}.{part['misconception']}" if part["misconception"] else None
            )
    assert stored.json()["score"] == total
    # the answer, made from the grades just graded, is what the stored grades show later
    shown = classroom.get(f"/api/v1/take/{token}").json()["last"]
    assert _given(shown) == stored.json()  # the view lists empty fields too
    assert parts["loss.per_example"]["verdict"] == "wrong"
    assert parts["loss.per_example"]["misconception"] == "loss.log10"
    assert parts["loss.loss"]["verdict"] == "consistent"  # carried from the wrong L_i
    assert parts["graph.output"]["verdict"] == "right"
    assert parts["conv.pool"]["verdict"] == "blank"
    assert "expected" not in stored.text


def test_attempts_and_final(classroom: TestClient, teacher: dict[str, str]) -> None:
    exam = create(classroom, teacher, attempts=2)
    first, second = (s["token"] for s in exam["students"][:2])
    url = f"/api/v1/take/{first}/submissions"
    assert [classroom.post(url, json={"answers": {}}).status_code for _ in range(3)] == [
        201,
        201,
        409,
    ]
    url = f"/api/v1/take/{second}/submissions"
    assert classroom.post(url, json={"answers": {}, "final": True}).json()["attempt"] == 1
    refused = classroom.post(url, json={"answers": {}})
    assert refused.status_code == 409 and "final" in refused.json()["message"]
    assert classroom.get(f"/api/v1/take/{first}").json()["exam"]["attempts_used"] == 2


def test_bad_answer_is_a_422_and_nothing_stored(classroom, teacher) -> None:
    exam = create(classroom, teacher)
    token = exam["students"][0]["token"]
    url = f"/api/v1/take/{token}/submissions"
    for body in ({"answers": {"conv": {"pool": "x y"}}}, {"answers": {"nope": {}}}, {"x": 1}):
        answer = classroom.post(url, json=body)
        assert answer.status_code == 422, answer.text
        assert answer.json()["detail"][0]["field"]
    assert classroom.get(f"/api/v1/take/{token}").json()["exam"]["attempts_used"] == 0


def test_tokens(classroom: TestClient, teacher: dict[str, str], monkeypatch) -> None:
    exam = create(classroom, teacher)
    token = exam["students"][0]["token"]
    tampered = token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb")
    foreign = URLSafeTimedSerializer("another server", salt="stepgrad.exam-link").dumps(
        {"e": exam["id"], "s": "s1"}
    )
    for bad in (tampered, foreign, "garbage"):
        answer = classroom.get(f"/api/v1/take/{bad}")
        assert answer.status_code == 403 and "not valid" in answer.json()["message"]
        assert (
            classroom.post(f"/api/v1/take/{bad}/submissions", json={"answers": {}}).status_code
            == 403
        )
    import itsdangerous.timed

    later = itsdangerous.timed.time.time() + 400 * 86400
    monkeypatch.setattr(itsdangerous.timed.time, "time", lambda: later)
    expired = classroom.get(f"/api/v1/take/{token}")
    assert expired.status_code == 403 and "expired" in expired.json()["message"]


def test_token_of_another_exam_opens_nothing_else(classroom, teacher) -> None:
    one, two = create(classroom, teacher, n=1), create(classroom, teacher, n=1)
    view = classroom.get(f"/api/v1/take/{one['students'][0]['token']}").json()
    other = classroom.get(f"/api/v1/take/{two['students'][0]['token']}").json()
    assert view["problems"] == other["problems"]  # same seed and spec: same variant 1 …
    assert one["students"][0]["token"] != two["students"][0]["token"]  # … different links
    assert (
        classroom.get(
            f"/api/v1/exams/{one['id']}",
            headers={"Authorization": f"Bearer {one['students'][0]['token']}"},
        ).status_code
        == 403
    )


def test_after_close(classroom: TestClient, teacher: dict[str, str]) -> None:
    exam = create(classroom, teacher, feedback="after_close")
    token = exam["students"][0]["token"]
    stored = classroom.post(f"/api/v1/take/{token}/submissions", json={"answers": {}}).json()
    assert stored == {"attempt": 1, "final": False, "submitted_at": stored["submitted_at"]}
    assert classroom.get(f"/api/v1/take/{token}").json()["last"]["score"] is None
    closed = classroom.post(f"/api/v1/exams/{exam['id']}/close", headers=teacher).json()
    assert closed["state"] == "closed"
    view = classroom.get(f"/api/v1/take/{token}").json()
    assert view["exam"]["state"] == "closed" and view["last"]["score"] == 0
    late = classroom.post(
        f"/api/v1/take/{exam['students'][1]['token']}/submissions", json={"answers": {}}
    )
    assert late.status_code == 403 and "closed" in late.json()["message"]
    draft = classroom.put(f"/api/v1/take/{token}/draft", json={"answers": {}})
    assert draft.status_code == 403


def test_draft(classroom: TestClient, teacher: dict[str, str]) -> None:
    token = create(classroom, teacher)["students"][0]["token"]
    saved = {"loss": {"loss": 1.5}}
    assert classroom.put(f"/api/v1/take/{token}/draft", json={"answers": saved}).status_code == 200
    assert classroom.get(f"/api/v1/take/{token}").json()["draft"] == saved


def roster_upload(client, teacher, exam_id: int, data: bytes):
    return client.post(
        f"/api/v1/exams/{exam_id}/roster",
        headers=teacher,
        files={"file": ("roster.csv", data, "text/csv")},
    )


def test_roster_csv(classroom: TestClient, teacher: dict[str, str]) -> None:
    exam = create(classroom, teacher, n=1)
    semicolons = '\ufeffStudent ID;Name;E-mail\r\ns7;"Doe; Jane";jane@example.org\r\n'.encode()
    added = roster_upload(classroom, teacher, exam["id"], semicolons)
    assert added.status_code == 200, added.text
    [jane] = added.json()["students"]
    assert (jane["id"], jane["name"], jane["email"], jane["variant"]) == (
        "s7",
        "Doe; Jane",
        "jane@example.org",
        2,
    )
    plain = b's8,"Roe, Rick"\ns9,Sue\n\n'
    assert [
        s["id"] for s in roster_upload(classroom, teacher, exam["id"], plain).json()["students"]
    ] == ["s8", "s9"]
    links = classroom.get(f"/api/v1/exams/{exam['id']}/links.csv", headers=teacher)
    rows = list(csv.DictReader(io.StringIO(links.text)))
    assert [r["student"] for r in rows] == ["s1", "s7", "s8", "s9"]
    assert rows[2]["name"] == "Roe, Rick" and rows[2]["url"].startswith("http")


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"id,name\ns10,A\ns10,B\n", "twice"),
        (b"id,name\ns10,A\n,\ns11,B\n", "empty"),
        (b"id,name\ns1,Again\n", "twice"),
        (b"id,name\ns12,\n", "missing"),
        ("id,name\ns13,Ä\n".encode("latin-1"), "UTF-8"),
        (b"", "empty"),
    ],
)
def test_bad_roster_adds_nobody(classroom, teacher, data: bytes, words: str) -> None:
    exam = create(classroom, teacher, n=1)
    answer = roster_upload(classroom, teacher, exam["id"], data)
    assert answer.status_code == 422 and words in answer.json()["message"], answer.text
    got = classroom.get(f"/api/v1/exams/{exam['id']}", headers=teacher).json()
    assert [s["id"] for s in got["students"]] == ["s1"]


def test_huge_roster(classroom: TestClient, teacher: dict[str, str]) -> None:
    exam = create(classroom, teacher, n=1)
    answer = roster_upload(classroom, teacher, exam["id"], b"id,name\n" + b"x" * 10_000_000)
    assert answer.status_code == 413 and answer.json()["detail"][0]["type"] == "body_too_large"
    duplicate = classroom.post(
        f"/api/v1/exams/{exam['id']}/roster",
        headers=teacher,
        json={"roster": [{"id": "a", "name": "A"}, {"id": "a", "name": "B"}]},
    )
    assert duplicate.status_code == 422 and duplicate.json()["detail"][0]["field"] == "roster.1.id"


def test_gradebook_analytics_regrade(classroom: TestClient, teacher: dict[str, str]) -> None:
    exam = create(classroom, teacher, points={"loss.loss": 4, "graph.gradients": 0.5})
    views = [
        (s["token"], classroom.get(f"/api/v1/take/{s['token']}").json()["problems"])
        for s in exam["students"]
    ]
    (t1, p1), (t2, p2), (_, _) = views
    full = {task: right(task, p1[task]) for task in p1}
    mistaken = {"loss": log10_loss(p2["loss"]), "graph": right("graph", p2["graph"])}
    off = dict(mistaken, loss={"loss": right("loss", p2["loss"])["loss"] + 0.2})
    for token, answers in ((t1, full), (t2, off)):
        assert (
            classroom.post(
                f"/api/v1/take/{token}/submissions", json={"answers": answers}
            ).status_code
            == 201
        )
    book = classroom.get(f"/api/v1/exams/{exam['id']}/gradebook", headers=teacher).json()
    first, second, third = book["students"]
    assert first["score"] == first["max_score"] == 1 + 4 + 1 + 0.5 * 5 + 3 + 1
    assert second["parts"]["loss.loss"] == {
        "score": 0,
        "max_score": 4,
        "verdict": "wrong",
        "misconception": None,
    }
    assert third["attempts"] == 0 and third["score"] is None
    table = list(
        csv.DictReader(
            io.StringIO(
                classroom.get(
                    f"/api/v1/exams/{exam['id']}/gradebook?format=csv", headers=teacher
                ).text
            )
        )
    )
    assert table[0]["loss.loss"] == "4" and table[2]["score"] == ""
    moodle = classroom.get(f"/api/v1/exams/{exam['id']}/gradebook?format=moodle", headers=teacher)
    assert moodle.text.splitlines()[0] == "ID number,Email address,Quiz 5"
    stats = classroom.get(f"/api/v1/exams/{exam['id']}/analytics", headers=teacher).json()
    assert (stats["students"], stats["submitted"]) == (3, 2)
    assert sum(b["count"] for b in stats["score_histogram"]) == 2
    assert stats["score_histogram"][-1]["count"] == 1
    assert stats["parts"]["loss.loss"] == {"right": 1, "consistent": 0, "wrong": 1, "blank": 0}
    assert stats["parts"]["conv.pool"]["blank"] == 1
    # a tolerance of 0.5 makes the second student's loss right
    regraded = classroom.post(
        f"/api/v1/exams/{exam['id']}/regrade",
        headers=teacher,
        json={"tolerance": {"absolute": 0.5}},
    ).json()
    assert regraded["students"][1]["parts"]["loss.loss"]["verdict"] == "right"
    # the named mistake, once a student makes it
    assert (
        classroom.post(f"/api/v1/exams/{exam['id']}/regrade", headers=teacher, json={}).status_code
        == 200
    )


def test_misconceptions_ranked(classroom: TestClient, teacher: dict[str, str]) -> None:
    exam = create(classroom, teacher, attempts=2)
    for student in exam["students"][:2]:
        token = student["token"]
        problems = classroom.get(f"/api/v1/take/{token}").json()["problems"]
        answers = {"loss": log10_loss(problems["loss"])}
        assert (
            classroom.post(
                f"/api/v1/take/{token}/submissions", json={"answers": answers}
            ).status_code
            == 201
        )
    stats = classroom.get(f"/api/v1/exams/{exam['id']}/analytics?lang=ru", headers=teacher)
    top = stats.json()["misconceptions"][0]
    assert (top["id"], top["count"], top["students"]) == ("loss.log10", 2, ["s1", "s2"])
    assert top["title"] != "log base 10 instead of e"  # in Russian


def test_paper_upload(classroom: TestClient, teacher: dict[str, str]) -> None:
    exam = create(classroom, teacher, n=2, tasks=["loss"])
    problems = classroom.get(f"/api/v1/take/{exam['students'][1]['token']}").json()["problems"]
    answer = right("loss", problems["loss"])
    row = {"student": "s2", "loss.L": str(answer["loss"])}
    row.update({f"loss.L{i + 1}": str(v) for i, v in enumerate(answer["per_example"])})
    text = ",".join(row) + "\n" + ",".join(row.values()) + "\n"
    stored = classroom.post(
        f"/api/v1/exams/{exam['id']}/paper",
        headers=teacher,
        files={"file": ("paper.csv", text.encode())},
    )
    assert stored.status_code == 200, stored.text
    second = stored.json()["students"][1]
    assert second["score"] == second["max_score"] == 2
    # a spreadsheet's CSV in a Russian locale: a BOM, ";" between cells, decimal commas
    russian = "\ufeff" + text.replace(",", ";").replace(".", ",").replace("loss,L", "loss.L")
    again = classroom.post(
        f"/api/v1/exams/{exam['id']}/paper",
        headers=teacher,
        files={"file": ("paper.csv", russian.encode())},
    )
    assert again.status_code == 200, again.text
    assert again.json()["students"][1]["attempts"] == 2
    assert again.json()["students"][1]["score"] == 2
    broken = classroom.post(f"/api/v1/exams/{exam['id']}/paper?lang=ru", headers=teacher,
                            files={"file": ("paper.csv", b'student,loss.L\n"s2,1')})  # fmt: skip
    assert broken.status_code == 422  # the reason and its line filled in, translated
    assert "строке 2" in broken.json()["message"] and "{" not in broken.json()["message"]
    unknown = text.replace("\ns2,", "\nzz,")
    refused = classroom.post(
        f"/api/v1/exams/{exam['id']}/paper",
        headers=teacher,
        files={"file": ("paper.csv", unknown.encode())},
    )
    assert refused.status_code == 422 and "zz" in refused.json()["message"]


def test_paper_upload_refuses_unknown_columns_and_other_variants(
    classroom: TestClient, teacher: dict[str, str]
) -> None:
    """A column the exam does not read, or a variant that is not the student's, is a 422
    saying which; nothing of the upload is stored."""
    exam = create(classroom, teacher, n=2, tasks=["loss"])
    problems = classroom.get(f"/api/v1/take/{exam['students'][1]['token']}").json()["problems"]
    answer = right("loss", problems["loss"])
    row = {"student": "s2", "name": "Student 2", "variant": "2", "loss.L": str(answer["loss"])}

    def upload(row: dict[str, str]) -> Any:
        text = ",".join(row) + "\n" + ",".join(row.values()) + "\n"
        return classroom.post(f"/api/v1/exams/{exam['id']}/paper", headers=teacher,
                              files={"file": ("paper.csv", text.encode())})  # fmt: skip

    for column in ("graph.f", "loss.foo", "Loss.L", "score"):
        refused = upload({**row, column: "1"})
        assert refused.status_code == 422, column
        message = refused.json()["message"]
        assert f'"{column}"' in message and "loss.L1 … loss.L" in message, message
    other = upload({**row, "variant": "1"})
    assert other.status_code == 422
    assert "row 2: student s2 has variant 2, not 1" in other.json()["message"]
    russian = classroom.post(
        f"/api/v1/exams/{exam['id']}/paper?lang=ru",
        headers=teacher,
        files={"file": ("paper.csv", b"student,variant\ns1,x\n")},
    )
    assert russian.status_code == 422 and "вариант 1, а не x" in russian.json()["message"]
    nobody = upload({**row, "student": "s9"})
    assert nobody.status_code == 422 and "row 2: no student s9" in nobody.json()["message"]
    book = classroom.get(f"/api/v1/exams/{exam['id']}/gradebook", headers=teacher).json()
    assert [s["attempts"] for s in book["students"]] == [0, 0]
    stored = upload(row)
    assert stored.status_code == 200 and stored.json()["students"][1]["attempts"] == 1


def test_points_name_parts_of_the_exam(classroom: TestClient, teacher: dict[str, str]) -> None:
    """``points`` takes ``<task>.<part>`` of the exam's tasks (a part graded in pieces, each
    piece too), a number from 0; anything else is a 422 naming the key."""
    good = {"loss.loss": 2, "graph.gradients": 0.5, "graph.gradients.w0": 3, "graph.nodes": 0}
    exam = create(classroom, teacher, n=1, tasks=["loss", "graph"], points=good)
    assert exam["points"] == good
    for key in ("loss.bogus", "conv.pool", "loss", "graph.gradients.", "loss.loss.x", ""):
        answer = classroom.post(
            "/api/v1/exams",
            json=exam_body(students(1), tasks=["loss", "graph"], points={key: 1}),
            headers=teacher,
        )
        assert answer.status_code == 422, key
        detail = answer.json()["detail"][0]
        assert detail["field"] == f"points.{key}", detail
        assert key in detail["msg"] and "loss.per_example, loss.loss" in detail["msg"]
        assert "graph.gradients, graph.gradients.…" in detail["msg"]
    for value in (-1, "many", 1001):
        answer = classroom.post(
            "/api/v1/exams",
            json=exam_body(students(1), points={"loss.loss": value}),
            headers=teacher,
        )
        assert answer.status_code == 422, value
        assert answer.json()["detail"][0]["field"] == "points.loss.loss"


def test_drafts_take_the_exams_tasks_only(classroom: TestClient, teacher: dict[str, str]) -> None:
    exam = create(classroom, teacher, n=1, tasks=["loss"])
    token = exam["students"][0]["token"]
    kept = classroom.put(f"/api/v1/take/{token}/draft", json={"answers": {"loss": {"loss": "1"}}})
    assert kept.status_code == 200
    for task in ("graph", "nope"):
        refused = classroom.put(f"/api/v1/take/{token}/draft", json={"answers": {task: {}}})
        assert refused.status_code == 422, task
        assert refused.json()["detail"][0]["field"] == f"answers.{task}"
    assert classroom.get(f"/api/v1/take/{token}").json()["draft"] == {"loss": {"loss": "1"}}


def test_gradebook_downloads_are_named(classroom: TestClient, teacher: dict[str, str]) -> None:
    exam = create(classroom, teacher, n=1)
    for layout, name in (("csv", "gradebook"), ("moodle", "moodle")):
        answer = classroom.get(
            f"/api/v1/exams/{exam['id']}/gradebook?format={layout}", headers=teacher
        )
        assert answer.headers["content-disposition"] == (
            f'attachment; filename="stepgrad-exam{exam["id"]}-{name}.csv"'
        )


def test_unknown_exam(classroom: TestClient, teacher: dict[str, str]) -> None:
    assert classroom.get("/api/v1/exams/999", headers=teacher).status_code == 404
