"""The graph task's one implementation of the passes: forward and backward over a batch,
of a scalar graph (:class:`~.gates.Graph`) and of a vector or matrix graph
(:class:`~.vector.VGraph`) alike.

A node's value has a leading batch dimension: (B,) for a scalar, (B, *shape) for a vector or
matrix; a scalar graph's batch is float64 torch tensors, a vector graph's numpy arrays, and a
single scalar problem (:func:`evaluate`) runs the same code on numpy scalars, which cost far
less per op. Each gate's forward and local gradients, or its whole-tensor ``vjp``, are its
rule in :mod:`.rules`; an elementwise gate broadcasts a scalar input against a vector and
sums its gradient back (a :data:`~.gates.Step`'s spread). A named mistake is the same pass with
an :class:`Override` that replaces the gradients a gate sends down, or with the branches not
summed (``keep``).

Where a value, local gradient or downstream gradient of a scalar graph is not finite, the
first such cell of the first problem concerned is reported as
``PydanticCustomError("domain", …)`` naming the node (log of x ≤ 0, sqrt of x < 0, 1/0, an
infinite derivative, overflow).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import repeat
from typing import Any, Literal, Protocol

import numpy as np
import torch
from pydantic_core import PydanticCustomError

from solvers.core import N_, Rounder
from solvers.tasks.graph.gates import Graph, Step
from solvers.tasks.graph.rules import RULES, Array, Local, Tensor, domain_error, xp

F64 = torch.float64
Keep = Literal["sum", "first", "last"]


class Plan(Protocol):
    """What the passes read of a graph (:class:`~.gates.Graph`, :class:`~.vector.VGraph`):
    its gates in topological order and its output node."""

    @property
    def plan(self) -> tuple[Step, ...]:
        """Every gate (not an input or a constant), in order."""
        ...

    @property
    def output(self) -> int:
        """Id of the output node."""
        ...


@dataclass(frozen=True)
class Override:
    """A mistake in the backward pass: at the gates it ``touches(graph, node)`` (known from
    the graph alone, before any number), the gradients sent down are
    ``replace(xs, y, g, down)`` (the gate's inputs, value, upstream gradient and its right
    downstream gradients) instead."""

    touches: Callable[[Any, int], bool]
    replace: Callable[[Sequence[Array], Array, Local, tuple[Local, ...]], tuple[Local, ...]]

    def applies(self, graph: Plan) -> bool:
        """Whether the graph has a gate it touches."""
        return any(self.touches(graph, step[0]) for step in graph.plan)


@dataclass(frozen=True)
class Forward:
    """The forward pass: per node its value ``computed``, the value ``used`` downstream (a
    given value replaces the computed one) and its local gradients at the used values (none
    for a whole-tensor gate)."""

    computed: list[Array]
    used: list[Array]
    local: list[tuple[Local, ...]]


@dataclass(frozen=True)
class Backward:
    """The backward pass: per node the gradient at its output (``grads``: the sum over its
    consumers, the upstream gradient at the output) and its downstream gradients."""

    grads: list[Local]
    down: list[tuple[Local, ...]]


def leaves(graph: Graph, values: Array) -> list[Array | None]:
    """The :func:`forward` leaves of a scalar graph: ``values`` is (B, V) in the order of
    ``graph.variables`` (or (B, V + C) with the constants after them), a tensor; or one
    problem's row (V + C,) as a numpy array, whose cells are then numpy scalars."""
    constants = graph.constants
    if constants and values.shape[-1] == len(graph.variables):
        row = torch.tensor(constants, dtype=F64, device=values.device)
        values = torch.cat([values, row.expand(values.shape[0], -1)], 1)
    return [*values.T, *repeat(None, len(graph.plan))]


def forward(
    graph: Plan,
    leaves: Sequence[Array | None],
    given: Array | None = None,
    rounder: Rounder | None = None,
) -> Forward:
    """Node values and local gradients from ``leaves``: per node its value where it is an
    input or a constant, None where it is a gate. ``given`` (B, N), NaN where not given,
    replaces the computed values for the nodes after them (error carried forward).
    ``rounder`` works it by hand: every gate's value and local gradient is rounded (the
    inputs are taken as given)."""
    computed = list(leaves)
    used = computed
    local: list[tuple[Local, ...]] = [()] * len(computed)
    if given is not None:
        where, isnan = xp(given).where, xp(given).isnan
        used = [x if x is None else where(isnan(given[:, i]), x, given[:, i])
                for i, x in enumerate(computed)]  # fmt: skip
    for i, rule, inputs, param, spread in graph.plan:
        xs = [used[j] for j in inputs]
        if spread is not None:
            xs = [x if s is None else x.reshape(len(x), *s)  # type: ignore[union-attr]
                  for x, s in zip(xs, spread, strict=True)]  # fmt: skip
        y = rule.forward(xs, param)  # type: ignore[arg-type]
        if rounder is not None:
            y = rounder(y)
        computed[i] = y
        if given is not None:
            y = used[i] = where(isnan(given[:, i]), y, given[:, i])
        if rule.vjp is None:
            gradients = rule.local(xs, y, param)  # type: ignore[arg-type]
            if rounder is not None:
                gradients = tuple(map(rounder, gradients))
            local[i] = gradients
    return Forward(computed, used, local)  # type: ignore[arg-type]


