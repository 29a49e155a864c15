"""The computational graph: gates built from a parsed tree, and its forward and backward passes.

Every gate defines its forward value and its local gradients side by side (as micrograd
does), once for plain floats (:func:`evaluate`, one problem, ``math``) and once for torch
tensors with a leading batch dimension (:func:`evaluate_batch`).

Conventions at non-differentiable points follow PyTorch: ``relu'(0) = 0``, ``|x|'(0) = 0``,
and a tie in ``max``/``min`` splits the gradient in half between the two inputs (as
``torch.maximum``/``torch.minimum`` do). Domain errors (log of x ≤ 0, sqrt of x < 0, 1/0,
an infinite derivative, overflow) raise ``PydanticCustomError("domain", …)`` naming the node.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

from pydantic_core import PydanticCustomError

from solvers.core import N_
from solvers.tasks.graph.parser import Expr, parse

GateMode = Literal["primitive", "grouped"]

#: Kinks: the op, and the message saying which gradient was taken.
KINK_MESSAGES = {
    "relu": N_("relu is not differentiable at 0; as in PyTorch, its gradient there is taken as 0."),
    "abs": N_("abs is not differentiable at 0; as in PyTorch, its gradient there is taken as 0."),
    "max": N_("Both inputs of max are equal; as in PyTorch, the gradient is split in half "
              "between them."),
    "min": N_("Both inputs of min are equal; as in PyTorch, the gradient is split in half "
              "between them."),
}  # fmt: skip


@dataclass(frozen=True)
class Gate:
    """One node of the graph: its op, the ids of its inputs, and its parameter.

    ``param`` is the constant of ``+c``, ``·c``, ``/c``, the exponent of ``^k`` and the value
    of a ``const`` node; ``name`` is the variable of an ``input`` node.
    """

    op: str
    inputs: tuple[int, ...] = ()
    param: float = 0.0
    name: str = ""


@dataclass(frozen=True)
class Graph:
    """Gates in topological order: inputs, then constants, then gates; the output is last."""

    gates: tuple[Gate, ...]
    variables: tuple[str, ...]

    @property
    def output(self) -> int:
        """Id of the output node."""
        return len(self.gates) - 1


def _is_sigmoid_pattern(e: Expr) -> Expr | None:
    """``1/(1 + exp(-z))`` or ``1/(exp(-z) + 1)``: return ``z``."""
    if e.kind != "div" or e.args[0].const != 1.0 or e.args[1].kind != "add":
        return None
    a, b = e.args[1].args
    exp_part = b if a.const == 1.0 else a if b.const == 1.0 else None
    if (
        exp_part is not None
        and exp_part.kind == "call"
        and exp_part.name == "exp"
        and exp_part.args[0].kind == "neg"
    ):
        return exp_part.args[0].args[0]
    return None


class _Builder:
    def __init__(self, variables: tuple[str, ...], mode: GateMode) -> None:
        self.mode = mode
        self.gates: list[Gate] = [Gate("input", name=v) for v in variables]
        self.index = {v: i for i, v in enumerate(variables)}

    def add(self, op: str, inputs: tuple[int, ...], param: float = 0.0) -> int:
        self.gates.append(Gate(op, inputs, param))
        return len(self.gates) - 1

    def operand(self, e: Expr) -> int:
        """A node for ``e``; a constant becomes a ``const`` node."""
        if e.const is not None:
            return self.add("const", (), e.const)
        return self.build(e)

    def build(self, e: Expr) -> int:
        if e.const is not None:
            return self.add("const", (), e.const)
        kind = e.kind
        if kind == "var":
            return self.index[e.name]
        if kind == "neg":
            return self.add("·c", (self.build(e.args[0]),), -1.0)
        if kind == "call":
            return self.call(e)
        a, b = e.args
        if kind == "add":
            if a.const is not None or b.const is not None:
                const, other = (a, b) if a.const is not None else (b, a)
                return self.add("+c", (self.build(other),), const.const or 0.0)
            return self.add("+", (self.build(a), self.build(b)))
        if kind == "sub":
            if b.const is not None:
                return self.add("+c", (self.build(a),), -b.const)
            return self.add("-", (self.operand(a), self.build(b)))
        if kind == "mul":
            if a.const is not None or b.const is not None:
                const, other = (a, b) if a.const is not None else (b, a)
                return self.add("·c", (self.build(other),), const.const or 0.0)
            return self.add("*", (self.build(a), self.build(b)))
        if kind == "div":
            return self.divide(e)
        return self.add("^k", (self.build(a),), b.const or 0.0)  # pow: the parser checked k

    def divide(self, e: Expr) -> int:
        if self.mode == "grouped":
            z = _is_sigmoid_pattern(e)
            if z is not None:
                return self.add("σ", (self.build(z),))
        a, b = e.args
        if b.const is not None:
            return self.add("/c", (self.build(a),), b.const)
        if a.const is not None:
            reciprocal = self.add("1/x", (self.build(b),))
            return reciprocal if a.const == 1.0 else self.add("·c", (reciprocal,), a.const)
        numerator = self.build(a)
        return self.add("*", (numerator, self.add("1/x", (self.build(b),))))

    def call(self, e: Expr) -> int:
        name = e.name
        if name in ("max", "min"):
            return self.add(name, (self.operand(e.args[0]), self.operand(e.args[1])))
        x = self.build(e.args[0])
        if name == "sigmoid":
            if self.mode == "grouped":
                return self.add("σ", (x,))
            negated = self.add("·c", (x,), -1.0)
            return self.add("1/x", (self.add("+c", (self.add("exp", (negated,)),), 1.0),))
        return self.add(name, (x,))

    def finish(self) -> Graph:
        """Renumber: inputs, then constants, then gates in creation order (the root, built
        last, stays last)."""
        n_inputs = len(self.index)
        consts = [i for i, g in enumerate(self.gates) if g.op == "const"]
        rest = [i for i in range(n_inputs, len(self.gates)) if self.gates[i].op != "const"]
        order = list(range(n_inputs)) + consts + rest
        new_id = {old: new for new, old in enumerate(order)}
        gates = tuple(
            Gate(g.op, tuple(new_id[i] for i in g.inputs), g.param, g.name)
            for g in (self.gates[old] for old in order)
        )
        return Graph(gates, tuple(self.index))


@lru_cache(maxsize=1024)
def compile_graph(text: str, gates: GateMode = "primitive") -> Graph:
    """The graph of an expression (parsed and built once per text and gate mode)."""
    parsed = parse(text)
    builder = _Builder(parsed.variables, gates)
    builder.build(parsed.tree)
    return builder.finish()


# ---- one problem, plain floats ----------------------------------------------------------


def domain_error(template: str, **context: Any) -> PydanticCustomError:
    """A numeric error at a node (type ``"domain"``)."""
    return PydanticCustomError("domain", template, context)


def _sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


def _pow(x: float, k: float, node: int) -> float:
    if x < 0 and not k.is_integer():
        raise domain_error(
            N_("{value}^{k} at node {node}: a negative number has no real power {k}"),
            value=f"{x:.6g}",
            k=f"{k:g}",
            node=node,
        )
    if x == 0 and k < 0:
        raise domain_error(N_("0^{k} at node {node}: division by zero"), k=f"{k:g}", node=node)
    return math.pow(x, k)


def _forward(op: str, xs: list[float], param: float, node: int) -> float:
    """The value of one gate."""
    if op == "+":
        return xs[0] + xs[1]
    if op == "*":
        return xs[0] * xs[1]
    if op == "+c":
        return xs[0] + param
    if op == "·c":
        return xs[0] * param
    if op == "exp":
        return math.exp(xs[0])
    if op == "1/x":
        if xs[0] == 0:
            raise domain_error(N_("1/x of 0 at node {node}: division by zero"), node=node)
        return 1.0 / xs[0]
    if op == "-":
        return xs[0] - xs[1]
    if op == "/c":
        if param == 0:
            raise domain_error(N_("1/x of 0 at node {node}: division by zero"), node=node)
        return xs[0] / param
    if op == "^k":
        return _pow(xs[0], param, node)
    if op == "σ":
        return _sigmoid(xs[0])
    if op == "tanh":
        return math.tanh(xs[0])
    if op == "relu":
        return xs[0] if xs[0] > 0 else 0.0
    if op == "max":
        return max(xs[0], xs[1])
    if op == "min":
        return min(xs[0], xs[1])
    if op == "abs":
        return abs(xs[0])
    if op == "log":
        if xs[0] <= 0:
            raise domain_error(
                N_("log of {value} at node {node}: log needs a positive number"),
                value=f"{xs[0]:.6g}",
                node=node,
            )
        return math.log(xs[0])
    if xs[0] < 0:  # sqrt
        raise domain_error(
            N_("sqrt of {value} at node {node}: sqrt needs a number that is not negative"),
            value=f"{xs[0]:.6g}",
            node=node,
        )
    return math.sqrt(xs[0])


def _split(a: float, b: float, larger: bool) -> tuple[float, float]:
    if a == b:
        return 0.5, 0.5
    return (1.0, 0.0) if (a > b) == larger else (0.0, 1.0)


def _local(op: str, xs: list[float], y: float, param: float) -> tuple[float, ...]:
    """The local gradients of one gate (one per input).

    May return inf or raise ``ArithmeticError``/``ValueError`` where the derivative is
    infinite (sqrt at 0, 1/x near 0, x^k at 0 with k < 1); the caller turns that into an error.
    """
    if op == "+":
        return 1.0, 1.0
    if op == "*":
        return xs[1], xs[0]
    if op == "+c":
        return (1.0,)
    if op == "·c":
        return (param,)
    if op == "exp":
        return (y,)
    if op == "1/x":
        return (-1.0 / (xs[0] * xs[0]),)
    if op == "-":
        return 1.0, -1.0
    if op == "/c":
        return (1.0 / param,)
    if op == "^k":
        return (param * math.pow(xs[0], param - 1) if param else 0.0,)
    if op == "σ":
        return (y * (1.0 - y),)
    if op == "tanh":
        return (1.0 - y * y,)
    if op == "relu":
        return (1.0 if xs[0] > 0 else 0.0,)
    if op == "max":
        return _split(xs[0], xs[1], larger=True)
    if op == "min":
        return _split(xs[0], xs[1], larger=False)
    if op == "abs":
        return (math.copysign(1.0, xs[0]) if xs[0] else 0.0,)
    if op == "log":
        return (1.0 / xs[0],)
    return (0.5 / y,)  # sqrt


def is_kink(op: str, xs: list[float]) -> bool:
    """True at a non-differentiable point where the PyTorch convention was used."""
    if op in ("relu", "abs"):
        return xs[0] == 0
    if op in ("max", "min"):
        return xs[0] == xs[1]
    return False


@dataclass
class Evaluation:
    """Both passes of one problem: per node its value, local and downstream gradients and
    the gradient at its output (``grads``: the sum over its consumers, ``upstream`` at the
    output node)."""

    values: list[float]
    local: list[tuple[float, ...]]
    grads: list[float]
    down: list[tuple[float, ...]]


def _overflow(node: int, op: str) -> PydanticCustomError:
    return domain_error(
        N_("overflow at node {node} ({op}): the number is too large"), node=node, op=op
    )


def evaluate(graph: Graph, values: dict[str, float], upstream: float = 1.0) -> Evaluation:
    """Forward then backward pass in float64; raise a ``domain`` error instead of inf/NaN."""
    gates = graph.gates
    n = len(gates)
    vals = [0.0] * n
    local: list[tuple[float, ...]] = [()] * n
    for i, g in enumerate(gates):
        if g.op == "input":
            vals[i] = values[g.name]
            continue
        if g.op == "const":
            vals[i] = g.param
            continue
        xs = [vals[j] for j in g.inputs]
        try:
            y = _forward(g.op, xs, g.param, i)
        except OverflowError:
            raise _overflow(i, g.op) from None
        if not math.isfinite(y):
            raise _overflow(i, g.op)
        vals[i] = y
        try:
            grads_here = _local(g.op, xs, y, g.param)
        except (ArithmeticError, ValueError):
            grads_here = (math.inf,)
        if not all(math.isfinite(d) for d in grads_here):
            raise domain_error(
                N_("{op} at node {node} has no finite derivative at {value}"),
                op=g.op,
                node=i,
                value=f"{xs[0]:.6g}",
            )
        local[i] = grads_here
    grads = [0.0] * n
    grads[n - 1] = upstream
    down: list[tuple[float, ...]] = [()] * n
    for i in range(n - 1, -1, -1):
        g = gates[i]
        if not g.inputs:
            continue
        u = grads[i]
        d = tuple(lg * u for lg in local[i])
        for j, dj in zip(g.inputs, d, strict=True):
            grads[j] += dj
        if not all(math.isfinite(x) for x in d):
            raise domain_error(
                N_("the gradient at node {node} ({op}) is too large"), node=i, op=g.op
            )
        down[i] = d
    return Evaluation(vals, local, grads, down)


# ---- many problems at once, torch ------------------------------------------------------


def torch_forward(torch: Any, op: str, xs: list[Any], param: float) -> Any:
    """The value of one gate on batched tensors."""
    x = xs[0]
    if op == "+":
        return x + xs[1]
    if op == "-":
        return x - xs[1]
    if op == "*":
        return x * xs[1]
    if op == "+c":
        return x + param
    if op == "·c":
        return x * param
    if op == "/c":
        return x / param
    if op == "1/x":
        return 1.0 / x
    if op == "^k":
        return torch.pow(x, param)
    if op == "max":
        return torch.maximum(x, xs[1])
    if op == "min":
        return torch.minimum(x, xs[1])
    if op == "σ":
        return torch.sigmoid(x)
    return getattr(torch, op)(x)  # exp, relu, tanh, abs, log, sqrt


def torch_local(torch: Any, op: str, xs: list[Any], y: Any, param: float) -> list[Any]:
    """The local gradients of one gate on batched tensors, given its inputs ``xs`` and its
    value ``y`` (which exp, σ, tanh and sqrt use, as the lecture does)."""
    x = xs[0]
    if op in ("+", "-"):
        return [torch.ones_like(x), torch.ones_like(x) if op == "+" else -torch.ones_like(x)]
    if op == "*":
        return [xs[1], x]
    if op == "+c":
        return [torch.ones_like(x)]
    if op == "·c":
        return [torch.full_like(x, param)]
    if op == "/c":
        return [torch.full_like(x, 1.0 / param)]
    if op == "1/x":
        return [-1.0 / (x * x)]
    if op == "exp":
        return [y]
    if op == "^k":
        return [torch.zeros_like(x) if param == 0 else param * torch.pow(x, param - 1)]
    if op in ("max", "min"):
        first = (x > xs[1]) if op == "max" else (x < xs[1])
        share = torch.where(x == xs[1], 0.5, first.to(x.dtype))
        return [share, 1.0 - share]
    if op == "relu":
        return [(x > 0).to(x.dtype)]
    if op == "σ":
        return [y * (1.0 - y)]
    if op == "tanh":
        return [1.0 - y * y]
    if op == "abs":
        return [torch.sign(x)]
    if op == "log":
        return [1.0 / x]
    return [0.5 / y]  # sqrt


def _torch_gate(torch: Any, op: str, xs: list[Any], param: float) -> tuple[Any, list[Any]]:
    """Forward value and local gradients of one gate on batched tensors."""
    y = torch_forward(torch, op, xs, param)
    return y, torch_local(torch, op, xs, y, param)


def evaluate_batch(
    graph: Graph, columns: dict[str, Any], upstream: Any
) -> tuple[Any, dict[str, Any], Any]:
    """Both passes over a batch: ``columns`` maps each variable to a float64 tensor (B,).

    Returns the outputs (B,), the gradient per variable (B,) and a boolean mask (B,) of the
    problems where some value or gradient is not finite (a domain error: the caller re-solves
    those one by one for the message).
    """
    import torch

    gates = graph.gates
    n = len(gates)
    vals: list[Any] = [None] * n
    local: list[list[Any]] = [[] for _ in range(n)]
    bad = torch.zeros_like(upstream, dtype=torch.bool)
    for i, g in enumerate(gates):
        if g.op == "input":
            vals[i] = columns[g.name]
        elif g.op == "const":
            vals[i] = torch.full_like(upstream, g.param)
        else:
            vals[i], local[i] = _torch_gate(torch, g.op, [vals[j] for j in g.inputs], g.param)
            bad |= ~torch.isfinite(vals[i])
            for lg in local[i]:
                bad |= ~torch.isfinite(lg)
    grads: list[Any] = [torch.zeros_like(upstream) for _ in range(n)]
    grads[n - 1] = grads[n - 1] + upstream
    for i in range(n - 1, -1, -1):
        for j, lg in zip(gates[i].inputs, local[i], strict=True):
            grads[j] = grads[j] + lg * grads[i]
    for grad in grads:
        bad |= ~torch.isfinite(grad)
    gradients = {name: grads[i] for i, name in enumerate(graph.variables)}
    return vals[n - 1], gradients, bad
