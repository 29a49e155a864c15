"""Property tests: the conv solver against torch, its printed arithmetic, and solve_batch."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from solvers.tasks.conv import ConvProblem, ConvSolution, solve, solve_batch
from solvers.tasks.conv.compute import ConvBatch, forward
from solvers.tasks.conv.problem import out_size
from solvers.tasks.conv.solve import quick

CPU = torch.device("cpu")
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

pairs = st.tuples(st.integers(1, 3), st.integers(1, 3))


@st.composite
def problems(draw: st.DrawFn, integers: bool = False) -> ConvProblem:
    """A valid random problem: shapes, strides, paddings, mode, activation and pooling."""
    channels, count = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    fh, fw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    pv, ph = draw(st.integers(0, 2)), draw(st.integers(0, 2))
    height = draw(st.integers(max(1, fh - 2 * pv), 8))
    width = draw(st.integers(max(1, fw - 2 * ph), 8))
    sv, sh = draw(pairs)
    number = (
        st.integers(-5, 5)
        if integers
        else st.floats(-10, 10, allow_nan=False, allow_infinity=False)
    )

    def tensor(*shape: int) -> Any:
        return (
            np.array(draw(st.lists(number, min_size=math.prod(shape), max_size=math.prod(shape))))
            .reshape(shape)
            .tolist()
        )

    out_h, out_w = out_size(height, fh, pv, sv), out_size(width, fw, ph, sh)
    pool = None
    if draw(st.booleans()):
        kh, kw = draw(st.integers(1, out_h)), draw(st.integers(1, out_w))
        pool = {
            "kind": draw(st.sampled_from(["max", "avg"])),
            "size": [kh, kw],
            "stride": draw(st.one_of(st.none(), pairs)),
        }
    return ConvProblem(
        image=tensor(channels, height, width),
        filters=tensor(count, channels, fh, fw),
        bias=tensor(count),
        stride=[sv, sh],
        padding=[pv, ph],
        mode=draw(st.sampled_from(["cross-correlation", "convolution"])),
        activation=draw(st.sampled_from(["relu", "none"])),
        pool=pool,
    )


def reference(problem: ConvProblem) -> dict[str, Any]:
    """Every stage by torch.nn.functional."""
    weight = torch.tensor(problem.filters, dtype=torch.float64)
    if problem.mode == "convolution":
        weight = weight.flip(-2, -1)
    bias = torch.tensor(problem.bias, dtype=torch.float64).expand(weight.shape[0]).contiguous()
    image = torch.tensor(problem.image, dtype=torch.float64)[None]
    conv = F.conv2d(image, weight, bias, stride=problem.stride, padding=problem.padding)
    activation = F.relu(conv) if problem.activation == "relu" else None
    pool = None
    if problem.pool is not None:
        pooling = F.max_pool2d if problem.pool.kind == "max" else F.avg_pool2d
        stride = problem.pool.stride if problem.pool.stride is not None else problem.pool.size
        pool = pooling(conv if activation is None else activation, problem.pool.size, stride)
    return {
        "conv": conv[0].tolist(),
        "activation": None if activation is None else activation[0].tolist(),
        "pool": None if pool is None else pool[0].tolist(),
    }


def close(got: Any, expected: Any) -> None:
    np.testing.assert_allclose(np.array(got), np.array(expected), rtol=1e-12, atol=1e-9)


@SETTINGS
@given(problems())
def test_matches_torch(problem: ConvProblem) -> None:
    answer = solve(problem).answer
    expected = reference(problem)
    close(answer.conv, expected["conv"])
    for stage in ("activation", "pool"):
        if expected[stage] is None:
            assert getattr(answer, stage) is None
        else:
            close(getattr(answer, stage), expected[stage])
    close(answer.output, answer.pool or answer.activation or answer.conv)
    for stage in ("conv", "activation", "pool", "output"):
        grid = getattr(answer, stage)
        if grid is not None:
            assert list(np.array(grid).shape) == getattr(answer.shapes, stage)


@SETTINGS
@given(problems())
def test_numpy_equals_torch_to_the_last_bit(problem: ConvProblem) -> None:
    """A quick problem is solved in numpy: every stage is torch's, bit for bit (the API's
    JSON prints every digit, and the sign of a zero)."""
    assume(quick(problem))
    mine, torch_maps = (forward(ConvBatch.of([problem], numpy=n)) for n in (True, False))
    for stage in ("padded", "kernels", "conv", "activation", "pool"):
        got, expected = getattr(mine, stage), getattr(torch_maps, stage)
        assert (got is None) == (expected is None)
        if got is not None:
            assert isinstance(got, np.ndarray)
            assert repr(got.tolist()) == repr(expected.tolist())


def _check_worked_cells(solution: ConvSolution) -> None:
    padded = np.array(solution.padded)
    windows = solution.conv_windows
    fh, fw = windows.size
    for step in (s for s in solution.steps if s.kind == "conv.cell"):
        k, i, j = (int(step.params[name]) - 1 for name in ("map", "row", "col"))
        r0, c0 = windows.rows[i], windows.cols[j]
        window = padded[:, r0 : r0 + fh, c0 : c0 + fw]
        assert step.values["window"] == window.tolist()
        products = np.array(step.values["products"])
        np.testing.assert_array_equal(products, window * np.array(solution.kernels[k]))
        total = products.sum() + solution.bias[k]
        assert math.isclose(total, solution.answer.conv[k][i][j], rel_tol=1e-12, abs_tol=1e-9)
        assert step.values["value"] == solution.answer.conv[k][i][j]


@SETTINGS
@given(problems())
def test_worked_cells_add_up(problem: ConvProblem) -> None:
    _check_worked_cells(solve(problem))


def _number(term: str) -> float:
    return float(term.strip().strip("()"))


@SETTINGS
@given(problems(integers=True))
def test_printed_arithmetic_adds_up(problem: ConvProblem) -> None:
    """With integers nothing is rounded: parse every printed line back and redo it."""
    solution = solve(problem)
    for step in (s for s in solution.steps if s.kind == "conv.cell"):
        for formula in step.formulas:
            parts = formula.split(" = ")
            terms = parts[-2].split(" + ")
            if "\\cdot" in parts[1]:  # x · w products, then their values
                products = [
                    math.prod(_number(f) for f in term.split("\\cdot"))
                    for term in parts[1].split(" + ")
                ]
                assert products == [_number(t) for t in terms[: len(products)]]
            assert sum(_number(t) for t in terms) == _number(parts[-1])
        assert _number(step.formulas[-1].split(" = ")[-1]) == step.values["value"]
    for step in (s for s in solution.steps if s.kind == "conv.pool"):
        window = np.array(step.values["window"])
        expected = window.max() if problem.pool and problem.pool.kind == "max" else window.mean()
        assert math.isclose(step.values["value"], expected)


@SETTINGS
@given(st.lists(problems(integers=True), min_size=1, max_size=6), st.integers(0, 3))
def test_batch_equals_solve(batch: list[ConvProblem], copies: int) -> None:
    batch = batch + [batch[0]] * copies  # some groups have several members
    answers = solve_batch(batch, CPU)
    assert answers == [solve(p).answer for p in batch]


@SETTINGS
@given(st.lists(problems(), min_size=1, max_size=4))
def test_batch_close_to_solve_on_floats(batch: list[ConvProblem]) -> None:
    for got, problem in zip(solve_batch(batch, CPU), batch, strict=True):
        expected = solve(problem).answer
        close(got.conv, expected.conv)
        close(got.output, expected.output)
        assert got.shapes == expected.shapes
