"""The conv task's one tensor implementation: every misconception the grader names is
:func:`forward` with its override, and equals solving the problem changed that one way."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch

from solvers.tasks.conv import ConvProblem, PoolSpec, solve
from solvers.tasks.conv.compute import ConvBatch
from solvers.tasks.conv.grading import GRADER, MISCONCEPTIONS, MISTAKES, shapes, specs

BASE: dict[str, Any] = {
    "image": [[(3 * i + 5 * j) % 7 - 2 for j in range(6)] for i in range(6)],
    "filters": [[1, 2], [3, -4]],
    "bias": 1,
    "stride": 2,
    "padding": 1,
    "pool": PoolSpec(kind="max", size=2),
}
CHANGED: dict[str, dict[str, Any]] = {
    "kernel_flipped": {"mode": "convolution"},
    "stride_one": {"stride": 1},
    "padding_ignored": {"padding": 0},
    "bias_forgotten": {"bias": 0},
    "avg_instead_of_max": {"pool": PoolSpec(kind="avg", size=2)},
}


def _candidates() -> dict[str, dict[str, list[Any]]]:
    """Each misconception's answer of every part, as the grader computes it."""
    problem = ConvProblem(**BASE)
    nothing = {
        part: torch.full((1, *shape), torch.nan, dtype=torch.float64)
        for part, shape in shapes(problem).items()
    }
    ids = [m.id for m in MISCONCEPTIONS]
    found: dict[str, dict[str, list[Any]]] = {m: {} for m in ids}
    for spec in specs(ConvBatch.of([problem]), nothing):
        for index, answer in spec.candidates:
            found[ids[index]][spec.name] = answer[0].tolist()
    return found


def test_every_misconception_is_an_override() -> None:
    assert list(MISTAKES) == [m.id for m in MISCONCEPTIONS]
    assert GRADER.misconceptions == MISCONCEPTIONS


@pytest.mark.parametrize("misconception", sorted(CHANGED))
def test_override_equals_the_changed_problem(misconception: str) -> None:
    wrong = solve(ConvProblem(**{**BASE, **CHANGED[misconception]})).answer
    right = solve(ConvProblem(**BASE)).answer
    got = _candidates()[misconception]
    assert got  # the misconception applies to this problem
    for part, maps in got.items():
        assert maps == getattr(wrong, part)
        assert maps != getattr(right, part)


def test_pool_before_relu_is_relu_of_the_pooled_conv_map() -> None:
    conv = np.asarray(solve(ConvProblem(**BASE)).answer.conv)
    pooled = conv.reshape(1, 2, 2, 2, 2).max(axis=(2, 4))
    assert _candidates()["pool_before_relu"] == {"pool": np.maximum(pooled, 0).tolist()}
