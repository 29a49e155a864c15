"""Diagnosis from the student's own earlier parts: each part is checked against what the
task's one implementation gives from the student's own previous parts; a mistake is named
only when it explains every part it would change, once, with the parts it explains."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from solvers.grading.batch import grade
from solvers.tasks import conv, graph, loss
from solvers.tasks.conv import ConvProblem, PoolSpec
from solvers.tasks.graph import GraphProblem
from solvers.tasks.loss import LossProblem

NEURON = GraphProblem(
    expression="1/(1+exp(-(w0*x0+w1*x1+w2)))",
    values={"w0": 2, "x0": -1, "w1": -3, "x1": -2, "w2": -3},
)
LECTURE = {"w0": -0.2, "x0": 0.39, "w1": -0.39, "x1": -0.59, "w2": 0.2}
SUM_TIMES = GraphProblem(expression="(x+y)*z", values={"x": -2, "y": 5, "z": -4})
IMAGE = [[1, 2, 0, 1], [0, 1, 3, 1], [2, 0, 1, 2], [1, 1, 0, 3]]
BASE = {"image": IMAGE, "filters": [[1, 0], [-1, 2]], "bias": -2, "stride": 1, "padding": 0}


def _parts(result: Any) -> dict[str, Any]:
    return {p.name: p for p in result.parts}


def _maps(problem: ConvProblem) -> dict[str, Any]:
    answer = conv.solve(problem).answer
    return {"conv": answer.conv, "activation": answer.activation, "pool": answer.pool}


# ---- graph: a sign lost at one gate --------------------------------------------------------


def test_two_flipped_gradients_are_the_sign_lost_at_the_gate_that_flips_exactly_them() -> None:
    result = grade("graph", NEURON, {"output": 0.73, "gradients": {**LECTURE, "w0": 0.2,
                                                                     "x0": -0.39}})  # fmt: skip
    (mistake,) = result.mistakes
    assert mistake.misconception == "sign_lost_at_gate"
    assert mistake.parts == ["gradients.w0", "gradients.x0"]
    assert mistake.params["gate"] == "+" and mistake.params["input"] == "n₅"
    parts = _parts(result)
    assert parts["gradients.w0"].misconception == "sign_lost_at_gate"
    assert parts["gradients.w1"].correct and parts["gradients.w1"].misconception is None


def test_every_gradient_flipped_is_the_sign_lost_at_the_minus_one_gate() -> None:
    flipped = {k: -v for k, v in LECTURE.items()}
    (mistake,) = grade("graph", NEURON, {"gradients": flipped}).mistakes
    assert mistake.misconception == "sign_lost"
    assert len(mistake.parts) == 5


@pytest.mark.parametrize(
    ("gradients", "params"),
    [
        ({"x": 4, "y": -4, "z": 3}, {"node": "q", "gate": "+", "input": "x"}),  # the + branch
        ({"x": -4, "y": 4, "z": 3}, {"node": "q", "gate": "+", "input": "y"}),
        ({"x": -4, "y": -4, "z": -3}, {"node": "f", "gate": "·", "input": "z"}),  # · branch
        ({"x": 4, "y": 4, "z": 3}, {"node": "f", "gate": "·", "input": "q"}),
    ],
)
def test_a_sign_lost_at_either_gate_of_x_plus_y_times_z(
    gradients: dict[str, float], params: dict[str, str]
) -> None:
    result = grade("graph", SUM_TIMES, {"output": -12, "gradients": gradients})
    (mistake,) = result.mistakes
    assert (mistake.misconception, mistake.params) == ("sign_lost_at_gate", params)
    assert set(mistake.parts) == {
        f"gradients.{k}" for k, v in gradients.items() if v != {"x": -4, "y": -4, "z": 3}[k]
    }


def test_a_mul_gate_with_respect_to_the_wrong_input() -> None:
    result = grade("graph", SUM_TIMES, {"gradients": {"x": 3, "y": 3, "z": -4}})
    (mistake,) = result.mistakes
    assert mistake.misconception == "mul_swapped"
    assert mistake.params == {"node": "f", "first": "q", "second": "z"}
    assert mistake.parts == ["gradients.x", "gradients.y", "gradients.z"]


def test_a_mistake_contradicted_by_a_right_part_is_not_named() -> None:
    """Losing the sign at the ·(−1) gate would flip ∂f/∂w₂ too; the student has it right,
    and no single mistake flips ∂f/∂w₀ and ∂f/∂w₂ alone."""
    answer = {"gradients": {**LECTURE, "w0": 0.2, "w2": 0.2}}
    result = grade("graph", NEURON, answer)
    assert all(m.misconception != "sign_lost" for m in result.mistakes)


# ---- conv: each stage from the student's own previous stage ------------------------------


def test_a_pool_wrong_from_a_right_relu_map_is_a_pooling_mistake_never_the_kernel() -> None:
    problem = ConvProblem(**{**BASE, "pool": PoolSpec(kind="max", size=2, stride=1)})
    maps = _maps(problem)
    flipped = _maps(ConvProblem(**{**problem.model_dump(), "mode": "convolution"}))
    answer = {**maps, "pool": flipped["pool"]}
    parts = _parts(grade("conv", problem, answer))
    assert parts["pool"].misconception != "kernel_flipped"
    # the average of the student's own (right) ReLU map: average instead of max
    activation = np.asarray(maps["activation"])[0]
    avg = [[[activation[i : i + 2, j : j + 2].mean() for j in range(2)] for i in range(2)]]
    result = grade("conv", problem, {**maps, "pool": avg})
    assert _parts(result)["pool"].misconception == "avg_instead_of_max"
    assert [m.parts for m in result.mistakes] == [["pool"]]


def test_a_pool_that_pools_the_students_own_wrong_relu_map_is_consistent() -> None:
    problem = ConvProblem(**{**BASE, "pool": PoolSpec(kind="max", size=2, stride=1)})
    maps = _maps(problem)
    activation = np.asarray(maps["activation"], dtype=float)
    activation[0, 0, 0] = 9  # a slip in the ReLU map
    pooled = [[[activation[0, i : i + 2, j : j + 2].max() for j in range(2)] for i in range(2)]]
    answer = {**maps, "activation": activation.tolist(), "pool": pooled}
    parts = _parts(grade("conv", problem, answer))
    assert parts["pool"].consistent and parts["pool"].misconception is None
    assert parts["pool"].feedback.startswith("Not the right value, but it follows")


def test_avg_pooling_of_the_students_own_wrong_relu_map_is_still_avg_instead_of_max() -> None:
    problem = ConvProblem(**{**BASE, "pool": PoolSpec(kind="max", size=2, stride=1)})
    maps = _maps(problem)
    activation = np.asarray(maps["activation"], dtype=float)
    activation[0, 2, 2] = 9
    avg = [[[activation[0, i : i + 2, j : j + 2].mean() for j in range(2)] for i in range(2)]]
    answer = {**maps, "activation": activation.tolist(), "pool": avg}
    assert _parts(grade("conv", problem, answer))["pool"].misconception == "avg_instead_of_max"


def test_a_single_conv_cells_sign_names_the_cell() -> None:
    problem = ConvProblem(**BASE)
    maps = _maps(problem)
    maps["conv"][0][1][0] = -maps["conv"][0][1][0]
    result = grade("conv", problem, {"conv": maps["conv"]})
    (mistake,) = result.mistakes
    assert (mistake.misconception, mistake.parts) == ("cell_sign", ["conv[2,1]"])


def test_relu_skipped_then_pooled_is_one_mistake_naming_both_parts() -> None:
    problem = ConvProblem(**{**BASE, "pool": PoolSpec(kind="avg", size=2, stride=1)})
    maps = _maps(problem)
    skipped = _maps(ConvProblem(**{**problem.model_dump(), "activation": "none"}))
    answer = {"conv": maps["conv"], "activation": maps["conv"], "pool": skipped["pool"]}
    result = grade("conv", problem, answer)
    (mistake,) = result.mistakes
    assert mistake.misconception == "relu_skipped"
    negative = np.argwhere(np.asarray(maps["conv"])[0] < 0) + 1  # the cells ReLU zeroes
    assert mistake.parts == [f"activation[{i},{j}]" for i, j in negative] + ["pool"]
    parts = _parts(result)
    assert parts["activation"].feedback != parts["pool"].feedback  # one message, not two
    assert parts["pool"].consistent


def test_a_wrong_pooling_stride_and_window() -> None:
    problem = ConvProblem(**{**BASE, "pool": PoolSpec(kind="avg", size=2)})
    maps = _maps(problem)
    for wrong, misconception in (
        (PoolSpec(kind="avg", size=2, stride=1), "pool_stride_wrong"),
        (PoolSpec(kind="avg", size=3, stride=2), "pool_window_wrong"),
    ):
        pooled = _maps(ConvProblem(**{**problem.model_dump(), "pool": wrong}))["pool"]
        result = grade("conv", problem, {**maps, "pool": pooled})
        (mistake,) = result.mistakes
        assert mistake.misconception == misconception
    assert mistake.params == {"window": "3×3", "size": "2×2"}


# ---- loss ----------------------------------------------------------------------------------


def test_log10_names_both_parts_once_and_the_loss_follows_from_the_li() -> None:
    cat = LossProblem(scores=[[3.2], [5.1], [-1.7]], labels=[0], loss="softmax")
    result = grade("loss", cat, {"per_example": [0.89], "loss": 0.89})
    (mistake,) = result.mistakes
    assert (mistake.misconception, mistake.parts) == ("log10", ["per_example", "loss"])
    loss_part = _parts(result)["loss"]
    assert loss_part.consistent and loss_part.score == 0.5
    assert loss_part.feedback.startswith("Not the right value, but it follows")


def test_sum_instead_of_mean_from_the_students_own_wrong_li() -> None:
    answer = {"per_example": [3.9, 0, 12.9], "loss": 16.8}  # L₁ off by 1, then summed
    result = grade("loss", loss.example(), answer)
    assert _parts(result)["loss"].misconception == "sum_instead_of_mean"


def test_the_softmax_gradient_without_minus_one() -> None:
    cat = LossProblem(scores=[[3.2], [5.1], [-1.7]], labels=[0], loss="softmax")
    right = loss.solve(cat).answer
    grad = np.asarray(right.grad_scores)
    grad[0, 0] += 1  # p_y instead of p_y − 1
    answer = {"per_example": right.per_example, "loss": right.loss, "grad_scores": grad.tolist()}
    result = grade("loss", cat, answer)
    (mistake,) = result.mistakes
    assert (mistake.misconception, mistake.parts) == ("grad_no_minus_one", ["grad_scores[1,1]"])


def test_hand_rounded_carried_forward_part_says_so() -> None:
    """A later part right only as the student's own earlier part worked by hand: the
    rounding flag and the wording say so (the worked case of the rounding tests)."""
    from tests.solvers.grading.test_core_rounding_carried import NEURON as N
    from tests.solvers.grading.test_core_rounding_carried import _exp_node

    answer = {"nodes": {_exp_node(): 3.39}, "gradients": {"x1": 0.51}}
    (part,) = [p for p in grade("graph", N, answer).parts if p.name == "gradients.x1"]
    assert part.consistent and part.rounding
    assert part.feedback.endswith("as rounded by hand to {decimals} decimals: partial credit.")
    assert part.params["decimals"] == 2


def test_node_values_feedback_counts_node_values() -> None:
    nodes = {"5": 1, "6": 2}
    (part,) = [
        p for p in grade("graph", graph.example(), {"nodes": nodes}).parts if p.name == "nodes"
    ]
    assert "cells" not in part.feedback and "node value" in part.feedback
