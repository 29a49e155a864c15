"""The graph's worked steps (solvers/tasks/graph/steps.py): node symbols as the lecture
writes them, the forward and backward pass with the numbers substituted, branch sums, exact
fractions."""

from __future__ import annotations

from solvers.core import NumberFormat
from solvers.tasks.graph import GraphProblem
from solvers.tasks.graph.steps import Writer, gate_label, layout, maybe_fraction

FMT = NumberFormat()
LECTURE = GraphProblem(expression="(x+y)*z", values={"x": -2, "y": 5, "z": -4})
"""The lecture's first graph: q = x + y = 3, f = q·z = −12."""


def test_the_lecture_graph_names_its_one_intermediate_node_q() -> None:
    lay = layout(LECTURE.graph, FMT, "f")
    assert lay.syms == ("x", "y", "z", "q", "f")
    assert lay.forward[3:] == ("q = x + y", r"f = q \cdot z")
    assert lay.local[4] == ("z", "q") and lay.generic[4] == ("y", "x")
    assert lay.branches == (1, 1, 1, 1, 0) and lay.gate_count == 2


def test_forward_and_backward_with_the_numbers() -> None:
    writer = Writer(LECTURE.graph, FMT, 1.0)
    evaluation = LECTURE.evaluation()
    forward = [step.formulas for step in writer.forward(evaluation)]
    assert forward == [["q = x + y = (-2) + 5 = 3"], [r"f = q \cdot z = 3 \cdot (-4) = -12"]]
    backward = [f for step in writer.backward(evaluation, 1.0) for f in step.formulas]
    assert r"\frac{\partial f}{\partial z} = q \cdot 1 = 3 \cdot 1 = 3" in backward
    assert backward[-1].endswith(r"= 1 \cdot (-4) = -4")  # ∂f/∂y
    assert writer.branch_sums(evaluation) == []  # no value is used twice
    node = writer.nodes(evaluation)[3]
    assert (node.value, node.upstream, node.downstream) == (3.0, -4.0, [-4.0, -4.0])


def test_a_value_used_three_times_sums_its_branches() -> None:
    # L = 2·(x·x + 2·x) at x = 3: 3·2 + 3·2 + 2·2 = 16 = 2·(2x + 2)
    problem = GraphProblem(expression="x*x + 2*x", values={"x": 3}, upstream=2)
    writer = Writer(problem.graph, FMT, 2.0)
    assert writer.top == "L" and writer.layout.branches[0] == 3
    [step] = writer.branch_sums(problem.evaluation())
    assert step.kind == "graph.branch_sum"
    assert step.formulas == [r"\frac{\partial L}{\partial x} = 6 + 6 + 4 = 16"]


def test_labels_numbers_and_fractions() -> None:
    assert gate_label("const", -1.5, NumberFormat(digits=2, decimal_comma=True)) == "−1,5"
    assert gate_label("·c", -1.0, FMT) == "·(−1)"
    writer = Writer(LECTURE.graph, FMT, 1.0)
    assert writer.eq(2.0) == "= 2" and writer.eq(1 / 3) == r"\approx 0.3333"
    assert writer.eq_exact(1 / 3) == r"= \tfrac{1}{3} \approx 0.3333"
    assert writer.tex(-1.5) == "(-1.5)"
    assert [maybe_fraction(x) for x in (1 / 3, 0.1, 22 / 7, 5.0)] == [True] * 4
    assert not maybe_fraction(2**0.5) and not maybe_fraction(1 / 1001)
