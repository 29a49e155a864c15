"""The conv solver on hand-checked cases, input forms and validation errors."""

from __future__ import annotations

from typing import Any

import pytest
import torch
import torch.nn.functional as F
from pydantic import ValidationError

from solvers.core import NumberFormat, Step
from solvers.tasks.conv import (
    MAX_FILTERS,
    MAX_SIDE,
    MAX_WORKED_CELLS,
    TASK,
    ConvProblem,
    ConvSolution,
    example,
    solve,
    solve_batch,
)

SQUARE = [[1, 2, 3], [4, 5, 6], [7, 8, 9]]
ASYMMETRIC = [[1, 2], [3, 4]]
CPU = torch.device("cpu")


def steps_of(solution: ConvSolution, kind: str) -> list[Step]:
    return [s for s in solution.steps if s.kind == kind]


def torch_conv(problem: ConvProblem) -> list[list[list[float]]]:
    """The conv stage by torch (cross-correlation on the kernels as the solver applies them)."""
    weight = torch.tensor(problem.filters, dtype=torch.float64)
    if problem.mode == "convolution":
        weight = weight.flip(-2, -1)
    bias = torch.tensor(problem.bias, dtype=torch.float64).expand(weight.shape[0])
    image = torch.tensor(problem.image, dtype=torch.float64)[None]
    out = F.conv2d(image, weight, bias.contiguous(), stride=problem.stride, padding=problem.padding)
    return out[0].tolist()


def test_seed_example() -> None:
    solution = solve(example())
    assert solution.answer.conv == [[[1, -2], [3, 1]]]
    assert solution.answer.activation == [[[1, 0], [3, 1]]]
    assert solution.answer.pool == [[[3]]]
    assert solution.answer.output == [[[3]]]
    assert solution.answer.shapes.conv == [1, 2, 2]
    assert solution.answer.shapes.output == [1, 1, 1]
    kinds = [s.kind for s in solution.steps]
    assert kinds == ["conv.size"] + ["conv.cell"] * 4 + [
        "conv.relu",
        "conv.pool_size",
        "conv.pool",
        "conv.result",
    ]
    first = steps_of(solution, "conv.cell")[0]
    assert first.formulas[0].endswith("= 0 + (-2) + 0 + 2 + 2 + 1 + 0 + (-2) + 0 = 1")
    assert steps_of(solution, "conv.relu")[0].values["zeroed"] == [[[0, 1], [0, 0]]]
    assert "\\frac{5 - 3 + 2 \\cdot 0}{2} + 1 = 2" in solution.steps[0].formulas[0]
    assert solution.conv_windows.rows == [0, 2] and solution.conv_windows.cols == [0, 2]


def test_task_record() -> None:
    assert TASK.id == "conv"
    assert TASK.solve is solve and TASK.solve_batch is solve_batch
    assert TASK.problem_model is ConvProblem and TASK.solution_model is ConvSolution
    assert isinstance(TASK.example(), ConvProblem)


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("cross-correlation", [[37, 47], [67, 77]]),
        ("convolution", [[23, 33], [53, 63]]),
    ],
)
def test_asymmetric_kernel_in_both_modes(mode: str, expected: list[list[float]]) -> None:
    problem = ConvProblem(image=SQUARE, filters=ASYMMETRIC, mode=mode, activation="none", pool=None)
    solution = solve(problem)
    assert solution.answer.conv == [expected]
    assert solution.answer.conv == torch_conv(problem)
    flips = steps_of(solution, "conv.flip")
    if mode == "convolution":
        assert flips[0].values["flipped_1"] == [[[4, 3], [2, 1]]]
        assert flips[0].values["kernel_1"] == [[[1, 2], [3, 4]]]
        assert solution.kernels == [[[[4, 3], [2, 1]]]]
    else:
        assert not flips
        assert solution.kernels == [[ASYMMETRIC]]


def test_padding_one_stride_two() -> None:
    image = [[5 * r + c + 1 for c in range(5)] for r in range(5)]
    problem = ConvProblem(image=image, filters=[[1] * 3] * 3, stride=2, padding=1, pool=None)
    solution = solve(problem)
    assert solution.answer.conv == [[[16, 33, 28], [69, 117, 87], [76, 123, 88]]]
    padding = steps_of(solution, "conv.padding")[0]
    padded = padding.values["padded"]
    assert isinstance(padded, list) and len(padded[0]) == 7
    assert padded[0][0] == [0] * 7 and padded[0][1] == [0, 1, 2, 3, 4, 5, 0]
    assert padding.params == {"vertical": 1, "horizontal": 1, "height": 7, "width": 7}
    assert solution.padding == (1, 1) and solution.answer.shapes.padded == [1, 7, 7]
    assert not steps_of(solution, "conv.dropped")


