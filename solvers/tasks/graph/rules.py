"""One record per gate: everything the graph task knows about an op, side by side.

As micrograd keeps each op's backward beside its forward, a :class:`GateRule` holds a
gate's forward value and local gradients (on float64 arrays with a leading batch
dimension: torch tensors for a batch, numpy arrays for a single problem, the same code),
their LaTeX, the label the picture writes, its kink rule and its domain check.
The passes (:mod:`.compute`), the steps (:mod:`.steps`), the parser's constant folding,
sympy (:mod:`.symbolic`) and the grader all read :data:`RULES`.

Conventions at non-differentiable points follow PyTorch: ``relu'(0) = 0``, ``|x|'(0) = 0``,
and a tie in ``max``/``min`` splits the gradient in half between the two inputs (as
``torch.maximum``/``torch.minimum`` do).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from pydantic_core import PydanticCustomError

from solvers.core import N_, NumberFormat
from solvers.tasks.loss.compute import mean_losses, svm_margins

Tensor = torch.Tensor
Array = torch.Tensor | np.ndarray
"""A torch tensor (a batch), or a numpy array (a single problem: less cost per op)."""
Local = Array | float
"""A local gradient: an array (B,), or a float where it does not depend on the inputs."""
Shape = tuple[int, ...]
"""The shape of a node of a vector graph: () a scalar, (n,) a vector, (m, n) a matrix."""
Domain = tuple[str, dict[str, Any]] | None
"""A domain error's message template and context (``node`` is added), or None."""


def domain_error(template: str, **context: Any) -> PydanticCustomError:
    """A numeric error at a node (type ``"domain"``)."""
    return PydanticCustomError("domain", template, context)


def xp(x: Array) -> Any:
    """The array namespace of ``x``: ``torch`` for a tensor, else ``numpy``."""
    return torch if isinstance(x, torch.Tensor) else np


def _maximum(x: Array, y: Array) -> Array:
    """``torch.maximum``; on numpy too, a tie between ±0 gives ``x`` (numpy gives ``y``)."""
    return torch.maximum(x, y) if isinstance(x, torch.Tensor) else np.maximum(y, x)


def _minimum(x: Array, y: Array) -> Array:
    """``torch.minimum``; on numpy too, a tie between ±0 gives ``x``."""
    return torch.minimum(x, y) if isinstance(x, torch.Tensor) else np.minimum(y, x)


def _relu(x: Array) -> Array:
    """``torch.relu`` (which keeps −0)."""
    return torch.relu(x) if isinstance(x, torch.Tensor) else np.maximum(0.0, x)


def _sigmoid(x: Array) -> Array:
    """``torch.sigmoid``; on numpy 1/(1 + e^(−x))."""
    return torch.sigmoid(x) if isinstance(x, torch.Tensor) else 1.0 / (1.0 + np.exp(-x))


def _pow(x: Array, k: float) -> Array:
    """``torch.pow(x, k)``; on numpy with torch's special cases of ``k`` (x·x, x·x·x,
    1/(x·x)), so that one problem's powers are the batch's to the bit."""
    if isinstance(x, torch.Tensor):
        return torch.pow(x, k)
    if k == 3:
        return x * x * x
    if k == -2:
        return 1.0 / (x * x)
    return np.power(x, k)


def _float(mask: Array) -> Array:
    """A boolean mask as float64 0/1."""
    return mask.to(torch.float64) if isinstance(mask, torch.Tensor) else mask.astype(np.float64)


def _no_kink(xs: Sequence[float]) -> bool:
    return False


def _no_domain(xs: Sequence[float], p: float) -> Domain:
    return None


def _op_label(op: str) -> Callable[[float, NumberFormat], str]:
    return lambda p, fmt: op


