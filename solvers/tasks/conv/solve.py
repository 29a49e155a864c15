"""The worked solver: the maps of :func:`~solvers.tasks.conv.compute.forward` (a batch of
one, converted to Python once) and the steps that explain them.

Cells are worked out in full (window, products, sum, bias) for the first
:data:`MAX_WORKED_CELLS` cells of each stage, fewer when kernels are big (at most
:data:`MAX_WORKED_TERMS` products or window values in all); one summary step then says how
many more cells were computed the same way. The maps themselves are always complete.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from operator import mul
from typing import Any

import torch

from solvers.core import N_, NP_, NumberFormat, OwnSteps, Step, StepValue, step, trusted
from solvers.tasks.conv.compute import Array, ConvBatch, forward
from solvers.tasks.conv.problem import (
    MAX_WORKED_CELLS,
    MAX_WORKED_TERMS,
    ConvAnswer,
    ConvProblem,
    ConvShapes,
    ConvSolution,
    Geometry,
    Pair,
    Tensor3,
    Tensor4,
    Windows,
    out_size,
    stage_shapes,
)


@dataclass(frozen=True)
class Grids:
    """One problem's stages as Python lists: :func:`forward`'s tensors, converted once."""

    padded: Tensor3
    kernels: Tensor4
    bias: list[float]
    conv: Tensor3
    activation: Tensor3 | None
    pool: Tensor3 | None

    @classmethod
    def of(cls, problem: ConvProblem, numpy: bool) -> Grids:
        """Every stage of a validated problem (a batch of one; in ``numpy`` for a
        :func:`quick` one, whose torch calls would cost more than its arithmetic)."""
        batch = ConvBatch.of([problem], numpy=numpy)
        maps = forward(batch)
        assert maps.conv is not None  # a validated problem's kernel fits its padded image

        def first(stage: Array | None) -> Tensor3 | None:
            return None if stage is None else stage.tolist()[0]

        return cls(
            maps.padded.tolist()[0],
            maps.kernels.tolist()[0],
            batch.bias.tolist()[0],
            maps.conv.tolist()[0],
            first(maps.activation),
            first(maps.pool),
        )


def _flat(grid: list[list[float]]) -> list[float]:
    return [x for row in grid for x in row]


def _size(maps: Tensor3) -> int:
    return len(maps) * len(maps[0]) * len(maps[0][0])


def _window(maps: Tensor3, r0: int, c0: int, height: int, width: int) -> Tensor3:
    """Rows r0 … r0 + height − 1 and columns c0 … c0 + width − 1 of every map."""
    return [[row[c0 : c0 + width] for row in grid[r0 : r0 + height]] for grid in maps]


def _step(
    kind: str,
    title: str,
    text: str = "",
    params: dict[str, str | int | float] | None = None,
    formulas: list[str] | None = None,
    values: Mapping[str, StepValue] | None = None,
) -> Step:
    """:func:`solvers.core.step` (no validation: its data come from a validated problem and
    torch's floats, and re-validating thousands of floats cost more than the step itself),
    ``values`` copied into a dict of its own."""
    return step(kind, title, text, params, formulas, dict(values) if values else None)


@dataclass(frozen=True)
class _Kernel:
    """One kernel as its cells' steps write it, made once per solution: each channel's
    weights (flat) and a ``str.format`` template of that channel's products with the weights
    already written (``{} \\cdot w_1 + {} \\cdot w_2 + …``), a cell's window values to fill in."""

    weights: list[list[float]]
    products: list[str]

    @classmethod
    def of(cls, kernel: Tensor3, fmt: NumberFormat) -> _Kernel:
        """The kernel's channels, flat, and their products' templates in ``fmt``."""
        weights = [_flat(channel) for channel in kernel]
        products = [
            " + ".join(
                "{} \\cdot " + w.replace("{", "{{").replace("}", "}}")
                for w in fmt.texs(channel, paren=True)
            )
            for channel in weights
        ]
        return cls(weights, products)


def _eq(value: float, fmt: NumberFormat) -> str:
    """`` = 3`` or `` \\approx 0.3333`` for the end of a formula."""
    sign = "\\approx" if fmt.is_rounded(value) else "="
    return f" {sign} {fmt.tex(value)}"


def _cell(symbol: str, k: int, i: int, j: int, maps: int) -> str:
    """LaTeX name of a cell: ``y_{1,2}``, or ``y^{(3)}_{1,2}`` when there are several maps."""
    upper = f"^{{({k + 1})}}" if maps > 1 else ""
    return f"{symbol}{upper}_{{{i + 1},{j + 1}}}"


def _order(shape: Sequence[int], limit: int) -> list[tuple[int, int, int]]:
    """The first ``limit`` cells of a K×H×W map, map by map, row by row."""
    count, height, width = shape
    total = min(limit, count * height * width)
    return [(n // (height * width), n // width % height, n % width) for n in range(total)]


def _worked_limit(terms_per_cell: int) -> int:
    return max(1, min(MAX_WORKED_CELLS, MAX_WORKED_TERMS // terms_per_cell))


def _size_formula(
    name: str, n: int, f: int, p: int | None, s: int, fmt: NumberFormat
) -> tuple[str, int]:
    """The size formula of one axis with numbers, and the rows/columns left uncovered."""
    padding = "" if p is None else f" + 2 \\cdot {p}"
    symbols = "N - F + 2P" if p is not None else "N - F"
    span = n - f + 2 * (p or 0)
    ratio = span / s
    out = out_size(n, f, p or 0, s)
    formula = f"{name} = \\frac{{{symbols}}}{{S}} + 1 = \\frac{{{n} - {f}{padding}}}{{{s}}} + 1"
    if span % s:
        formula += f" = {fmt.tex(ratio)} + 1 \\;\\to\\; \\lfloor {fmt.tex(ratio)} \\rfloor + 1"
    formula += f" = {out}"
    return formula, span % s


def _size_steps(
    kind: str,
    title: str,
    text: str,
    sizes: list[tuple[int, int, int | None, int]],
    maps: int,
    fmt: NumberFormat,
) -> list[Step]:
    """The output-size step of one stage, plus a note when the window does not fit evenly."""
    (height, dropped_rows), (width, dropped_cols) = (
        _size_formula(name, *axis, fmt) for name, axis in zip(("H'", "W'"), sizes, strict=True)
    )
    out = [out_size(n, f, p or 0, s) for n, f, p, s in sizes]
    steps = [
        _step(
            kind=kind,
            title=title,
            text=text,
            params={"maps": maps, "height": out[0], "width": out[1]},
            formulas=[height, width],
            values={N_("height"): out[0], N_("width"): out[1]},
        )
    ]
    if dropped_rows or dropped_cols:
        steps.append(
            _step(
                kind="conv.dropped",
                title=N_("The window does not fit evenly"),
                text=N_(
                    "(N − F + 2P)/S is not a whole number, so the window never reaches the last "
                    "rows and columns of its input (rows: {rows}, columns: {cols}): they are "
                    "dropped, as PyTorch and other frameworks do (they round down). CS231n "
                    "calls such hyperparameters invalid."
                ),
                params={"rows": dropped_rows, "cols": dropped_cols},
            )
        )
    return steps


def _conv_cell_step(
    grids: Grids, kernel: _Kernel, k: int, i: int, j: int, geometry: Geometry, fmt: NumberFormat
) -> Step:
    """One conv cell: its window, the products per channel, their sum and the bias
    (``kernel``: the ``k``-th kernel as :class:`_Kernel` writes it)."""
    (sv, sh) = geometry.stride
    weights = grids.kernels[k]
    channels, fh, fw = len(weights), len(weights[0]), len(weights[0][0])
    r0, c0 = i * sv, j * sh
    window = _window(grids.padded, r0, c0, fh, fw)
    xs = [_flat(xc) for xc in window]
    flat_products = [list(map(mul, x, w)) for x, w in zip(xs, kernel.weights, strict=True)]
    products = [[ps[r : r + fw] for r in range(0, fh * fw, fw)] for ps in flat_products]
    bias = grids.bias[k]
    value = grids.conv[k][i][j]
    name = _cell("y", k, i, j, len(grids.kernels))
    tail = f" + {fmt.texs((bias,), paren=True)[0]}" if bias else ""
    formulas: list[str] = []
    sums: list[float] = []
    for c, (x, ps, template) in enumerate(zip(xs, flat_products, kernel.products, strict=True)):
        left = template.format(*fmt.texs(x, paren=True))
        middle = " + ".join(fmt.texs(ps, paren=True))
        total = sum(ps)
        sums.append(total)
        if channels == 1:
            formulas.append(f"{name} = {left}{tail} = {middle}{tail}{_eq(value, fmt)}")
        else:
            formulas.append(f"s_{{{c + 1}}} = {left} = {middle}{_eq(total, fmt)}")
    if channels > 1:
        symbols = " + ".join(f"s_{{{c + 1}}}" for c in range(channels))
        numbers = " + ".join(fmt.texs(sums, paren=True))
        bias_symbol = " + b" if bias else ""
        formulas.append(f"{name} = {symbols}{bias_symbol} = {numbers}{tail}{_eq(value, fmt)}")
        text = N_(
            "The kernel over rows {r0}–{r1} and columns {c0}–{c1} of the padded input, channel "
            "by channel: the products of each channel are added, then the {channels} channel "
            "sums and the bias {bias}."
        )
    else:
        text = N_(
            "The kernel over rows {r0}–{r1} and columns {c0}–{c1} of the padded input: multiply "
            "element by element, then add the products and the bias {bias}."
        )
    return _step(
        kind="conv.cell",
        title=N_("Convolution: map {map}, cell ({row}, {col})"),
        text=text,
        params={
            "map": k + 1,
            "row": i + 1,
            "col": j + 1,
            "r0": r0 + 1,
            "r1": r0 + fh,
            "c0": c0 + 1,
            "c1": c0 + fw,
            "channels": channels,
            "bias": fmt.num(bias),
        },
        formulas=formulas,
        values={
            N_("window"): window,
            N_("kernel"): weights,
            N_("products"): products,
            N_("channel_sums"): sums,
            N_("bias"): bias,
            N_("value"): value,
        },
    )


def _pool_cell_step(
    source: Tensor3,
    pooled: Tensor3,
    kind: str,
    k: int,
    i: int,
    j: int,
    size: Pair,
    stride: Pair,
    fmt: NumberFormat,
) -> Step:
    """One pooling cell: its window and the max (ties noted) or the mean."""
    (kh, kw), (tv, th) = size, stride
    r0, c0 = i * tv, j * th
    window = [row[c0 : c0 + kw] for row in source[k][r0 : r0 + kh]]
    cells = _flat(window)
    value = pooled[k][i][j]
    name = _cell("p", k, i, j, len(pooled))
    listed = fmt.separator.join(fmt.texs(cells))
    params: dict[str, str | int | float] = {
        "map": k + 1,
        "row": i + 1,
        "col": j + 1,
        "r0": r0 + 1,
        "r1": r0 + kh,
        "c0": c0 + 1,
        "c1": c0 + kw,
    }
    values: dict[str, float | int | list[list[float]]] = {N_("window"): window}
    if kind == "max":
        ties = cells.count(value)
        formula = f"{name} = \\max({listed}){_eq(value, fmt)}"
        values[N_("ties")] = ties
        params["count"] = ties
        if ties > 1:
            text = N_(
                "The largest value in rows {r0}–{r1}, columns {c0}–{c1} of the map being "
                "pooled; {count} cells share it (a tie), so any of them gives the same result."
            )
        else:
            text = N_(
                "The largest value in rows {r0}–{r1}, columns {c0}–{c1} of the map being pooled."
            )
    else:
        total = sum(cells)
        terms = " + ".join(fmt.texs(cells, paren=True))
        formula = (
            f"{name} = \\frac{{{terms}}}{{{kh * kw}}} = \\frac{{{fmt.tex(total)}}}{{{kh * kw}}}"
            f"{_eq(value, fmt)}"
        )
        params["count"] = kh * kw
        text = N_(
            "The mean of rows {r0}–{r1}, columns {c0}–{c1} of the map being pooled: "
            "their sum divided by {count}."
        )
    values[N_("value")] = value
    return _step(
        kind="conv.pool",
        title=N_("Pooling: map {map}, cell ({row}, {col})"),
        text=text,
        params=params,
        formulas=[formula],
        values=values,
    )


def _summary_step(done: int, total: int, limit: int, name: str, grid: Tensor3) -> Step:
    return _step(
        kind="conv.cells_summary",
        title=N_("The remaining cells"),
        text=N_(
            "The other {count} cells are computed the same way; at most {limit} cells of a "
            "stage are worked out in full."
        ),
        params={"count": total - done, "limit": limit},
        values={name: grid},
    )


def _relu_step(conv: Tensor3, activation: Tensor3 | None, limit: int, fmt: NumberFormat) -> Step:
    """ReLU of the map ``conv``: its negative cells, each set to 0."""
    zeroed = [[[1.0 if x < 0 else 0.0 for x in row] for row in grid] for grid in conv]
    cells = [
        (k, i, j)
        for k, grid in enumerate(conv)
        for i, row in enumerate(grid)
        for j, x in enumerate(row)
        if x < 0
    ]
    formulas = ["\\operatorname{ReLU}(x) = \\max(0, x)"]
    shown = cells[:limit]
    for (k, i, j), text in zip(shown, fmt.texs(conv[k][i][j] for k, i, j in shown), strict=True):
        name = _cell("a", k, i, j, len(conv))
        formulas.append(f"{name} = \\max(0{fmt.comma} {text}) = 0")
    return _step(
        kind="conv.relu",
        title=N_("ReLU"),
        text=NP_(
            "ReLU keeps positive values and replaces negative ones by 0: {count} cell is "
            "zeroed (1 in the mask).",
            "ReLU keeps positive values and replaces negative ones by 0: {count} cells are "
            "zeroed (1 in the mask).",
        ),
        params={"count": len(cells)},
        formulas=formulas,
        values={
            N_("conv"): conv,
            N_("activation"): activation,
            N_("zeroed"): zeroed,
        },
    )


def _pool_steps(
    problem: ConvProblem,
    source: Tensor3,
    pooled: Tensor3,
    cells: list[tuple[int, int, int]],
    fmt: NumberFormat,
) -> list[Step]:
    """The pooling of ``source`` into ``pooled``, worked out for ``cells``."""
    geometry = Geometry.of(problem)
    assert problem.pool and geometry.pool_size and geometry.pool_stride
    size, stride = geometry.pool_size, geometry.pool_stride
    return [
        _pool_cell_step(source, pooled, problem.pool.kind, k, i, j, size, stride, fmt)
        for k, i, j in cells
    ]


def solve(problem: ConvProblem, fmt: NumberFormat = NumberFormat()) -> ConvSolution:  # noqa: B008
    """Solve one problem: every map, and the steps that explain each of them."""
    geometry = Geometry.of(problem)
    shapes = stage_shapes(problem)
    grids = Grids.of(problem, numpy=_quick(problem, shapes))
    count, channels, height, width = len(grids.kernels), *shapes.input
    fh, fw = len(grids.kernels[0][0]), len(grids.kernels[0][0][0])
    (sv, sh), (pv, ph) = geometry.stride, geometry.padding
    steps = _size_steps(
        "conv.size",
        N_("Convolution output size"),
        NP_(
            "(N − F + 2P)/S + 1 on each axis, where N is the input side, F the kernel side, P "
            "the padding and S the stride: {maps} map of {height}×{width}, one per filter.",
            "(N − F + 2P)/S + 1 on each axis, where N is the input side, F the kernel side, P "
            "the padding and S the stride: {maps} maps of {height}×{width}, one per filter.",
            "maps",
        ),
        [(height, fh, pv, sv), (width, fw, ph, sh)],
        count,
        fmt,
    )
    if pv or ph:
        steps.append(
            _step(
                kind="conv.padding",
                title=N_("Zero padding"),
                text=N_(
                    "Rows of zeros added at the top and at the bottom: {vertical} each; columns "
                    "at the left and at the right: {horizontal} each. Each channel becomes "
                    "{height}×{width}."
                ),
                params={
                    "vertical": pv,
                    "horizontal": ph,
                    "height": shapes.padded[1],
                    "width": shapes.padded[2],
                },
                values={N_("padded"): grids.padded},
            )
        )
    if problem.mode == "convolution":
        values: dict[str, list[list[list[float]]]] = {}
        for k in range(count):
            values[f"kernel_{k + 1}"] = problem.filters[k]
            values[f"flipped_{k + 1}"] = grids.kernels[k]
        steps.append(
            _step(
                kind="conv.flip",
                title=N_("Flip the kernel"),
                text=N_(
                    "Convolution, unlike cross-correlation (what PyTorch's conv2d computes), "
                    "flips the kernel by 180°: rows and columns reversed. The flipped kernel "
                    "is the one slid over the input."
                ),
                values=values,
            )
        )
    conv_limit = _worked_limit(channels * fh * fw)
    conv_cells = _order(shapes.conv, conv_limit)
    worked_maps = conv_cells[-1][0] + 1  # the cells go map by map
    kernels = [_Kernel.of(kernel, fmt) for kernel in grids.kernels[:worked_maps]]
    steps += [_conv_cell_step(grids, kernels[k], k, i, j, geometry, fmt) for k, i, j in conv_cells]
    conv_size = _size(grids.conv)
    if len(conv_cells) < conv_size:
        steps.append(_summary_step(len(conv_cells), conv_size, conv_limit, "conv", grids.conv))
    if grids.activation is not None:
        steps.append(_relu_step(grids.conv, grids.activation, MAX_WORKED_CELLS, fmt))
    pool_cells: list[tuple[int, int, int]] = []
    pool_windows = None
    if grids.pool is not None and problem.pool and geometry.pool_size and geometry.pool_stride:
        source = grids.conv if grids.activation is None else grids.activation
        (kh, kw), (tv, th) = geometry.pool_size, geometry.pool_stride
        _, pool_height, pool_width = shapes.pool or shapes.conv
        steps += _size_steps(
            "conv.pool_size",
            N_("Pooling output size"),
            N_(
                "(N − F)/S + 1 on each axis, where F is the window side and S the stride (no "
                "padding): each map becomes {height}×{width}."
            ),
            [(shapes.conv[1], kh, None, tv), (shapes.conv[2], kw, None, th)],
            count,
            fmt,
        )
        pool_limit = _worked_limit(kh * kw)
        pool_cells = _order(shapes.pool or shapes.conv, pool_limit)
        steps += _pool_steps(problem, source, grids.pool, pool_cells, fmt)
        pool_size = _size(grids.pool)
        if len(pool_cells) < pool_size:
            steps.append(_summary_step(len(pool_cells), pool_size, pool_limit, "pool", grids.pool))
        pool_windows = trusted(
            Windows,
            size=(kh, kw),
            stride=(tv, th),
            rows=list(range(0, pool_height * tv, tv)),
            cols=list(range(0, pool_width * th, th)),
        )
    # The maps are floats from tolist: trusted, so not re-validated cell by cell.
    answer = trusted(
        ConvAnswer,
        conv=grids.conv,
        activation=grids.activation,
        pool=grids.pool,
        output=grids.pool or grids.activation or grids.conv,
        shapes=shapes,
    )
    result_values = {
        name: grid
        for name, grid in (
            (N_("conv"), answer.conv),
            (N_("activation"), answer.activation),
            (N_("pool"), answer.pool),
            (N_("output"), answer.output),
        )
        if grid is not None
    }
    steps.append(
        _step(
            kind="conv.result",
            title=N_("Result"),
            text=NP_(
                "The output has {maps} map of {height}×{width}.",
                "The output has {maps} maps of {height}×{width}.",
                "maps",
            ),
            params={
                "maps": shapes.output[0],
                "height": shapes.output[1],
                "width": shapes.output[2],
            },
            values=result_values,
        )
    )
    return trusted(
        ConvSolution,
        answer=answer,
        steps=steps,
        padding=(pv, ph),
        padded=grids.padded,
        kernels=grids.kernels,
        bias=grids.bias,
        conv_windows=trusted(
            Windows,
            size=(fh, fw),
            stride=(sv, sh),
            rows=list(range(0, shapes.conv[1] * sv, sv)),
            cols=list(range(0, shapes.conv[2] * sh, sh)),
        ),
        pool_windows=pool_windows,
        worked_conv_cells=len(conv_cells),
        worked_pool_cells=len(pool_cells),
    )


QUICK_PRODUCTS = 150
"""The most products of the convolution solved where the server stands (:func:`quick`):
the lecture's 5×5 image with a 3×3 filter makes 36 (stride 2) or 81 (stride 1), each under
a millisecond with its steps; 3 channels and 2 filters on 7×7 make 486 and take ~8 ms."""


def quick(problem: ConvProblem) -> bool:
    """Whether the problem is small enough to solve without a worker thread
    (:attr:`solvers.core.Task.quick`)."""
    return _quick(problem, stage_shapes(problem))


def _quick(problem: ConvProblem, shapes: ConvShapes) -> bool:
    kernel = len(problem.filters[0]) * len(problem.filters[0][0]) * len(problem.filters[0][0][0])
    return math.prod(shapes.conv) * kernel <= QUICK_PRODUCTS


def own_steps(problem: ConvProblem, given: dict[str, Any], fmt: NumberFormat) -> OwnSteps:
    """ReLU written with the student's own conv map, and the pooling with their own map
    after ReLU (or the ReLU of their conv map, or their conv map without a ReLU)."""
    relu = problem.activation == "relu"
    mine = {
        part: torch.tensor([given[part]], dtype=torch.float64)
        for part in ("conv", "activation")
        if given.get(part) is not None and (part == "conv" or relu)
    }
    # the pooling reads the map after ReLU, else the conv map it comes from
    pooled = ("activation",) if "activation" in mine else ("activation", "conv")
    reads = {"conv.relu": ("conv",), "conv.pool": pooled if relu else ("conv",)}
    if not mine or not all(bool(torch.isfinite(m).all()) for m in mine.values()):
        return OwnSteps(reads, [])
    maps = forward(ConvBatch.of([problem]), given=mine)
    conv = given["conv"] if "conv" in mine else None
    activation = given.get("activation") if "activation" in mine else None
    if activation is None and maps.activation is not None and conv is not None:
        activation = maps.activation.tolist()[0]
    steps = []
    if conv is not None and relu:
        steps.append(_relu_step(conv, activation, MAX_WORKED_CELLS, fmt))
    source = activation if relu else conv
    if maps.pool is not None and problem.pool and source is not None:
        size = Geometry.of(problem).pool_size or (1, 1)
        cells = _order(stage_shapes(problem).pool, _worked_limit(size[0] * size[1]))
        steps += _pool_steps(problem, source, maps.pool.tolist()[0], cells, fmt)
    return OwnSteps(reads, steps)
