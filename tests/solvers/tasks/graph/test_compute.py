"""The graph task's gate records and its one pass: rules against torch autograd, named
mistakes as overrides of the pass, one parse per request."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import solvers.tasks.graph.parser as parser
from solvers.grading.core import grade_one
from solvers.tasks.graph import GraphProblem, solve, solve_batch
from solvers.tasks.graph.compute import F64, evaluate, passes
from solvers.tasks.graph.grading import GRADER, OVERRIDES, batch, gate_overrides, specs
from solvers.tasks.graph.rules import RULES

#: Inputs away from kinks and domain edges, and the constant of each op that has one.
INPUTS = {1: [[0.7, -1.3, 2.1]], 2: [[0.7, -1.3, 2.1], [1.9, 0.4, -0.6]]}
PARAMS = {"+c": 2.5, "·c": -1.5, "/c": 4.0, "^k": 3.0}


def _autograd(op: str, xs: list[list[float]], p: float) -> tuple[torch.Tensor, list[torch.Tensor]]:
    leaves = [torch.tensor(x, dtype=F64, requires_grad=True) for x in xs]
    y = RULES[op].forward(leaves, p)
    return y.detach(), list(torch.autograd.grad(y.sum(), leaves))


@pytest.mark.parametrize("op", sorted(RULES))
def test_each_gate_rule_local_gradient_matches_autograd(op: str) -> None:
    rule = RULES[op]
    xs = INPUTS[rule.arity]
    if op in ("log", "sqrt"):
        xs = [[0.7, 1.3, 2.1]]
    p = PARAMS.get(op, 0.0)
    y, expected = _autograd(op, xs, p)
    tensors = [torch.tensor(x, dtype=F64) for x in xs]
    local = rule.local(tensors, y, p)
    assert len(local) == rule.arity == len(rule.local_tex(["x", "y"][: rule.arity], "c", "k"))
    for got, want in zip(local, expected, strict=True):
        torch.testing.assert_close(torch.as_tensor(got, dtype=F64).expand(3), want)


@pytest.mark.parametrize(
    ("op", "xs"), [("relu", [[0.0]]), ("abs", [[0.0]]), ("max", [[1.5], [1.5]]),
                   ("min", [[-2.0], [-2.0]])],
)  # fmt: skip
def test_kinks_follow_pytorch(op: str, xs: list[list[float]]) -> None:
    y, expected = _autograd(op, xs, 0.0)
    local = RULES[op].local([torch.tensor(x, dtype=F64) for x in xs], y, 0.0)
    assert [float(t) for t in local] == [float(t) for t in expected]
    assert RULES[op].kink([x[0] for x in xs]) and RULES[op].kink_message


MISTAKES = "max(x, y) - exp(-x) / (x*y + 2) + 3*x"


def test_each_misconception_is_the_one_pass_with_its_override() -> None:
    problems = [
        GraphProblem(expression=MISTAKES, values={"x": x, "y": y}, upstream=u)
        for x, y, u in [(1.0, 2.0, 1.0), (-0.5, 0.25, 2.0), (2.0, -0.5, -1.0)]
    ]
    b = batch(problems, "cpu")
    n = len(b.graph.gates)
    given = {
        "output": torch.full((3,), math.nan, dtype=F64),
        "nodes": torch.full((3, n), math.nan, dtype=F64),
        **{f"gradients.{v}": torch.zeros(3, dtype=F64) for v in b.graph.variables},
    }
    parts = {part.name: part for part in specs(b, given)}
    expected: list[tuple[int, list[torch.Tensor]]] = [
        (GRADER.index(name), passes(b.graph, b.values, b.upstream, override).bwd.grads)
        for name, override in OVERRIDES.items()
    ]
    expected += [
        (GRADER.index("branch_not_summed"), passes(b.graph, b.values, b.upstream, keep=k).bwd.grads)
        for k in ("first", "last")
    ]
    expected += [  # the mistakes at one gate: a sign lost on one input, a product swapped
        (GRADER.index(name), passes(b.graph, b.values, b.upstream, override).bwd.grads)
        for name, override, _ in gate_overrides(b.graph)
    ]
    for k, name in enumerate(b.graph.variables):
        candidates = parts[f"gradients.{name}"].candidates
        assert [index for index, _ in candidates] == [index for index, _ in expected]
        for (_, got), (_, grads) in zip(candidates, expected, strict=True):
            torch.testing.assert_close(got, grads[k])
    right = passes(b.graph, b.values, b.upstream).bwd.grads
    assert not torch.equal(expected[0][1][0], right[0])  # the sign matters here


def test_the_one_pass_of_one_problem_is_the_batch_pass() -> None:
    """One problem runs the same pass on numpy scalars, a batch on torch tensors; numpy's
    and torch's exp/pow/tanh may differ in the last bit, so equal within 1e-15 relative."""
    problem = GraphProblem(expression=MISTAKES, values={"x": 0.3, "y": -1.2})
    ev = evaluate(problem.graph, problem.values)
    answer = solve_batch([problem])[0]
    assert ev.values[-1] == pytest.approx(answer.output, rel=1e-15, abs=0)
    grads = list(answer.gradients.values())
    assert [ev.grads[i] for i in range(2)] == pytest.approx(grads, rel=1e-15, abs=0)


