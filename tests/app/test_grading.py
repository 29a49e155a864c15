"""Grading over HTTP: one answer, a JSON batch, a CSV upload, the try-it-yourself page."""

from __future__ import annotations

import csv
import gc
import io
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.exports import answer_cells
from app.grading import FULL_COLLECTIONS_NEVER, FullCollectionsDeferred
from solvers.registry import TASKS
from solvers.variants.sets import VariantSet
from tests.app.test_exports import HOSTILE_CELLS

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


def test_csv_upload_grades_each_student(client: TestClient, grade_csv: Any) -> None:
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
    text = grade_csv([list(rows[0]), *(list(row.values()) for row in rows)])
    graded = list(csv.DictReader(io.StringIO(text)))
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


def test_batches_defer_full_collections_only_and_restore_them() -> None:
    """Overlapping batch requests: the collector stays on throughout (young collections go
    on for every request); full collections are deferred until the last batch ends."""
    deferred = FullCollectionsDeferred()
    before = gc.get_threshold()
    with deferred:
        assert gc.isenabled()
        assert gc.get_threshold()[:2] == before[:2]
        assert gc.get_threshold()[2] == FULL_COLLECTIONS_NEVER
        with deferred:
            assert gc.get_threshold()[2] == FULL_COLLECTIONS_NEVER
        assert gc.get_threshold()[2] == FULL_COLLECTIONS_NEVER
    assert gc.get_threshold() == before and gc.isenabled()


# --- secret mode: a variant's key only with the instructor token ----------------------------

TASK_IDS = ["loss", "graph", "conv"]