def backward(
    graph: Plan,
    fwd: Forward,
    upstream: Local,
    override: Override | None = None,
    keep: Keep = "sum",
    rounder: Rounder | None = None,
    right: Backward | None = None,
) -> Backward:
    """Gradients of every node, from ``upstream`` (B, *output's shape) (or a float, for one
    problem). ``override`` replaces gates' downstream gradients; ``keep``: ``sum`` the
    branches (right), or keep only the ``first`` or the ``last`` branch reached going
    backward (a mistake); ``rounder`` rounds every product, every sum of a broadcast
    scalar's gradients and every sum of branches (by hand). ``right``: the right pass over
    the same ``fwd`` and ``upstream``, whose downstream gradients an ``override``'s pass
    takes as they are until the first gate it touches (the same numbers, bit for bit,
    without their products)."""
    used = fwd.used
    n = len(used)
    grads: list[Local | None] = [None] * n
    grads[graph.output] = upstream
    down: list[tuple[Local, ...]] = [()] * n
    touched = [False] * n
    if override is not None:
        for step in graph.plan:
            touched[step[0]] = override.touches(graph, step[0])
    same = right is not None and override is not None and keep == "sum" and rounder is None
    reused = n  # after the last gate touched: the right pass's gradients
    if same:
        reused = max((i for i, t in enumerate(touched) if t), default=-1)
    for i, rule, inputs, _, spread in reversed(graph.plan):
        if i > reused:
            d = right.down[i]  # type: ignore[union-attr]
        else:
            g = grads[i]
            if rule.vjp is None:
                d = tuple(map(_times, fwd.local[i], repeat(g)))
            else:
                d = rule.vjp([used[j] for j in inputs], used[i], g)  # type: ignore[arg-type]
            if touched[i]:
                d = override.replace([used[j] for j in inputs], used[i], g, d)  # type: ignore
            if rounder is not None:
                d = tuple(map(rounder, d))
            if spread is not None:
                d = tuple(dk if s is None else _summed(dk, rounder)  # type: ignore[arg-type]
                          for dk, s in zip(d, spread, strict=True))  # fmt: skip
        down[i] = d
        for j, dj in zip(inputs, d, strict=True):
            earlier = grads[j]
            if earlier is None or keep == "last":
                grads[j] = dj
            elif keep == "sum":
                grads[j] = earlier + dj if rounder is None else rounder(earlier + dj)
    if any(g is None for g in grads):
        return Backward([_zero(used[j]) if g is None else g for j, g in enumerate(grads)], down)
    return Backward(grads, down)  # type: ignore[arg-type]


def _times(a: Local, b: Local) -> Local:
    """``a · b``, without a tensor op where one of them is the float ±1."""
    if type(a) is float:
        if a == 1.0:
            return b
        if a == -1.0:
            return -b
    if type(b) is float:
        if b == 1.0:
            return a
        if b == -1.0:
            return -a
    return a * b


def _summed(grad: Array, rounder: Rounder | None) -> Array:
    """A broadcast scalar's gradient (B,): the sum of its elements' gradients (rounded)."""
    total = grad.sum(tuple(range(1, grad.ndim)))
    return total if rounder is None else rounder(total)


def _zero(value: Array) -> Local:
    """The gradient of a node no gate consumes: zeros of its value's shape (0.0 for one
    problem's scalar)."""
    if isinstance(value, Tensor):
        return torch.zeros_like(value)
    return np.zeros_like(value) if np.ndim(value) else 0.0


@dataclass(frozen=True)
class Passes:
    """Both passes over a batch."""

    fwd: Forward
    bwd: Backward

    def output(self) -> Tensor:
        """The outputs (B,)."""
        return self.fwd.computed[-1]

    def gradients(self, graph: Graph) -> Tensor:
        """The gradient per variable (B, V), in the order of ``graph.variables``."""
        v = len(graph.variables)
        if not v:
            return torch.zeros((self.output().shape[0], 0), dtype=F64)
        return torch.stack(self.bwd.grads[:v], 1) + 0.0  # a sum starts at +0, never −0

    def cells(self) -> list[Local]:
        """Every value, local gradient and downstream gradient (all must be finite), then
        the gradient at every node."""
        local = [lg for lgs in self.fwd.local for lg in lgs]
        down = [d for ds in self.bwd.down for d in ds]
        return [*self.fwd.computed, *local, *down, *self.bwd.grads]

    def bad(self) -> Array:
        """A mask (B,) of the problems where some value or downstream gradient is not finite
        (a local gradient that is not finite makes its downstream gradient so too)."""
        cells = [*self.fwd.computed, *(d for ds in self.bwd.down for d in ds)]
        lib = xp(cells[0])
        ok = [lib.isfinite(c).reshape(len(c), -1).all(1) for c in cells if c.ndim > 1]
        scalars = [c for c in cells if c.ndim == 1]
        if scalars:
            ok.append(lib.isfinite(lib.stack(scalars)).all(0))
        return ~(ok[0] if len(ok) == 1 else lib.stack(ok).all(0))


