"""The graph task: lecture examples node by node, gates, steps, errors, batch, SVG."""

from __future__ import annotations

import math

import pytest
import torch
from pydantic import ValidationError

from app.tasks.graph import render_graph_svg
from solvers.core import NumberFormat
from solvers.tasks.graph import (
    TASK,
    GraphAnswer,
    GraphProblem,
    GraphSolution,
    example,
    solve,
    solve_batch,
    symbolic,
)
from solvers.tasks.graph.parser import parse
from solvers.tasks.graph.problem import VectorAnswer
from solvers.tasks.graph.symbolic import derivatives_latex, sympy_function

SIGMOID = "1/(1+exp(-(w0*x0+w1*x1+w2)))"
LECTURE_VALUES = {"w0": 2, "x0": -1, "w1": -3, "x1": -2, "w2": -3}


def gates_of(solution: GraphSolution) -> list:
    return [n for n in solution.nodes if n.inputs]


def step_kinds(solution: GraphSolution) -> list[str]:
    return [s.kind for s in solution.steps]


def error_of(exc: pytest.ExceptionInfo[ValidationError]) -> dict:
    errors = exc.value.errors()
    assert len(errors) == 1
    return errors[0]


# ---- the lecture's examples -------------------------------------------------------------


def test_lecture_x_plus_y_times_z() -> None:
    s = solve(GraphProblem(expression="(x+y)*z", values={"x": -2, "y": 5, "z": -4}))
    assert s.answer.output == -12
    assert s.answer.gradients == {"x": -4, "y": -4, "z": 3}
    plus, times = gates_of(s)
    assert (plus.op, plus.value, plus.upstream) == ("+", 3, -4)
    assert plus.local_gradients == [1, 1] and plus.downstream == [-4, -4]
    assert (times.op, times.value, times.upstream) == ("*", -12, 1)
    assert times.local_gradients == [-4, 3] and times.downstream == [-4, 3]
    assert times.local_formulas == ["y", "x"]


def test_lecture_sigmoid_neuron_node_by_node() -> None:
    s = solve(example())
    assert s.expression_read == "1/(1 + exp(-(w0·x0 + w1·x1 + w2)))"
    gates = gates_of(s)
    assert [g.label for g in gates] == ["*", "*", "+", "+", "·(−1)", "exp", "+1", "1/x"]
    assert [g.op for g in gates] == ["*", "*", "+", "+", "·c", "exp", "+c", "1/x"]
    forward = [-2, 6, 4, 1, -1, 0.37, 1.37, 0.73]
    backward = [0.2, 0.2, 0.2, 0.2, -0.2, -0.53, -0.53, 1.0]
    for gate, value, grad in zip(gates, forward, backward, strict=True):
        assert gate.value == pytest.approx(value, abs=0.005)
        assert gate.upstream == pytest.approx(grad, abs=0.005)
    assert gates[-1].local_formulas == [r"-\frac{1}{x^{2}}"]
    answer = s.answer
    assert answer.output == pytest.approx(0.73, abs=0.005)
    expected = {"w0": -0.20, "x0": 0.39, "w1": -0.39, "x1": -0.59, "w2": 0.20}
    assert answer.gradients == pytest.approx(expected, abs=0.005)
    assert list(answer.gradients) == ["w0", "x0", "w1", "x1", "w2"]
    # exact values: σ(1) and σ(1)(1 − σ(1))
    sig = 1 / (1 + math.exp(-1))
    assert answer.output == pytest.approx(sig, rel=1e-15)
    assert answer.gradients["w2"] == pytest.approx(sig * (1 - sig), rel=1e-14)


def test_students_spelling_of_the_neuron() -> None:
    typed = GraphProblem(expression="1/(1+e^-(w0x0+w1x1+w2))", values=LECTURE_VALUES)
    assert solve(typed).answer == solve(example()).answer
    assert parse(typed.expression).canonical == parse(SIGMOID).canonical


