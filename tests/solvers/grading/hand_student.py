"""A student who works every problem by hand as the lecture does: every intermediate value
rounded to k decimals, the softmax without the max-shift. Plain Python, written from the
lecture's method, not from the app's computation (so the tests check the app against it).

The same code runs on :class:`Interval` numbers, whose rounding widens them by ½·10⁻ᵏ: then
it gives every value a hand-worked answer can take, the problem's own rounding sensitivity.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

Round = Callable[[Any], Any]


def rounding(decimals: int) -> Round:
    """Round a float as a student writes it: the decimal value (12 significant digits, as a
    calculator shows it), halves up: 1.65/2.64 = 0.625 → 0.63, where ``round`` rounds the
    binary value 0.62499… to 0.62; or widen an :class:`Interval` by half a unit of the last
    decimal kept."""
    half = 0.5 * 10.0**-decimals
    unit = Decimal(1).scaleb(-decimals)

    def r(x: Any) -> Any:
        if isinstance(x, Interval):
            return Interval(x.low - half, x.high + half)
        return float(Decimal(f"{x:.12g}").quantize(unit, rounding=ROUND_HALF_UP))

    return r


@dataclass(frozen=True)
class Interval:
    """A closed interval of reals with the arithmetic the hand method needs."""

    low: float
    high: float

    @staticmethod
    def of(x: Any) -> Interval:
        return x if isinstance(x, Interval) else Interval(x, x)

    def __add__(self, other: Any) -> Interval:
        o = Interval.of(other)
        return Interval(self.low + o.low, self.high + o.high)

    __radd__ = __add__

    def __neg__(self) -> Interval:
        return Interval(-self.high, -self.low)

    def __sub__(self, other: Any) -> Interval:
        return self + -Interval.of(other)

    def __rsub__(self, other: Any) -> Interval:
        return Interval.of(other) - self

    def __mul__(self, other: Any) -> Interval:
        o = Interval.of(other)
        products = [a * b for a in (self.low, self.high) for b in (o.low, o.high)]
        return Interval(min(products), max(products))

    __rmul__ = __mul__

    def __truediv__(self, other: Any) -> Interval:
        o = Interval.of(other)
        assert o.low > 0 or o.high < 0, "division by an interval around 0"
        return self * Interval(1 / o.high, 1 / o.low)

    def __rtruediv__(self, other: Any) -> Interval:
        return Interval.of(other) / self

    @property
    def width(self) -> float:
        return self.high - self.low


def exp(x: Any) -> Any:
    return Interval(math.exp(x.low), math.exp(x.high)) if isinstance(x, Interval) else math.exp(x)


class Unbounded(ArithmeticError):
    """The logarithm of an interval that reaches 0 (a probability rounded to 0 by hand): no
    bound on how far the rounding moves the result."""


def log(x: Any) -> Any:
    if isinstance(x, Interval):
        if x.low <= 0:
            raise Unbounded(x)
        return Interval(math.log(x.low), math.log(x.high))
    return math.log(x)


def tanh(x: Any) -> Any:
    if isinstance(x, Interval):
        return Interval(math.tanh(x.low), math.tanh(x.high))
    return math.tanh(x)


def square(x: Any) -> Any:
    """x², tight on an interval around 0."""
    if isinstance(x, Interval) and x.low < 0 < x.high:
        return Interval(0.0, max(x.low**2, x.high**2))
    return x * x


# ---- loss ----------------------------------------------------------------------------------


def softmax_example(scores: list[Any], label: int, r: Round) -> Any:
    """−ln p_y with e^{s_j}, their sum, p_y and −ln p_y each rounded."""
    exps = [r(exp(s)) for s in scores]
    total = r(sum(exps))
    p = r(exps[label] / total)
    return r(-log(p))


def svm_example(scores: list[Any], label: int, r: Round, margin: float = 1.0) -> Any:
    """Σ_{j≠y} max(0, s_j − s_y + Δ), each margin rounded."""
    terms = [r(s - scores[label] + margin) for j, s in enumerate(scores) if j != label]
    return r(sum(max(0.0, t) for t in terms))


def loss_answer(problem: Any, r: Round) -> dict[str, Any]:
    """L_i of every example (rows of ``problem.rows()``) and their mean."""
    example = softmax_example if problem.loss == "softmax" else svm_example
    per_example = [example(s, y, r) for s, y in zip(problem.rows(), problem.labels, strict=True)]
    return {"per_example": per_example, "loss": r(sum(per_example) / len(per_example))}


# ---- graph ---------------------------------------------------------------------------------


def _neuron_input(v: dict[str, Any], r: Round) -> Any:
    return r(r(r(v["w0"] * v["x0"]) + r(v["w1"] * v["x1"])) + v["w2"])


def _neuron_gradients(v: dict[str, Any], dz: Any, r: Round) -> dict[str, Any]:
    """Through the two + gates (local 1) and the two * gates (local: the other input)."""
    return {
        "w0": r(v["x0"] * dz),
        "x0": r(v["w0"] * dz),
        "w1": r(v["x1"] * dz),
        "x1": r(v["w1"] * dz),
        "w2": dz,
    }


def sigmoid_neuron(v: dict[str, Any], r: Round) -> dict[str, Any]:
    """The lecture's circuit: z, −z, exp, +1, 1/x forward; backward through each gate."""
    z = _neuron_input(v, r)
    minus = r(-z)
    e = r(exp(minus))
    d = r(e + 1)
    f = r(1 / d)
    d_d = r(-1 / square(d))  # local gradient of 1/x, times the upstream 1
    d_minus = r(d_d * e)  # exp: its own value; +1: local 1
    dz = r(-d_minus)
    return {"output": f, "gradients": _neuron_gradients(v, dz, r)}