def passes(
    graph: Graph,
    values: Array,
    upstream: Local,
    override: Override | None = None,
    keep: Keep = "sum",
    rounder: Rounder | None = None,
) -> Passes:
    """Forward then backward over a batch of a scalar graph (see :func:`leaves`,
    :func:`forward` and :func:`backward`)."""
    fwd = forward(graph, leaves(graph, values), rounder=rounder)
    return Passes(fwd, backward(graph, fwd, upstream, override, keep, rounder))


@dataclass
class Evaluation:
    """Both passes of one problem as floats: per node its value, local and downstream
    gradients and the gradient at its output (``grads``: the sum over its consumers,
    ``upstream`` at the output node)."""

    values: list[float]
    local: list[tuple[float, ...]]
    grads: list[float]
    down: list[tuple[float, ...]]


def _floats(graph: Graph, p: Passes, b: int) -> Evaluation:
    """Problem ``b`` of a batch of tensors as floats."""
    cells = p.cells()
    tensors = [c for c in cells if type(c) is not float]
    flat = torch.cat(tensors)
    batch = len(flat) // len(tensors)
    numbers = iter((flat if batch == 1 else flat.view(-1, batch)[:, b]).tolist())
    return _evaluation(graph, p, [c if type(c) is float else next(numbers) for c in cells])


def _evaluation(graph: Graph, p: Passes, every: list[float]) -> Evaluation:
    """One problem's :meth:`Passes.cells` as floats, laid out per node."""
    n = len(graph.gates)
    local, down = [], []
    at = n
    for lgs in p.fwd.local:
        local.append(tuple(every[at : at + len(lgs)]))
        at += len(lgs)
    for ds in p.bwd.down:
        down.append(tuple(every[at : at + len(ds)]))
        at += len(ds)
    grads = [g + 0.0 for g in every[at : at + n - 1]] + [every[at + n - 1]]
    return Evaluation(every[:n], local, grads, down)


def _first_error(graph: Graph, ev: Evaluation) -> PydanticCustomError | None:
    """The error the first non-finite cell of one problem makes, in the order of the passes."""
    finite = math.isfinite
    for i, g in enumerate(graph.gates):
        if not g.inputs:
            continue
        rule = RULES[g.op]
        xs = [ev.values[j] for j in g.inputs]
        problem = rule.domain(xs, g.param)
        if problem is not None:
            template, context = problem
            return domain_error(template, **context, node=i)
        if not finite(ev.values[i]):
            return domain_error(
                N_("overflow at node {node} ({op}): the number is too large"), node=i, op=g.op
            )
        if not all(finite(d) for d in ev.local[i]):
            return domain_error(
                N_("{op} at node {node} has no finite derivative at {value}"),
                op=g.op,
                node=i,
                value=f"{xs[0]:.6g}",
            )
    for i in range(len(graph.gates) - 1, -1, -1):
        if not all(finite(d) for d in ev.down[i]):
            return domain_error(
                N_("the gradient at node {node} ({op}) is too large"),
                node=i,
                op=graph.gates[i].op,
            )
    return None


def check(graph: Graph, p: Passes) -> None:
    """Raise the domain error of the first problem of the batch with a non-finite cell."""
    bad = p.bad()
    if bool(bad.any()):
        error = _first_error(graph, _floats(graph, p, int(bad.nonzero()[0, 0])))
        if error is not None:
            raise error


def evaluate(graph: Graph, values: dict[str, float], upstream: float = 1.0) -> Evaluation:
    """Both passes of one problem (on numpy scalars: far less per op than tensors), as
    floats; raise a ``domain`` error
    instead of inf/NaN."""
    row = np.array([*(values[name] for name in graph.variables), *graph.constants], np.float64)
    with np.errstate(all="ignore"):  # inf/NaN are found below and reported as domain errors
        p = passes(graph, row, upstream)
    ev = _evaluation(graph, p, [float(c) for c in p.cells()])
    cells = sum(ev.values) + sum(map(sum, ev.local)) + sum(map(sum, ev.down))
    if not math.isfinite(cells):  # some cell is not finite (or their sum overflowed)
        error = _first_error(graph, ev)
        if error is not None:
            raise error
    return ev


def evaluate_given(
    graph: Graph, values: dict[str, float], given: Sequence[float], upstream: float = 1.0
) -> Evaluation | None:
    """Both passes of one problem from a student's own node values (``given``, one per node,
    NaN where not given; error carried forward): each node's value is the student's where
    given, the local gradients are taken at those values and the gradients flow back from
    ``upstream`` through them. None when some cell is not finite."""
    row = torch.tensor([[values[name] for name in graph.variables]], dtype=F64)
    fwd = forward(graph, leaves(graph, row), torch.tensor([list(given)], dtype=F64))
    mine = Forward(fwd.used, fwd.used, fwd.local)
    p = Passes(mine, backward(graph, mine, torch.tensor([upstream], dtype=F64)))
    if bool(p.bad().any()):
        return None
    return _floats(graph, p, 0)
