"""The graded CSV says which parts are right only as rounded by hand: ``<part>.rounded``
columns after the existing ones, for the parts some student has right that way."""

from __future__ import annotations

import csv
import io
from typing import Any

from app.grading import grades_csv
from tests.solvers.grading.hand_student import loss_answer, rounding

BASE = ["student", "variant", "score", "max_score", "carried_forward"]


def _graded(
    grade_csv: Any, quiz: tuple[str, list[Any]], decimals: str | None
) -> tuple[list[str], list[dict[str, str]]]:
    """Variants 1 … 40 of the softmax spec, each answered by hand by one student and
    exactly by another."""
    spec, problems = quiz
    rows: list[list[Any]] = [["student", "variant", "loss.L1", "loss.L2", "loss.L3", "loss.L"]]
    for number, problem in enumerate(problems, 1):
        by_hand = loss_answer(problem, rounding(2))
        rows.append([f"hand{number}", number, *by_hand["per_example"], by_hand["loss"]])
        exact = loss_answer(problem, lambda x: x)
        rows.append([f"exact{number}", number, *exact["per_example"], exact["loss"]])
    form = {"spec": spec} if decimals is None else {"spec": spec, "intermediate_decimals": decimals}
    text = grade_csv(rows, **form)
    head, *_ = list(csv.reader(io.StringIO(text)))
    return head, list(csv.DictReader(io.StringIO(text)))


def test_the_csv_marks_parts_right_as_rounded_by_hand(grade_csv: Any, softmax_quiz: Any) -> None:
    head, rows = _graded(grade_csv, softmax_quiz, None)
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
    strict = {row["student"]: row for row in _graded(grade_csv, softmax_quiz, "none")[1]}
    for row in hand:
        for column in rounded:
            score = column.removesuffix(".rounded") + ".score"
            assert (row[column] == "1") == (strict[row["student"]][score] != "1")


def test_exact_only_grading_adds_no_rounded_column(grade_csv: Any, softmax_quiz: Any) -> None:
    head, _ = _graded(grade_csv, softmax_quiz, "none")
    assert not any(c.endswith(".rounded") for c in head)


def test_rows_without_rounding_flags_keep_the_old_columns() -> None:
    """Scores without the flag (as :func:`solvers.grading.batch.score_batch` gives them by
    default) write the columns as before."""
    text = grades_csv([{"student": "a", "variant": "1"}], [(1.0, 2.0, 0.0, [("loss", 1.0, None)])])
    assert text.splitlines()[0] == ",".join([*BASE, "loss.score", "loss.misconception"])