@dataclass(frozen=True)
class GateRule:
    """An op of the graph, all in one place.

    ``forward(xs, p)`` and ``local(xs, y, p)`` work on arrays (B,), torch or numpy
    (``p`` is the gate's constant, ``y`` its value, which exp, σ, tanh and sqrt use as the
    lecture does);
    ``forward_tex(a, p)`` and ``local_tex(a, p, k1)`` write them for input symbols ``a``
    (``k1`` is k − 1 of ``^k``); ``label(p, fmt)`` is what the picture writes in the gate;
    ``kink(xs)`` says the inputs are at a non-differentiable point (``kink_message``);
    ``domain(xs, p)`` the domain error at these inputs; ``function`` is the name the
    parser reads, ``sympy(sp, *args)`` its sympy form, ``tex_call(args)`` the function as
    typed in LaTeX (the expression's formula) and ``torch`` its torch function (for ops one
    can type).

    A gate on whole vectors and matrices (:mod:`.vector`) also has ``shape(shapes)``, its
    output's shape from its inputs' (a message id naming the mismatch instead when they do
    not fit), and ``vjp(xs, y, g)``, the gradient of each input from the upstream gradient
    ``g``; its ``forward`` and ``vjp`` take numpy arrays with a leading batch dimension
    (B, *shape). Its ``local_tex(a, p, g)`` writes those in matrix form for the
    upstream symbol ``g``. ``labels`` is the input holding class numbers (no gradient).
    An elementwise gate (no ``shape``) runs on vectors too, scalars broadcast.
    """

    op: str
    arity: int
    forward: Callable[[Sequence[Array], float], Array]
    local: Callable[[Sequence[Array], Array, float], tuple[Local, ...]]
    forward_tex: Callable[[Sequence[str], str], str]
    local_tex: Callable[[Sequence[str], str, str], list[str]]
    label: Callable[[float, NumberFormat], str]
    kink: Callable[[Sequence[Any]], bool] = _no_kink
    kink_message: str = ""
    domain: Callable[[Sequence[float], float], Domain] = _no_domain
    function: str = ""
    sympy: Callable[..., Any] | None = None
    tex_call: Callable[[str], str] | None = None
    torch: str = ""
    has_param: bool = False
    shape: Callable[[Sequence[Shape]], Shape | str] | None = None
    vjp: Callable[[Sequence[np.ndarray], np.ndarray, np.ndarray], tuple[np.ndarray, ...]] | None = (
        None
    )
    labels: int | None = None


# ---- labels, kinks, domains shared by several gates -------------------------------------


def _signed(symbol: str) -> Callable[[float, NumberFormat], str]:
    """``·2``, ``/(−2)``, ``^3``."""

    def label(p: float, fmt: NumberFormat) -> str:
        text = fmt.num(p)
        return symbol + (f"({text})" if text.startswith("\u2212") else text)

    return label


def _tex_call(name: str) -> Callable[[str], str]:
    """A function called as ``name(args)`` in LaTeX (``\\ln\\left(x\\right)``)."""
    return lambda args: rf"{name}\left({args}\right)"


def _plus_label(p: float, fmt: NumberFormat) -> str:
    text = fmt.num(p)
    return text if text.startswith("\u2212") else "+" + text


def _zero_kink(xs: Sequence[float]) -> bool:
    return xs[0] == 0


def _tie_kink(xs: Sequence[float]) -> bool:
    return xs[0] == xs[1]


_DIVISION = N_("1/x of 0 at node {node}: division by zero")


def _reciprocal_domain(xs: Sequence[float], p: float) -> Domain:
    return (_DIVISION, {}) if xs[0] == 0 else None


def _divide_domain(xs: Sequence[float], p: float) -> Domain:
    return (_DIVISION, {}) if p == 0 else None


def _pow_domain(xs: Sequence[float], k: float) -> Domain:
    x = xs[0]
    if x < 0 and not k.is_integer():
        return (
            N_("{value}^{k} at node {node}: a negative number has no real power {k}"),
            {"value": f"{x:.6g}", "k": f"{k:g}"},
        )
    if x == 0 and k < 0:
        return N_("0^{k} at node {node}: division by zero"), {"k": f"{k:g}"}
    return None


def _log_domain(xs: Sequence[float], p: float) -> Domain:
    if xs[0] > 0:
        return None
    return (
        N_("log of {value} at node {node}: log needs a positive number"),
        {"value": f"{xs[0]:.6g}"},
    )


def _sqrt_domain(xs: Sequence[float], p: float) -> Domain:
    if xs[0] >= 0:
        return None
    return (
        N_("sqrt of {value} at node {node}: sqrt needs a number that is not negative"),
        {"value": f"{xs[0]:.6g}"},
    )


def _split(xs: Sequence[Array], larger: bool) -> tuple[Array, Array]:
    """max/min: the gradient goes to the input that won; a tie splits it in half."""
    x, y = xs
    first = (x > y) if larger else (x < y)
    share = xp(x).where(x == y, 0.5, _float(first))
    return share, 1.0 - share


def _power_local(xs: Sequence[Array], y: Array, k: float) -> tuple[Local, ...]:
    return (k * _pow(xs[0], k - 1) if k else 0.0,)


