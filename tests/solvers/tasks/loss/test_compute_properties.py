"""The loss solver against torch on random shapes and values (hypothesis)."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from solvers.tasks.loss import LossAnswer, LossProblem, solve, solve_batch

TOL = 1e-9
LN_BASE = {"e": 1.0, "10": math.log(10.0), "2": math.log(2.0)}

values = st.one_of(
    st.integers(-5, 5).map(float),  # ties and exact kinks of the hinge
    st.floats(-10, 10, allow_nan=False),
    st.floats(-1e6, 1e6, allow_nan=False),
)


def transpose(matrix: list[list[float]]) -> list[list[float]]:
    return [list(column) for column in zip(*matrix, strict=True)]


@st.composite
def problems(
    draw: st.DrawFn, loss: str | None = None, shape: tuple[int, int] | None = None
) -> LossProblem:
    """A random problem; ``loss`` and the N×C ``shape`` are fixed when given."""
    n, c = shape or (draw(st.integers(1, 6)), draw(st.integers(1, 6)))
    rows = draw(st.lists(st.lists(values, min_size=c, max_size=c), min_size=n, max_size=n))
    examples = draw(st.sampled_from(["rows", "columns"]))
    options = {
        "scores": rows if examples == "rows" else transpose(rows),
        "labels": draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n)),
        "examples": examples,
        "loss": loss or draw(st.sampled_from(["svm", "softmax"])),
        "margin": draw(st.one_of(st.just(1.0), st.just(0.0), st.floats(0, 10))),
        "log_base": draw(st.sampled_from(["e", "10", "2"])),
        "reduction": draw(st.sampled_from(["mean", "sum"])),
    }
    if draw(st.booleans()):
        w_rows, w_cols = draw(st.integers(1, 4)), draw(st.integers(1, 4))
        weight = st.floats(-10, 10, allow_nan=False)
        options["weights"] = draw(
            st.lists(
                st.lists(weight, min_size=w_cols, max_size=w_cols), min_size=w_rows, max_size=w_rows
            )
        )
        options["reg"] = draw(st.one_of(st.just(0.0), st.floats(0, 10)))
        options["reg_convention"] = draw(st.sampled_from(["l2", "half_l2"]))
    return LossProblem(**options)


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=TOL, abs_tol=TOL)


def all_close(a: list, b: list) -> bool:
    flat_a = torch.tensor(a, dtype=torch.float64).flatten().tolist()
    flat_b = torch.tensor(b, dtype=torch.float64).flatten().tolist()
    return len(flat_a) == len(flat_b) and all(map(close, flat_a, flat_b))


def check_against_torch(problem: LossProblem, per_example: torch.Tensor, x: torch.Tensor) -> None:
    """Compare ``solve`` with torch's per-example losses and autograd of the total loss."""
    answer = solve(problem).answer
    data = per_example.mean() if problem.reduction == "mean" else per_example.sum()
    total = data
    if problem.weights is not None:
        w = torch.tensor(problem.weights, dtype=torch.float64, requires_grad=True)
        factor = 1.0 if problem.reg_convention == "l2" else 0.5
        reg = factor * problem.reg * (w * w).sum()
        assert close(answer.reg_loss, reg.item())
        total = data + reg
    else:
        assert answer.reg_loss == 0.0
    total.backward()
    grad = x.grad.tolist()
    if problem.examples == "columns":
        grad = transpose(grad)
    assert all_close(answer.per_example, per_example.tolist())
    assert close(answer.data_loss, data.item())
    assert close(answer.loss, total.item())
    assert all_close(answer.grad_scores, grad)
    assert all(math.isfinite(v) for v in answer.per_example)


@settings(max_examples=200, deadline=None)
@given(problems(loss="svm"))
def test_svm_matches_multi_margin_loss(problem: LossProblem) -> None:
    x = torch.tensor(problem.rows(), dtype=torch.float64, requires_grad=True)
    y = torch.tensor(problem.labels)
    # torch divides each example's sum by the number of classes C
    per_example = F.multi_margin_loss(x, y, p=1, margin=problem.margin, reduction="none")
    check_against_torch(problem, per_example * problem.n_classes, x)


@settings(max_examples=200, deadline=None)
@given(problems(loss="softmax"))
def test_softmax_matches_cross_entropy(problem: LossProblem) -> None:
    x = torch.tensor(problem.rows(), dtype=torch.float64, requires_grad=True)
    y = torch.tensor(problem.labels)
    per_example = F.cross_entropy(x, y, reduction="none") / LN_BASE[problem.log_base]
    check_against_torch(problem, per_example, x)
    probabilities = solve(problem).answer.probabilities
    if problem.examples == "columns":
        probabilities = transpose(probabilities)
    assert all_close(probabilities, torch.softmax(x, 1).tolist())


@st.composite
def batches(draw: st.DrawFn) -> list[LossProblem]:
    """Problems of one shape (so they share a batch) mixed with problems of any shape."""
    shape = (draw(st.integers(1, 5)), draw(st.integers(1, 5)))
    same = draw(st.lists(problems(shape=shape), min_size=1, max_size=6))
    other = draw(st.lists(problems(), max_size=4))
    return draw(st.permutations(same + other))


def answers_close(a: LossAnswer, b: LossAnswer) -> bool:
    for field in LossAnswer.model_fields:
        x, y = getattr(a, field), getattr(b, field)
        if (x is None) != (y is None):
            return False
        if x is not None and not (close(x, y) if isinstance(x, float) else all_close(x, y)):
            return False
    return True


@settings(max_examples=100, deadline=None)
@given(batches())
def test_solve_batch_equals_solve(batch: list[LossProblem]) -> None:
    answers = solve_batch(batch, "cpu")
    assert len(answers) == len(batch)
    for problem, answer in zip(batch, answers, strict=True):
        assert answers_close(answer, solve(problem).answer)
