"""Grading a vector graph (solvers/tasks/graph/vector_grading.py): parts in the variables'
shapes, node values put at their cells, unknown names and wrong shapes named, the expected
answers of a batch and the hand-worked ones."""

from __future__ import annotations

import math

import pytest

from solvers.core import hand_rounder
from solvers.grading.batch import grade
from solvers.tasks.graph import GraphProblem
from solvers.tasks.graph import vector_grading as vg
from solvers.tasks.graph.grading import GraphSubmission

PROBLEM = GraphProblem(expression="||W x||^2", values={"W": "1 2; 3 4", "x": "1 -1"})
"""f = 2, ∂f/∂W = [[−2, 2], [−2, 2]], ∂f/∂x = [−8, −12] (test_vector_solve.py by hand)."""


def test_parts_in_the_variables_shapes() -> None:
    assert vg.shapes(PROBLEM) == {"output": (), "gradients.W": (2, 2), "gradients.x": (2,),
                                  "nodes": (4 + 2 + 2 + 1,)}  # fmt: skip
    assert vg.group_key(PROBLEM) == vg.group_key(
        GraphProblem(expression="||W x||^2", values={"W": "0 1; 1 0", "x": "2 2"})
    )


def test_values_place_nodes_and_name_what_does_not_fit() -> None:
    submission = GraphSubmission.model_validate(
        {"output": 2, "gradients": {"W": [[1, 1], [1, 1]], "q": 1},
         "nodes": {"2": [-1, -1], "1": [1, 2, 3], "9": 1}}
    )  # fmt: skip
    given, errors = vg.values(PROBLEM, submission)
    assert given["output"] == 2 and given["gradients.x"] is None
    nodes = given["nodes"]
    assert nodes[6:8] == [-1.0, -1.0] and all(math.isnan(x) for x in nodes[:6] + nodes[8:])
    assert [(part, error.message()) for part, error, _ in errors] == [
        ("gradients.q", "q is not a variable of the function"),
        ("nodes.1", "should be numbers of shape 2, not 3"),
        ("nodes.9", "there is no node 9: ids go from 0 to 3"),
    ]


def test_the_batch_holds_the_expected_answers_flattened() -> None:
    b = vg.batch([PROBLEM], "cpu")
    assert b.layout == tuple(vg.shapes(PROBLEM).items())
    # output, ∂f/∂W, ∂f/∂x, then the nodes W, x, q, f
    assert b.expected.tolist() == [[2, -2, 2, -2, 2, -8, -12, 1, 2, 3, 4, 1, -1, -1, -1, 2]]
    assert b.mistakes.shape[0] == 1 and b.mistakes.shape[2] == 16


def test_the_hand_method_rounds_every_gate() -> None:
    problem = GraphProblem(expression="||W x||^2", values={"W": "0.33 0; 0 1", "x": "1 1"})
    worked = vg.hand(vg.batch([problem], "cpu"), hand_rounder(2))
    assert worked["output"].tolist() == [1.11]  # 0.33² + 1 = 1.1089 → 1.11
    # Wᵀ (2q): 0.33·0.66 = 0.2178 → 0.22
    assert worked["gradients.x"].tolist() == [pytest.approx([0.22, 2.0])]


def test_a_transposed_gradient_is_named() -> None:
    right = grade("graph", PROBLEM, {"output": 2, "gradients": {"W": [[-2, 2], [-2, 2]],
                                                                "x": [-8, -12]}})  # fmt: skip
    assert right.score == right.max_score
    wrong = {"output": 2, "gradients": {"W": [[-2, -2], [2, 2]], "x": [-8, -12]}}
    marks = grade("graph", PROBLEM, wrong)
    assert [p.misconception for p in marks.parts] == [None, "transposed_gradient", None]
