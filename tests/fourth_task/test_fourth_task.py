"""The proof that a task is one folder: a fourth task defined in this package, registered,
is served everywhere (page, solve, try, variants, instructor, batch grading, the CLI) by an app
built with ``create_app()``, with no edit anywhere else."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.cli import main
from solvers.registry import TASKS, register, unregister
from tests.fourth_task import TASK

PROBLEM = {"W": [[1, 2, 0], [-1, 0, 3]], "x": [2, -1, 1], "b": [0.5, -2]}
"""s = Wx + b = [0, 1] + [0.5, −2] = [0.5, −1]."""
SET = "tasks=linear&count=3&seed=5"


@pytest.fixture
def linear_client() -> Iterator[TestClient]:
    """The app built with the fourth task registered; the task is unregistered afterwards."""
    from app.main import create_app

    register(TASK)
    try:
        with TestClient(create_app(), raise_server_exceptions=False) as client:
            yield client
    finally:
        unregister(TASK.id)
    assert "linear" not in TASKS


def test_listed_and_on_the_home_page(linear_client: TestClient) -> None:
    ids = [t["id"] for t in linear_client.get("/api/v1/tasks").json()]
    assert ids == ["loss", "graph", "conv", "linear"]
    home = linear_client.get("/").text
    assert 'href="/linear"' in home
    footer = home[home.index("<footer") : home.index("</footer>")]
    assert "computational graph, convolution, linear layer." in footer


def test_solve_api(linear_client: TestClient) -> None:
    body = linear_client.post("/api/v1/linear/solve", json=PROBLEM).json()
    assert body["answer"] == {"s": [0.5, -1.0]}
    assert [s["kind"] for s in body["steps"]] == ["linear.product", "linear.bias"]
    assert body["steps"][0]["text"] == "Each row of W times x: 2 dot products of length 3."
    bad = linear_client.post("/api/v1/linear/solve", json={**PROBLEM, "b": [1]})
    assert bad.status_code == 422
    assert "/api/v1/linear/solve" in linear_client.get("/openapi.json").json()["paths"]


def test_page_with_generic_templates(linear_client: TestClient) -> None:
    page = linear_client.get("/linear")
    assert page.status_code == 200
    assert '<textarea name="W"' in page.text and 'data-field="s"' in page.text
    assert "The product Wx" in page.text
    typed = linear_client.get("/linear", params={"W": "1 0; 0 1", "x": "3 4", "b": "1 1"})
    assert typed.status_code == 200 and 'data-field="s"' in typed.text
    assert linear_client.get("/linear", params={"W": "1 2", "x": "1", "b": "0"}).status_code == 422


def test_try_page_grades_and_names_the_mistake(linear_client: TestClient) -> None:
    assert linear_client.get("/linear/try", follow_redirects=False).status_code == 303
    fields = {"W": "1 2 0; -1 0 3", "x": "2 -1 1", "b": "0.5 -2"}
    right = linear_client.get("/linear/try", params={**fields, "a_s": "0.5 -1"})
    assert right.status_code == 200 and 'class="verdict right"' in right.text
    wrong = linear_client.get("/linear/try", params={**fields, "a_s": "0 1"})
    assert 'data-misconception="bias_forgotten"' in wrong.text
    assert linear_client.get("/linear/try?seed=4").status_code == 200


def test_grade_api(linear_client: TestClient) -> None:
    result = linear_client.post(
        "/api/v1/linear/grade", json={"problem": PROBLEM, "answer": {"s": [0, 1]}}
    ).json()
    assert result["score"] == 0 and result["parts"][0]["misconception"] == "bias_forgotten"
    assert result["misconceptions"]["bias_forgotten"]["title"] == "bias forgotten"


def test_variants_api(linear_client: TestClient) -> None:
    body = linear_client.post(
        "/api/v1/variants", json={"tasks": ["linear"], "count": 3, "spec": {"linear": {"rows": 3}}}
    ).json()
    assert body["tasks"] == ["linear"] and body["spec"]["linear"]["rows"] == 3
    for variant in body["variants"]:
        problem, answer = variant["problems"]["linear"], variant["answers"]["linear"]
        W, x, b = problem["W"], problem["x"], problem["b"]
        assert len(W) == 3
        assert answer["s"] == [
            sum(w * v for w, v in zip(r, x, strict=True)) + c for r, c in zip(W, b, strict=True)
        ]


def test_instructor_pages_and_exports(linear_client: TestClient) -> None:
    form = linear_client.get("/instructor")
    assert 'name="linear_rows"' in form.text
    sheets = linear_client.get(f"/instructor/sheets?{SET}")
    assert sheets.status_code == 200 and sheets.text.count('class="problem-fields"') == 3
    key = linear_client.get(f"/instructor/key?{SET}")
    assert key.status_code == 200 and "Linear layer" in key.text and "s_{1}" in key.text
    answers = list(
        csv.DictReader(io.StringIO(linear_client.get(f"/instructor/answers.csv?{SET}").text))
    )
    assert len(answers) == 3 and {"variant", "linear.s1", "linear.s2"} <= set(answers[0])
    moodle = linear_client.get(f"/instructor/moodle.xml?{SET}")
    assert moodle.status_code == 200 and moodle.text.count('<question type="cloze">') == 3
    assert "NUMERICAL" in moodle.text


def test_batch_grading_json_and_csv(linear_client: TestClient) -> None:
    answers = list(
        csv.DictReader(io.StringIO(linear_client.get(f"/instructor/answers.csv?{SET}").text))
    )
    items = [
        {"task": "linear", "variant": {"seed": 5, "number": int(row["variant"])},
         "answer": {"s": [row["linear.s1"], row["linear.s2"]]}, "student": f"st{row['variant']}"}
        for row in answers
    ]  # fmt: skip
    items.append({"task": "linear", "problem": PROBLEM, "answer": {"s": [0, 1]}})
    grades = linear_client.post("/api/v1/grade/batch", json={"items": items}).json()["grades"]
    assert [g["score"] == g["max_score"] for g in grades] == [True, True, True, False]
    assert grades[0]["student"] == "st1"
    assert grades[3]["parts"][0]["misconception"] == "bias_forgotten"
    upload = "student,variant,linear.s1,linear.s2\n" + "".join(
        f"st{r['variant']},{r['variant']},{r['linear.s1']},{r['linear.s2']}\n" for r in answers
    )
    upload += "late,1,0,0\n"  # variant 1 answered wrong
    graded = linear_client.post(
        "/api/v1/grade/batch",
        data={"task": "linear", "seed": "5"},
        files={"file": ("answers.csv", upload, "text/csv")},
    )
    assert graded.status_code == 200, graded.text
    rows = list(csv.DictReader(io.StringIO(graded.text)))
    assert [r["score"] == r["max_score"] for r in rows] == [True, True, True, False]
    assert "s.score" in rows[0] and rows[3]["student"] == "late"


def test_cli_writes_its_sheets_key_and_exports(tmp_path: Path) -> None:
    """``stepgrad variants --tasks linear`` with the task registered: the same files as for
    the lecture's tasks."""
    register(TASK)
    try:
        assert main(["variants", "--tasks", "linear", "--count", "2", "--seed", "5",
                     "--out", str(tmp_path), "--no-pdf"]) == 0  # fmt: skip
    finally:
        unregister(TASK.id)
    written = {path.name for path in tmp_path.iterdir()}
    assert {"sheets.html", "key.html", "variants.json", "answers.csv", "moodle.xml"} <= written
    rows = list(csv.DictReader(io.StringIO((tmp_path / "answers.csv").read_text())))
    assert [r["variant"] for r in rows] == ["1", "2"] and "linear.s1" in rows[0]


def test_the_default_app_is_unaffected(client: TestClient) -> None:
    assert client.get("/linear").status_code == 404
    assert "linear layer" not in client.get("/").text
    assert [t["id"] for t in client.get("/api/v1/tasks").json()] == ["loss", "graph", "conv"]
