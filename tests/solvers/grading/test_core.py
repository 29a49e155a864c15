"""Grading: full marks for rounded answers, every named misconception, error carried forward,
tolerance rules, and bad submissions."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from pydantic import ValidationError

from solvers.grading.batch import grade
from solvers.grading.core import Tolerance
from solvers.registry import TASKS
from solvers.tasks import conv, graph, loss
from solvers.tasks.conv import ConvProblem, PoolSpec
from solvers.tasks.graph import GraphProblem
from solvers.tasks.loss import LossProblem

MISCONCEPTIONS = {task_id: task.grader.misconceptions for task_id, task in TASKS.items()}
CAT = LossProblem(scores=[[3.2], [5.1], [-1.7]], labels=[0], loss="softmax")
REG = {"reg": 0.1, "weights": [[1, 2], [0, -1]]}
IMAGE = [[1, 2, 0, 1], [0, 1, 3, 1], [2, 0, 1, 2], [1, 1, 0, 3]]
ASYMMETRIC = [[1, 0], [-1, 2]]


def r2(value: Any) -> Any:
    """Rounded to 2 decimals, as a student writes it."""
    return [r2(v) for v in value] if isinstance(value, list) else round(value, 2)


def loss_answer(problem: LossProblem) -> dict[str, Any]:
    answer = loss.solve(problem).answer
    return {"per_example": r2(answer.per_example), "loss": r2(answer.loss)}


def graph_answer(problem: GraphProblem) -> dict[str, Any]:
    answer = graph.solve(problem, symbolic=False).answer
    return {"output": r2(answer.output), "gradients": r2_dict(answer.gradients)}


def r2_dict(values: dict[str, Any]) -> dict[str, Any]:
    return {k: r2(v) for k, v in values.items()}


def conv_answer(problem: ConvProblem) -> dict[str, Any]:
    answer = conv.solve(problem).answer
    maps = {"conv": answer.conv, "activation": answer.activation, "pool": answer.pool}
    return {k: r2(v) for k, v in maps.items() if v is not None}


def full_marks(task: str, problem: Any, answer: dict[str, Any]) -> None:
    result = grade(task, problem, answer)
    assert result.score == result.max_score, [p for p in result.parts if not p.correct]
    assert all(p.misconception is None for p in result.parts)


def named(task: str, problem: Any, answer: dict[str, Any], part: str) -> str | None:
    result = grade(task, problem, answer)
    (found,) = [p for p in result.parts if p.name == part]
    assert not found.correct
    return found.misconception


# ---- full marks --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("task", "problem", "answer"),
    [
        ("loss", loss.example(), loss_answer(loss.example())),
        ("loss", CAT, {"per_example": "2,04", "loss": "2,04"}),
        ("loss", LossProblem(**{**loss.example().model_dump(), **REG}), None),
        ("loss", LossProblem(**{**loss.example().model_dump(), "loss": "softmax"}), None),
        ("graph", graph.example(), graph_answer(graph.example())),
        ("conv", conv.example(), conv_answer(conv.example())),
    ],
)
def test_rounded_answers_get_full_marks(task: str, problem: Any, answer: Any) -> None:
    full_marks(task, problem, answer or loss_answer(problem))


def test_lecture_numbers_as_printed() -> None:
    full_marks("loss", loss.example(), {"per_example": [2.9, 0, 12.9], "loss": 5.27})
    printed = {"w0": -0.2, "x0": 0.39, "w1": -0.39, "x1": -0.59, "w2": 0.2}
    full_marks("graph", graph.example(), {"output": 0.73, "gradients": printed})
    full_marks("conv", conv.example(), {"conv": "1 -2; 3 1", "activation": "1 0; 3 1", "pool": 3})


def test_the_log10_cat_is_named() -> None:
    result = grade("loss", CAT, {"per_example": [0.89], "loss": 0.89})
    assert [p.misconception for p in result.parts] == ["log10", "log10"]
    assert result.parts[0].step_kind == "softmax.example"
    assert result.parts[0].feedback == MISCONCEPTIONS["loss"][0].explanation


# ---- every misconception -----------------------------------------------------------------


def _loss_with(**changes: Any) -> LossProblem:
    return LossProblem(**{**loss.example().model_dump(), **changes})


def _svm_rows(problem: LossProblem, correct_class: bool, hinge: bool) -> list[float]:
    out = []
    for s, y in zip(problem.rows(), problem.labels, strict=True):
        terms = [v - s[y] + problem.margin for j, v in enumerate(s) if correct_class or j != y]
        out.append(sum(max(0.0, t) if hinge else t for t in terms))
    return out


def _loss_case(misconception: str) -> tuple[LossProblem, dict[str, Any]]:
    """A problem where the misconception differs, and the answer it produces."""
    svm, softmax = loss.example(), _loss_with(loss="softmax")
    reg = _loss_with(**REG)
    if misconception == "log10":
        return softmax, loss_answer(_loss_with(loss="softmax", log_base="10"))
    if misconception in ("svm_correct_class", "no_hinge"):
        per = _svm_rows(svm, misconception == "svm_correct_class", misconception != "no_hinge")
        return svm, {"per_example": r2(per), "loss": round(sum(per) / 3, 2)}
    if misconception == "sum_instead_of_mean":
        return svm, loss_answer(_loss_with(reduction="sum"))
    if misconception == "wrong_class_prob":
        per = [
            math.log(sum(math.exp(v) for v in s)) - max(s) for s in softmax.rows()
        ]  # −ln of the largest probability
        return softmax, {"per_example": r2(per), "loss": round(sum(per) / 3, 2)}
    if misconception == "reg_forgotten":
        return reg, loss_answer(svm)
    if misconception == "reg_halved":
        return reg, loss_answer(_loss_with(**REG, reg_convention="half_l2"))
    if misconception == "grad_no_minus_one":  # p_j / N in every cell, no −1 at y_i
        t = loss.compute.loss_tensors(loss.compute.LossBatch.from_problems([softmax]))
        grad = (t.probabilities[0] / 3).T.tolist()  # the example's scores are in columns
        return softmax, {**loss_answer(softmax), "grad_scores": r2(grad)}
    return reg, loss_answer(_loss_with(**{**REG, "reg": 0.2}))  # reg_doubled


GRAPH_CASES = {
    # misconception: (expression, values, the wrong gradients as the student computes them)
    "sign_lost": ("-(x*y) + z", {"x": 2, "y": 3, "z": 1}, {"x": 3, "y": 2, "z": 1}),
    "exp_local_one": ("exp(x*y)", {"x": 1, "y": 0.5}, {"x": 0.5, "y": 1}),
    "reciprocal_local": ("1/(x+y)", {"x": 1, "y": 1}, {"x": 0.5, "y": 0.5}),
    "branch_not_summed": ("x*y + x", {"x": 2, "y": 3}, {"x": 3, "y": 2}),
    "max_both": ("max(x, y)*z", {"x": 3, "y": 1, "z": 2}, {"x": 2, "y": 2, "z": 3}),
    # the lecture's (x+y)·z: ∂f/∂x = −4 with the sign lost on the + gate's input x;
    # ∂f/∂q = q and ∂f/∂z = z with the · gate's local gradients swapped
    "sign_lost_at_gate": ("(x+y)*z", {"x": -2, "y": 5, "z": -4}, {"x": 4, "y": -4, "z": 3}),
    "mul_swapped": ("(x+y)*z", {"x": -2, "y": 5, "z": -4}, {"x": 3, "y": 3, "z": -4}),
    # vector graphs
    "transposed_gradient": ("||W x||^2", {"W": [[0.1, 0.5], [-0.3, 0.8]], "x": [0.2, 0.4]},
                            {"W": [[0.088, 0.104], [0.176, 0.208]], "x": [-0.11, 0.64]}),
    "transpose_forgotten": ("sum(W x)", {"W": [[1, 2], [3, 4]], "x": [1, 1]},
                            {"W": [[1, 1], [1, 1]], "x": [3, 7]}),
    "norm_factor_forgotten": ("||x||^2", {"x": [1, 2]}, {"x": [1, 2]}),
}  # fmt: skip


def _conv_case(misconception: str) -> tuple[ConvProblem, dict[str, Any], str]:
    """A problem, the answer the misconception produces, and the part to look at."""
    base = {"image": IMAGE, "filters": ASYMMETRIC, "bias": 1, "stride": 1, "padding": 0}
    changes: dict[str, Any] = {
        "kernel_flipped": ({}, {"mode": "convolution"}),
        "stride_one": ({"stride": 2}, {"stride": 1}),
        "padding_ignored": ({"padding": 1, "pool": None}, {"padding": 0, "pool": None}),
        "bias_forgotten": ({}, {"bias": 0}),
        "avg_instead_of_max": ({}, {"pool": PoolSpec(kind="avg")}),
        "pool_stride_wrong": ({}, {"pool": PoolSpec(size=2, stride=1)}),
        "pool_window_wrong": (
            {"pool": PoolSpec(kind="avg")},
            {"pool": PoolSpec(kind="avg", size=3, stride=2)},
        ),
    }.get(misconception, ({}, {}))
    if misconception in ("cell_sign", "relu_skipped"):
        problem = ConvProblem(**{**base, "bias": -2})
        answer = conv_answer(problem)
        if misconception == "cell_sign":  # conv[1,2] written with the opposite sign
            answer["conv"][0][0][1] = -answer["conv"][0][0][1]
            return problem, {"conv": answer["conv"]}, "conv"
        answer["activation"] = answer["conv"]  # the negative cells kept
        return problem, answer, "activation"
    if misconception == "pool_before_relu":
        problem = ConvProblem(**{**base, "bias": -2, "pool": PoolSpec(kind="avg", size=2)})
        maps = conv.solve(problem).answer
        raw = np.asarray(maps.conv)[:, :2, :2].mean(axis=(1, 2)).reshape(1, 1, 1)
        answer = conv_answer(problem)
        answer["pool"] = np.maximum(raw, 0).tolist()
        return problem, answer, "pool"
    problem = ConvProblem(**{**base, **changes[0]})
    wrong = ConvProblem(**{**base, **changes[0], **changes[1]})
    pooling = ("avg_instead_of_max", "pool_stride_wrong", "pool_window_wrong")
    part = "pool" if misconception in pooling else "conv"
    return problem, conv_answer(wrong), part


CASES = [("loss", m.id) for m in MISCONCEPTIONS["loss"]]
CASES += [("graph", m.id) for m in MISCONCEPTIONS["graph"]]
CASES += [("conv", m.id) for m in MISCONCEPTIONS["conv"]]


@pytest.mark.parametrize(("task", "misconception"), CASES)
def test_every_misconception_is_named(task: str, misconception: str) -> None:
    if task == "loss":
        problem, answer = _loss_case(misconception)
        part = "per_example" if misconception in {"log10", "svm_correct_class"} else "loss"
        part = "per_example" if misconception in {"no_hinge", "wrong_class_prob"} else part
        part = "grad_scores" if misconception == "grad_no_minus_one" else part
    elif task == "graph":
        expression, values, wrong = GRAPH_CASES[misconception]
        problem = GraphProblem(expression=expression, values=values)
        answer = graph_answer(problem)
        answer["gradients"] = wrong
        part = f"gradients.{next(k for k, v in wrong.items() if v != answer_of(problem, k))}"
    else:
        problem, answer, part = _conv_case(misconception)
    assert named(task, problem, answer, part) == misconception
    entry = next(m for m in MISCONCEPTIONS[task] if m.id == misconception)
    result = grade(task, problem, answer)
    (found,) = [p for p in result.parts if p.name == part]
    assert found.step_kind == entry.step_kind
    assert found.feedback == entry.explanation
    assert found.score < found.max_score


def answer_of(problem: GraphProblem, name: str) -> Any:
    return r2(graph.solve(problem, symbolic=False).answer.gradients[name])


def test_a_misconception_is_not_named_where_it_changes_nothing() -> None:
    # max pooling commutes with ReLU: pooling before ReLU gives the right map
    problem = conv.example()
    result = grade("conv", problem, {"conv": [[1, -2], [3, 1]], "pool": [[4]]})
    assert result.parts[2].misconception is None
    # log base 10 of a problem asking for base 10 is right
    base10 = _loss_with(loss="softmax", log_base="10")
    full_marks("loss", base10, loss_answer(base10))


def test_missing_parts_score_zero_and_say_so() -> None:
    result = grade("conv", conv.example(), {"conv": [[1, -2], [3, 1]]})
    assert (result.score, result.max_score) == (1, 3)
    assert [p.feedback for p in result.parts[1:]] == ["This part is missing."] * 2
    assert result.parts[1].given is None


def test_optional_parts_count_only_when_given() -> None:
    problem = loss.example()
    answer = loss_answer(problem)
    assert grade("loss", problem, answer).max_score == 2
    grad = loss.solve(problem).answer.grad_scores
    with_grad = grade("loss", problem, {**answer, "grad_scores": r2(grad)})
    assert (with_grad.score, with_grad.max_score) == (3, 3)
    assert with_grad.parts[2].cells == [[True] * 3] * 3


def test_matrix_parts_score_by_cell() -> None:
    result = grade("conv", conv.example(), {"conv": [[1, -2], [3, 5]]})
    assert result.parts[0].cells == [[[True, True], [True, False]]]
    assert result.parts[0].score == 0.75
    assert result.parts[0].params == {"part": "conv", "wrong": 1, "cells": 4}


# ---- error carried forward ---------------------------------------------------------------


def test_conv_error_carried_forward() -> None:
    # conv cell (2, 2) is wrong (2 instead of 1); ReLU and pool follow from it
    answer = {"conv": [[1, -2], [3, 5]], "activation": [[1, 0], [3, 5]], "pool": [[5]]}
    result = grade("conv", conv.example(), answer)
    conv_part, activation, pool = result.parts
    assert not conv_part.consistent
    assert activation.consistent and pool.consistent
    assert activation.score == 0.75 + 0.25 * 0.5
    assert pool.score == 0.5
    assert result.carried_forward_score == pytest.approx(0.125 + 0.5)
    assert pool.params["source"] == "activation"


def test_conv_carried_forward_through_another_shape() -> None:
    problem, answer, _ = _conv_case("stride_one")
    stride1 = ConvProblem(**{**problem.model_dump(), "stride": 1})
    activation = conv.solve(stride1).answer.activation
    result = grade("conv", problem, {"conv": answer["conv"], "activation": activation})
    assert result.parts[0].misconception == "stride_one"
    assert result.parts[1].consistent


def test_graph_error_carried_forward() -> None:
    problem = graph.example()
    # node 10 (exp) given as 0.5 instead of 0.37: the student continues from it
    z = 0.5
    output = 1 / (1 + z)
    local = -1 / (1 + z) ** 2
    dw0 = local * z * -1 * -1  # through +1, exp (local = its value), ·(−1), +, *
    answer = {
        "nodes": {10: z, 11: 1 + z, 12: round(output, 4)},
        "output": round(output, 4),
        "gradients": {"w0": round(dw0, 4)},
    }
    result = grade("graph", problem, answer)
    parts = {p.name: p for p in result.parts}
    assert parts["output"].consistent and parts["output"].score == 0.5
    assert parts["gradients.w0"].consistent
    # node 10 is the student's own slip; nodes 11 and 12 follow from it
    assert parts["nodes"].cells == {"10": False, "11": False, "12": False}
    assert not parts["nodes"].consistent
    assert parts["nodes"].score == pytest.approx(0.5 * 2 / 3)
    assert result.carried_forward_score == pytest.approx(0.5 + 0.5 + 1 / 3)


def test_loss_carried_forward_from_per_example() -> None:
    result = grade("loss", loss.example(), {"per_example": [3.9, 0, 12.9], "loss": 5.6})
    assert not result.parts[0].correct and result.parts[0].score == pytest.approx(2 / 3)
    assert result.parts[1].consistent and result.parts[1].score == 0.5
    assert result.parts[1].misconception is None


# ---- tolerance ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tolerance", "given", "right"),
    [
        (None, 5.27, True),
        (None, 5.3, True),  # within 1 % of 5.27
        (None, 5.33, False),
        ({"decimals": 3}, 5.267, True),
        ({"decimals": 3}, 5.27, False),
        ({"decimals": 1}, 5.3, True),
        ({"sigfigs": 2}, 5.3, True),
        ({"sigfigs": 3}, 5.26, False),
        ({"absolute": 0.1}, 5.35, True),
        ({"relative": 0.05}, 5.5, True),
        ({"relative": 0.01}, 5.5, False),
        ({"absolute": 0.0}, 5.266666666666666, True),
        ({"parts": {"loss": {"absolute": 1}}}, 6, True),
        ({"parts": {"per_example": {"absolute": 1}}}, 5.33, False),
    ],
)
def test_tolerance_rules(tolerance: dict[str, Any] | None, given: float, right: bool) -> None:
    rule = None if tolerance is None else Tolerance.model_validate(tolerance)
    result = grade("loss", loss.example(), {"loss": given}, rule)
    assert result.parts[1].correct is right


def test_tolerance_per_part_family() -> None:
    problem = graph.example()
    answer = {"output": 0.73, "gradients": {"w0": -0.3}}
    loose = Tolerance(parts={"gradients": {"absolute": 0.2}})
    assert grade("graph", problem, answer, loose).parts[1].correct
    assert not grade("graph", problem, answer).parts[1].correct


# ---- bad submissions ---------------------------------------------------------------------


def _error(task: str, problem: Any, answer: Any) -> dict[str, Any]:
    with pytest.raises(ValidationError) as info:
        grade(task, problem, answer)
    (error,) = info.value.errors()
    return error


def test_unknown_parts_are_named() -> None:
    assert _error("loss", loss.example(), {"loss": 1, "losses": 2})["loc"] == ("losses",)
    error = _error("graph", graph.example(), {"gradients": {"w9": 1}})
    assert error["loc"] == ("gradients", "w9") and error["type"] == "grading_unknown"
    assert _error("graph", graph.example(), {"nodes": {"40": 1}})["loc"] == ("nodes", 40)
    problem = ConvProblem(**{**conv.example().model_dump(), "pool": None})
    assert _error("conv", problem, {"pool": [[1]]})["loc"] == ("pool",)


def test_wrong_shapes_name_the_expected_shape() -> None:
    error = _error("loss", loss.example(), {"per_example": [1, 2]})
    assert error["loc"] == ("per_example",) and error["type"] == "grading_shape"
    assert error["ctx"]["expected"] == "3"
    error = _error("conv", conv.example(), {"pool": [[1, 2], [3, 4]]})
    assert error["loc"] == ("pool",) and error["ctx"]["expected"] == "1×1×1"
    error = _error("loss", loss.example(), {"grad_scores": "1 2; 3 4"})
    assert error["ctx"] == {"part": "grad_scores", "expected": "3×3", "given": "2×2"}


@pytest.mark.parametrize(
    ("task", "answer", "loc"),
    [
        ("loss", {"loss": "five"}, ("loss",)),
        ("loss", {"loss": True}, ("loss",)),
        ("loss", {"per_example": "1 x 3"}, ("per_example",)),
        ("graph", {"output": "nan"}, ("output",)),
        ("graph", {"gradients": {"w0": "1,2,3"}}, ("gradients",)),
        ("conv", {"conv": "1 2; three 4"}, ("conv",)),
    ],
)
def test_text_in_numbers_is_a_format_error(task: str, answer: Any, loc: tuple[str, ...]) -> None:
    problem = {"loss": loss.example, "graph": graph.example, "conv": conv.example}[task]()
    error = _error(task, problem, answer)
    assert error["loc"] == loc
    assert error["ctx"]["part"].startswith(loc[0])


def test_decimal_commas_and_text_forms() -> None:
    full_marks("loss", loss.example(), {"per_example": "2,9 0 12,9", "loss": "5,27"})
    full_marks(
        "graph",
        graph.example(),
        {"output": "0,73", "gradients": graph_answer(graph.example())["gradients"]},
    )


def test_catalogue_is_complete() -> None:
    ids = {task: [m.id for m in entries] for task, entries in MISCONCEPTIONS.items()}
    assert set(ids["loss"]) >= {
        "log10",
        "svm_correct_class",
        "no_hinge",
        "sum_instead_of_mean",
        "wrong_class_prob",
        "reg_forgotten",
        "reg_halved",
    }
    assert set(ids["graph"]) >= {
        "transposed_gradient",
        "transpose_forgotten",
        "norm_factor_forgotten",
    }  # vector graphs
    assert len(set(ids["graph"])) == 10 and len(set(ids["conv"])) == 10
