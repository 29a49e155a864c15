"""The graded CSV says which parts are right only as rounded by hand: ``<part>.rounded``
columns after the existing ones, for the parts some student has right that way."""

from __future__ import annotations

import csv
import io

from fastapi.testclient import TestClient

from app.grading import grades_csv
from solvers.variants.sets import quiz_spec, regenerate_many
from tests.solvers.grading.hand_student import loss_answer, rounding

SPEC = '{"loss": {"loss": "softmax"}}'
BASE = ["student", "variant", "score", "max_score", "carried_forward"]


def _graded(client: TestClient, decimals: str | None) -> tuple[list[str], list[dict[str, str]]]:
    """Variants 1 … 40 of the softmax spec, each answered by hand by one student and
    exactly by another."""
    problems = regenerate_many("loss", quiz_spec().model_validate_json(SPEC).loss, 5, range(1, 41))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["student", "variant", "loss.L1", "loss.L2", "loss.L3", "loss.L"])
    for number, problem in enumerate(problems, 1):
        by_hand = loss_answer(problem, rounding(2))
        writer.writerow([f"hand{number}", number, *by_hand["per_example"], by_hand["loss"]])
        exact = loss_answer(problem, lambda x: x)
        writer.writerow([f"exact{number}", number, *exact["per_example"], exact["loss"]])
    data = {"task": "loss", "seed": "5", "spec": SPEC}
    if decimals is not None:
        data["intermediate_decimals"] = decimals
    files = {"file": ("a.csv", out.getvalue(), "text/csv")}
    response = client.post("/api/v1/grade/batch", data=data, files=files)
    assert response.status_code == 200, response.text
    head, *_ = list(csv.reader(io.StringIO(response.text)))
    return head, list(csv.DictReader(io.StringIO(response.text)))


def test_the_csv_marks_parts_right_as_rounded_by_hand(client: TestClient) -> None:
    head, rows = _graded(client, None)
    parts = ["per_example", "loss"]
    existing = [f"{p}.{c}" for p in parts for c in ("score", "misconception")]
    assert head[: len(BASE) + len(existing)] == BASE + existing  # the order as before
    rounded = head[len(BASE) + len(existing) :]
    assert rounded and set(rounded) <= {f"{p}.rounded" for p in parts}
    assert all(row["score"] == row["max_score"] for row in rows)
    hand = [row for row in rows if row["student"].startswith("hand")]
    exact = [row for row in rows if row["student"].startswith("exact")]
    assert all(row[c] == "0" for row in exact for c in rounded)
    assert any(row[c] == "1" for row in hand for c in rounded)
    # a part marked rounded is exactly one that exact-only grading takes points for
    strict = {row["student"]: row for row in _graded(client, "none")[1]}
    for row in hand:
        for column in rounded:
            score = column.removesuffix(".rounded") + ".score"
            assert (row[column] == "1") == (strict[row["student"]][score] != "1")


def test_exact_only_grading_adds_no_rounded_column(client: TestClient) -> None:
    head, _ = _graded(client, "none")
    assert not any(c.endswith(".rounded") for c in head)


def test_rows_without_rounding_flags_keep_the_old_columns() -> None:
    """Scores without the flag (as :func:`solvers.grading.batch.score_batch` gives them by
    default) write the columns as before."""
    text = grades_csv([{"student": "a", "variant": "1"}], [(1.0, 2.0, 0.0, [("loss", 1.0, None)])])
    assert text.splitlines()[0] == ",".join([*BASE, "loss.score", "loss.misconception"])
