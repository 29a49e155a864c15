"""The graph task's record (solvers/tasks/graph/__init__.py): the lecture's sigmoid neuron
and the TASK whose parts agree."""

from __future__ import annotations

import math

import pytest

from solvers.tasks.graph import TASK, example
from tests.solvers.tasks.records import check_record


def test_the_record_holds_together() -> None:
    check_record(TASK)


def test_the_lecture_neuron_by_hand() -> None:
    problem = example()
    v = problem.values
    z = v["w0"] * v["x0"] + v["w1"] * v["x1"] + v["w2"]  # = 1
    f = 1 / (1 + math.exp(-z))
    local = f * (1 - f)  # σ'(z)
    answer = TASK.solve(problem).answer
    assert answer.output == pytest.approx(f) and round(answer.output, 2) == 0.73
    assert answer.gradients == pytest.approx(
        {"w0": v["x0"] * local, "x0": v["w0"] * local, "w1": v["x1"] * local,
         "x1": v["w1"] * local, "w2": local}
    )  # fmt: skip
    assert round(answer.gradients["w0"], 2) == -0.20 and round(answer.gradients["x0"], 2) == 0.39