def test_grouped_gates_give_the_same_gradients_with_fewer_nodes() -> None:
    primitive = solve(example())
    for expression in (SIGMOID, "sigmoid(w0*x0+w1*x1+w2)", "1/(exp(-(w0x0+w1x1+w2))+1)"):
        grouped = solve(GraphProblem(expression=expression, values=LECTURE_VALUES, gates="grouped"))
        assert [g.op for g in gates_of(grouped)] == ["*", "*", "+", "+", "σ"]
        sigma = gates_of(grouped)[-1]
        assert sigma.local_gradients[0] == pytest.approx(0.1966, abs=1e-4)
        assert sigma.local_formulas == [r"\sigma(x)\,(1 - \sigma(x))"]
        assert len(grouped.nodes) < len(primitive.nodes)
        assert grouped.answer.output == pytest.approx(primitive.answer.output, rel=1e-15)
        assert grouped.answer.gradients == pytest.approx(primitive.answer.gradients, rel=1e-12)


def test_sigmoid_written_by_name_is_expanded_in_primitive_mode() -> None:
    s = solve(GraphProblem(expression="σ(w0*x0+w1*x1+w2)", values=LECTURE_VALUES))
    assert [g.label for g in gates_of(s)][-4:] == ["·(−1)", "exp", "+1", "1/x"]
    assert s.answer.gradients == pytest.approx(solve(example()).answer.gradients, rel=1e-12)


# ---- gates ------------------------------------------------------------------------------


def test_max_gate_routes_the_gradient_to_the_larger_input() -> None:
    s = solve(GraphProblem(expression="max(x, y) * z", values={"x": 4, "y": 2, "z": 3}))
    assert s.answer.gradients == {"x": 3, "y": 0, "z": 4}
    gate = gates_of(s)[0]
    assert gate.op == "max" and gate.local_gradients == [1, 0]
    assert "graph.kink" not in step_kinds(s)


def test_max_tie_splits_the_gradient_as_pytorch_does() -> None:
    s = solve(GraphProblem(expression="max(x, y)", values={"x": 2, "y": 2}))
    assert s.answer.gradients == {"x": 0.5, "y": 0.5}
    x, y = (torch.tensor(2.0, dtype=torch.float64, requires_grad=True) for _ in range(2))
    torch.maximum(x, y).backward()
    assert (x.grad.item(), y.grad.item()) == (0.5, 0.5)
    kink = next(st for st in s.steps if st.kind == "graph.kink")
    assert "split in half" in kink.text


@pytest.mark.parametrize(
    ("expression", "expected"), [("relu(x)", 0.0), ("abs(x)", 0.0), ("min(x, 0)", 0.5)]
)
def test_kinks_follow_pytorch(expression: str, expected: float) -> None:
    s = solve(GraphProblem(expression=expression, values={"x": 0}))
    assert s.answer.gradients["x"] == expected
    assert "graph.kink" in step_kinds(s)


def test_max_with_a_constant_and_relu() -> None:
    s = solve(GraphProblem(expression="max(x, 0) + relu(y)", values={"x": -1, "y": 2}))
    assert s.answer.output == 2
    assert s.answer.gradients == {"x": 0, "y": 1}
    assert [n.op for n in s.nodes if not n.inputs] == ["input", "input", "const"]


def test_variable_used_twice_sums_its_branches() -> None:
    s = solve(GraphProblem(expression="x*y + x", values={"x": 3, "y": -2}))
    assert s.answer.output == -3
    assert s.answer.gradients == {"x": -1, "y": 3}  # ∂/∂x = y + 1
    [branch] = [st for st in s.steps if st.kind == "graph.branch_sum"]
    assert branch.params == {"name": "x", "count": 2}
    assert branch.title.format(**branch.params) == "Gradient of x: sum over 2 branches"
    assert sorted(branch.values["branches"]) == [-2, 1]
    assert branch.values["sum"] == -1
    assert "(-2) + 1" in branch.formulas[0] or "1 + (-2)" in branch.formulas[0]


def test_square_of_one_variable_is_one_gate_with_two_edges() -> None:
    s = solve(GraphProblem(expression="x*x", values={"x": 3}))
    [gate] = gates_of(s)
    assert gate.inputs == [0, 0] and gate.downstream == [3, 3]
    assert s.answer.gradients == {"x": 6}
    assert "graph.branch_sum" in step_kinds(s)


