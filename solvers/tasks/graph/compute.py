"""The graph task's one implementation of the passes: forward and backward over a batch.

Every value is a float64 torch tensor with a leading batch dimension (B,); a single
problem (:func:`evaluate`) runs the same code on numpy scalars, which cost far less per op.
Each gate's forward and local gradients are its rule in :mod:`.rules`. A named mistake is
the same pass with an :data:`Override` that replaces a gate's local gradients, or with the
branches not summed (``keep``).

Where a value, local gradient or downstream gradient is not finite, the first such cell of
the first problem concerned is reported as ``PydanticCustomError("domain", …)`` naming the
node (log of x ≤ 0, sqrt of x < 0, 1/0, an infinite derivative, overflow).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import repeat
from typing import Literal

import numpy as np
import torch
from pydantic_core import PydanticCustomError

from solvers.core import N_, Rounder
from solvers.tasks.graph.gates import Gate, Graph
from solvers.tasks.graph.rules import RULES, Array, Local, Tensor, domain_error, xp

F64 = torch.float64
Keep = Literal["sum", "first", "last"]


@dataclass(frozen=True)
class Override:
    """A mistake in the backward pass: at the gates it ``touches``, the local gradients
    are ``replace(xs, y, local)`` (inputs, value and right local gradients) instead."""

    touches: Callable[[Gate], bool]
    replace: Callable[[Sequence[Array], Array, tuple[Local, ...]], tuple[Local, ...]]

    def applies(self, graph: Graph) -> bool:
        """Whether the graph has a gate it touches."""
        return any(g.inputs and self.touches(g) for g in graph.gates)


@dataclass(frozen=True)
class Forward:
    """The forward pass: per node its value ``computed``, the value ``used`` downstream (a
    given value replaces the computed one) and its local gradients at the used values."""

    computed: list[Array]
    used: list[Array]
    local: list[tuple[Local, ...]]


@dataclass(frozen=True)
class Backward:
    """The backward pass: per node the gradient at its output (``grads``: the sum over its
    consumers, the upstream gradient at the output) and its downstream gradients."""

    grads: list[Local]
    down: list[tuple[Local, ...]]


def forward(
    graph: Graph, values: Array, given: Array | None = None, rounder: Rounder | None = None
) -> Forward:
    """Node values and local gradients; ``values`` is (B, V) in the order of
    ``graph.variables`` (or (B, V + C) with the constants after them), a tensor; or one
    problem's row (V + C,) as a numpy array, whose cells are then numpy scalars. ``given``
    (B, N), NaN where not given, replaces the computed values for the nodes after them
    (error carried forward). ``rounder`` works it by hand: every gate's value and local
    gradient is rounded (the inputs are taken as given)."""
    constants = graph.constants
    if constants and values.shape[-1] == len(graph.variables):
        row = torch.tensor(constants, dtype=F64, device=values.device)
        values = torch.cat([values, row.expand(values.shape[0], -1)], 1)
    computed = list(values.T)
    used = list(computed) if given is not None else computed
    local: list[tuple[Local, ...]] = [()] * len(computed)
    if given is not None:
        where, isnan = xp(given).where, xp(given).isnan
        for i in range(len(computed)):
            used[i] = where(isnan(given[:, i]), computed[i], given[:, i])
    for i, rule, inputs, param in graph.plan:
        xs = [used[j] for j in inputs]
        y = rule.forward(xs, param)
        if rounder is not None:
            y = rounder(y)
        computed.append(y)
        if given is not None:
            y = where(isnan(given[:, i]), y, given[:, i])
            used.append(y)
        gradients = rule.local(xs, y, param)
        if rounder is not None:
            gradients = tuple(map(rounder, gradients))
        local.append(gradients)
    return Forward(computed, used, local)


def backward(
    graph: Graph,
    fwd: Forward,
    upstream: Local,
    override: Override | None = None,
    keep: Keep = "sum",
    rounder: Rounder | None = None,
    right: Backward | None = None,
) -> Backward:
    """Gradients of every node, from ``upstream`` (B,) (or a float, for one problem).
    ``override`` replaces gates' local gradients; ``keep``:
    ``sum`` the branches (right), or keep only the ``first`` or the ``last`` branch reached
    going backward (a mistake); ``rounder`` rounds every product and every sum of branches
    (by hand). ``right``: the right pass over the same ``fwd`` and ``upstream``, whose
    downstream gradients an ``override``'s pass takes as they are until the first gate it
    touches (the same numbers, bit for bit, without their products)."""
    gates = graph.gates
    n = len(gates)
    grads: list[Local | None] = [None] * n
    grads[-1] = upstream
    down: list[tuple[Local, ...]] = [()] * n
    same = right is not None and override is not None and keep == "sum" and rounder is None
    for i, _, inputs, _ in reversed(graph.plan):
        local = fwd.local[i]
        if override is not None and override.touches(gates[i]):
            local = override.replace([fwd.used[j] for j in inputs], fwd.used[i], local)
            same = False
        if same:
            d = right.down[i]  # type: ignore[union-attr]
        else:
            d = tuple(map(_times, local, repeat(grads[i])))
            if rounder is not None:
                d = tuple(map(rounder, d))
        down[i] = d
        for j, dj in zip(inputs, d, strict=True):
            earlier = grads[j]
            if earlier is None or keep == "last":
                grads[j] = dj
            elif keep == "sum":
                grads[j] = earlier + dj if rounder is None else rounder(earlier + dj)
    if any(g is None for g in grads):
        zero = torch.zeros_like(upstream) if isinstance(upstream, Tensor) else 0.0
        return Backward([zero if g is None else g for g in grads], down)
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

    def bad(self) -> Tensor:
        """A mask (B,) of the problems where some value, local or downstream gradient is
        not finite."""
        n = len(self.bwd.grads)
        cells = [c for c in self.cells()[:-n] if type(c) is not float]
        return ~torch.isfinite(torch.stack(cells)).all(0)


def passes(
    graph: Graph,
    values: Array,
    upstream: Local,
    override: Override | None = None,
    keep: Keep = "sum",
    rounder: Rounder | None = None,
) -> Passes:
    """Forward then backward over a batch (see :func:`forward` and :func:`backward`)."""
    fwd = forward(graph, values, rounder=rounder)
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
    fwd = forward(graph, row, torch.tensor([list(given)], dtype=F64))
    mine = Forward(fwd.used, fwd.used, fwd.local)
    p = Passes(mine, backward(graph, mine, torch.tensor([upstream], dtype=F64)))
    if bool(p.bad().any()):
        return None
    return _floats(graph, p, 0)
