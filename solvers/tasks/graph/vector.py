"""Vector and matrix graphs: variables that are scalars, vectors or matrices.

The parsed tree becomes a graph of :class:`VNode`; every node's shape is found (and every
mismatch refused, naming the operation, both shapes and the position) before any number
is computed. Both passes are the graph task's one pass (:mod:`.compute`), here on numpy
float64 arrays with a leading batch dimension, problems of one graph side by side
(:func:`evaluate_batch`; :func:`evaluate` is it for one problem): an elementwise rule's
``forward``/``local`` (scalars broadcast, and their gradient summed back), a whole-tensor
rule's ``forward``/``vjp``. A named mistake is that pass with an override
(:data:`OVERRIDES`). As the lecture says, every gradient has the shape of its variable.

Vectors have no orientation: ``xᵀ`` of a vector is the vector itself, and ``xᵀ y`` (a
transposed vector times a vector) is their dot product.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property, partial
from typing import Any

import numpy as np
from pydantic_core import PydanticCustomError

from solvers.core import N_, Rounder
from solvers.tasks.graph.compute import Override, Passes, backward, forward
from solvers.tasks.graph.gates import Step
from solvers.tasks.graph.parser import Expr, Parsed
from solvers.tasks.graph.rules import ALL_RULES as RULES
from solvers.tasks.graph.rules import Local, Shape

MAX_ELEMENTS = 10_000
"""Most numbers in one value or node (a vector of 10⁴, a 100×100 matrix)."""
MAX_SIDE = 100
"""Longest side of a vector or matrix value."""

_ELEMENTWISE = {
    "exp": "exp", "log": "log", "sqrt": "sqrt", "sigmoid": "σ", "tanh": "tanh",
    "relu": "relu", "abs": "abs", "max": "max", "min": "min",
}  # fmt: skip
_OP_TEXT = {"add": "+", "sub": "−", "mul": "*", "div": "/", "matmul": "@", "pow": "^"}


def shape_text(shape: Shape) -> str:
    """``[2, 3]``, ``[2]``, ``[]`` (a scalar), as torch writes a size."""
    return "[" + ", ".join(str(n) for n in shape) + "]"


def shape_error(template: str, e: Expr, op: str, *shapes: Shape) -> PydanticCustomError:
    """A shape mismatch at ``e``: type ``shape``, naming the op, the shapes, the position."""
    context: dict[str, Any] = {"op": op, "position": e.pos, "field": "expression"}
    for key, shape in zip(("left", "right"), shapes, strict=False):
        context[key] = shape_text(shape)
    return PydanticCustomError("shape", template, context)


@dataclass(frozen=True)
class VNode:
    """A node: ``op`` (``input``, ``const`` or a rule's op), inputs, constant, shape and
    the position of its operation in the text (0 for inputs)."""

    op: str
    inputs: tuple[int, ...] = ()
    param: float = 0.0
    name: str = ""
    shape: Shape = ()
    pos: int = 0


@dataclass(frozen=True)
class VGraph:
    """Nodes in topological order (inputs first, the output last) and what the PyTorch
    view needs: the variables holding class labels, the positions of the products and
    transposes of vectors (no-ops in torch)."""

    nodes: tuple[VNode, ...]
    variables: tuple[str, ...]
    labels: frozenset[str]
    matmuls: frozenset[int]
    no_ops: frozenset[int]
    output: int

    @cached_property
    def plan(self) -> tuple[Step, ...]:
        """The passes' work: every gate, in order, an elementwise gate's scalar inputs
        spread over its shape."""
        return tuple(_step(self, i) for i, node in enumerate(self.nodes) if node.inputs)


def _step(graph: VGraph, i: int) -> Step:
    """Node ``i``'s :class:`~.gates.Step`."""
    node = graph.nodes[i]
    rule = RULES[node.op]
    spread = None
    shapes = [graph.nodes[j].shape for j in node.inputs]
    if rule.shape is None and node.shape and () in shapes:
        ones = (1,) * len(node.shape)
        spread = tuple(None if shape else ones for shape in shapes)
    return i, rule, node.inputs, node.param, spread


class _Builder:
    def __init__(self, parsed: Parsed, shapes: dict[str, Shape]) -> None:
        self.nodes = [VNode("input", name=v, shape=shapes[v]) for v in parsed.variables]
        self.index = {v: i for i, v in enumerate(parsed.variables)}
        self.labels: set[str] = set()
        self.other_uses: set[str] = set()
        self.matmuls: set[int] = set()
        self.no_ops: set[int] = set()
        self.rows: set[int] = set()  # vectors written as rows: xᵀ, xᵀW

    def add(self, node: VNode) -> int:
        """Add ``node``; an elementwise gate of a row vector (0.5·xᵀ) is a row too."""
        elementwise = node.op in RULES and RULES[node.op].shape is None
        if elementwise and len(node.shape) == 1 and any(j in self.rows for j in node.inputs):
            self.rows.add(len(self.nodes))
        return self._add(node)

    def _add(self, node: VNode) -> int:
        size = int(np.prod(node.shape)) if node.shape else 1
        if size > MAX_ELEMENTS:
            raise PydanticCustomError(
                "shape",
                N_("the {op} at position {position} makes {size} numbers; at most {limit}"),
                {"op": node.op, "position": node.pos, "size": size, "limit": MAX_ELEMENTS,
                 "field": "expression"},
            )  # fmt: skip
        self.nodes.append(node)
        return len(self.nodes) - 1

    def shape(self, i: int) -> Shape:
        return self.nodes[i].shape

    def const(self, value: float, pos: int) -> int:
        return self.add(VNode("const", param=value, pos=pos))

    def build(self, e: Expr) -> int:
        if e.const is not None:
            return self.const(e.const, e.pos)
        if e.kind == "var":
            self.other_uses.add(e.name)
            return self.index[e.name]
        if e.kind == "neg":
            x = self.build(e.args[0])
            return self.add(VNode("·c", (x,), -1.0, shape=self.shape(x), pos=e.pos))
        if e.kind == "call":
            return self.call(e)
        if e.kind == "pow":
            x = self.build(e.args[0])
            return self.add(VNode("^k", (x,), e.args[1].const or 0.0, shape=self.shape(x),
                                  pos=e.pos))  # fmt: skip
        return self.binary(e)

    def binary(self, e: Expr) -> int:
        a, b = e.args
        kind = e.kind
        if kind == "matmul":
            return self.matmul(e, self.build(a), self.build(b))
        if kind == "mul" and a.const is None and b.const is None:
            x, y = self.build(a), self.build(b)
            sx, sy = self.shape(x), self.shape(y)
            dot = x in self.rows and len(sx) == 1 == len(sy)
            if sx and sy and (sx != sy or dot):
                self.matmuls.add(e.pos)
                return self.matmul(e, x, y)
            return self.elementwise(e, "*", x, y)
        scalar = {"add": "+c", "sub": "+c", "mul": "·c", "div": "/c"}
        if b.const is not None and kind in scalar:
            x = self.build(a)
            param = -b.const if kind == "sub" else b.const
            return self.add(VNode(scalar[kind], (x,), param, shape=self.shape(x), pos=e.pos))
        if a.const is not None and kind in ("add", "mul"):
            x = self.build(b)
            return self.add(VNode(scalar[kind], (x,), a.const, shape=self.shape(x), pos=e.pos))
        op = {"add": "+", "sub": "-", "mul": "*", "div": "/"}[kind]
        return self.elementwise(e, op, self.build(a), self.build(b))

    def elementwise(self, e: Expr, op: str, x: int, y: int) -> int:
        sx, sy = self.shape(x), self.shape(y)
        if sx and sy and sx != sy:
            raise shape_error(
                N_(
                    "{op} at position {position}: the shapes {left} and {right} differ; an "
                    "elementwise operation needs equal shapes or a scalar"
                ),
                e,
                _OP_TEXT.get(e.kind, e.name),
                sx,
                sy,
            )
        return self.add(VNode(op, (x, y), shape=sx or sy, pos=e.pos))

    def matmul(self, e: Expr, x: int, y: int) -> int:
        shapes = (self.shape(x), self.shape(y))
        result = RULES["@"].shape(shapes)  # type: ignore[misc]
        if isinstance(result, str):
            raise shape_error(result, e, "@" if e.kind == "matmul" else "*", *shapes)
        node = self.add(VNode("@", (x, y), shape=result, pos=e.pos))
        if x in self.rows and len(result) == 1:
            self.rows.add(node)
        return node

    def call(self, e: Expr) -> int:
        name = e.name
        if name in _ELEMENTWISE:
            args = [self.build(a) for a in e.args]
            if len(args) == 2:
                return self.elementwise(e, _ELEMENTWISE[name], *args)
            return self.add(VNode(_ELEMENTWISE[name], (args[0],), shape=self.shape(args[0]),
                                  pos=e.pos))  # fmt: skip
        rule = next(r for r in RULES.values() if r.function == name)
        args = []
        for k, a in enumerate(e.args):
            if k == rule.labels and a.kind == "var":
                self.labels.add(a.name)
                args.append(self.index[a.name])
            else:
                args.append(self.build(a))
        shapes = tuple(self.shape(i) for i in args)
        result = rule.shape(shapes)  # type: ignore[misc]
        if isinstance(result, str):
            raise shape_error(result, e, name, *shapes)
        node = self.add(VNode(rule.op, tuple(args), shape=result, pos=e.pos))
        if name == "transpose" and len(shapes[0]) < 2:
            self.no_ops.add(e.pos)
            if shapes[0]:
                self.rows.add(node)
        return node


def build_graph(parsed: Parsed, shapes: tuple[tuple[str, Shape], ...]) -> VGraph:
    """The vector graph of ``parsed`` for variables of these shapes, given as sorted
    (name, shape) pairs (errors: type ``shape``)."""
    builder = _Builder(parsed, dict(shapes))
    output = builder.build(parsed.tree)
    both = builder.labels & builder.other_uses
    if both:
        raise PydanticCustomError(
            "shape",
            N_("{name} holds class labels of a loss; it cannot be used elsewhere too"),
            {"name": sorted(both)[0], "field": "expression"},
        )
    return VGraph(
        tuple(builder.nodes),
        tuple(builder.index),
        frozenset(builder.labels),
        frozenset(builder.matmuls),
        frozenset(builder.no_ops),
        output,
    )


@dataclass(frozen=True)
class VEvaluation:
    """Both passes: every node's value and ∂f/∂node in the node's shape; per gate the
    gradients it sends down (``down``, one per input, in the input's shape) and, for an
    elementwise gate, its local gradients (``local``, in its own shape). From
    :func:`evaluate_batch` each has a leading batch dimension and ``bad`` (B,) (unless
    ``strict``) marks the problems where a value or a gradient sent down is not finite."""

    values: list[np.ndarray]
    grads: list[np.ndarray]
    output: int
    down: list[tuple[np.ndarray, ...]]
    local: list[tuple[np.ndarray, ...]]
    bad: np.ndarray | None = None

    def problem(self, b: int) -> VEvaluation:
        """Problem ``b`` of a batch (views, no batch dimension)."""
        return VEvaluation(
            [v[b, ...] for v in self.values],
            [g[b, ...] for g in self.grads],
            self.output,
            [tuple(d[b, ...] for d in ds) for ds in self.down],
            [tuple(lg[b, ...] for lg in lgs) for lgs in self.local],
        )


def _not_finite(node: int, vnode: VNode) -> PydanticCustomError:
    return PydanticCustomError(
        "domain",
        N_("the {op} at position {position} gives a number that is not finite"),
        {"op": vnode.op, "position": vnode.pos, "node": node, "field": "values"},
    )


def _check_labels(graph: VGraph, inputs: dict[str, np.ndarray]) -> None:
    """Every loss gate's labels (a variable) must be class numbers of its scores."""
    for node in graph.nodes:
        k = RULES[node.op].labels if node.inputs else None
        if k is not None:
            _check_class_numbers(graph, inputs[graph.nodes[node.inputs[k]].name], node)


def _check_class_numbers(graph: VGraph, labels: np.ndarray, node: VNode) -> None:
    """A loss gate's labels must be class numbers of its scores."""
    classes = graph.nodes[node.inputs[0]].shape[-1]
    if not np.all((labels == np.round(labels)) & (labels >= 0) & (labels < classes)):
        raise PydanticCustomError(
            "values",
            N_("the labels of {op} at position {position} must be class numbers 0 … {last}"),
            {"op": node.op, "position": node.pos, "last": classes - 1, "field": "values"},
        )


def split_inputs(graph: VGraph, flat: np.ndarray) -> dict[str, np.ndarray]:
    """A batch's inputs by variable, (B, *shape), from their cells flattened in the order of
    the graph's variables, (B, cells)."""
    batch = len(flat)
    inputs, start = {}, 0
    for k, name in enumerate(graph.variables):
        shape = graph.nodes[k].shape
        inputs[name] = flat[:, start : start + math.prod(shape)].reshape(batch, *shape)
        start += math.prod(shape)
    return inputs


def _square_at(k: int, graph: VGraph, i: int) -> bool:
    """Whether input ``k`` of matrix product ``i`` is a square matrix."""
    node = graph.nodes[i]
    shape = graph.nodes[node.inputs[k]].shape
    return node.op == "@" and len(shape) == 2 and shape[0] == shape[1]


def _norm2(graph: VGraph, i: int) -> bool:
    """Whether gate ``i`` is a squared norm."""
    return graph.nodes[i].op == "norm2"


def _norm_halved(
    xs: Sequence[np.ndarray], y: np.ndarray, g: np.ndarray, down: tuple[np.ndarray, ...]
) -> tuple[np.ndarray, ...]:
    """‖q‖²'s gradient as q g: 2 q g without its factor 2."""
    return (down[0] / 2.0,)


def _left_transposed(
    xs: Sequence[np.ndarray], y: np.ndarray, g: np.ndarray, down: tuple[np.ndarray, ...]
) -> tuple[np.ndarray, ...]:
    """∂f/∂W of W x as x gᵀ: the right gradient G xᵀ transposed."""
    return np.swapaxes(down[0], 1, 2), *down[1:]


def _right_untransposed(
    xs: Sequence[np.ndarray], y: np.ndarray, g: np.ndarray, down: tuple[np.ndarray, ...]
) -> tuple[np.ndarray, ...]:
    """∂f/∂x of W x as W g: Wᵀ g with Wᵀ forgotten."""
    a, b = xs
    left = np.reshape(g, (len(g), a.shape[1], -1))
    return down[0], (a @ left).reshape(b.shape)


OVERRIDES: dict[str, Override] = {
    "transposed_gradient": Override(partial(_square_at, 0), _left_transposed),
    "transpose_forgotten": Override(partial(_square_at, 0), _right_untransposed),
    "norm_factor_forgotten": Override(_norm2, _norm_halved),
}
"""The classic slips of a vector backward pass as overrides of the one pass (named mistakes
of the grader): ∂f/∂W of a product taken as x gᵀ (the gradient transposed; W square),
∂f/∂x as W g (Wᵀ forgotten; W square), and the squared norm's gradient as q g (its factor 2
forgotten)."""
MISTAKES = tuple(OVERRIDES)
"""The names of :data:`OVERRIDES`."""


def evaluate_batch(
    graph: VGraph,
    inputs: dict[str, np.ndarray],
    upstream: np.ndarray,
    override: Override | None = None,
    rounder: Rounder | None = None,
    strict: bool = False,
) -> VEvaluation:
    """The forward and backward pass of B problems of one graph: each input (B, *shape),
    ``upstream`` (B, *output's shape); ``override`` (one of :data:`OVERRIDES`) makes the
    backward pass that mistake at every gate it touches; ``rounder`` works it by hand: every
    node's value, local gradient, gradient sent down and sum of branches rounded as it is
    written. ``strict``: raise the error of the first value or gradient sent down that is not
    finite (else marked in ``bad``); labels that are not class numbers are always an error."""
    _check_labels(graph, inputs)
    batch = len(upstream)
    leaves = [inputs[node.name] if node.op == "input"
              else np.full(batch, node.param) if node.op == "const" else None
              for node in graph.nodes]  # fmt: skip
    with np.errstate(all="ignore"):
        fwd = forward(graph, leaves, rounder=rounder)
        bwd = backward(graph, fwd, upstream, override, rounder=rounder)
    values: list[np.ndarray] = fwd.computed  # type: ignore[assignment]
    down: list[tuple[np.ndarray, ...]] = bwd.down  # type: ignore[assignment]
    bad = None
    if strict:
        _raise_not_finite(graph, values, down)
    else:
        bad = Passes(fwd, bwd).bad()
    local = [tuple(np.broadcast_to(lg, value.shape) for lg in lgs)
             for lgs, value in zip(fwd.local, values, strict=True)]  # fmt: skip
    grads = [g + 0.0 for g in bwd.grads]  # a sum starts at +0, never −0
    return VEvaluation(values, grads, graph.output, down, local, bad)  # type: ignore[arg-type]


def _raise_not_finite(
    graph: VGraph, values: list[np.ndarray], down: list[tuple[Local, ...]]
) -> None:
    """The error of the first value (in the forward pass's order), else of the first gradient
    sent down (in the backward pass's), that is not finite."""
    cells = [*values, *(d for ds in down for d in ds)]
    if np.isfinite(np.concatenate([np.ravel(c) for c in cells])).all():
        return
    for i, value in enumerate(values):
        if not np.isfinite(value).all():
            raise _not_finite(i, graph.nodes[i])
    for i in range(len(graph.nodes) - 1, -1, -1):
        if not all(np.isfinite(d).all() for d in down[i]):
            raise _not_finite(i, graph.nodes[i])


def evaluate(
    graph: VGraph,
    inputs: dict[str, np.ndarray],
    upstream: np.ndarray,
    override: Override | None = None,
    rounder: Rounder | None = None,
) -> VEvaluation:
    """:func:`evaluate_batch` of one problem (no batch dimension), raising the error of the
    first value or gradient that is not finite."""
    batch = {name: np.asarray(value)[None] for name, value in inputs.items()}
    up = np.asarray(upstream)[None]
    return evaluate_batch(graph, batch, up, override, rounder, strict=True).problem(0)