def test_division_and_a_square() -> None:
    s = solve(GraphProblem(expression="x^2/y", values={"x": 3, "y": 2}))
    assert s.answer.output == 4.5
    assert s.answer.gradients == {"x": 3, "y": -2.25}  # 2x/y, −x²/y²
    assert [g.op for g in gates_of(s)] == ["^k", "1/x", "*"]
    square = gates_of(s)[0]
    assert (square.label, square.param, square.local_gradients) == ("^2", 2, [6])
    assert square.local_formulas == [r"2 \cdot x^{1}"]


@pytest.mark.parametrize(
    ("expression", "ops"),
    [
        ("1/x", ["1/x"]),
        ("3/x", ["1/x", "·c"]),
        ("x/4", ["/c"]),
        ("x-3", ["+c"]),
        ("3-x", ["-"]),
        ("2x+1", ["·c", "+c"]),
        ("-x", ["·c"]),
        ("x-y", ["-"]),
        ("sqrt(x)*log(x)*tanh(x)", ["sqrt", "log", "*", "tanh", "*"]),
    ],
)
def test_gate_granularity(expression: str, ops: list[str]) -> None:
    values = {name: 2.0 for name in parse(expression).variables}
    s = solve(GraphProblem(expression=expression, values=values))
    assert [g.op for g in gates_of(s)] == ops


def test_upstream_gradient_scales_every_gradient() -> None:
    base = solve(example())
    scaled = solve(GraphProblem(expression=SIGMOID, values=LECTURE_VALUES, upstream="0,5"))
    assert scaled.answer.gradients == pytest.approx(
        {k: v / 2 for k, v in base.answer.gradients.items()}, rel=1e-15
    )
    assert gates_of(scaled)[-1].upstream == 0.5
    assert r"\partial L" in scaled.steps[-2].formulas[1]


def test_lone_variable_and_constant() -> None:
    s = solve(GraphProblem(expression="x", values={"x": 2}))
    assert s.answer == GraphAnswer(output=2, gradients={"x": 1})
    s = solve(GraphProblem(expression="2*3", values={}))
    assert s.answer == GraphAnswer(output=6, gradients={})


# ---- steps ------------------------------------------------------------------------------


def test_steps_are_in_order_with_numbers_substituted() -> None:
    s = solve(example())
    kinds = step_kinds(s)
    assert kinds[0] == "graph.read"
    assert kinds[1:9] == ["graph.forward"] * 8
    assert kinds[9:18] == ["graph.backward"] * 9
    assert kinds[-2:] == ["graph.result", "graph.symbolic"]
    forward = s.steps[1]
    assert forward.title.format(**forward.params) == "Forward: node 5 (*)"
    assert forward.formulas == [r"n_{5} = w_{0} \cdot x_{0} = 2 \cdot (-1) = -2"]
    last_backward = s.steps[17]
    assert last_backward.params["node"] == 5
    assert last_backward.text == "downstream = local gradient × upstream"
    assert r"x_{0} \cdot 0.1966 = (-1) \cdot 0.1966 \approx -0.1966" in (last_backward.formulas[0])
    titles = {step.title for step in s.steps}
    assert len(titles) <= 7  # few, reusable titles (translated once each)
    for step in s.steps:
        step.title.format(**step.params)
        step.text.format(**step.params)


def test_decimal_comma_format() -> None:
    s = solve(example(), NumberFormat(digits=2, decimal_comma=True))
    assert r"\approx 0{,}37" in s.steps[6].formulas[0]


def test_result_step_shows_exact_fractions() -> None:
    s = solve(GraphProblem(expression="x/y", values={"x": 1, "y": 3}))
    result = next(st for st in s.steps if st.kind == "graph.result")
    assert result.formulas[0] == r"f = \tfrac{1}{3} \approx 0.3333"


def test_symbolic_derivatives_match_the_numbers() -> None:
    s = solve(example())
    assert set(s.symbolic) == set(LECTURE_VALUES)
    assert "x_{0}" in s.symbolic["w0"]
    f, symbols = sympy_function(parse(s.expression_read))
    subs = {symbols[name]: value for name, value in LECTURE_VALUES.items()}
    for name, symbol in symbols.items():
        value = float(f.diff(symbol).evalf(subs=subs))
        assert value == pytest.approx(s.answer.gradients[name], rel=1e-12)


# ---- validation -------------------------------------------------------------------------