def test_multi_channel_several_filters_and_biases() -> None:
    image = [[[1, 2, 0], [0, 1, 3], [2, 2, 1]], [[0, 1, 1], [1, 0, 2], [3, 1, 0]]]
    filters = [
        [[[1, 0], [0, -1]], [[2, 1], [0, 1]]],
        [[[0, 1], [1, 0]], [[-1, 0], [0, 1]]],
        [[[1, 1], [1, 1]], [[1, 1], [1, 1]]],
    ]
    problem = ConvProblem(
        image=image, filters=filters, bias=[1, -2, 0.5], pool=None, activation="none"
    )
    solution = solve(problem)
    assert solution.answer.conv == torch_conv(problem)
    assert solution.answer.shapes.conv == [3, 2, 2]
    assert solution.answer.conv[0][0][0] == (1 - 1) + (0 + 1 + 0 + 0) + 1
    cell = steps_of(solution, "conv.cell")[0]
    assert len(cell.formulas) == 3
    assert cell.formulas[0].startswith("s_{1} = ")
    assert cell.formulas[2].startswith("y^{(1)}_{1,1} = s_{1} + s_{2} + b = 0 + 1 + 1 = 2")
    assert cell.values["channel_sums"] == [0, 1]
    assert solution.bias == [1, -2, 0.5]


def test_rectangular_kernel_and_stride_pair() -> None:
    image = [[r * 6 + c for c in range(6)] for r in range(4)]
    problem = ConvProblem(
        image=image, filters=[[1, 0, -1], [2, 0, -2]], stride=[2, 3], pool=None, activation="none"
    )
    solution = solve(problem)
    assert solution.answer.conv == torch_conv(problem)
    assert solution.answer.conv == [[[-6, -6], [-6, -6]]]
    assert solution.conv_windows.size == (2, 3)
    assert solution.conv_windows.rows == [0, 2] and solution.conv_windows.cols == [0, 3]
    cell = steps_of(solution, "conv.cell")[1]
    assert cell.params["c0"] == 4 and cell.params["c1"] == 6


def test_average_pooling() -> None:
    problem = ConvProblem.model_validate(
        {**example().model_dump(), "pool": {"kind": "avg", "size": 2}}
    )
    solution = solve(problem)
    assert solution.answer.pool == [[[1.25]]]
    (pool,) = steps_of(solution, "conv.pool")
    assert pool.formulas == ["p_{1,1} = \\frac{1 + 0 + 3 + 1}{4} = \\frac{5}{4} = 1.25"]


def test_size_that_does_not_divide_evenly() -> None:
    image = [[1] * 6 for _ in range(6)]
    problem = ConvProblem(image=image, filters=[[1] * 3] * 3, stride=2, pool=None)
    solution = solve(problem)
    assert solution.answer.shapes.conv == [1, 2, 2]
    assert solution.answer.conv == [[[9, 9], [9, 9]]]
    (dropped,) = steps_of(solution, "conv.dropped")
    assert dropped.params == {"rows": 1, "cols": 1}
    assert "dropped" in dropped.text and "invalid" in dropped.text
    assert "\\lfloor 1.5 \\rfloor + 1 = 2" in solution.steps[0].formulas[0]


def test_uneven_pooling_is_noted_too() -> None:
    problem = ConvProblem(image=[[1, 2, 3]] * 3, filters=[[1]], pool={"size": 2})
    solution = solve(problem)
    assert solution.answer.pool == [[[2]]]
    (dropped,) = steps_of(solution, "conv.dropped")
    assert dropped.params == {"rows": 1, "cols": 1}


def test_no_pooling() -> None:
    solution = solve(example().model_copy(update={"pool": None}))
    assert solution.answer.pool is None and solution.answer.shapes.pool is None
    assert solution.answer.output == [[[1, 0], [3, 1]]]
    assert solution.pool_windows is None and solution.worked_pool_cells == 0
    assert not steps_of(solution, "conv.pool") and not steps_of(solution, "conv.pool_size")


def test_no_activation() -> None:
    problem = ConvProblem(
        image=SQUARE, filters=[[-1]], activation="none", pool={"size": 2, "stride": 1}
    )
    solution = solve(problem)
    assert solution.answer.activation is None
    assert solution.answer.pool == [[[-1, -2], [-4, -5]]]
    assert not steps_of(solution, "conv.relu")
    assert solution.pool_windows is not None and solution.pool_windows.rows == [0, 1]


