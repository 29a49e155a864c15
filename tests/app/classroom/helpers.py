"""Answers for the classroom's tests: right ones, one with a named mistake, partly right."""

from __future__ import annotations

import math
from typing import Any

from solvers.registry import TASKS

SPEC = {"loss": {"loss": "softmax"}}
"""Softmax losses, so that the log-base mistake can be made."""


def right(task: str, problem: dict[str, Any]) -> dict[str, Any]:
    """The solver's answer, as a submission of ``task``."""
    model = TASKS[task].problem_model.model_validate(problem)
    answer = TASKS[task].solve_batch([model], "cpu")[0].model_dump(mode="json")
    fields = TASKS[task].grader.submission_model.model_fields
    return {k: v for k, v in answer.items() if k in fields and v is not None}


def log10_loss(problem: dict[str, Any]) -> dict[str, Any]:
    """A softmax loss worked with log base 10 (the ``log10`` misconception)."""
    model = TASKS["loss"].problem_model.model_validate(problem)
    answer = TASKS["loss"].solve_batch([model], "cpu")[0]
    probabilities = answer.probabilities
    per_example = [-math.log10(probabilities[y][i]) for i, y in enumerate(model.labels)]
    return {"per_example": per_example, "loss": sum(per_example) / len(per_example)}


def exam_body(roster: list[dict[str, str]], **extra: Any) -> dict[str, Any]:
    """An exam of the three tasks for ``roster``."""
    return {
        "title": "Quiz 5",
        "tasks": ["loss", "graph", "conv"],
        "spec": SPEC,
        "seed": 11,
        "roster": roster,
        **extra,
    }


def students(n: int) -> list[dict[str, str]]:
    """A roster of ``n`` students."""
    return [{"id": f"s{i}", "name": f"Student {i}"} for i in range(1, n + 1)]
