"""regenerate_many: the problems of many variant numbers from one draw of the set."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from app import grading
from app.exports import answer_cells
from solvers.registry import TASKS
from solvers.variants.sets import QuizSpec, generate_set, regenerate, regenerate_many


@pytest.mark.parametrize("task", list(TASKS))
@pytest.mark.parametrize("secret", [None, b"s"])
def test_regenerate_many_equals_regenerate_row_by_row(task: str, secret: bytes | None) -> None:
    numbers = [7, 1, 40, 7, 3, 40, 2]
    many = regenerate_many(task, QuizSpec(), 11, numbers, secret)
    assert many == [regenerate(task, QuizSpec(), 11, n, secret) for n in numbers]
    assert regenerate_many(task, QuizSpec(), 11, [], secret) == []


def test_regenerate_many_checks_numbers() -> None:
    with pytest.raises(ValueError):
        regenerate_many("loss", QuizSpec(), 1, [3, 0])


def _upload(grade_csv: Any, task: str, rows: list[dict[str, str]]) -> str:
    return grade_csv([list(rows[0]), *(list(row.values()) for row in rows)], task=task)


@pytest.mark.parametrize("task", list(TASKS))
def test_csv_mixing_variant_numbers_grades_as_row_by_row(
    grade_csv: Any, task: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = generate_set([task], QuizSpec(), 5, 6)
    rows = []
    for i, number in enumerate([6, 1, 3, 6, 2, 5, 1, 4]):
        answer = key.variants[number - 1 if i % 3 else 0].answers[task]
        cells = {c.column: f"{c.value:.2f}" for c in answer_cells(task, answer)}
        rows.append({"student": f"s{i}", "variant": str(number), **cells})
    grouped = _upload(grade_csv, task, rows)
    graded = list(csv.DictReader(io.StringIO(grouped)))
    assert [g["score"] == g["max_score"] for g in graded[:3]] == [False, True, True]

    def one_by_one(task_id, spec, seed, numbers, secret=None):  # the code before grouping
        return [regenerate(task_id, spec, seed, n, secret) for n in numbers]

    monkeypatch.setattr(grading, "regenerate_many", one_by_one)
    assert _upload(grade_csv, task, rows) == grouped