def _rules() -> dict[str, GateRule]:
    rules = [
        GateRule(
            "+", 2, lambda xs, p: xs[0] + xs[1], lambda xs, y, p: (1.0, 1.0),
            lambda a, p: f"{a[0]} + {a[1]}", lambda a, p, k1: ["1", "1"], _op_label("+"),
        ),
        GateRule(
            "-", 2, lambda xs, p: xs[0] - xs[1], lambda xs, y, p: (1.0, -1.0),
            lambda a, p: f"{a[0]} - {a[1]}", lambda a, p, k1: ["1", "-1"], _op_label("−"),
        ),
        GateRule(
            "*", 2, lambda xs, p: xs[0] * xs[1], lambda xs, y, p: (xs[1], xs[0]),
            lambda a, p: rf"{a[0]} \cdot {a[1]}", lambda a, p, k1: [a[1], a[0]], _op_label("*"),
        ),
        GateRule(
            "+c", 1, lambda xs, p: xs[0] + p, lambda xs, y, p: (1.0,),
            lambda a, p: f"{a[0]} + {p}", lambda a, p, k1: ["1"], _plus_label, has_param=True,
        ),
        GateRule(
            "·c", 1, lambda xs, p: -xs[0] if p == -1.0 else xs[0] * p, lambda xs, y, p: (p,),
            lambda a, p: rf"{a[0]} \cdot {p}", lambda a, p, k1: [p], _signed("·"),
            has_param=True,
        ),
        GateRule(
            "/c", 1, lambda xs, p: xs[0] / p,
            lambda xs, y, p: (1.0 / p if p else math.inf,),
            lambda a, p: rf"\frac{{{a[0]}}}{{{p}}}", lambda a, p, k1: [rf"\frac{{1}}{{{p}}}"],
            _signed("/"), domain=_divide_domain, has_param=True,
        ),
        GateRule(
            "1/x", 1, lambda xs, p: 1.0 / xs[0],
            lambda xs, y, p: (-(1.0 / (xs[0] * xs[0])),),
            lambda a, p: rf"\frac{{1}}{{{a[0]}}}",
            lambda a, p, k1: [rf"-\frac{{1}}{{{a[0]}^{{2}}}}"], _op_label("1/x"),
            domain=_reciprocal_domain,
        ),
        GateRule(
            "exp", 1, lambda xs, p: xp(xs[0]).exp(xs[0]), lambda xs, y, p: (y,),
            lambda a, p: f"e^{{{a[0]}}}", lambda a, p, k1: [f"e^{{{a[0]}}}"], _op_label("exp"),
            function="exp", sympy=lambda sp, x: sp.exp(x), tex_call=lambda a: f"e^{{{a}}}",
            torch="torch.exp",
        ),
        GateRule(
            "^k", 1, lambda xs, p: _pow(xs[0], p), _power_local,
            lambda a, p: f"{a[0]}^{{{p}}}", lambda a, p, k1: [rf"{p} \cdot {a[0]}^{{{k1}}}"],
            _signed("^"), domain=_pow_domain, has_param=True,
        ),
        GateRule(
            "max", 2, lambda xs, p: _maximum(xs[0], xs[1]),
            lambda xs, y, p: _split(xs, larger=True),
            lambda a, p: rf"\max({a[0]}, {a[1]})",
            lambda a, p, k1: [f"[{a[0]} > {a[1]}]", f"[{a[1]} > {a[0]}]"], _op_label("max"),
            kink=_tie_kink,
            kink_message=N_("Both inputs of max are equal; as in PyTorch, the gradient is "
                            "split in half between them."),
            function="max", sympy=lambda sp, x, y: sp.Max(x, y), tex_call=_tex_call(r"\max"),
            torch="torch.maximum",
        ),
        GateRule(
            "min", 2, lambda xs, p: _minimum(xs[0], xs[1]),
            lambda xs, y, p: _split(xs, larger=False),
            lambda a, p: rf"\min({a[0]}, {a[1]})",
            lambda a, p, k1: [f"[{a[0]} < {a[1]}]", f"[{a[1]} < {a[0]}]"], _op_label("min"),
            kink=_tie_kink,
            kink_message=N_("Both inputs of min are equal; as in PyTorch, the gradient is "
                            "split in half between them."),
            function="min", sympy=lambda sp, x, y: sp.Min(x, y), tex_call=_tex_call(r"\min"),
            torch="torch.minimum",
        ),
        GateRule(
            "relu", 1, lambda xs, p: _relu(xs[0]),
            lambda xs, y, p: (_float(xs[0] > 0),),
            lambda a, p: rf"\max(0, {a[0]})", lambda a, p, k1: [f"[{a[0]} > 0]"],
            _op_label("relu"), kink=_zero_kink,
            kink_message=N_("relu is not differentiable at 0; as in PyTorch, its gradient "
                            "there is taken as 0."),
            function="relu", sympy=lambda sp, x: sp.Max(0, x),
            tex_call=_tex_call(r"\operatorname{ReLU}"), torch="torch.relu",
        ),
        GateRule(
            "σ", 1, lambda xs, p: _sigmoid(xs[0]), lambda xs, y, p: (y * (1.0 - y),),
            lambda a, p: rf"\sigma({a[0]})",
            lambda a, p, k1: [rf"\sigma({a[0]})\,(1 - \sigma({a[0]}))"], _op_label("σ"),
            function="sigmoid", sympy=lambda sp, x: 1 / (1 + sp.exp(-x)),
            tex_call=_tex_call(r"\sigma"), torch="torch.sigmoid",
        ),
        GateRule(
            "tanh", 1, lambda xs, p: xp(xs[0]).tanh(xs[0]), lambda xs, y, p: (1.0 - y * y,),
            lambda a, p: rf"\tanh({a[0]})", lambda a, p, k1: [rf"1 - \tanh^{{2}}({a[0]})"],
            _op_label("tanh"), function="tanh", sympy=lambda sp, x: sp.tanh(x),
            tex_call=_tex_call(r"\tanh"), torch="torch.tanh",
        ),
        GateRule(
            "log", 1, lambda xs, p: xp(xs[0]).log(xs[0]), lambda xs, y, p: (1.0 / xs[0],),
            lambda a, p: rf"\ln({a[0]})", lambda a, p, k1: [rf"\frac{{1}}{{{a[0]}}}"],
            _op_label("log"), domain=_log_domain, function="log",
            sympy=lambda sp, x: sp.log(x), tex_call=_tex_call(r"\ln"), torch="torch.log",
        ),
        GateRule(
            "sqrt", 1, lambda xs, p: xp(xs[0]).sqrt(xs[0]), lambda xs, y, p: (0.5 / y,),
            lambda a, p: rf"\sqrt{{{a[0]}}}",
            lambda a, p, k1: [rf"\frac{{1}}{{2\sqrt{{{a[0]}}}}}"], _op_label("sqrt"),
            domain=_sqrt_domain, function="sqrt", sympy=lambda sp, x: sp.sqrt(x),
            tex_call=lambda a: rf"\sqrt{{{a}}}", torch="torch.sqrt",
        ),
        GateRule(
            "abs", 1, lambda xs, p: xp(xs[0]).abs(xs[0]), lambda xs, y, p: (xp(xs[0]).sign(xs[0]),),
            lambda a, p: rf"\left|{a[0]}\right|",
            lambda a, p, k1: [rf"\operatorname{{sign}}({a[0]})"], _op_label("abs"),
            kink=_zero_kink,
            kink_message=N_("abs is not differentiable at 0; as in PyTorch, its gradient "
                            "there is taken as 0."),
            function="abs", sympy=lambda sp, x: sp.Abs(x),
            tex_call=lambda a: rf"\left|{a}\right|", torch="torch.abs",
        ),
    ]  # fmt: skip
    return {rule.op: rule for rule in rules}