def tanh_neuron(v: dict[str, Any], r: Round) -> dict[str, Any]:
    z = _neuron_input(v, r)
    t = r(tanh(z))
    dz = r(1 - square(t))
    return {"output": t, "gradients": _neuron_gradients(v, dz, r)}


def sum_times(v: dict[str, Any], r: Round) -> dict[str, Any]:
    q = r(v["x"] + v["y"])
    return {"output": r(q * v["z"]), "gradients": {"x": v["z"], "y": v["z"], "z": q}}


def max_gate(v: dict[str, Any], r: Round) -> dict[str, Any]:
    xy = r(v["x"] * v["y"])
    z_wins = v["z"] > v["w"]
    inner = r(xy + (v["z"] if z_wins else v["w"]))
    gradients = {"x": r(2 * v["y"]), "y": r(2 * v["x"]), "z": 2 if z_wins else 0}
    gradients["w"] = 0 if z_wins else 2
    return {"output": r(2 * inner), "gradients": gradients}


def reused_variable(v: dict[str, Any], r: Round) -> dict[str, Any]:
    a, b = r(v["x"] + v["y"]), r(v["x"] + v["z"])
    return {"output": r(a * b), "gradients": {"x": r(b + a), "y": b, "z": a}}


def _product(w: list[list[float]], x: list[float], r: Round) -> list[float]:
    """W x row by row: each product rounded, then their sum."""
    return [r(sum(r(a * b) for a, b in zip(row, x, strict=True))) for row in w]


def _transposed_product(w: list[list[float]], g: list[float], r: Round) -> list[float]:
    """Wᵀ g: column by column."""
    return [r(sum(r(row[j] * gi) for row, gi in zip(w, g, strict=True))) for j in range(len(w[0]))]


def _outer(g: list[float], x: list[float], r: Round) -> list[list[float]]:
    """g xᵀ, the gradient of W in a product W x."""
    return [[r(gi * xj) for xj in x] for gi in g]


def matrix_norm(v: dict[str, Any], r: Round) -> dict[str, Any]:
    q = _product(v["W"], v["x"], r)
    dq = [r(2 * qi) for qi in q]
    return {
        "output": r(sum(r(qi * qi) for qi in q)),
        "gradients": {"W": _outer(dq, v["x"], r), "x": _transposed_product(v["W"], dq, r)},
    }