def test_values_accept_text_with_decimal_comma_and_underscored_names() -> None:
    p = GraphProblem(expression="w_0*x", values={"w_0": "0,5", "x": "−2"})
    assert p.values == {"w0": 0.5, "x": -2.0}
    assert solve(p).answer.output == -1


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"x": 1}, "give a value for y"),
        ({"x": 1, "y": 2, "z": 3, "q": 4}, "these values are not used by the expression: z, q"),
        ({"x": float("nan"), "y": 1}, "the value of x is not a finite number"),
        ({"x": "inf", "y": 1}, 'the value of x is not a number: "inf"'),
        ({"x": "abc", "y": 1}, 'the value of x is not a number: "abc"'),
        ({"x": True, "y": 1}, 'the value of x is not a number: "True"'),
        ({"x": 1, "y": 1, "2x": 1}, '"2x" is not a variable name'),
        ({"x": 1, "y": 1, "y_": 1}, '"y_" is not a variable name'),
        ({"x_1": 1, "x1": 1}, "x1 is given twice"),
    ],
)
def test_bad_values(values: dict, message: str) -> None:
    expression = "x1" if "x1" in values else "x*y"
    with pytest.raises(ValidationError) as exc:
        GraphProblem(expression=expression, values=values)
    error = error_of(exc)
    assert error["type"] == "values"
    assert error["loc"] == ("values",)
    assert error["msg"] == message


def test_parse_errors_are_field_errors_with_a_position() -> None:
    with pytest.raises(ValidationError) as exc:
        GraphProblem(expression="x + open(y)", values={})
    error = error_of(exc)
    assert error["loc"] == ("expression",)
    assert error["type"] == "expression"
    assert error["ctx"]["position"] == 5
    assert error["msg"] == 'unknown function "open" at position 5'


@pytest.mark.parametrize(
    ("expression", "value", "message"),
    [
        ("log(x)", -1, "log of -1 at node 1: log needs a positive number"),
        ("sqrt(x)", -4, "sqrt of -4 at node 1: sqrt needs a number that is not negative"),
        ("sqrt(x)", 0, "sqrt at node 1 has no finite derivative at 0"),
        ("1/x", 0, "1/x of 0 at node 1: division by zero"),
        ("x^(-2)", 0, "0^-2 at node 1: division by zero"),
        ("x^0.5", -1, "-1^0.5 at node 1: a negative number has no real power 0.5"),
        ("exp(x)", 1000, "overflow at node 1 (exp): the number is too large"),
        ("exp(exp(x))", 7, "overflow at node 2 (exp): the number is too large"),
    ],
)
def test_domain_errors_name_the_node(expression: str, value: float, message: str) -> None:
    with pytest.raises(ValidationError) as exc:
        GraphProblem(expression=expression, values={"x": value})
    error = error_of(exc)
    assert error["type"] == "domain"
    assert error["msg"] == message


def test_extra_fields_and_bad_upstream_are_rejected() -> None:
    with pytest.raises(ValidationError):
        GraphProblem(expression="x", values={"x": 1}, colour="red")
    with pytest.raises(ValidationError) as exc:
        GraphProblem(expression="x", values={"x": 1}, upstream=float("inf"))
    assert error_of(exc)["type"] == "upstream"


@pytest.mark.parametrize(
    ("typed", "read"),
    [
        ("w0x0", "w0·x0"),
        ("w_0 x_1", "w0·x1"),
        ("2x", "2·x"),
        ("(x+y)z", "(x + y)·z"),
        ("x(y+1)", "x·(y + 1)"),
        ("(x)(y)", "x·y"),
        ("-x^2", "-x^2"),
        ("(-x)^2", "(-x)^2"),
        ("x**2**3", "x^(2^3)"),
        ("1/2x", "1/2·x"),
        ("e^x", "exp(x)"),
        ("2e^-x", "2·exp(-x)"),
        ("e1 + e", "e1 + e"),
        ("0,5x", "0.5·x"),
        ("max(0,5)", "max(0, 5)"),
        ("max(0,5; x)", "max(0.5, x)"),
        ("exp(0,5)", "exp(0.5)"),
        ("ln(x)", "log(x)"),
        ("ReLU(x)", "relu(x)"),
        ("σ(x)", "sigmoid(x)"),
        ("α1 − β×γ ÷ 2", "α1 - β·γ/2"),
        ("pi*r^2", "pi·r^2"),
        ("x-(y-z)", "x - (y - z)"),
        ("x/(y*z)", "x/(y·z)"),
        ("--x", "-(-x)"),
        ("+x", "x"),
        (".5x", "0.5·x"),
    ],
)
def test_how_expressions_are_read(typed: str, read: str) -> None:
    parsed = parse(typed)
    assert parsed.canonical == read
    assert parse(parsed.canonical).tree == parsed.tree  # the canonical text reads the same


