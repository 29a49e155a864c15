"""Vector and matrix graphs: the CS231n notes' example, torch autograd on random shapes and
expressions (hypothesis), shape errors, steps in matrix form, the PyTorch view."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from solvers.tasks.graph import GraphProblem, solve
from solvers.tasks.graph.parser import parse
from solvers.tasks.graph.problem import GraphSolution, VectorSolution
from solvers.tasks.loss import LossProblem
from solvers.tasks.loss import solve as solve_loss
from tests.solvers.test_pytorch_view import check as check_torch_view

W = [[0.1, 0.5], [-0.3, 0.8]]
X = [0.2, 0.4]


@pytest.mark.parametrize(
    "expression", ["||W x||^2", "sum((W@x)^2)", "norm2(W*x)", "x^T W^T W x", "x'W'W x"]
)
def test_the_cs231n_notes_vectorized_example(expression: str) -> None:
    solution = solve(GraphProblem(expression=expression, values={"W": W, "x": X}))
    assert isinstance(solution, VectorSolution)
    answer = solution.answer
    assert answer.output == pytest.approx(0.116)
    np.testing.assert_allclose(answer.gradients["W"], [[0.088, 0.176], [0.104, 0.208]])
    np.testing.assert_allclose(answer.gradients["x"], [-0.112, 0.636])
    assert answer.shapes == {"W": [2, 2], "x": [2], "f": []}


def test_values_in_every_matrix_form() -> None:
    forms = [
        {"W": "[[0.1, 0.5], [-0.3, 0.8]]", "x": "0.2 0.4"},
        {"W": "0,1 0,5; −0,3 0,8", "x": "[0,2 0,4]"},
        {"W": "0.1 0.5\n-0.3 0.8", "x": [0.2, 0.4]},
    ]
    for values in forms:
        problem = GraphProblem(expression="||W x||^2", values=values)
        assert problem.values == {"W": W, "x": X}


def test_steps_in_matrix_form_with_numbers() -> None:
    solution = solve(GraphProblem(expression="||W x||^2", values={"W": W, "x": X}))
    backward = next(s for s in solution.steps if s.kind == "graph.backward")
    [for_w] = [f for f in backward.formulas if f.startswith(r"\frac{\partial f}{\partial W}")]
    assert r"g_{q}\,x^{\top} = " in for_w  # ∂f/∂W = (∂f/∂q) xᵀ, q = W x named as on the slides
    assert r"\begin{bmatrix} 0.088 & 0.176 \\ 0.104 & 0.208 \end{bmatrix}" in for_w
    [for_x] = [f for f in backward.formulas if f.startswith(r"\frac{\partial f}{\partial x}")]
    assert r"W^{\top}\,g_{q}" in for_x and r"\mathbb{R}^{2}" in for_x
    result = solution.steps[-1]
    assert result.text == "Every gradient has the shape of its variable."
    assert result.values["∂/∂W"] == solution.answer.gradients["W"]


def test_scalar_problems_are_solved_as_before() -> None:
    solution = solve(GraphProblem(expression="x*y", values={"x": "3", "y": 2}))
    assert isinstance(solution, GraphSolution)
    assert solution.answer.gradients == {"x": 2.0, "y": 3.0}


@pytest.mark.parametrize(
    ("expression", "values", "message"),
    [
        ("W + x", {"W": W, "x": [1, 2, 3]},
         "+ at position 3: the shapes [2, 2] and [3] differ; an elementwise operation needs "
         "equal shapes or a scalar"),
        ("sum(W x)", {"W": W, "x": [1, 2, 3]},
         "* at position 7: shapes [2, 2] and [3]; the columns of the left side must match the "
         "rows of the right side"),
        ("x @ y", {"x": 1, "y": 2},
         "@ at position 3: shapes [] and []; a matrix product needs vectors or matrices on "
         "both sides"),
        ("softmax_ce(W, y)", {"W": W, "y": [1, 0, 1]},
         "softmax_ce at position 1: shapes [2, 2] and [3]; it takes scores (C classes, or N×C) "
         "and one label per row of scores (a number, or N numbers)"),
    ],
)  # fmt: skip
def test_shape_errors_name_the_operation_shapes_and_position(
    expression: str, values: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError) as exc:
        GraphProblem(expression=expression, values=values)
    [error] = exc.value.errors()
    assert error["type"] == "shape"
    assert error["msg"] == message
    assert error["ctx"]["field"] == "expression"


@pytest.mark.parametrize(
    ("values", "kind"),
    [
        ({"s": [1, 2, 3], "y": 3}, "values"),  # a label past the classes
        ({"s": [1, 2, 3], "y": 0.5}, "values"),
        ({"s": [1, 2], "y": [0, 1]}, "shape"),
    ],
)
def test_labels_are_checked(values: dict[str, Any], kind: str) -> None:
    with pytest.raises(ValidationError) as exc:
        GraphProblem(expression="svm(s, y)", values=values)
    assert exc.value.errors()[0]["type"] == kind


def test_hostile_vector_inputs_are_refused_quickly() -> None:
    cases: list[dict[str, Any]] = [
        {"expression": "sum(x)", "values": {"x": [0.0] * 1_000_000}},
        {"expression": "sum(x)", "values": {"x": " ".join(["1"] * 50_000)}},
        {"expression": "sum(W" + "^T" * 150 + ")", "values": {"W": [[1.0] * 100] * 100}},
        {"expression": "sum(" + "W " * 60 + "x)", "values": {"W": [[1.0] * 100] * 100,
                                                            "x": [1.0] * 100}},
        {"expression": "sum(x x^T x x^T)", "values": {"x": [1.0] * 100}},
        {"expression": "sum(x)", "values": {"x": [[1.0], [2.0, 3.0]]}},
        {"expression": "sum(exp(exp(exp(x))))", "values": {"x": [10.0, 20.0]}},
    ]  # fmt: skip
    for data in cases:
        start = time.perf_counter()
        with contextlib.suppress(ValidationError):
            GraphProblem.model_validate(data)
        assert time.perf_counter() - start < 0.5, data["expression"][:40]


def test_a_vector_output_takes_an_upstream_of_its_shape() -> None:
    problem = GraphProblem(expression="W x", values={"W": W, "x": X}, upstream=[1, -1])
    answer = solve(problem).answer
    np.testing.assert_allclose(answer.output, [0.22, 0.26])
    np.testing.assert_allclose(answer.gradients["x"], [0.4, -0.3])
    with pytest.raises(ValidationError):
        GraphProblem(expression="W x", values={"W": W, "x": X}, upstream=[1, 2, 3])


def test_a_two_layer_network_against_torch() -> None:
    values = {"W1": [[0.2, -0.5], [1.5, 1.3], [0.0, 0.3]], "b1": [0.1, -0.2, 0.3],
              "W2": [[1.0, -1.0, 0.5], [0.2, 0.4, -0.3]], "x": [1.0, 2.0], "y": 1}  # fmt: skip
    for loss, torch_loss in (
        ("softmax_ce", F.cross_entropy),
        ("svm", lambda s, y: F.multi_margin_loss(s, y) * 2),
    ):
        problem = GraphProblem(
            expression=f"{loss}(W2 relu(W1 x + b1), y) + 0.1*(||W1||^2 + ||W2||^2)",
            values=values,
        )
        answer = solve(problem).answer
        leaves = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True)
                  for k, v in values.items() if k != "y"}  # fmt: skip
        hidden = torch.relu(leaves["W1"] @ leaves["x"] + leaves["b1"])
        out = torch_loss(leaves["W2"] @ hidden, torch.tensor(1)) + 0.1 * (
            (leaves["W1"] ** 2).sum() + (leaves["W2"] ** 2).sum()
        )
        out.backward()
        assert answer.output == pytest.approx(out.item(), rel=1e-12)
        assert "y" not in answer.gradients  # class labels have no gradient
        for name, leaf in leaves.items():
            np.testing.assert_allclose(answer.gradients[name], leaf.grad.tolist(), rtol=1e-10)
        check_torch_view("graph", problem)


# ---- random shapes and expressions against torch autograd -----------------------------

Build = Callable[[dict[str, torch.Tensor]], torch.Tensor]


def _leaf(shape: tuple[int, ...]) -> str:
    return {0: "a", 1: "v", 2: "M"}[len(shape)] + "".join(str(n) for n in shape)


@st.composite
def tensor_expression(draw: Any, shape: tuple[int, ...], depth: int) -> tuple[str, Build]:
    """Text of an expression of ``shape`` and the same computation in torch."""
    options = ["leaf"] if depth == 0 else ["leaf", "add", "mul", "unary", "scale", "matmul"]
    if len(shape) == 2 and depth:
        options.append("transpose")
    if not shape and depth:
        options += ["sum", "norm2"]
    kind = draw(st.sampled_from(options))
    if kind == "leaf":
        name = _leaf(shape)
        return name, lambda t: t[name]
    if kind in ("add", "mul"):
        (a, fa), (b, fb) = (draw(tensor_expression(shape, depth - 1)) for _ in range(2))
        if kind == "add":
            return f"({a} + {b})", lambda t: fa(t) + fb(t)
        return f"({a} * {b})", lambda t: fa(t) * fb(t)
    if kind == "unary":
        name = draw(st.sampled_from(["tanh", "sigmoid", "relu", "exp"]))
        a, fa = draw(tensor_expression(shape, depth - 1))
        function = {"tanh": torch.tanh, "sigmoid": torch.sigmoid, "relu": torch.relu,
                    "exp": lambda z: torch.exp(torch.tanh(z))}[name]  # fmt: skip
        text = f"exp(tanh({a}))" if name == "exp" else f"{name}({a})"
        return text, lambda t: function(fa(t))
    if kind == "scale":
        a, fa = draw(tensor_expression(shape, depth - 1))
        return f"0.5*{a}", lambda t: 0.5 * fa(t)
    if kind == "transpose":
        a, fa = draw(tensor_expression(shape[::-1], depth - 1))
        return f"({a})^T", lambda t: fa(t).T
    if kind in ("sum", "norm2"):
        inner = draw(st.sampled_from([(2,), (3,), (2, 3)]))
        a, fa = draw(tensor_expression(inner, depth - 1))
        if kind == "sum":
            return f"sum({a})", lambda t: fa(t).sum()
        return f"||{a}||^2", lambda t: (fa(t) ** 2).sum()
    # matmul: shape = (left ⊕ k) @ (k ⊕ right)
    k = draw(st.sampled_from([2, 3]))
    if not shape:
        left_shape, right_shape = (k,), (k,)
    elif len(shape) == 1:
        left_shape, right_shape = (shape[0], k), (k,)
    else:
        left_shape, right_shape = (shape[0], k), (k, shape[1])
    (a, fa), (b, fb) = (
        draw(tensor_expression(left_shape, depth - 1)),
        draw(tensor_expression(right_shape, depth - 1)),
    )
    if not shape:
        return f"(({a})^T ({b}))", lambda t: fa(t) @ fb(t)
    symbol = draw(st.sampled_from([" @ ", " ", "*"]))
    if symbol != " @ " and left_shape == right_shape:  # equal shapes: `*` and `W W` elementwise
        symbol = " @ "
    return f"(({a}){symbol}({b}))", lambda t: fa(t) @ fb(t)


SHAPES = [(), (2,), (3,), (2, 2), (2, 3), (3, 2), (3, 3)]


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(
    st.sampled_from([(), (2,), (2, 3)]).flatmap(lambda s: tensor_expression(s, 3)),
    st.data(),
)
def test_random_expressions_match_torch_autograd(built: tuple[str, Build], data: Any) -> None:
    text, function = built
    values: dict[str, Any] = {}
    used = parse(text).variables
    for shape in SHAPES:
        name = _leaf(shape)
        if name in used:
            size = int(np.prod(shape)) if shape else 1
            numbers = data.draw(st.lists(st.integers(-10, 10), min_size=size, max_size=size))
            values[name] = np.array(numbers, dtype=float).reshape(shape).__truediv__(10).tolist()
    problem = GraphProblem(expression=text, values=values)
    answer = solve(problem).answer
    leaves = {
        k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in values.items()
    }
    out = function(leaves)
    grads = torch.autograd.grad(out, list(leaves.values()), torch.ones_like(out), allow_unused=True)
    np.testing.assert_allclose(answer.output, out.tolist(), rtol=1e-9, atol=1e-12)
    for (name, leaf), grad in zip(leaves.items(), grads, strict=True):
        expected = torch.zeros_like(leaf) if grad is None else grad
        got = np.asarray(answer.gradients[name])
        assert got.shape == tuple(leaf.shape)  # the gradient has the shape of the variable
        np.testing.assert_allclose(got, expected.tolist(), rtol=1e-9, atol=1e-12)
    check_torch_view("graph", problem)


@pytest.mark.parametrize(
    ("expression", "values", "answer", "part", "mistake"),
    [
        ("||W x||^2", {"W": W, "x": X}, {"W": [[0.088, 0.104], [0.176, 0.208]]},
         "gradients.W", "transposed_gradient"),
        ("||W x||^2", {"W": W, "x": X}, {"x": [-0.056, 0.318]},
         "gradients.x", "norm_factor_forgotten"),
        ("sum(W x)", {"W": [[1, 2], [3, 4]], "x": [1, 1]}, {"x": "3 7"},
         "gradients.x", "transpose_forgotten"),
    ],
)  # fmt: skip
def test_grading_names_the_classic_slips(
    expression: str, values: dict[str, Any], answer: dict[str, Any], part: str, mistake: str
) -> None:
    from solvers.registry import TASKS

    problem = GraphProblem(expression=expression, values=values)
    grade = TASKS["graph"].grade(problem, {"gradients": answer})
    [graded] = [p for p in grade.parts if p.name == part]
    assert not graded.correct and graded.misconception == mistake


@pytest.mark.parametrize(
    ("expression", "shapes"),
    [
        ("||W x||^2", {"W": (3, 3), "x": (3,)}),
        ("svm(W x + b, y)", {"W": (2, 3), "x": (3,), "b": (2,), "y": ()}),
        ("sum(A B) + norm2(A^T) * c + sum(tanh(c*A))", {"A": (3, 3), "B": (3, 2), "c": ()}),
        ("softmax_ce(S, y) + x^T z", {"S": (3, 4), "y": (3,), "x": (3,), "z": (3,)}),
    ],
)
def test_the_batched_pass_is_each_problems_pass_bit_for_bit(
    expression: str, shapes: dict[str, tuple[int, ...]]
) -> None:
    """One pass for one problem and for a batch: every value and gradient of each problem of
    a batch, right, with each named mistake and worked by hand, is its own pass's."""
    from solvers.core import hand_rounder
    from solvers.tasks.graph.vector import OVERRIDES, evaluate, evaluate_batch

    rng = np.random.default_rng(7)
    batch = 6
    inputs = {
        name: rng.integers(0, 2, (batch, *shape)).astype(float)
        if name == "y"
        else rng.normal(size=(batch, *shape)).round(3)
        for name, shape in shapes.items()
    }
    problem = GraphProblem(
        expression=expression, values={n: v[0].tolist() for n, v in inputs.items()}
    )
    graph, _ = problem.vector_passes()
    upstream = rng.normal(size=(batch, *graph.nodes[graph.output].shape)).round(2)
    for override in [None, *OVERRIDES.values()]:
        for rounder in [None, hand_rounder(2)]:
            every = evaluate_batch(graph, inputs, upstream, override, rounder)
            for b in range(batch):
                one = evaluate(graph, {n: v[b] for n, v in inputs.items()}, upstream[b],
                               override, rounder)  # fmt: skip
                mine = every.problem(b)
                for x, y in zip(one.values + one.grads, mine.values + mine.grads, strict=True):
                    assert x.tobytes() == y.tobytes()


