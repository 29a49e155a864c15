"""The loss task's one tensor implementation: each named mistake is it with one override."""

from __future__ import annotations

import math
from typing import Any

import pytest
import torch

from solvers.tasks.loss import LossProblem, example, solve
from solvers.tasks.loss.compute import LossBatch, axis_sum, last_argmax, loss_tensors
from solvers.tasks.loss.grading import GRADER, LN10, MISCONCEPTIONS, specs

REG = {"reg": 0.1, "weights": [[1, 2], [0, -1]]}


def _problem(**changes: Any) -> LossProblem:
    return LossProblem(**{**example().model_dump(), **changes})


def _batch(problem: LossProblem) -> LossBatch:
    return LossBatch.from_problems([problem])


def _losses(problem: LossProblem) -> tuple[list[float], float]:
    answer = solve(problem).answer
    return answer.per_example, answer.loss


def _override(problem: LossProblem, **override: Any) -> tuple[list[float], float]:
    t = loss_tensors(_batch(problem), **override)
    return t.per_example[0].tolist(), t.loss.item()


def _close(a: tuple[list[float], float], b: tuple[list[float], float]) -> bool:
    return all(
        math.isclose(x, y, abs_tol=1e-12) for x, y in zip([*a[0], a[1]], [*b[0], b[1]], strict=True)
    )


def _plain(problem: LossProblem, misconception: str) -> tuple[list[float], float]:
    """The mistake's per-example losses and loss from plain arithmetic."""
    per = []
    for s, y in zip(problem.rows(), problem.labels, strict=True):
        if misconception == "svm_correct_class":
            per.append(sum(max(0.0, v - s[y] + problem.margin) for v in s))
        elif misconception == "no_hinge":
            per.append(sum(v - s[y] + problem.margin for j, v in enumerate(s) if j != y))
        else:  # wrong_class_prob: −ln of the largest probability
            per.append(math.log(sum(math.exp(v) for v in s)) - max(s))
    return per, sum(per) / len(per)


# misconception: (the problem, the override, the problem whose right answer it gives or None)
CASES: dict[str, tuple[LossProblem, dict[str, Any], LossProblem | None]] = {
    "log10": (_problem(loss="softmax"), {"ln_base": LN10}, _problem(loss="softmax", log_base="10")),
    "svm_correct_class": (example(), {"correct_class": True}, None),
    "no_hinge": (example(), {"hinge": False}, None),
    "sum_instead_of_mean": (example(), {"scale": 1.0}, _problem(reduction="sum")),
    "wrong_class_prob": (_problem(loss="softmax"), {"wrong_class": True}, None),
    "reg_forgotten": (_problem(**REG), {"reg_factor": 0.0}, example()),
    "reg_halved": (_problem(**REG), {"reg_factor": 0.5}, _problem(**REG, reg_convention="half_l2")),
    "reg_doubled": (_problem(**REG), {"reg_factor": 2.0}, _problem(**{**REG, "reg": 0.2})),
}


GRADIENT_ONLY = {"grad_no_minus_one": {"minus_one": False}}
"""The mistakes of the gradient alone (the losses stay right)."""


def test_every_loss_misconception_has_its_override() -> None:
    assert set(CASES) | set(GRADIENT_ONLY) == {m.id for m in MISCONCEPTIONS}


def test_the_softmax_gradient_without_minus_one_is_the_probabilities() -> None:
    """dL/ds without the −1 at the correct class: p_j / N in every cell; its candidate is
    the gradient part's, and it leaves the losses alone."""
    problem = _problem(loss="softmax")
    b = _batch(problem)
    t = loss_tensors(b, **GRADIENT_ONLY["grad_no_minus_one"])
    assert _close(_override(problem, minus_one=False), _losses(problem))
    probabilities = loss_tensors(b).probabilities
    assert torch.allclose(t.grad, probabilities / 3)
    nothing = {
        name: torch.full((1, *shape), math.nan, dtype=torch.float64)
        for name, shape in GRADER.shapes(problem).items()
    }
    index = GRADER.index("grad_no_minus_one")
    found = {s.name for s in specs(b, nothing) for i, _ in s.candidates if i == index}
    assert found == {"grad_scores"}


