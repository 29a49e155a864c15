"""The conv task as PyTorch (solvers/tasks/conv/pytorch.py): the script, run, prints the
solver's numbers."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from pydantic import ValidationError

from solvers.tasks.conv import ConvProblem
from tests.solvers.test_pytorch_view import SETTINGS, check, numbers


@pytest.mark.parametrize(
    "data",
    [
        {"image": "1 2 3; 4 5 6; 7 8 9", "filters": "1 0; 0 -1", "mode": "convolution",
         "padding": 1, "bias": 0.5, "pool": {"kind": "avg", "size": 2, "stride": 1}},
        {"image": "1 2 3 4; 4 5 6 7; 7 8 9 1", "filters": "[[[1, 2]], [[-1, 0]]]",
         "stride": [1, 2], "activation": "none", "pool": None, "bias": [1, -1]},
    ],
)  # fmt: skip
def test_conv_cases(data: dict[str, Any]) -> None:
    check("conv", ConvProblem.model_validate(data))


@SETTINGS
@given(st.data())
def test_random_conv_problems(data: st.DataObject) -> None:
    channels, side, kernel = (data.draw(st.integers(1, 2)), data.draw(st.integers(3, 6)),
                              data.draw(st.integers(1, 3)))  # fmt: skip

    def grid(rows: int, cols: int) -> Any:
        return st.lists(st.lists(numbers, min_size=cols, max_size=cols), min_size=rows,
                        max_size=rows)  # fmt: skip

    pool = data.draw(st.none() | st.fixed_dictionaries(
        {"kind": st.sampled_from(["max", "avg"]), "size": st.integers(1, 2)}))  # fmt: skip
    try:
        problem = ConvProblem(
            image=data.draw(st.lists(grid(side, side), min_size=channels, max_size=channels)),
            filters=data.draw(st.lists(st.lists(grid(kernel, kernel), min_size=channels,
                                                max_size=channels), min_size=1, max_size=2)),
            stride=data.draw(st.integers(1, 2)),
            padding=data.draw(st.integers(0, 1)),
            mode=data.draw(st.sampled_from(["cross-correlation", "convolution"])),
            activation=data.draw(st.sampled_from(["relu", "none"])),
            pool=pool,
        )  # fmt: skip
    except ValidationError:
        assume(False)
    check("conv", problem)
