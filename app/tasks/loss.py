"""The loss task's view: the score table its templates draw (the lecture's layout)."""

from __future__ import annotations

from typing import Any

from markupsafe import Markup

from app.render import matrix
from app.tasks import TaskView
from solvers.core import NumberFormat


def loss_scores(problem: Any, fmt: NumberFormat, example_word: str) -> Markup:
    """The loss problem's score table as in the lecture, the correct classes highlighted."""
    columns = problem.examples == "columns"
    classes = problem.class_names or list(range(problem.n_classes))
    examples = [f"{example_word} {i + 1}" for i in range(problem.n_examples)]
    correct = [(y, i) if columns else (i, y) for i, y in enumerate(problem.labels)]
    rows, cols = (classes, examples) if columns else (examples, classes)
    return matrix(problem.scores, fmt, correct, rows, cols, cls="scores")


VIEW = TaskView(template_globals={"loss_scores": loss_scores})
