"""An exam's ``intermediate_decimals``: its submissions are graded with it, a regrade with
another value changes the marks, and the tolerance kept is the one given (bounds of its own
stay exact only, as in ``POST /api/v1/{task}/grade``)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from solvers.grading.batch import grade
from solvers.grading.core import Tolerance
from solvers.registry import TASKS
from tests.app.classroom.helpers import exam_body, students
from tests.solvers.grading.hand_student import loss_answer, rounding

ROSTER = 8


def _hand_answers(classroom: TestClient, exam: dict[str, Any]) -> dict[str, Any]:
    """Every student's loss worked by hand (2 decimals), by student id; submitted."""
    answers = {}
    for student in exam["students"]:
        token = student["token"]
        data = classroom.get(f"/api/v1/take/{token}").json()["problems"]["loss"]
        problem = TASKS["loss"].problem_model.model_validate(data)
        answer = loss_answer(problem, rounding(2))
        posted = classroom.post(f"/api/v1/take/{token}/submissions",
                                json={"answers": {"loss": answer}})  # fmt: skip
        assert posted.status_code == 201, posted.text
        answers[student["id"]] = (problem, answer)
    return answers


def _scores(book: dict[str, Any]) -> dict[str, float]:
    return {row["id"]: row["score"] for row in book["students"]}


def _expected(answers: dict[str, Any], tolerance: Tolerance) -> dict[str, float]:
    """The scores as ``POST /api/v1/loss/grade`` gives them (the gradebook shows 6 decimals)."""
    return {i: round(grade("loss", p, a, tolerance).score, 6) for i, (p, a) in answers.items()}


def test_an_exams_intermediate_decimals_grade_and_regrade(
    classroom: TestClient, teacher: dict[str, str]
) -> None:
    body = exam_body(students(ROSTER), tasks=["loss"], attempts=2,
                     tolerance={"intermediate_decimals": None})  # fmt: skip
    created = classroom.post("/api/v1/exams", json=body, headers=teacher)
    assert created.status_code == 201, created.text
    exam = created.json()
    answers = _hand_answers(classroom, exam)
    url = f"/api/v1/exams/{exam['id']}"
    exact_only = _scores(classroom.get(f"{url}/gradebook", headers=teacher).json())
    assert exact_only == _expected(answers, Tolerance(intermediate_decimals=None))
    assert any(score < 2 for score in exact_only.values())  # the setting reached grading
    by_hand = {"tolerance": {"intermediate_decimals": 2}}
    book = classroom.post(f"{url}/regrade", headers=teacher, json=by_hand).json()
    assert all(score == 2 for score in _scores(book).values())
    # bounds of their own: exact only, now and for a submission after the regrade
    bounds = {"tolerance": {"absolute": 0.01}}
    book = classroom.post(f"{url}/regrade", headers=teacher, json=bounds).json()
    bounded = _expected(answers, Tolerance(absolute=0.01))
    assert _scores(book) == bounded and any(score < 2 for score in bounded.values())
    assert classroom.get(url, headers=teacher).json()["tolerance"] == {"absolute": 0.01}
    _hand_answers(classroom, exam)  # the second attempt, graded with the exam's tolerance
    book = classroom.get(f"{url}/gradebook", headers=teacher).json()
    assert _scores(book) == bounded