def test_a_right_vector_answer_scores_full_marks() -> None:
    from solvers.registry import TASKS

    problem = GraphProblem(expression="||W x||^2", values={"W": W, "x": X})
    answer = {"output": 0.116, "gradients": {"W": "0.088 0.176; 0.104 0.208", "x": [-0.112, 0.636]}}
    grade = TASKS["graph"].grade(problem, answer)
    assert grade.score == grade.max_score == 3


def test_texts_that_parse_alike_keep_their_own_matrix_products() -> None:
    """Two spellings of one expression share a parse, not the positions of their products:
    each one's PyTorch writes its own product as ``@``."""
    values = {"M": [[1.0, 2.0], [3.0, 4.0]], "v": [1.0, 0.0]}
    for text in ("(0.5*M) (v)", "((0.5*M) v)", "0.5*M v"):
        problem = GraphProblem(expression=text, values=values)
        assert solve(problem).answer.output == [0.5, 1.5]
        check_torch_view("graph", problem)


def test_vector_nodes_are_graded_cell_by_cell() -> None:
    from solvers.registry import TASKS

    problem = GraphProblem(expression="||W x||^2", values={"W": W, "x": X})
    # nodes: 0 W, 1 x, 2 q = W x = [0.22, 0.26], 3 f
    grade = TASKS["graph"].grade(problem, {"nodes": {"2": "0.22 0.62", "3": 0.116}})
    [nodes] = [p for p in grade.parts if p.name == "nodes"]
    assert not nodes.correct
    assert nodes.cells is not None
    assert nodes.score == pytest.approx(2 / 3)  # two of the three cells given are right
    right = TASKS["graph"].grade(problem, {"nodes": {2: [0.22, 0.26]}})
    assert [p.correct for p in right.parts if p.name == "nodes"] == [True]