# ---- gates of vector graphs -------------------------------------------------------------


def _whole(xs: Sequence[Array], y: Array, p: float) -> tuple[Local, ...]:
    raise TypeError("a gate on whole vectors has no elementwise local gradient: use vjp")


def _matmul_shape(shapes: Sequence[Shape]) -> Shape | str:
    a, b = shapes
    if not a or not b or len(a) > 2 or len(b) > 2:
        return N_(
            "{op} at position {position}: shapes {left} and {right}; a matrix product needs "
            "vectors or matrices on both sides"
        )
    if a[-1] != b[0]:
        return N_(
            "{op} at position {position}: shapes {left} and {right}; the columns of the left "
            "side must match the rows of the right side"
        )
    return a[:-1] + b[1:]


def _per_problem(g: np.ndarray, ndim: int) -> np.ndarray:
    """A batch of scalars (B,) as (B, 1, …) to multiply arrays of ``ndim`` dimensions."""
    return g.reshape(g.shape + (1,) * (ndim - 1))


def _as_row_and_column(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Batches (B, …): a vector on the left as a row (B, 1, n), on the right as a column
    (B, n, 1)."""
    return (a[:, None, :] if a.ndim == 2 else a), (b[:, :, None] if b.ndim == 2 else b)


def _matmul(xs: Sequence[Array], p: float) -> Array:
    """The product of each problem's pair (vectors as a row on the left, a column on the
    right)."""
    a, b = xs
    left, right = _as_row_and_column(a, b)  # type: ignore[arg-type]
    return np.matmul(left, right).reshape(a.shape[:-1] + b.shape[2:])


def _matmul_vjp(xs: Sequence[np.ndarray], y: np.ndarray, g: np.ndarray) -> tuple[np.ndarray, ...]:
    """∂f/∂A = G Bᵀ, ∂f/∂B = Aᵀ G (vectors as a row on the left, a column on the right)."""
    a, b = xs
    left, right = _as_row_and_column(a, b)
    upstream = np.reshape(g, (len(g), left.shape[1], right.shape[2]))
    return (
        (upstream @ np.swapaxes(right, 1, 2)).reshape(a.shape),
        (np.swapaxes(left, 1, 2) @ upstream).reshape(b.shape),
    )


def _transposed(x: np.ndarray) -> np.ndarray:
    """Each problem's matrix transposed; a vector or a scalar as it is."""
    return np.swapaxes(x, 1, 2) if x.ndim == 3 else x


