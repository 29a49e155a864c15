"""The worked solution of a vector graph (solvers/tasks/graph/vector_solve.py), on
f = ||W x||² with W = [[1, 2], [3, 4]], x = [1, −1] worked by hand: q = W x = [−1, −1],
f = 2, g_q = 2q = [−2, −2], ∂f/∂W = g_q xᵀ, ∂f/∂x = Wᵀ g_q = [−8, −12]."""

from __future__ import annotations

import numpy as np

from solvers.core import NumberFormat
from solvers.tasks.graph import GraphProblem
from solvers.tasks.graph.vector_solve import MAX_WRITTEN, solve_vector, space, tex_value

FMT = NumberFormat()
PROBLEM = GraphProblem(expression="||W x||^2", values={"W": "1 2; 3 4", "x": "1 -1"})


def test_spaces_and_values_in_latex() -> None:
    assert space(()) == r"\mathbb{R}" and space((2, 3)) == r"\mathbb{R}^{2 \times 3}"
    assert tex_value(np.array(-1.5), FMT) == "(-1.5)"
    assert tex_value(np.array([1.0, 2]), FMT) == r"\begin{bmatrix} 1 \\ 2 \end{bmatrix}"  # a column
    assert tex_value(np.array([[1.0, 2], [3, 4]]), FMT) == (
        r"\begin{bmatrix} 1 & 2 \\ 3 & 4 \end{bmatrix}"
    )
    assert tex_value(np.zeros(MAX_WRITTEN + 1), FMT) == r"[\ldots] \in \mathbb{R}^{37}"


def test_the_answer_by_hand() -> None:
    solution = solve_vector(PROBLEM, FMT)
    assert solution.answer.output == 2.0
    assert solution.answer.gradients == {"W": [[-2.0, 2.0], [-2.0, 2.0]], "x": [-8.0, -12.0]}
    assert solution.answer.shapes == {"W": [2, 2], "x": [2], "f": []}
    assert solution.answer.nodes["2"] == [-1.0, -1.0]


def test_the_steps_in_matrix_form() -> None:
    steps = {step.kind: step.formulas for step in solve_vector(PROBLEM, FMT).steps}
    assert list(steps) == ["graph.read", "graph.forward", "graph.backward", "graph.result"]
    assert steps["graph.forward"][0].startswith(r"q = W\,x = \begin{bmatrix} -1 \\ -1")
    backward = steps["graph.backward"]
    assert backward[0] == "g_{f} = 1"
    assert any(f.startswith(r"\frac{\partial f}{\partial W} = g_{q}\,x^{\top}") for f in backward)
    assert any(f.startswith(r"\frac{\partial f}{\partial x} = W^{\top}\,g_{q}") for f in backward)
    # the lecture's check: every gradient has its variable's shape
    assert steps["graph.result"][1].endswith(r"\quad W \in \mathbb{R}^{2 \times 2}")
