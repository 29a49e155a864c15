"""The single-problem solver: numpy float64 maps and the worked steps.

Cells are worked out in full (window, products, sum, bias) for the first
:data:`MAX_WORKED_CELLS` cells of each stage, fewer when kernels are big (at most
:data:`MAX_WORKED_TERMS` products or window values in all); one summary step then says how
many more cells were computed the same way. The maps themselves are always complete.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from solvers.core import N_, NumberFormat, Step
from solvers.tasks.conv.problem import (
    MAX_WORKED_CELLS,
    MAX_WORKED_TERMS,
    ConvAnswer,
    ConvProblem,
    ConvSolution,
    Geometry,
    Pair,
    Windows,
    stage_shapes,
)


@dataclass(frozen=True)
class Maps:
    """Every stage as numpy arrays; kernels as applied (flipped for convolution)."""

    padded: np.ndarray
    kernels: np.ndarray
    bias: np.ndarray
    conv: np.ndarray
    activation: np.ndarray | None
    pool: np.ndarray | None

    @property
    def output(self) -> np.ndarray:
        """The last stage's map."""
        for stage in (self.pool, self.activation):
            if stage is not None:
                return stage
        return self.conv


def forward(problem: ConvProblem, geometry: Geometry) -> Maps:
    """Compute every map of a validated problem in float64."""
    (sv, sh), (pv, ph) = geometry.stride, geometry.padding
    image = np.asarray(problem.image, dtype=np.float64)
    kernels = np.asarray(problem.filters, dtype=np.float64)
    if problem.mode == "convolution":
        kernels = kernels[:, :, ::-1, ::-1]
    count, _, fh, fw = kernels.shape
    bias = np.broadcast_to(np.asarray(problem.bias, dtype=np.float64), (count,))
    padded = np.pad(image, ((0, 0), (pv, pv), (ph, ph)))
    windows = sliding_window_view(padded, (fh, fw), axis=(1, 2))[:, ::sv, ::sh]
    conv = np.tensordot(kernels, windows, axes=([1, 2, 3], [0, 3, 4])) + bias[:, None, None]
    activation = np.maximum(conv, 0.0) if problem.activation == "relu" else None
    pooled = None
    if geometry.pool_size and geometry.pool_stride and problem.pool:
        source = conv if activation is None else activation
        (kh, kw), (tv, th) = geometry.pool_size, geometry.pool_stride
        cells = sliding_window_view(source, (kh, kw), axis=(1, 2))[:, ::tv, ::th]
        if problem.pool.kind == "max":
            pooled = cells.max(axis=(3, 4))
        else:
            pooled = cells.sum(axis=(3, 4)) / (kh * kw)
    return Maps(padded, np.ascontiguousarray(kernels), bias, conv, activation, pooled)


@lru_cache(maxsize=4096)
def _tex(fmt: NumberFormat, x: float, paren: bool = False) -> str:
    """``fmt.tex`` remembered: quiz numbers repeat (kernel weights, small integers)."""
    return fmt.tex(x, paren)


def _eq(value: float, fmt: NumberFormat) -> str:
    """`` = 3`` or `` \\approx 0.3333`` for the end of a formula."""
    sign = "\\approx" if fmt.is_rounded(value) else "="
    return f" {sign} {fmt.tex(value)}"


def _cell(symbol: str, k: int, i: int, j: int, maps: int) -> str:
    """LaTeX name of a cell: ``y_{1,2}``, or ``y^{(3)}_{1,2}`` when there are several maps."""
    upper = f"^{{({k + 1})}}" if maps > 1 else ""
    return f"{symbol}{upper}_{{{i + 1},{j + 1}}}"