def _keyed_answers(client: TestClient, token: str, number: int = 1) -> dict[str, dict]:
    """Each task's right answer to variant ``number`` of seed 5 (asked with the token)."""
    body = {"count": number, "seed": 5}
    found = client.post("/api/v1/variants", json=body, headers=_bearer(token)).json()
    answers = found["variants"][number - 1]["answers"]
    return {
        task: {k: v for k, v in answers[task].items()
               if k in TASKS[task].grader.submission_model.model_fields}
        for task in TASK_IDS
    }  # fmt: skip


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _wrong(value: object) -> object:
    """Every number of an answer plus 1 (a wrong answer of the right shape)."""
    if isinstance(value, dict):
        return {k: _wrong(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_wrong(v) for v in value]
    return value + 1  # type: ignore[operator]


def _numbers(value: object) -> list[float]:
    if isinstance(value, dict):
        return [n for v in value.values() for n in _numbers(v)]
    if isinstance(value, list):
        return [n for v in value for n in _numbers(v)]
    return [value] if isinstance(value, int | float) else []  # type: ignore[list-item]


def _assert_no_key(grade: dict, right: dict) -> None:
    """No expected value, no difference, and no feedback that states a right number."""
    assert grade["parts"] and grade["max_score"] > 0
    for part in grade["parts"]:
        assert part["expected"] is None and part["difference"] is None, part
        assert "correct" in part and "feedback" in part and "score" in part
    texts = " ".join(p["feedback"] for p in grade["parts"])
    stated = [n for n in _numbers(right) if abs(n) >= 0.05 and f"{n:g}" in texts]
    assert not stated, texts


@pytest.mark.parametrize("task", TASK_IDS)
def test_secret_grade_by_variant_hides_the_key(client: TestClient, secret: str, task: str) -> None:
    right = _keyed_answers(client, secret)[task]
    body = {"variant": {"seed": 5, "number": 1}, "answer": _wrong(right)}
    anonymous = client.post(f"/api/v1/{task}/grade", json=body)
    assert anonymous.status_code == 200, anonymous.text
    _assert_no_key(anonymous.json(), right)
    assert anonymous.json()["score"] < anonymous.json()["max_score"]
    blank = client.post(f"/api/v1/{task}/grade", json={**body, "answer": {}}).json()
    _assert_no_key(blank, right)
    instructor = client.post(f"/api/v1/{task}/grade", json=body, headers=_bearer(secret)).json()
    assert all(p["expected"] is not None for p in instructor["parts"])
    wrong_token = client.post(f"/api/v1/{task}/grade", json=body, headers=_bearer("guess"))
    _assert_no_key(wrong_token.json(), right)
    right_answer = client.post(f"/api/v1/{task}/grade", json={**body, "answer": right}).json()
    assert right_answer["score"] == right_answer["max_score"]


def test_secret_shows_everything_of_a_problem_sent_inline(client: TestClient, secret: str) -> None:
    body = {"problem": CAT, "answer": {"per_example": "0,89", "loss": 0.89}}
    result = client.post("/api/v1/loss/grade", json=body).json()
    assert result["parts"][0]["expected"] == [pytest.approx(2.04, abs=0.01)]
    assert result["parts"][0]["misconception"] == "log10"


def test_secret_batch_hides_the_key_of_variants_only(client: TestClient, secret: str) -> None:
    answers = _keyed_answers(client, secret)
    items = [{"task": t, "variant": {"seed": 5, "number": 1}, "answer": _wrong(answers[t]),
              "student": t} for t in TASK_IDS]  # fmt: skip
    items.append({"task": "loss", "problem": CAT, "answer": {"loss": 0.89}})
    anonymous = client.post("/api/v1/grade/batch", json={"items": items})
    assert anonymous.status_code == 200, anonymous.text
    grades = anonymous.json()["grades"]
    for task, grade in zip(TASK_IDS, grades, strict=False):
        _assert_no_key(grade, answers[task])
    assert grades[3]["parts"][1]["expected"] == pytest.approx(2.04, abs=0.01)
    instructor = client.post("/api/v1/grade/batch", json={"items": items},
                             headers=_bearer(secret)).json()  # fmt: skip
    assert all(p["expected"] is not None for g in instructor["grades"] for p in g["parts"])


def test_secret_csv_upload_answers_scores_not_the_key(client: TestClient, secret: str) -> None:
    right = _keyed_answers(client, secret)["loss"]
    out = io.StringIO()
    csv.writer(out).writerows([["student", "variant", "loss.L"], ["ann", "1", right["loss"] + 1]])
    files = {"file": ("answers.csv", out.getvalue(), "text/csv")}
    response = client.post("/api/v1/grade/batch", data={"task": "loss", "seed": "5"}, files=files)
    assert response.status_code == 200, response.text
    head, _row = list(csv.reader(io.StringIO(response.text)))
    assert {"student", "variant", "score", "max_score", "carried_forward"} <= set(head)
    extra = set(head) - {"student", "variant", "score", "max_score", "carried_forward"}
    assert extra and all(c.endswith((".score", ".misconception")) for c in extra)
    assert f"{right['loss']:g}" not in response.text


def test_try_page_variants_are_never_the_keyed_ones(
    client: TestClient, secret: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The try page regenerates practice variants without the secret: its check and its
    worked solution never show a variant of the instructor's (keyed) sets."""
    import app.grading

    calls: list[tuple] = []
    real = app.grading.regenerate

    def spy(*args: object) -> object:
        calls.append(args)
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(app.grading, "regenerate", spy)
    for task in TASK_IDS:
        page = client.get(f"/{task}/try?seed=5&a_{'loss' if task == 'loss' else 'output'}=1")
        assert page.status_code == 200
    assert calls and all(len(args) == 4 for args in calls)  # no secret passed


def test_secret_locks_every_answer_of_the_instructor_side(client: TestClient, secret: str) -> None:
    query = "count=2&seed=5&tasks=loss&tasks=graph&tasks=conv"
    for path in ("key", "answers.csv", "variants.json", "moodle.xml", "key.pdf"):
        response = client.get(f"/instructor/{path}?{query}")
        assert response.status_code == 401, path
        assert response.json()["detail"][0]["type"] == "instructor_token"
    assert client.get(f"/instructor/sheets?{query}").status_code == 200
    found = client.post("/api/v1/variants", json={"count": 2, "seed": 5}).json()
    assert all(v["answers"] is None for v in found["variants"])
    assert "/instructor/key?" not in client.get(f"/instructor?{query}").text


# --- hostile CSV uploads: a 422 naming the line and the column ----------------------------


def _upload(client: TestClient, content: bytes | str, task: str = "loss", **form: str):
    files = {"file": ("answers.csv", content, "text/csv")}
    return client.post("/api/v1/grade/batch", data={"task": task, "seed": "5", **form},
                       files=files)  # fmt: skip


@pytest.mark.parametrize(
    ("content", "task", "says"),
    [
        ("student,variant,loss.L\nann,1\n", "loss", "line 2 has 2 cells, but the header has 3"),
        ("student,variant,loss.L\nann,1,2,3\n", "loss", "line 2 has 4 cells"),
        ('student,variant,"conv.pool[1,1,1,1]","conv.pool[-1]"\nann,1,2,3\n', "conv",
         'column "conv.pool[1,1,1,1]"'),
        ('student,variant,"conv.pool[0,1]"\nann,1,2\n', "conv", 'column "conv.pool[0,1]"'),
        ('student,variant,loss.L\nann,1,"0.5\nbob,2,1\n', "loss", "cannot be read on line"),
        ('student,variant,loss.L\nann,1,0.5"x"\n', "loss", "line 2"),
        ("", "loss", "the CSV file is empty"),
        ("\n \n", "loss", "the CSV file is empty"),
        (bytes(range(128, 256)), "loss", "must be UTF-8 text (byte 1 is not)"),
        (b"student,variant\x00\x01\x02,loss.L\n", "loss", "binary data (a NUL byte on line 1)"),
        ("student,loss.L\nann,1\n", "loss", "needs a column variant"),
        ("student,variant,loss.L\n", "loss", "1 to 10000 rows"),
        ("student,variant,variant\nann,1,1\n", "loss", 'the header "variant" is empty or repeated'),
        ("student,variant,loss.L\nann,x,1\n", "loss", 'line 2, column variant: "x" is not'),
        ("student,variant,loss.L\nann,0,1\n", "loss", "line 2, column variant"),
        ("student,variant,loss.L\nann,100001,1\n", "loss", "line 2, column variant"),
        ("student,variant,loss.L\nann,1,x\n", "loss", "line 2: "),
        ('student,variant,"conv.pool[1,1]"\n\nann,1,abc\n', "conv", "line 3: "),
    ],
)  # fmt: skip
def test_hostile_csv_uploads_are_422_naming_the_place(
    client: TestClient, content: str | bytes, task: str, says: str
) -> None:
    response = _upload(client, content, task)
    assert response.status_code == 422, response.text
    body = response.json()
    assert says in body["message"], body["message"]
    assert body["detail"][0]["field"] == "file"


@pytest.mark.parametrize(
    ("form", "field"), [({"seed": "x"}, "seed"), ({"seed": "9" * 30}, "seed"),
                        ({"spec": "{"}, "spec"), ({"spec": '{"conv": {"size": 4}}'}, "spec"),
                        ({"task": "poetry"}, "task")],
)  # fmt: skip
def test_bad_upload_form_fields_are_named(client: TestClient, form: dict, field: str) -> None:
    response = _upload(client, "student,variant,loss.L\nann,1,1\n", **form)
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["field"] == field


@pytest.mark.parametrize(
    "content",
    [
        "\ufeffstudent,variant,loss.L\nann,1,{L}\n",
        "student;variant;loss.L\nann;1;{Lc}\n",
        "student\tvariant\tloss.L\nann\t1\t{L}\n",
        "student,variant,loss.L,,\r\nann,1,{L},,\r\n\r\n",
        'student;variant;"loss.L"\n"ann";1;{Lc}\n',
    ],
)
def test_csv_dialects_are_read(client: TestClient, content: str) -> None:
    key = VariantSet.model_validate_json(
        client.get("/instructor/variants.json?count=1&seed=5&tasks=loss").text
    )
    right = key.variants[0].answers["loss"].loss
    text = content.format(L=f"{right:.4f}", Lc=f"{right:.4f}".replace(".", ","))
    response = _upload(client, text.encode())
    assert response.status_code == 200, response.text
    graded = list(csv.DictReader(io.StringIO(response.text)))
    assert graded[0]["student"] == "ann" and graded[0]["loss.score"] == "1"


def test_graded_csv_upload_neutralizes_student_ids(client: TestClient) -> None:
    task = next(iter(TASKS))
    students = HOSTILE_CELLS[:5]
    out = io.StringIO()
    csv.writer(out).writerows([["student", "variant"], *([s, "1"] for s in students)])
    body = out.getvalue()
    response = client.post(
        "/api/v1/grade/batch",
        data={"task": task, "seed": "7"},
        files={"file": ("answers.csv", body.encode(), "text/csv")},
    )
    assert response.status_code == 200, response.text
    column = [row["student"] for row in csv.DictReader(io.StringIO(response.text))]
    assert column == ["'" + s for s in students]