def test_ties_in_a_max_pool_window_are_noted() -> None:
    problem = ConvProblem(image=[[3, 1], [3, 0]], filters=[[1]], pool={"size": 2})
    (pool,) = steps_of(solve(problem), "conv.pool")
    assert pool.values["ties"] == 2 and pool.params["count"] == 2
    assert "tie" in pool.text
    (single,) = steps_of(solve(example()), "conv.pool")
    assert "tie" not in single.text


def test_relu_marks_the_zeroed_cells() -> None:
    (relu,) = steps_of(solve(example()), "conv.relu")
    assert relu.params == {"count": 1}
    assert relu.formulas[1] == "a_{1,2} = \\max(0, -2) = 0"


def test_large_inputs_are_summarized() -> None:
    image = [[(r * 8 + c) % 5 for c in range(8)] for r in range(8)]
    solution = solve(ConvProblem(image=image, filters=[[1, 0, 1]] * 3, pool=None))
    assert len(steps_of(solution, "conv.cell")) == MAX_WORKED_CELLS
    assert solution.worked_conv_cells == MAX_WORKED_CELLS
    (summary,) = steps_of(solution, "conv.cells_summary")
    assert summary.params == {"count": 36 - MAX_WORKED_CELLS, "limit": MAX_WORKED_CELLS}
    assert summary.values["conv"] == solution.answer.conv
    assert len(solution.answer.conv[0]) == 6


def test_big_kernels_work_out_fewer_cells() -> None:
    image = [[[1.0] * 20] * 20] * 8
    filters = [[[[1.0] * 11] * 11] * 8]
    solution = solve(ConvProblem(image=image, filters=filters, pool=None))
    assert solution.worked_conv_cells == 1
    assert len(steps_of(solution, "conv.cell")) == 1
    assert solution.answer.conv[0][0][0] == 968


def test_integer_inputs_print_integers_and_decimal_comma() -> None:
    problem = ConvProblem(image=[[0.5, 1.5]], filters=[[1, 1]], pool=None)
    solution = solve(problem, NumberFormat(decimal_comma=True))
    (cell,) = steps_of(solution, "conv.cell")
    assert cell.formulas == ["y_{1,1} = 0{,}5 \\cdot 1 + 1{,}5 \\cdot 1 = 0{,}5 + 1{,}5 = 2"]


def test_rounded_values_use_approx() -> None:
    problem = ConvProblem(image=[[1 / 3]], filters=[[1]], pool=None, activation="none")
    (cell,) = steps_of(solve(problem), "conv.cell")
    assert cell.formulas[0].endswith("\\approx 0.3333")


def test_solution_json_round_trip() -> None:
    solution = solve(example())
    assert ConvSolution.model_validate_json(solution.model_dump_json()) == solution
    problem = example()
    assert ConvProblem.model_validate(problem.model_dump()) == problem


# Input forms ----------------------------------------------------------------------------


def test_text_inputs() -> None:
    problem = ConvProblem.model_validate(
        {
            "image": "1 2 3 4 5\n2 2 1 1 1\n3 2 1 1 1\n4 1 1 1 1\n5 1 1 1 1",
            "filters": "0 -1 0; 1 1 1; 0 −1 0",
            "stride": "2",
            "bias": "0",
        }
    )
    assert problem == example()


def test_filters_text_with_dashes_and_channels() -> None:
    text = "1 0\n0 1\n\n2 2\n2 2\n---\n0 1\n1 0\n\n1 1\n1 1"
    problem = ConvProblem(
        image=[[[1, 2], [3, 4]], [[1, 1], [1, 1]]], filters=text, bias="1 2", pool=None
    )
    assert len(problem.filters) == 2 and len(problem.filters[0]) == 2
    assert problem.filters[1][1] == [[1, 1], [1, 1]]
    assert problem.bias == [1, 2]
    assert solve(problem).answer.conv == [[[14]], [[11]]]


def test_filters_as_four_level_brackets_text() -> None:
    problem = ConvProblem(
        image=SQUARE, filters="[[[[1, 0], [0, 1]]], [[[0, 1], [1, 0]]]]", pool=None
    )
    assert problem.filters == [[[[1, 0], [0, 1]]], [[[0, 1], [1, 0]]]]


def test_three_d_filters_follow_the_image_channels() -> None:
    one_channel = ConvProblem(image=SQUARE, filters="1 0\n0 1\n\n0 1\n1 0", pool=None)
    assert len(one_channel.filters) == 2 and len(one_channel.filters[0]) == 1
    two_channels = ConvProblem(image=[SQUARE, SQUARE], filters=[[[1]], [[2]]], pool=None)
    assert len(two_channels.filters) == 1 and len(two_channels.filters[0]) == 2


def test_pairs_from_text() -> None:
    problem = ConvProblem(image=SQUARE, filters=[[1]], stride="2, 1", padding="1 0", pool=None)
    assert problem.stride == (2, 1) and problem.padding == (1, 0)
    assert solve(problem).answer.shapes.conv == [1, 3, 3]