def test_the_expression_is_parsed_once_per_solve(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    real = parser._Parser.parse

    def counted(self: parser._Parser) -> parser.Expr:
        calls.append(1)
        return real(self)

    monkeypatch.setattr(parser._Parser, "parse", counted)
    problem = GraphProblem(
        expression="1/(1+exp(-(a*b+c*d+0.125)))", values=dict.fromkeys("abcd", 1)
    )
    solution = solve(problem)
    solve_batch([problem])
    grade_one(GRADER, problem, {"output": solution.answer.output})
    assert solution.symbolic and len(calls) == 1


@pytest.mark.parametrize("op", sorted(RULES))
def test_each_gate_rule_runs_on_numpy_as_on_torch(op: str) -> None:
    """The same rule on numpy scalars (one problem): torch's values within 1e-15 relative
    (local gradients such as 1 − tanh² also within 1e-15 absolute), the same kinks and
    signs of zero (relu, abs, max/min at ±0 and at ties)."""
    rule = RULES[op]
    p = PARAMS.get(op, 0.0)
    rows = [[0.7, 1.3, 2.1, 0.0, -0.0]] if op in ("log", "sqrt") else INPUTS[rule.arity]
    rows = [[*r, 0.0, -0.0, 1.5] for r in rows]
    if rule.arity == 2:
        rows = [rows[0], [*rows[1][:3], -0.0, 0.0, 1.5]]
    tensors = [torch.tensor(r, dtype=F64) for r in rows]
    y = rule.forward(tensors, p)
    want = [y.tolist(), *(torch.as_tensor(g, dtype=F64).expand(len(rows[0])).tolist()
                          for g in rule.local(tensors, y, p))]  # fmt: skip
    for k in range(len(rows[0])):
        xs = [np.float64(r[k]) for r in rows]
        with np.errstate(all="ignore"):
            yk = rule.forward(xs, p)
            got = [float(yk), *(float(g) for g in rule.local(xs, yk, p))]
        for j, (g, w) in enumerate(zip(got, [column[k] for column in want], strict=True)):
            assert g == pytest.approx(w, rel=1e-15, abs=1e-15 if j else 0, nan_ok=True)
            assert math.copysign(1.0, g) == math.copysign(1.0, w) or math.isnan(w)


def test_a_scalar_graph_is_the_vector_graphs_pass_with_every_shape_empty() -> None:
    """One traversal: the vector graph of an expression whose variables are all scalars
    (numpy) gives the scalar graph's output and gradients (torch)."""
    from solvers.tasks.graph.gates import compile_graph
    from solvers.tasks.graph.vector import build_graph, evaluate_batch

    text = "x*y + exp(-x) * 3 + relu(y - 1) - max(x, 2)"
    values = {"x": [0.7, -1.2, 2.5], "y": [1.9, 0.3, -0.4]}
    graph = compile_graph(parser.parse(text))
    vgraph = build_graph(parser.parse(text), (("x", ()), ("y", ())))
    assert all(spread is None for *_, spread in vgraph.plan)
    rows = torch.tensor([values[v] for v in graph.variables], dtype=F64).T
    scalar = passes(graph, rows, torch.ones(3, dtype=F64))
    vector = evaluate_batch(vgraph, {n: np.array(v) for n, v in values.items()}, np.ones(3))
    np.testing.assert_allclose(vector.values[vgraph.output], scalar.output().numpy())
    for k, name in enumerate(graph.variables):
        got = vector.grads[vgraph.variables.index(name)]
        np.testing.assert_allclose(got, scalar.gradients(graph)[:, k].numpy())
