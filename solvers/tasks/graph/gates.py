"""The computational graph: gates built from a parsed tree (what each gate computes is its
rule in :mod:`.rules`; the passes are :mod:`.compute`, which read a graph's :data:`Step`s)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal

from solvers.tasks.graph.parser import Expr, Parsed
from solvers.tasks.graph.rules import RULES, GateRule, Shape

GateMode = Literal["primitive", "grouped"]


Step = tuple[int, GateRule, tuple[int, ...], float, tuple[Shape | None, ...] | None]
"""One gate of the passes: its node id, rule, inputs, constant and ``spread``: for an
elementwise gate on a vector or matrix with a scalar input, per input the shape of ones a
scalar takes to broadcast against the others (None for an input of the gate's shape), its
gradient summed back; None where no input is broadcast (every scalar graph). A plain tuple:
the passes unpack it at every gate."""


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
    """Gates in topological order: inputs, then constants, then gates; the output is last.

    ``key`` (the canonical text and the gate mode) determines the graph: graphs compare and
    hash by it.
    """

    gates: tuple[Gate, ...] = field(compare=False)
    variables: tuple[str, ...] = field(compare=False)
    key: tuple[str, str]

    @cached_property
    def constants(self) -> tuple[float, ...]:
        """The values of the ``const`` nodes, which follow the inputs."""
        return tuple(g.param for g in self.gates if g.op == "const")

    @cached_property
    def plan(self) -> tuple[Step, ...]:
        """The passes' work: every gate (not an input or a constant), in order."""
        return tuple(
            (i, RULES[g.op], g.inputs, g.param, None) for i, g in enumerate(self.gates) if g.inputs
        )

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

    def finish(self, key: tuple[str, str]) -> Graph:
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
        return Graph(gates, tuple(self.index), key)


def compile_graph(parsed: Parsed, gates: GateMode = "primitive") -> Graph:
    """The graph of a parsed expression in a gate mode."""
    builder = _Builder(parsed.variables, gates)
    builder.build(parsed.tree)
    return builder.finish((parsed.canonical, gates))
