"""Conv variants (solvers/tasks/conv/variants.py): specs that cannot be met named, draws
within the spec, the rules checked on hand-made candidates, problems and tensor answers."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from pydantic import ValidationError

from solvers.tasks.conv import solve
from solvers.tasks.conv.variants import ConvGenerator, ConvSpec, geometry
from solvers.variants.rng import CounterRng


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ({"size": 3, "kernel": 5}, "the 5×5 kernel is larger than the padded 3×3 image"),
        ({"size": 6, "kernel": 3, "stride": 2}, "(6 − 3 + 2·0)/2 + 1 is not whole"),
        ({"size": 5, "kernel": 3, "stride": 1, "pool_size": 2}, "does not split into 2×2"),
        ({"size": 5, "kernel": 3, "stride": 2, "pool_size": 3}, "pooling window is larger"),
        ({"size": 2, "kernel": 2, "pool_kind": "none"}, "the conv output has a single cell"),
        ({"image_low": 3, "image_high": 1}, "the image range is empty"),
    ],
)
def test_specs_that_cannot_be_met(spec: dict, fragment: str) -> None:
    with pytest.raises(ValidationError) as caught:
        ConvSpec.model_validate(spec)
    assert fragment in str(caught.value)


def test_uneven_sizes_when_allowed() -> None:
    spec = ConvSpec(size=6, kernel=3, stride=2, pool_size=2, allow_uneven=True)
    assert spec.conv_side == 2  # (6 − 3)//2 + 1
    assert geometry(spec).pool_size == (2, 2) and geometry(spec).stride == (2, 2)
    assert geometry(ConvSpec(pool_kind="none")).pool_size is None


def test_draws_stay_in_the_spec() -> None:
    spec = ConvSpec(channels=2, filters=3, image_low=-2, image_high=4, bias_low=-1, bias_high=1)
    arrays = ConvGenerator().draw(CounterRng(np.arange(1, 301, dtype=np.uint64)), spec)
    assert arrays["image"].shape == (300, 2, 5, 5) and arrays["filters"].shape == (300, 3, 2, 3, 3)
    assert arrays["bias"].shape == (300, 3)
    assert (arrays["image"].min(), arrays["image"].max()) == (-2, 4)
    assert set(np.unique(arrays["filters"]).tolist()) == {-1, 0, 1}
    assert set(np.unique(arrays["bias"]).tolist()) == {-1, 0, 1}


def test_the_rules_on_hand_made_candidates() -> None:
    spec = ConvSpec(size=2, kernel=1, stride=1, pool_size=2, kernel_low=-1)
    images = [[[1, 2], [3, 4]], [[1, 2], [3, 4]], [[1, -2], [3, 3]], [[1, -2], [3, 4]]]
    arrays = {
        "image": np.array(images, np.int16)[:, None],
        "filters": np.array([1, -1, 1, 1], np.int16).reshape(4, 1, 1, 1, 1),
        "bias": np.zeros((4, 1), np.int16),
    }
    assert ConvGenerator().violations(arrays, spec).tolist() == [
        [True, False, False],  # every cell positive: ReLU zeroes nothing
        [False, True, True],  # every cell negative: all zeroed, and the pool window ties at 0
        [False, False, True],  # the max 3 twice in the window
        [False, False, False],
    ]


def test_problems_and_their_tensor_answers_agree_with_the_solver() -> None:
    spec = ConvSpec(filters=2, bias_low=-1, bias_high=1)
    generator = ConvGenerator()
    arrays = generator.draw(CounterRng(np.arange(1, 7, dtype=np.uint64)), spec)
    problems = generator.problems(arrays, spec)
    tensors = generator.solve_tensors(arrays, spec, "cpu")
    assert set(tensors) == {"conv", "activation", "pool"}
    for i, problem in enumerate(problems):
        assert problem.stride == 2 and problem.pool is not None and problem.pool.size == 2
        answer = solve(problem).answer
        for part in ("conv", "activation", "pool"):
            assert torch.equal(tensors[part][i], torch.tensor(getattr(answer, part)).double())