@pytest.mark.parametrize("misconception", list(CASES))
def test_misconception_is_the_implementation_with_its_override(misconception: str) -> None:
    problem, override, same_as = CASES[misconception]
    wrong = _override(problem, **override)
    assert not _close(wrong, _losses(problem))
    expected = _losses(same_as) if same_as is not None else _plain(problem, misconception)
    assert _close(wrong, expected)
    # the grader's candidate answers are exactly these
    nothing = {
        name: torch.full((1, *shape), math.nan, dtype=torch.float64)
        for name, shape in GRADER.shapes(problem).items()
    }
    index = GRADER.index(misconception)
    candidates = {
        spec.name: c
        for spec in specs(_batch(problem), nothing)
        for i, c in spec.candidates
        if i == index
    }
    assert candidates["loss"].item() == wrong[1]
    if "per_example" in candidates:
        assert candidates["per_example"][0].tolist() == wrong[0]


def test_a_mistake_that_gives_the_right_answer_is_not_a_candidate() -> None:
    nothing = {
        name: torch.full((1, *shape), math.nan, dtype=torch.float64)
        for name, shape in GRADER.shapes(example()).items()
    }
    for problem, misconception in (
        (_problem(loss="softmax", log_base="10"), "log10"),
        (_problem(reduction="sum"), "sum_instead_of_mean"),
    ):
        for spec in specs(_batch(problem), nothing):
            for i, c in spec.candidates:
                if i == GRADER.index(misconception):
                    assert torch.isnan(c).all()


def test_the_lecture_svm_is_torch_s_multi_margin_loss_bit_for_bit() -> None:
    b = _batch(example())
    t = loss_tensors(b)
    torch_losses = torch.nn.functional.multi_margin_loss(
        b.scores[0], b.labels[0], margin=1.0, reduction="none"
    )
    assert t.per_example[0].tolist() == (torch_losses * 3).tolist()  # torch divides by C
    assert t.loss.item() == pytest.approx(79 / 15)


@pytest.mark.parametrize("loss", ["svm", "softmax"])
def test_reduced_is_the_override_of_the_last_step_bit_for_bit(loss: str) -> None:
    problems = [
        _problem(loss=loss, **REG),
        _problem(loss=loss, reduction="sum", log_base="10"),
        _problem(loss=loss, reg=0.3, weights=[[0.5, -2]], reg_convention="half_l2"),
    ]
    for device in ("cpu", None):  # torch, and numpy for a single problem
        b = LossBatch.from_problems(problems if device else problems[:1], device)
        right = loss_tensors(b)
        for override in ({"scale": 1.0}, {"reg_factor": 0.5}, {"ln_base": LN10}):
            fast, slow = right.reduced(b, **override), loss_tensors(b, **override)
            for name in ("per_example", "data_loss", "reg_loss", "loss", "grad"):
                assert getattr(fast, name).tolist() == getattr(slow, name).tolist()


@pytest.mark.parametrize("size", [1, 2, 3, 4, 5, 8])
def test_short_sums_and_argmax_are_torch_s_bit_for_bit(size: int) -> None:
    """The sums over a short axis added term by term, and the argmax compared term by term,
    give torch's own results: the same bits (−0 + −0 is +0) and the first of equal maxima."""
    generator = torch.Generator().manual_seed(size)
    x = torch.randn(4000, 3, size, generator=generator, dtype=torch.float64)
    x = x * torch.rand(4000, 3, size, generator=generator, dtype=torch.float64).exp() * 100
    x[:50] = -0.0
    x[50:100] = x[50:100].round()  # ties
    for axis in (1, 2):
        for keepdims in (False, True):
            expected = x.sum(axis=axis, keepdims=keepdims)
            got = axis_sum(x, axis, keepdims)
            assert torch.equal(got, expected)
            assert torch.equal(got.signbit(), expected.signbit())
    assert torch.equal(last_argmax(x), x.argmax(axis=-1))
    x[0, 0, 0] = math.nan
    assert torch.equal(last_argmax(x), x.argmax(axis=-1))
