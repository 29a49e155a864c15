"""Answer cells and the CSV writer (app/exports.py): no cell runs as a spreadsheet formula."""

from __future__ import annotations

import csv
import io

import pytest

from app.exports import csv_cell, variants_csv, write_csv
from app.grading import grades_csv
from solvers.registry import TASKS
from solvers.variants.sets import generate_set, quiz_spec

HOSTILE_CELLS = ['=HYPERLINK("http://x","y")', "=1+1", "+cmd|' /C calc'!A0", "@SUM(A1)",
                 "-2+3", "\tx", "\rx", "-"]  # fmt: skip


@pytest.mark.parametrize("text", HOSTILE_CELLS)
def test_formula_cells_are_neutralized(text: str) -> None:
    assert csv_cell(text) == "'" + text


@pytest.mark.parametrize("text", ["-0.39", "+1", "1e-5", "-1.5E+3", ".5", "0", "abc", "x=1", ""])
def test_plain_cells_stay(text: str) -> None:
    assert csv_cell(text) == text


def test_write_csv_neutralizes_header_and_cells() -> None:
    text = write_csv(["student", "=bad"], [{"student": "=1+1", "=bad": -0.39}, {}])
    rows = list(csv.reader(io.StringIO(text)))
    assert rows == [["student", "'=bad"], ["'=1+1", "-0.39"], ["", ""]]


def test_grades_csv_and_answers_csv_use_the_one_writer() -> None:
    variant_set = generate_set(list(TASKS), quiz_spec()(), 1, 2)
    rows = list(csv.reader(io.StringIO(variants_csv(variant_set))))
    assert rows[0][0] == "variant"
    negative = [cell for row in rows[1:] for cell in row if cell.startswith("-")]
    assert all(float(cell) < 0 for cell in negative)  # numbers stay numbers
    assert grades_csv([], []).startswith("student,variant,score")