@pytest.mark.parametrize(
    ("nodes", "where"),
    [({"2": [0.22]}, 2), ({"4": 1}, 4), ({"2": "1 2; 3 4"}, 2)],
)
def test_vector_nodes_of_a_wrong_shape_or_id_are_named(nodes: dict[str, Any], where: int) -> None:
    from solvers.registry import TASKS

    problem = GraphProblem(expression="||W x||^2", values={"W": W, "x": X})
    with pytest.raises(ValidationError) as error:
        TASKS["graph"].grade(problem, {"nodes": nodes})
    assert error.value.errors()[0]["loc"][:2] == ("nodes", where)


def test_a_scalar_node_given_as_a_vector_is_named() -> None:
    from solvers.registry import TASKS

    problem = GraphProblem(expression="x * y", values={"x": 2, "y": 3})
    with pytest.raises(ValidationError) as error:
        TASKS["graph"].grade(problem, {"nodes": {"2": [1, 2]}})
    assert error.value.errors()[0]["loc"][:2] == ("nodes", 2)


def test_the_rounding_band_of_a_vector_problem() -> None:
    from solvers.core import hand_rounder
    from solvers.grading.core import Tolerance
    from solvers.registry import TASKS
    from solvers.tasks.graph import vector_grading

    problem = GraphProblem(
        expression="||W x||^2", values={"W": [[0.15, 0.25], [0.35, 0.45]], "x": [0.33, 0.77]}
    )
    hand = vector_grading.hand(vector_grading.batch([problem], "cpu"), hand_rounder(2))
    # q = W x = [0.242, 0.462] written [0.24, 0.46]; 2q = [0.48, 0.92]; 0.92 · 0.33 = 0.3036
    assert hand["nodes"][0, 6:8].tolist() == [0.24, 0.46]
    assert hand["gradients.W"][0].tolist() == [[0.16, 0.37], [0.3, 0.71]]
    answer = {"gradients": {"W": [[0.16, 0.37], [0.30, 0.71]]}}
    exact = TASKS["graph"].grade(problem, answer, Tolerance(absolute=0.001))
    banded = TASKS["graph"].grade(
        problem, answer, Tolerance(absolute=0.001, intermediate_decimals=2)
    )
    [w_exact] = [p for p in exact.parts if p.name == "gradients.W"]
    [w_band] = [p for p in banded.parts if p.name == "gradients.W"]
    assert not w_exact.correct
    assert w_band.correct and w_band.rounding