# ---- batch ------------------------------------------------------------------------------


def test_solve_batch_equals_solve() -> None:
    problems = [
        example(),
        GraphProblem(expression=SIGMOID, values={**LECTURE_VALUES, "w2": 1.5}, gates="grouped"),
        GraphProblem(expression="1/(1+e^-(w0x0+w1x1+w2))", values={**LECTURE_VALUES, "x0": 2}),
        GraphProblem(expression="max(x, y)*x + abs(y) - relu(x)", values={"x": 1, "y": 1}),
        GraphProblem(expression="x^2/y + tanh(x) + sqrt(y) + log(y)", values={"x": 3, "y": 2}),
        GraphProblem(expression="max(x, y)*x + abs(y) - relu(x)", values={"x": -1, "y": 0}),
        GraphProblem(expression="2*3", values={}, upstream=2),
        GraphProblem(expression="x", values={"x": 7}, upstream=-1),
    ]
    answers = solve_batch(problems, torch.device("cpu"))
    assert len(answers) == len(problems)
    for problem, answer in zip(problems, answers, strict=True):
        expected = solve(problem).answer
        assert answer.output == pytest.approx(expected.output, rel=1e-9, abs=1e-12)
        assert answer.gradients == pytest.approx(expected.gradients, rel=1e-9, abs=1e-12)


def test_solve_batch_reports_a_domain_error() -> None:
    good = GraphProblem(expression="log(x)", values={"x": 1})
    bad = GraphProblem.model_construct(expression="log(x)", values={"x": -1.0}, upstream=1.0,
                                       gates="primitive")  # fmt: skip
    with pytest.raises(Exception, match="log of -1 at node 1"):
        solve_batch([good, bad], torch.device("cpu"))


def test_task_record() -> None:
    assert TASK.id == "graph"
    assert TASK.problem_model is GraphProblem
    assert TASK.solution_model is GraphSolution
    assert TASK.answer_model == GraphAnswer | VectorAnswer  # scalar or vector problems
    assert isinstance(TASK.solve(TASK.example()), GraphSolution)
    schema = GraphProblem.model_json_schema()
    assert schema["properties"]["expression"]["description"]


# ---- picture ----------------------------------------------------------------------------


def test_svg_of_the_sigmoid_neuron() -> None:
    s = solve(example())
    svg = render_graph_svg(s, NumberFormat(digits=2))
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert 'viewBox="0 0 ' in svg and 'width="100%"' in svg
    assert "<title>Computational graph: 1/(1 + exp(-(w0·x0 + w1·x1 + w2)))</title>" in svg
    assert svg.count('class="node gate"') == 8
    assert svg.count('class="node input"') == 5
    edges = sum(len(n.inputs) for n in s.nodes) + 1  # and the output's
    assert svg.count('class="edge"') == edges
    assert svg.count('class="fwd"') == edges and svg.count('class="grad"') == edges
    assert ">0.73</text>" in svg and ">−0.53</text>" in svg and ">0.39</text>" in svg


def test_svg_escapes_text() -> None:
    s = solve(GraphProblem(expression="max(x, 0)", values={"x": 1}))
    svg = render_graph_svg(s, NumberFormat(), title='<script>alert("x")</script> & co')
    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg and "&amp; co" in svg


def test_svg_of_a_constant() -> None:
    s = solve(GraphProblem(expression="2*3", values={}))
    svg = render_graph_svg(s, NumberFormat())
    assert 'class="node const"' in svg and ">6</text>" in svg