# Validation -----------------------------------------------------------------------------


def _error_of(**fields: Any) -> tuple[str, str]:
    data: dict[str, Any] = {"image": SQUARE, "filters": [[1, 0], [0, 1]], **fields}
    with pytest.raises(ValidationError) as info:
        ConvProblem.model_validate(data)
    error = info.value.errors()[0]
    return error["type"], error["msg"]


@pytest.mark.parametrize(
    ("fields", "kind", "words"),
    [
        ({"filters": [[1] * 4] * 4}, "conv_filter_size", "larger than the padded 3×3 image"),
        ({"filters": [[1] * 4] * 4, "padding": 1}, None, None),
        (
            {"image": [SQUARE, SQUARE, SQUARE], "filters": [[[1]], [[1]]]},
            "conv_channels",
            "the image has 3 channels but each filter has 2",
        ),
        ({"stride": 0}, "conv_stride", "the stride must be at least 1, got 0"),
        ({"stride": -1}, "conv_stride", "the stride must be at least 1, got -1"),
        ({"stride": [1, 0]}, "conv_stride", "the stride must be at least 1, got 0"),
        ({"stride": 1.5}, "conv_pair", "whole number"),
        ({"padding": -1}, "conv_padding", "the padding cannot be negative"),
        ({"padding": 6}, "conv_padding", "the padding is at most 5"),
        ({"image": "1 2 3\n4 5\n7 8 9"}, "matrix", "row 2 has 2 numbers but row 1 has 3"),
        ({"image": [[1, 2], [3]]}, "matrix", "row 2 has 1 number but row 1 has 2"),
        ({"image": "1 2\n3 x"}, "matrix", '"x" is not a number'),
        ({"filters": [[1, "a"]]}, "matrix", '"a" is not a number'),
        ({"image": [[1] * (MAX_SIDE + 1)] * 2}, "matrix", "at most 64×64"),
        ({"filters": [[1] * 12] * 12}, "matrix", "at most 11×11"),
        ({"filters": [[[[1]]]] * (MAX_FILTERS + 1)}, "conv_filters", "at most 16 are allowed"),
        ({"image": [[1e10]]}, "conv_value", "too large"),
        (
            {"filters": [[[[1]]], [[[1]]]], "bias": [1, 2, 3]},
            "conv_bias",
            "3 biases given but there are 2 filters",
        ),
        ({"pool": {"size": 3}}, "conv_pool_size", "larger than the 2×2 map"),
        ({"pool": {"size": 0}}, "conv_pool_size", "the pooling size must be at least 1"),
        ({"pool": {"stride": -2}}, "conv_pool_stride", "the pooling stride must be at least 1"),
        (
            {"filters": "1 0\n0 1\n---\n1 0 0\n0 1 0"},
            "conv_filters",
            "filter 2 is 1×2×3 but filter 1 is 1×2×2",
        ),
    ],
)
def test_bad_input_names_the_problem(
    fields: dict[str, Any], kind: str | None, words: str | None
) -> None:
    if kind is None:  # the same filter fits once padded
        ConvProblem.model_validate({"image": SQUARE, **fields})
        return
    got_kind, message = _error_of(**fields)
    assert got_kind == kind
    assert words in message


def test_unknown_fields_are_rejected() -> None:
    with pytest.raises(ValidationError):
        ConvProblem.model_validate({"image": SQUARE, "filters": [[1]], "dilation": 2})


def test_error_templates_carry_placeholders() -> None:
    with pytest.raises(ValidationError) as info:
        ConvProblem.model_validate({"image": SQUARE, "filters": [[1]], "stride": 0})
    error = info.value.errors()[0]
    assert error["ctx"] == {"value": 0, "limit": 1}
    assert error["loc"] == ("stride",)


def test_filters_typed_in_a_browser_form_with_crlf_lines() -> None:
    """A browser sends a text area's line breaks as CRLF; the --- line still separates."""
    problem = ConvProblem(
        image=[[1, 2, 3], [4, 5, 6], [7, 8, 9]], filters="1 0\r\n0 1\r\n---\r\n0 1\r\n1 0"
    )
    assert problem.filters == [[[[1, 0], [0, 1]]], [[[0, 1], [1, 0]]]]


@pytest.mark.parametrize("filters", ["---", "---\n---", " --- \r\n"])
def test_filters_of_separators_only_are_a_clear_error(filters: str) -> None:
    with pytest.raises(ValidationError, match="no filter given"):
        ConvProblem(image=[[1, 2, 3], [4, 5, 6], [7, 8, 9]], filters=filters)
