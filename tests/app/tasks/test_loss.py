"""The loss task's view (app/tasks/loss.py): the score table as the lecture draws it."""

from __future__ import annotations

import re

from app.tasks import view_for
from app.tasks.loss import VIEW, loss_scores
from solvers.core import NumberFormat
from solvers.tasks.loss import LossProblem


def _cells(html: str) -> list[tuple[str, str, bool, str]]:
    """(row, column, highlighted, text) of every number cell."""
    found = re.findall(r'<td data-row="(\d+)" data-col="(\d+)"( class="hl")?>([^<]*)</td>', html)
    return [(r, c, bool(h), text) for r, c, h, text in found]


def test_classes_are_rows_and_the_correct_class_of_each_example_is_highlighted() -> None:
    scores = [[3.2, 1.3], [5.1, 4.9], [-1.7, 2.0]]
    problem = LossProblem(scores=scores, labels=[0, 1], class_names=["cat", "car", "frog"])
    html = loss_scores(problem, NumberFormat(digits=2, decimal_comma=True), "example")
    assert [c for c in _cells(html) if c[2]] == [("0", "0", True, "3,2"), ("1", "1", True, "4,9")]
    assert '<th scope="row">frog</th>' in html and '<th scope="col">example 2</th>' in html
    assert "−1,7" in html  # a minus sign, decimal commas


def test_examples_as_rows_number_the_classes() -> None:
    problem = LossProblem(scores=[[3.2, 5.1, -1.7]], labels=[2], examples="rows")
    html = loss_scores(problem, NumberFormat(), "ex")
    assert [c for c in _cells(html) if c[2]] == [("0", "2", True, "−1.7")]
    assert '<th scope="row">ex 1</th>' in html and '<th scope="col">2</th>' in html


def test_the_view_gives_its_templates_the_table() -> None:
    assert view_for("loss") is VIEW
    assert VIEW.template_globals["loss_scores"] is loss_scores