def test_symbolic_check_can_be_left_out_and_is_skipped_when_large() -> None:
    s = solve(example(), symbolic=False)
    assert s.symbolic == {} and "graph.symbolic" not in step_kinds(s)
    big = "+".join(f"sigmoid(w{i}*x{i} + b{i})" for i in range(8))
    values = {f"{n}{i}": 0.5 for i in range(8) for n in "wxb"}
    s = solve(GraphProblem(expression=big, values=values))
    assert s.symbolic == {}
    assert s.steps[-1].text == "The symbolic check is skipped for an expression this large."


NESTED = "sigmoid(tanh(" * 4 + "x" + "))" * 4


def test_nested_sigmoid_tanh_is_printed_without_sympy_simplifying(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Eight nested sigmoid(tanh(…)) took minutes: sympy's LaTeX printer asked whether each
    negative exponent of e is constant (a simplification). The printing never asks now."""
    import sympy

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the symbolic step simplified an exponent")

    monkeypatch.setattr(sympy.Expr, "is_constant", refuse)
    derivatives_latex.cache_clear()
    s = solve(GraphProblem(expression=NESTED, values={"x": 0.5}))
    assert set(s.symbolic) == {"x"} and r"e^{- \tanh" in s.symbolic["x"]
    assert s.steps[-1].kind == "graph.symbolic" and s.steps[-1].formulas


def test_symbolic_check_is_skipped_past_the_derivative_size_budget(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(symbolic, "MAX_DERIVATIVE_NODES", 100)
    derivatives_latex.cache_clear()
    s = solve(GraphProblem(expression=NESTED, values={"x": 0.5}))
    derivatives_latex.cache_clear()
    assert s.symbolic == {} and not s.steps[-1].formulas
    assert s.steps[-1].text == "The symbolic check is skipped for an expression this large."


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("exp(x)^2/3", r"\frac{2 e^{2 x}}{3}"),
        ("exp(log(x))*3", "3"),
        ("exp(0*x)+x", "1"),
        ("1/(1+exp(-x))", r"\frac{e^{- x}}{\left(e^{- x} + 1\right)^{2}}"),
    ],
)
def test_symbolic_exp_keeps_its_simplifications(expression: str, expected: str) -> None:
    """The derivatives are built with an exp sympy does not question (faster, and printed as
    written), which still simplifies as sympy's does where a student expects it."""
    assert derivatives_latex(parse(expression))["x"] == expected


def test_symbolic_work_is_offered_only_while_not_cached() -> None:
    problem = GraphProblem(expression="x*y + 0.6180339", values={"x": 1, "y": 2})
    derivatives_latex.cache_clear()
    work = TASK.slow_part(problem)
    assert work is not None
    work()
    assert TASK.slow_part(problem) is None
    assert solve(problem).symbolic == {"x": "y", "y": "x"}
    assert TASK.slow_part(GraphProblem(expression="x", values={"x": [1, 2]})) is None
    big = "+".join(f"sigmoid(w{i}*x{i} + b{i})" for i in range(8))
    values = {f"{n}{i}": 0.5 for i in range(8) for n in "wxb"}
    assert TASK.slow_part(GraphProblem(expression=big, values=values)) is None


def test_a_busy_solve_leaves_the_symbolic_check_out_unless_cached() -> None:
    problem = GraphProblem(expression="x*y + 0.4142135", values={"x": 1, "y": 2})
    derivatives_latex.cache_clear()
    busy = solve(problem, busy=True)
    assert busy.symbolic == {} and busy.answer == solve(problem, symbolic=False).answer
    assert busy.steps[-1].text == "The symbolic check is left out this time: the server is busy."
    assert solve(problem).symbolic and solve(problem, busy=True).symbolic


def test_arguments_of_decimal_comma_numbers_are_parted_by_semicolons() -> None:
    from solvers.core import NumberFormat
    from solvers.tasks.graph import GraphProblem, solve

    problem = GraphProblem(expression="max(x, y) * z", values={"x": 2.5, "y": 1.5, "z": -4})
    comma = [f for s in solve(problem, NumberFormat(decimal_comma=True)).steps for f in s.formulas]
    point = [f for s in solve(problem, NumberFormat()).steps for f in s.formulas]
    assert any(r"\max(2{,}5; 1{,}5) = 2{,}5" in f for f in comma)
    assert any(r"\max(2.5, 1.5) = 2.5" in f for f in point)
