"""Rounding by hand over HTTP: the verdict says so (in Russian too), the setting per request
(JSON, batch, CSV upload), the convention on the try page and the sheets, both answers on
the key."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

from fastapi.testclient import TestClient

from tests.solvers.grading.hand_student import loss_answer, rounding

SMALL_P = {"scores": [[0.7], [0.4], [2.4]], "labels": [1], "loss": "softmax"}
BY_HAND = {"per_example": [2.30], "loss": 2.30}


def test_the_verdict_says_rounded_by_hand(client: TestClient) -> None:
    result = client.post("/api/v1/loss/grade", json={"problem": SMALL_P, "answer": BY_HAND})
    parts = result.json()["parts"]
    assert [p["rounding"] for p in parts] == [True, True]
    assert parts[0]["feedback"] == "Right, as rounded by hand to 2 decimals."
    assert parts[0]["misconception"] is None
    ru = client.post("/api/v1/loss/grade?lang=ru", json={"problem": SMALL_P, "answer": BY_HAND})
    assert "вручную" in ru.json()["parts"][0]["feedback"]
    assert "2 знаков" in ru.json()["parts"][0]["feedback"]


def test_intermediate_decimals_per_request(client: TestClient) -> None:
    body = {"problem": SMALL_P, "answer": BY_HAND, "tolerance": {"intermediate_decimals": None}}
    assert client.post("/api/v1/loss/grade", json=body).json()["parts"][0]["correct"] is False
    body["tolerance"] = {"intermediate_decimals": 7}
    error = client.post("/api/v1/loss/grade", json=body)
    assert error.status_code == 422
    assert error.json()["detail"][0]["field"] == "tolerance.intermediate_decimals"
    items = [{"task": "loss", "problem": SMALL_P, "answer": BY_HAND}]
    batch = client.post("/api/v1/grade/batch", json={"items": items}).json()["grades"]
    assert batch[0]["score"] == 2 and batch[0]["parts"][0]["rounding"]
    exact = {"items": items, "tolerance": {"intermediate_decimals": None}}
    assert client.post("/api/v1/grade/batch", json=exact).json()["grades"][0]["score"] < 2


def _upload(grade_csv: Any, quiz: tuple[str, list[Any]], decimals: str | None) -> list[dict]:
    """Variants 1 … 40 of the softmax spec answered by hand, as a CSV upload."""
    spec, problems = quiz
    rows: list[list[Any]] = [["student", "variant", "loss.L1", "loss.L2", "loss.L3", "loss.L"]]
    for number, problem in enumerate(problems, 1):
        answer = loss_answer(problem, rounding(2))
        rows.append([f"s{number}", number, *answer["per_example"], answer["loss"]])
    form = {"spec": spec} if decimals is None else {"spec": spec, "intermediate_decimals": decimals}
    return list(csv.DictReader(io.StringIO(grade_csv(rows, **form))))


def test_csv_upload_takes_intermediate_decimals(
    client: TestClient, grade_csv: Any, softmax_quiz: Any
) -> None:
    graded = _upload(grade_csv, softmax_quiz, None)
    assert all(row["score"] == row["max_score"] for row in graded)
    exact = _upload(grade_csv, softmax_quiz, "none")
    assert any(row["score"] != row["max_score"] for row in exact)
    bad = client.post(
        "/api/v1/grade/batch",
        data={"task": "loss", "seed": "5", "intermediate_decimals": "two"},
        files={"file": ("a.csv", "student,variant,loss.L\na,1,2\n", "text/csv")},
    )
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["field"] == "intermediate_decimals"


def test_try_page_states_the_convention_and_accepts_the_hand_method(client: TestClient) -> None:
    query = {"scores": "0.7\n0.4\n2.4", "labels": "1", "loss": "softmax",
             "a_per_example": "2,30", "a_loss": "2.30"}  # fmt: skip
    page = client.get("/loss/try", params=query).text
    assert "Round each intermediate value to 2 decimals." in page
    assert "full marks" in page and "Right, as rounded by hand to 2 decimals." in page


def test_sheets_state_the_convention_and_the_key_shows_both(client: TestClient) -> None:
    query = "count=12&seed=3&tasks=loss&tasks=graph&loss.loss=softmax"
    sheets = client.get(f"/instructor/sheets?{query}").text
    assert sheets.count("Round each intermediate value to 2 decimals.") == 12
    key = client.get(f"/instructor/key?{query}").text
    hand = re.findall(r'class="by-hand" data-column="([^"]+)">\(by hand: ([^)]+)\)', key)
    assert hand, "some answer of 12 softmax and sigmoid variants moves when worked by hand"
    assert all(column.startswith(("loss.", "graph.")) for column, _ in hand)