def _transpose_shape(shapes: Sequence[Shape]) -> Shape | str:
    return tuple(reversed(shapes[0]))


def _scalar_shape(shapes: Sequence[Shape]) -> Shape | str:
    return ()


def _total(x: np.ndarray) -> np.ndarray:
    """Each problem's sum of its elements (B,), in the order of memory (as ``np.sum``)."""
    return x.sum(tuple(range(1, x.ndim)))


def _loss_shape(shapes: Sequence[Shape]) -> Shape | str:
    s, y = shapes
    if len(s) not in (1, 2) or y != s[:-1]:
        return N_(
            "{op} at position {position}: shapes {left} and {right}; it takes scores (C "
            "classes, or N×C) and one label per row of scores (a number, or N numbers)"
        )
    return ()


def _rows(s: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Batches of scores as (B, N, C) and of labels as (B, N) integers."""
    return (s[:, None] if s.ndim == 2 else s), (y[:, None] if y.ndim == 1 else y).astype(np.int64)


def _loss(kind: str) -> Callable[[Sequence[Array], float], Array]:
    """The forward of a loss gate: the mean over the examples of the loss task's per-example
    losses (:func:`solvers.tasks.loss.compute.mean_losses`), as PyTorch's mean: sum / N."""

    def forward(xs: Sequence[Array], p: float) -> Array:
        t = mean_losses(kind, *_rows(*xs), gradient=False)  # type: ignore[arg-type]
        return np.asarray(t.per_example.mean(1))

    return forward


def margin_kinks(s: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Per problem of a batch (scores (B, C) or (B, N, C), labels (B,) or (B, N)): whether a
    margin s_j − s_{y_i} + 1 of a class j ≠ y_i is exactly 0 (the loss task's
    :func:`~solvers.tasks.loss.compute.svm_margins`): the SVM loss's kink."""
    scores, labels = _rows(s, y)
    margins = svm_margins(scores, labels)
    return ((margins == 0) & (np.arange(scores.shape[2]) != labels[:, :, None])).any((1, 2))


def _margin_kink(xs: Sequence[Any]) -> bool:
    """One problem's :func:`margin_kinks`."""
    s, y = (np.asarray(x, dtype=np.float64)[None] for x in xs)
    return bool(margin_kinks(s, y)[0])


def _loss_vjp(kind: str) -> Callable[..., tuple[np.ndarray, ...]]:
    """The backward of a loss gate: the loss task's dL_i/ds (softmax: p − 1 at the correct
    class; SVM: 1 per positive margin, minus their count at the correct class) times the
    upstream gradient, over N; none for the labels."""

    def vjp(xs: Sequence[np.ndarray], y: np.ndarray, g: np.ndarray) -> tuple[np.ndarray, ...]:
        s, labels = _rows(*xs)
        slope = mean_losses(kind, s, labels).slope
        per = (slope * g[:, None, None]) / labels.shape[1]  # type: ignore[operator]
        return per.reshape(xs[0].shape), np.zeros_like(xs[1])

    return vjp


def _divide_local(xs: Sequence[Array], y: Array, p: float) -> tuple[Local, ...]:
    return 1.0 / xs[1], -xs[0] / (xs[1] * xs[1])


def _vector_rules() -> list[GateRule]:
    return [
        GateRule(
            "/", 2, lambda xs, p: xs[0] / xs[1], _divide_local,
            lambda a, p: rf"\frac{{{a[0]}}}{{{a[1]}}}",
            lambda a, p, k1: [rf"\frac{{1}}{{{a[1]}}}", rf"-\frac{{{a[0]}}}{{{a[1]}^{{2}}}}"],
            _op_label("/"),
        ),
        GateRule(
            "@", 2, _matmul, _whole,
            lambda a, p: f"{a[0]}\\,{a[1]}",
            lambda a, p, g: [rf"{g}\,{a[1]}^{{\top}}", rf"{a[0]}^{{\top}}\,{g}"],
            _op_label("@"), shape=_matmul_shape, vjp=_matmul_vjp,
        ),
        GateRule(
            "T", 1, lambda xs, p: _transposed(xs[0]), _whole,
            lambda a, p: f"{a[0]}^{{\\top}}", lambda a, p, g: [f"{g}^{{\\top}}"],
            _op_label("ᵀ"), function="transpose", shape=_transpose_shape,
            vjp=lambda xs, y, g: (_transposed(g),),
        ),
        GateRule(
            "sum", 1, lambda xs, p: _total(xs[0]), _whole,
            lambda a, p: rf"\textstyle\sum {a[0]}", lambda a, p, g: [rf"{g}\,\mathbf{{1}}"],
            _op_label("Σ"), function="sum", shape=_scalar_shape,
            tex_call=_tex_call(r"\textstyle\sum"),
            vjp=lambda xs, y, g: (np.ones_like(xs[0]) * _per_problem(g, xs[0].ndim),),
        ),
        GateRule(
            "norm2", 1, lambda xs, p: _total(xs[0] * xs[0]), _whole,
            lambda a, p: rf"\lVert {a[0]} \rVert^{{2}}", lambda a, p, g: [rf"2\,{g}\,{a[0]}"],
            _op_label("‖·‖²"), function="norm2", shape=_scalar_shape,
            tex_call=lambda a: rf"\left\lVert {a} \right\rVert^{{2}}",
            vjp=lambda xs, y, g: (2.0 * xs[0] * _per_problem(g, xs[0].ndim),),
        ),
        GateRule(
            "softmax_ce", 2, _loss("softmax"), _whole,
            lambda a, p: rf"\operatorname{{CE}}({a[0]}, {a[1]})",
            lambda a, p, g: [rf"{g}\,\frac{{\operatorname{{softmax}}({a[0]}) - "
                             rf"\mathbb{{1}}_{{{a[1]}}}}}{{N}}", "0"],
            _op_label("softmax CE"), function="softmax_ce", shape=_loss_shape,
            tex_call=_tex_call(r"\operatorname{CE}"),
            vjp=_loss_vjp("softmax"), labels=1,
        ),
        GateRule(
            "svm", 2, _loss("svm"), _whole,
            lambda a, p: rf"\operatorname{{SVM}}({a[0]}, {a[1]})",
            lambda a, p, g: [rf"{g}\,\frac{{[\text{{margin}} > 0] - "
                             rf"\mathbb{{1}}_{{{a[1]}}}\,\#\text{{margins}}}}{{N}}", "0"],
            _op_label("SVM"), function="svm", shape=_loss_shape, vjp=_loss_vjp("svm"), labels=1,
            tex_call=_tex_call(r"\operatorname{SVM}"),
            kink=_margin_kink,
        ),
    ]  # fmt: skip


RULES: dict[str, GateRule] = _rules()
"""Every scalar gate's rule by op (they run on vectors too, elementwise)."""
VECTOR_RULES: dict[str, GateRule] = {rule.op: rule for rule in _vector_rules()}
"""The gates only vector graphs have (:mod:`.vector`)."""
ALL_RULES: dict[str, GateRule] = {**RULES, **VECTOR_RULES}
"""A vector graph's gates by op."""
FUNCTIONS: dict[str, GateRule] = {
    rule.function: rule for rule in ALL_RULES.values() if rule.function
}
"""The rules of the functions one can type, by name (``sigmoid`` is the gate ``σ``)."""