def _order(shape: tuple[int, ...], limit: int) -> list[tuple[int, int, int]]:
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
    out = span // s + 1
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
    out = [(n - f + 2 * (p or 0)) // s + 1 for n, f, p, s in sizes]
    steps = [
        Step(
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
            Step(
                kind="conv.dropped",
                title=N_("The window does not fit evenly"),
                text=N_(
                    "(N − F + 2P)/S is not a whole number, so the window never reaches the last "
                    "{rows} row(s) and {cols} column(s) of its input: they are dropped, as "
                    "PyTorch and other frameworks do (they round down). CS231n calls such "
                    "hyperparameters invalid."
                ),
                params={"rows": dropped_rows, "cols": dropped_cols},
            )
        )
    return steps


def _conv_cell_step(
    maps: Maps, k: int, i: int, j: int, geometry: Geometry, fmt: NumberFormat
) -> Step:
    """One conv cell: its window, the products per channel, their sum and the bias."""
    (sv, sh) = geometry.stride
    count, channels, fh, fw = maps.kernels.shape
    r0, c0 = i * sv, j * sh
    window = maps.padded[:, r0 : r0 + fh, c0 : c0 + fw]
    kernel = maps.kernels[k]
    products = window * kernel
    bias = float(maps.bias[k])
    value = float(maps.conv[k, i, j])
    name = _cell(symbol="y", k=k, i=i, j=j, maps=count)
    tail = f" + {_tex(fmt, bias, paren=True)}" if bias else ""
    formulas: list[str] = []
    sums: list[float] = []
    for c in range(channels):
        xs, ws, ps = window[c].ravel().tolist(), kernel[c].ravel().tolist(), products[c].ravel()
        left = " + ".join(
            f"{_tex(fmt, x, paren=True)} \\cdot {_tex(fmt, w, paren=True)}"
            for x, w in zip(xs, ws, strict=True)
        )
        middle = " + ".join(_tex(fmt, p, paren=True) for p in ps.tolist())
        total = float(ps.sum())
        sums.append(total)
        if channels == 1:
            formulas.append(f"{name} = {left}{tail} = {middle}{tail}{_eq(value, fmt)}")
        else:
            formulas.append(f"s_{{{c + 1}}} = {left} = {middle}{_eq(total, fmt)}")
    if channels > 1:
        symbols = " + ".join(f"s_{{{c + 1}}}" for c in range(channels))
        numbers = " + ".join(_tex(fmt, s, paren=True) for s in sums)
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
    return Step(
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
            N_("window"): window.tolist(),
            N_("kernel"): kernel.tolist(),
            N_("products"): products.tolist(),
            N_("channel_sums"): sums,
            N_("bias"): bias,
            N_("value"): value,
        },
    )


def _pool_cell_step(
    source: np.ndarray,
    pooled: np.ndarray,
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
    window = source[k, r0 : r0 + kh, c0 : c0 + kw]
    value = float(pooled[k, i, j])
    name = _cell("p", k, i, j, pooled.shape[0])
    listed = ", ".join(_tex(fmt, x) for x in window.ravel().tolist())
    params: dict[str, str | int | float] = {
        "map": k + 1,
        "row": i + 1,
        "col": j + 1,
        "r0": r0 + 1,
        "r1": r0 + kh,
        "c0": c0 + 1,
        "c1": c0 + kw,
    }
    values: dict[str, float | int | list[list[float]]] = {N_("window"): window.tolist()}
    if kind == "max":
        ties = int((window == value).sum())
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
        total = float(window.sum())
        terms = " + ".join(_tex(fmt, x, paren=True) for x in window.ravel().tolist())
        formula = (
            f"{name} = \\frac{{{terms}}}{{{kh * kw}}} = \\frac{{{_tex(fmt, total)}}}{{{kh * kw}}}"
            f"{_eq(value, fmt)}"
        )
        params["count"] = kh * kw
        text = N_(
            "The mean of rows {r0}–{r1}, columns {c0}–{c1} of the map being pooled: "
            "their sum divided by {count}."
        )
    values[N_("value")] = value
    return Step(
        kind="conv.pool",
        title=N_("Pooling: map {map}, cell ({row}, {col})"),
        text=text,
        params=params,
        formulas=[formula],
        values=values,
    )


def _summary_step(done: int, total: int, limit: int, name: str, grid: np.ndarray) -> Step:
    return Step(
        kind="conv.cells_summary",
        title=N_("The remaining cells"),
        text=N_(
            "The other {count} cells are computed the same way; at most {limit} cells of a "
            "stage are worked out in full."
        ),
        params={"count": total - done, "limit": limit},
        values={name: grid.tolist()},
    )


def _relu_step(maps: Maps, limit: int, fmt: NumberFormat) -> Step:
    assert maps.activation is not None
    zeroed = maps.conv < 0
    cells = np.argwhere(zeroed)
    formulas = ["\\operatorname{ReLU}(x) = \\max(0, x)"]
    for k, i, j in cells[:limit].tolist():
        name = _cell("a", k, i, j, maps.conv.shape[0])
        formulas.append(f"{name} = \\max(0, {_tex(fmt, float(maps.conv[k, i, j]))}) = 0")
    return Step(
        kind="conv.relu",
        title=N_("ReLU"),
        text=N_(
            "ReLU keeps positive values and replaces negative ones by 0: {count} cell(s) are "
            "zeroed (1 in the mask)."
        ),
        params={"count": len(cells)},
        formulas=formulas,
        values={
            N_("conv"): maps.conv.tolist(),
            N_("activation"): maps.activation.tolist(),
            N_("zeroed"): zeroed.astype(np.float64).tolist(),
        },
    )


def solve(problem: ConvProblem, fmt: NumberFormat = NumberFormat()) -> ConvSolution:  # noqa: B008
    """Solve one problem: every map, and the steps that explain each of them."""
    geometry = Geometry.of(problem)
    shapes = stage_shapes(problem)
    maps = forward(problem, geometry)
    count, channels, fh, fw = maps.kernels.shape
    _, height, width = shapes.input
    (sv, sh), (pv, ph) = geometry.stride, geometry.padding
    steps = _size_steps(
        "conv.size",
        N_("Convolution output size"),
        N_(
            "(N − F + 2P)/S + 1 on each axis, where N is the input side, F the kernel side, P "
            "the padding and S the stride: {maps} map(s) of {height}×{width}, one per filter."
        ),
        [(height, fh, pv, sv), (width, fw, ph, sh)],
        count,
        fmt,
    )
    if pv or ph:
        steps.append(
            Step(
                kind="conv.padding",
                title=N_("Zero padding"),
                text=N_(
                    "{vertical} row(s) of zeros are added at the top and at the bottom and "
                    "{horizontal} column(s) at the left and at the right: each channel "
                    "becomes {height}×{width}."
                ),
                params={
                    "vertical": pv,
                    "horizontal": ph,
                    "height": shapes.padded[1],
                    "width": shapes.padded[2],
                },
                values={N_("padded"): maps.padded.tolist()},
            )
        )
    if problem.mode == "convolution":
        values: dict[str, list[list[list[float]]]] = {}
        for k in range(count):
            values[f"kernel_{k + 1}"] = problem.filters[k]
            values[f"flipped_{k + 1}"] = maps.kernels[k].tolist()
        steps.append(
            Step(
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
    conv_cells = _order(maps.conv.shape, conv_limit)
    steps += [_conv_cell_step(maps, k, i, j, geometry, fmt) for k, i, j in conv_cells]
    if len(conv_cells) < maps.conv.size:
        steps.append(_summary_step(len(conv_cells), maps.conv.size, conv_limit, "conv", maps.conv))
    if maps.activation is not None:
        steps.append(_relu_step(maps, MAX_WORKED_CELLS, fmt))
    pool_cells: list[tuple[int, int, int]] = []
    pool_windows = None
    if maps.pool is not None and problem.pool and geometry.pool_size and geometry.pool_stride:
        source = maps.conv if maps.activation is None else maps.activation
        (kh, kw), (tv, th) = geometry.pool_size, geometry.pool_stride
        steps += _size_steps(
            "conv.pool_size",
            N_("Pooling output size"),
            N_(
                "(N − F)/S + 1 on each axis, where F is the window side and S the stride (no "
                "padding): each map becomes {height}×{width}."
            ),
            [(source.shape[1], kh, None, tv), (source.shape[2], kw, None, th)],
            count,
            fmt,
        )
        pool_limit = _worked_limit(kh * kw)
        pool_cells = _order(maps.pool.shape, pool_limit)
        steps += [
            _pool_cell_step(source, maps.pool, problem.pool.kind, k, i, j, (kh, kw), (tv, th), fmt)
            for k, i, j in pool_cells
        ]
        if len(pool_cells) < maps.pool.size:
            steps.append(
                _summary_step(len(pool_cells), maps.pool.size, pool_limit, "pool", maps.pool)
            )
        pool_windows = Windows(
            size=(kh, kw),
            stride=(tv, th),
            rows=list(range(0, maps.pool.shape[1] * tv, tv)),
            cols=list(range(0, maps.pool.shape[2] * th, th)),
        )
    # The maps are floats from numpy's tolist: trusted, so not re-validated cell by cell.
    answer = ConvAnswer.model_construct(
        conv=maps.conv.tolist(),
        activation=None if maps.activation is None else maps.activation.tolist(),
        pool=None if maps.pool is None else maps.pool.tolist(),
        output=maps.output.tolist(),
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
        Step(
            kind="conv.result",
            title=N_("Result"),
            text=N_("The output has {maps} map(s) of {height}×{width}."),
            params={
                "maps": shapes.output[0],
                "height": shapes.output[1],
                "width": shapes.output[2],
            },
            values=result_values,
        )
    )
    return ConvSolution.model_construct(
        answer=answer,
        steps=steps,
        padding=(pv, ph),
        padded=maps.padded.tolist(),
        kernels=maps.kernels.tolist(),
        bias=maps.bias.tolist(),
        conv_windows=Windows(
            size=(fh, fw),
            stride=(sv, sh),
            rows=list(range(0, maps.conv.shape[1] * sv, sv)),
            cols=list(range(0, maps.conv.shape[2] * sh, sh)),
        ),
        pool_windows=pool_windows,
        worked_conv_cells=len(conv_cells),
        worked_pool_cells=len(pool_cells),
    )
