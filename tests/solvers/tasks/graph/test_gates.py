"""The computational graph built from a parse (solvers/tasks/graph/gates.py): inputs, then
constants, then gates in order; the lecture's sigmoid as primitive gates or one σ gate."""

from __future__ import annotations

from solvers.tasks.graph.gates import Gate, compile_graph
from solvers.tasks.graph.parser import parse
from solvers.tasks.graph.rules import RULES


def _ops(text: str, mode: str = "primitive") -> list[tuple]:
    graph = compile_graph(parse(text), mode)  # type: ignore[arg-type]
    return [(g.op, g.inputs, g.param) for g in graph.gates]


def test_the_lecture_neuron_as_primitive_gates() -> None:
    graph = compile_graph(parse("1/(1+exp(-(w0*x0+w1*x1+w2)))"))
    assert graph.variables == ("w0", "x0", "w1", "x1", "w2")
    assert [g.name for g in graph.gates[:5]] == list(graph.variables)
    assert [(g.op, g.inputs, g.param) for g in graph.gates[5:]] == [
        ("*", (0, 1), 0.0),
        ("*", (2, 3), 0.0),
        ("+", (5, 6), 0.0),
        ("+", (7, 4), 0.0),
        ("·c", (8,), -1.0),  # the minus sign is a ·(−1) gate
        ("exp", (9,), 0.0),
        ("+c", (10,), 1.0),
        ("1/x", (11,), 0.0),
    ]
    assert graph.output == 12 and graph.constants == ()


def test_grouped_gates_make_the_sigmoid_one_gate() -> None:
    assert _ops("1/(1+exp(-(x*y)))", "grouped")[-1] == ("σ", (2,), 0.0)
    assert _ops("sigmoid(x)", "grouped") == [("input", (), 0.0), ("σ", (0,), 0.0)]
    assert [op for op, _, _ in _ops("sigmoid(x)")] == ["input", "·c", "exp", "+c", "1/x"]


def test_constants_fold_into_gate_parameters_or_follow_the_inputs() -> None:
    assert _ops("2*x - y/3 + x^2")[2:] == [
        ("·c", (0,), 2.0),
        ("/c", (1,), 3.0),
        ("-", (2, 3), 0.0),
        ("^k", (0,), 2.0),  # x is used twice: two gates read node 0
        ("+", (4, 5), 0.0),
    ]
    assert _ops("x*y + 2^3")[-1] == ("+c", (2,), 8.0)  # a constant subtree is one number
    graph = compile_graph(parse("max(0, x)"))
    assert graph.gates[1] == Gate("const", (), 0.0) and graph.constants == (0.0,)
    assert graph.gates[2].inputs == (1, 0)


def test_graphs_compare_by_text_and_mode_and_plan_their_gates() -> None:
    graph = compile_graph(parse("(x+y)*z"))
    assert graph == compile_graph(parse("(x + y) * z"))
    assert graph != compile_graph(parse("(x+y)*z"), "grouped")
    assert graph.key == ("(x + y)·z", "primitive")
    assert [(i, rule.op, inputs, spread) for i, rule, inputs, _, spread in graph.plan] == [
        (3, "+", (0, 1), None),
        (4, "*", (3, 2), None),
    ]
    assert graph.plan[0][1] is RULES["+"]
