"""The graph task's grading (solvers/tasks/graph/grading.py): parts per variable, answer
cells, the named mistakes at one gate (the lecture's (x+y)·z worked by hand)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from solvers.grading.batch import grade
from solvers.tasks.graph import GraphProblem, solve
from solvers.tasks.graph.grading import (
    GraphSubmission,
    answer_cells,
    answer_from_cells,
    gate_overrides,
    part_label,
    plain_symbol,
    shapes,
    try_parts,
)

LECTURE = GraphProblem(expression="(x+y)*z", values={"x": -2, "y": 5, "z": -4})
"""q = x + y = 3, f = q·z = −12; ∂f/∂x = ∂f/∂y = z = −4, ∂f/∂z = q = 3."""


def test_parts_and_labels() -> None:
    assert shapes(LECTURE) == {"output": (), "gradients.x": (), "gradients.y": (),
                               "gradients.z": (), "nodes": (5,)}  # fmt: skip
    assert try_parts(LECTURE) == ["output", "gradients"]
    assert [part_label(p) for p in ("output", "gradients.x")] == ["f", "∂f/∂x"]
    assert plain_symbol("w_{0}") == "w₀"


def test_a_submission_as_typed() -> None:
    typed = GraphSubmission.model_validate(
        {"output": "-12", "gradients": {"x": "-4", "y": -4, "z": "3"}, "nodes": {"3": "3"}}
    )
    assert typed.output == -12 and typed.gradients == {"x": -4, "y": -4, "z": 3}
    assert typed.nodes == {3: 3.0}
    with pytest.raises(ValidationError, match="is not a number"):
        GraphSubmission.model_validate({"gradients": {"x": "abc"}})


def test_cells_of_the_key_read_back() -> None:
    cells = answer_cells(solve(LECTURE).answer)
    assert [(c.column, c.value) for c in cells] == [
        ("f", -12.0), ("df/dx", -4.0), ("df/dy", -4.0), ("df/dz", 3.0)
    ]  # fmt: skip
    assert cells[1].label == r"\partial f/\partial x"
    submission = answer_from_cells({c.column: str(c.value) for c in cells})
    assert submission == {"output": "-12.0", "gradients": {"x": "-4.0", "y": "-4.0", "z": "3.0"}}
    assert grade("graph", LECTURE, submission).score == 3 + 1  # 3 gradients, the output


def test_the_mistakes_at_each_gate() -> None:
    overrides = [(name, params) for name, _, params in gate_overrides(LECTURE.graph)]
    assert ("mul_swapped", {"node": "f", "first": "q", "second": "z"}) in overrides
    assert ("sign_lost_at_gate", {"node": "q", "gate": "+", "input": "x"}) in overrides
    # each input of q·z given its own value as local gradient: ∂f/∂q = 3, ∂f/∂z = −4
    swapped = grade("graph", LECTURE, {"output": -12, "gradients": {"x": 3, "y": 3, "z": -4}})
    assert [p.misconception for p in swapped.parts[1:]] == ["mul_swapped"] * 3
    # the sign lost at f = q·z on q: ∂f/∂x = ∂f/∂y = +4
    signed = grade("graph", LECTURE, {"output": -12, "gradients": {"x": 4, "y": 4, "z": 3}})
    assert [p.misconception for p in signed.parts] == [None, "sign_lost_at_gate",
                                                       "sign_lost_at_gate", None]  # fmt: skip
    assert signed.parts[1].params["input"] == "q"


def test_vector_answers_have_a_cell_per_element() -> None:
    problem = GraphProblem(expression="||W x||^2", values={"W": "1 2; 3 4", "x": "1 -1"})
    assert shapes(problem)["gradients.W"] == (2, 2)
    columns = [c.column for c in answer_cells(solve(problem).answer)]
    assert columns == ["f", "df/dW[1,1]", "df/dW[1,2]", "df/dW[2,1]", "df/dW[2,2]",
                       "df/dx[1]", "df/dx[2]"]  # fmt: skip