@pytest.mark.parametrize(
    ("gate", "loss", "scores", "labels"),
    [
        ("svm", "svm", [[0.1, 0.2, -1.2], [-0.0, -1.5, -0.1], [0.1, 1.1, -0.4]], [2, 2, 0]),
        ("softmax_ce", "softmax", [[0.1, 1.5, -1.8], [0.4, -1.3, 1.1], [1.8, 0.2, -2]], [0, 0, 0]),
    ],
)
def test_loss_gates_are_the_loss_tasks(
    gate: str, loss: str, scores: list[list[float]], labels: list[int]
) -> None:
    """The svm and softmax_ce gates compute the loss task's per-example losses (its one
    implementation, to the bit: these scores give another last bit when the margins or the
    log-sum are added in another order) and take their mean; their gradient is the loss
    task's."""
    answer = solve(GraphProblem(expression=f"{gate}(S, y)", values={"S": scores, "y": labels}))
    worked = solve_loss(LossProblem(scores=scores, labels=labels, examples="rows", loss=loss))
    per_example = worked.answer.per_example
    assert answer.answer.output == np.mean(per_example)
    np.testing.assert_allclose(answer.answer.gradients["S"], worked.answer.grad_scores, rtol=1e-15)


def test_a_scalar_spread_over_a_vector_gets_the_sum_of_its_gradients() -> None:
    problem = GraphProblem(expression="sum(c * x)", values={"c": 2.0, "x": [1.0, -3.0, 0.5]})
    graph, ev = problem.vector_passes()
    [spread] = [step[4] for step in graph.plan if step[1].op == "*"]
    assert spread == ((1,), None)  # c (B,) taken as (B, 1) against x (B, 3)
    assert ev.grads[graph.variables.index("c")] == pytest.approx(-1.5)
    np.testing.assert_array_equal(ev.grads[graph.variables.index("x")], [2.0, 2.0, 2.0])