def linear_svm(v: dict[str, Any], r: Round) -> dict[str, Any]:
    """The SVM of s = W x + b: margins s_j − s_y + 1; ds_j = 1 where one is violated."""
    y = int(v["y"])
    s = [r(si + bi) for si, bi in zip(_product(v["W"], v["x"], r), v["b"], strict=True)]
    margins = [r(sj - s[y] + 1) if j != y else 0.0 for j, sj in enumerate(s)]
    ds = [1.0 if m > 0 else 0.0 for m in margins]
    ds[y] = -sum(ds)
    return {
        "output": r(sum(max(m, 0.0) for m in margins)),
        "gradients": {"W": _outer(ds, v["x"], r), "x": _transposed_product(v["W"], ds, r),
                      "b": ds},
    }  # fmt: skip


GRAPH_METHODS: dict[str, Callable[[dict[str, Any], Round], dict[str, Any]]] = {
    "||W x||^2": matrix_norm,
    "svm(W x + b, y)": linear_svm,
    "1/(1+exp(-(w0*x0+w1*x1+w2)))": sigmoid_neuron,
    "tanh(w0*x0+w1*x1+w2)": tanh_neuron,
    "(x+y)*z": sum_times,
    "2*(x*y+max(z,w))": max_gate,
    "(x+y)*(x+z)": reused_variable,
}


def graph_answer(problem: Any, r: Round) -> dict[str, Any]:
    return GRAPH_METHODS[problem.expression](dict(problem.values), r)


# ---- conv ----------------------------------------------------------------------------------


def _pair(x: Any) -> tuple[int, int]:
    return (x, x) if isinstance(x, int) else tuple(x)  # type: ignore[return-value]


def conv_answer(problem: Any, r: Round) -> dict[str, Any]:
    """Each cell: the products rounded, their sum, plus the bias; ReLU; pooling (an average
    rounded)."""
    image = problem.image if isinstance(problem.image[0][0], list) else [problem.image]
    filters = problem.filters
    bias = problem.bias if isinstance(problem.bias, list) else [problem.bias] * len(filters)
    (sv, sh), (pv, ph) = _pair(problem.stride), _pair(problem.padding)
    channels, height, width = len(image), len(image[0]) + 2 * pv, len(image[0][0]) + 2 * ph

    def pixel(c: int, i: int, j: int) -> float:
        i, j = i - pv, j - ph
        inside = 0 <= i < len(image[0]) and 0 <= j < len(image[0][0])
        return image[c][i][j] if inside else 0.0

    maps = []
    for kernel, b in zip(filters, bias, strict=True):
        fh, fw = len(kernel[0]), len(kernel[0][0])
        rows = range(0, height - fh + 1, sv)
        cols = range(0, width - fw + 1, sh)
        maps.append(
            [
                [
                    r(
                        r(
                            sum(
                                r(kernel[c][a][e] * pixel(c, i + a, j + e))
                                for c in range(channels)
                                for a in range(fh)
                                for e in range(fw)
                            )
                        )
                        + b
                    )
                    for j in cols
                ]
                for i in rows
            ]
        )
    answer: dict[str, Any] = {"conv": maps}
    activation = [[[max(0.0, x) for x in row] for row in grid] for grid in maps]
    answer["activation"] = activation
    if problem.pool is not None:
        (size_v, size_h) = _pair(problem.pool.size)
        (step_v, step_h) = _pair(problem.pool.stride or problem.pool.size)

        def window(grid: list[list[float]], i: int, j: int) -> list[float]:
            return [grid[i + a][j + e] for a in range(size_v) for e in range(size_h)]

        def pooled(values: list[float]) -> float:
            return max(values) if problem.pool.kind == "max" else r(sum(values) / len(values))

        answer["pool"] = [
            [
                [pooled(window(grid, i, j)) for j in range(0, len(grid[0]) - size_h + 1, step_h)]
                for i in range(0, len(grid) - size_v + 1, step_v)
            ]
            for grid in activation
        ]
    return answer


ANSWERS = {"loss": loss_answer, "graph": graph_answer, "conv": conv_answer}
"""The hand method of every task: ``ANSWERS[task](problem, rounding(k))``."""
