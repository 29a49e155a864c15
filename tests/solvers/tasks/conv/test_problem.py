"""The conv problem (solvers/tasks/conv/problem.py): images and filters as typed, the
geometry, every stage's shape by (N − F + 2P)/S + 1, inconsistencies named."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from solvers.tasks.conv.problem import ConvProblem, Geometry, PoolSpec, out_size, stage_shapes


def test_images_and_filters_as_typed() -> None:
    problem = ConvProblem(image="1 2 3\n4 5 6\n7 8 9\n\n0 0 0\n0 1 0\n0 0 0",
                          filters="1 0\n0 1\n\n1 1\n1 1\n---\n0 1\n1 0\n\n2 2\n2 2",
                          bias="1 -1", pool=None)  # fmt: skip
    assert len(problem.image) == 2 and problem.image[1][1] == [0, 1, 0]
    assert [len(problem.filters), len(problem.filters[0])] == [2, 2]  # K = 2 filters of C = 2
    assert problem.filters[1][1] == [[2, 2], [2, 2]] and problem.bias == [1, -1]
    # a 3-D stack for a one-channel image is K one-channel filters
    stacked = ConvProblem(image="1 2; 3 4", filters="[[[1]], [[2]], [[3]]]", pool=None)
    assert [len(stacked.filters), len(stacked.filters[0])] == [3, 1]


@pytest.mark.parametrize(
    ("n", "f", "p", "s", "size"),
    [(5, 3, 0, 2, 2), (5, 3, 1, 1, 5), (7, 3, 0, 2, 3), (6, 3, 0, 2, 2)],
)
def test_out_size_rounds_down(n: int, f: int, p: int, s: int, size: int) -> None:
    assert out_size(n, f, p, s) == size


def test_the_geometry_and_every_stage_shape() -> None:
    problem = ConvProblem(
        image=[[[float(i * 7 + j) for j in range(7)] for i in range(6)]] * 2,
        filters=[[[[1] * 3] * 2] * 2] * 4,  # K = 4 filters of 2 channels, 2×3 kernels
        stride=[1, 2], padding=1, pool=PoolSpec(kind="avg", size=[2, 1], stride=2),
    )  # fmt: skip
    geometry = Geometry.of(problem)
    assert (geometry.stride, geometry.padding) == ((1, 2), (1, 1))
    assert (geometry.pool_size, geometry.pool_stride) == ((2, 1), (2, 2))
    shapes = stage_shapes(problem)
    # height (6 − 2 + 2)/1 + 1 = 7, width (7 − 3 + 2)//2 + 1 = 4; pooled 7//2 → 3, 4//2 → 2
    assert shapes.padded == [2, 8, 9] and shapes.conv == [4, 7, 4]
    assert shapes.activation == [4, 7, 4] and shapes.pool == shapes.output == [4, 3, 2]
    flat = stage_shapes(ConvProblem(image="1 2; 3 4", filters="1", activation="none", pool=None))
    assert (flat.activation, flat.pool, flat.output) == (None, None, [1, 2, 2])
    assert Geometry.of(problem) is geometry  # one per set of hyperparameters


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"filters": "[[[1]], [[2]]]", "image": "[[[1, 2]], [[3, 4]], [[5, 6]]]"},
         "the image has 3 channels but each filter has 2"),
        ({"filters": "1 1 1 1 1"}, "the 1×5 filter is larger than the padded 3×3 image"),
        ({"bias": [1, 2]}, "2 biases given but there are 1 filters"),
        ({"pool": {"size": 3}}, "the 3×3 pooling window is larger than the 2×2 map"),
        ({"stride": 0}, "stride"),
        ({"image": "1 2; 3"}, "image"),
        ({"pool": {"kind": "min"}}, "'max' or 'avg'"),
    ],
)  # fmt: skip
def test_inconsistent_problems_are_refused(changes: dict[str, Any], fragment: str) -> None:
    data = {"image": "1 2 3; 4 5 6; 7 8 9", "filters": "1 0; 0 1", **changes}
    with pytest.raises(ValidationError) as caught:
        ConvProblem.model_validate(data)
    assert fragment in str(caught.value)
