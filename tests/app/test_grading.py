"""Grading over HTTP: one answer, a JSON batch, a CSV upload, the try-it-yourself page."""

from __future__ import annotations

import csv
import gc
import io
import re

import pytest
from fastapi.testclient import TestClient

from app.exports import answer_cells
from app.grading import GcPause
from solvers.variants.sets import VariantSet

CAT = {"scores": [[3.2], [5.1], [-1.7]], "labels": [0], "loss": "softmax"}
SEED_CONV = {
    "image": [[1, 2, 3, 4, 5], [2, 2, 1, 1, 1], [3, 2, 1, 1, 1], [4, 1, 1, 1, 1], [5, 1, 1, 1, 1]],
    "filters": [[0, -1, 0], [1, 1, 1], [0, -1, 0]],
    "stride": 2,
}


def test_log10_cat_is_named(client: TestClient) -> None:
    body = {"problem": CAT, "answer": {"per_example": "0,89", "loss": 0.89}}
    result = client.post("/api/v1/loss/grade", json=body).json()
    assert result["parts"][0]["misconception"] == "log10"
    assert "log10" in result["misconceptions"]
    assert result["parts"][0]["feedback"].startswith("This is the softmax loss")


def test_right_answer_to_two_decimals(client: TestClient) -> None:
    body = {"problem": CAT, "answer": {"per_example": [2.04], "loss": "2,04"}}
    result = client.post("/api/v1/loss/grade?lang=ru", json=body).json()
    assert result["score"] == result["max_score"] == 2
    assert result["parts"][0]["feedback"] == "Верно."


def test_conv_error_carried_forward(client: TestClient) -> None:
    answer = {"conv": [[1, -2], [3, 2]], "activation": [[1, 0], [3, 2]], "pool": [[3]]}
    result = client.post("/api/v1/conv/grade", json={"problem": SEED_CONV, "answer": answer})
    parts = {p["name"]: p for p in result.json()["parts"]}
    assert not parts["conv"]["correct"]
    assert parts["activation"]["consistent"]
    assert result.json()["carried_forward_score"] > 0


def test_grade_against_a_variant(client: TestClient) -> None:
    variants = VariantSet.model_validate_json(
        client.get("/instructor/variants.json?count=2&seed=11&tasks=graph").text
    )
    answer = variants.variants[1].answers["graph"]
    body = {
        "variant": {"seed": 11, "number": 2},
        "answer": {"output": answer.output, "gradients": answer.gradients},
    }
    result = client.post("/api/v1/graph/grade", json=body).json()
    assert result["score"] == result["max_score"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"problem": CAT, "answer": {"bogus": 1}}, "answer.bogus"),
        ({"problem": CAT, "answer": {"loss": "two"}}, "answer.loss"),
        ({"problem": CAT, "answer": {"per_example": [1, 2, 3]}}, "answer.per_example"),
        ({"answer": {"loss": 1}}, "problem"),
        ({"problem": CAT, "variant": {"seed": 1, "number": 1}, "answer": {}}, "problem"),
    ],
)
def test_bad_answers_name_the_part(client: TestClient, body: dict, field: str) -> None:
    response = client.post("/api/v1/loss/grade", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["field"] == field


def test_json_batch(client: TestClient) -> None:
    items = [
        {"task": "loss", "problem": CAT, "answer": {"loss": 2.04}, "student": "ann"},
        {"task": "conv", "problem": SEED_CONV, "answer": {"pool": 3}, "student": "bob"},
        {"task": "loss", "problem": CAT, "answer": {"loss": 0.89}, "student": "cy"},
    ]
    grades = client.post("/api/v1/grade/batch", json={"items": items}).json()["grades"]
    assert [g["student"] for g in grades] == ["ann", "bob", "cy"]
    assert grades[2]["parts"][-1]["misconception"] == "log10"
    bad = client.post("/api/v1/grade/batch", json={"items": [{**items[0], "answer": {"x": 1}}]})
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["field"] == "items.0.answer.x"


def test_csv_upload_grades_each_student(client: TestClient) -> None:
    key = VariantSet.model_validate_json(
        client.get("/instructor/variants.json?count=3&seed=5&tasks=loss").text
    )
    rows = []
    for variant, student in zip(key.variants, ("ann", "bob", "cy"), strict=True):
        cells = answer_cells("loss", variant.answers["loss"])
        row = {"student": student, "variant": str(variant.number)}
        row.update({c.column: f"{c.value:.2f}" for c in cells})
        rows.append(row)
    rows[1]["loss.L"] = "999"
    upload = io.StringIO()
    writer = csv.DictWriter(upload, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    response = client.post(
        "/api/v1/grade/batch",
        data={"task": "loss", "seed": "5"},
        files={"file": ("answers.csv", upload.getvalue(), "text/csv")},
    )
    assert response.status_code == 200, response.text
    graded = list(csv.DictReader(io.StringIO(response.text)))
    assert [g["student"] for g in graded] == ["ann", "bob", "cy"]
    assert [g["score"] == g["max_score"] for g in graded] == [True, False, True]
    assert graded[1]["loss.score"] == "0"


def test_try_page_checks_and_hides_the_solution(client: TestClient) -> None:
    fresh = client.get("/conv/try", follow_redirects=False)
    assert fresh.status_code == 303 and "seed=" in fresh.headers["location"]
    query = {"scores": "3.2\n5.1\n-1.7", "labels": "0", "loss": "softmax",
             "a_per_example": "2,04", "a_loss": "2.04"}  # fmt: skip
    page = client.get("/loss/try", params=query).text
    assert "full marks" in page
    # the worked solution is not in the page until asked for: fetched from its own route
    assert 'id="step-1"' not in page and "Step by step" not in page
    link = re.search(r'class="show-solution" href="([^"]+)"', page)
    assert link is not None
    solution = client.get(link.group(1).replace("&amp;", "&"))
    assert solution.status_code == 200 and 'id="step-1"' in solution.text
    assert "2.04" in solution.text or "2.0" in solution.text
    wrong = client.get("/loss/try", params={**query, "a_per_example": "0.89"}).text
    assert 'data-misconception="log10"' in wrong
    assert '<td class="cell-wrong">0.89' in wrong


def test_try_page_bad_answer_is_a_format_error(client: TestClient) -> None:
    page = client.get("/loss/try", params={"seed": "3", "a_loss": "many"})
    assert page.status_code == 422
    assert 'data-field="loss"' in page.text


def test_gc_pause_nests_and_restores_the_collector() -> None:
    """Overlapping batch requests: the collector resumes when the last one ends, and stays
    off when it was off before."""
    pause = GcPause()
    assert gc.isenabled()
    with pause:
        assert not gc.isenabled()
        with pause:
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with pause:
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
