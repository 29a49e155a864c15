"""The worked solution of the ``graph`` task: nodes and steps with the numbers substituted.

Everything that does not depend on the values (labels, symbols, symbolic formulas, from
each gate's rule) is built once per graph and number format (:func:`layout`, cached); a
solve then only formats numbers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from solvers.cache import sized_cache
from solvers.core import N_, NumberFormat, Step, step, trusted
from solvers.tasks.graph.compute import Evaluation
from solvers.tasks.graph.gates import Graph
from solvers.tasks.graph.parser import CACHE_CHARACTERS, name_latex
from solvers.tasks.graph.problem import GraphNode
from solvers.tasks.graph.rules import RULES


def gate_label(op: str, param: float, fmt: NumberFormat) -> str:
    """What the picture writes in a node: ``+1``, ``·(−1)``, ``/2``, ``^2``, ``exp``, or
    the value of a constant."""
    return fmt.num(param) if op == "const" else RULES[op].label(param, fmt)


@dataclass(frozen=True)
class Layout:
    """The value-independent text of a graph's solution."""

    labels: tuple[str, ...]
    syms: tuple[str, ...]  # LaTeX symbol of each node: w_{0}, n_{5}, f, or a constant
    params: tuple[str, ...]  # LaTeX of each gate's constant (with parentheses if negative)
    forward: tuple[str, ...]  # "n_{5} = w_{0} \cdot x_{0}"
    local: tuple[tuple[str, ...], ...]  # local gradients in the nodes' symbols
    generic: tuple[tuple[str, ...], ...]  # local gradients in x, y (for GraphNode)
    chains: tuple[tuple[str, ...], ...]  # per input: "∂f/∂s = ∂n/∂s · ∂f/∂n" ("" for consts)
    branches: tuple[int, ...]  # how many edges leave each node
    gate_count: int


def node_symbols(nodes: Sequence[Any], fmt: NumberFormat) -> tuple[str, ...]:
    """The LaTeX symbol of every node (gates or solution nodes, the output last): a variable's
    name, a constant's value (a gate's ``param``, a solution node's ``value``), ``f`` for the
    output, ``q`` for a lone intermediate gate as the lecture writes q = x + y, f = q·z, else
    ``n_{id}`` as the picture numbers them."""
    out = len(nodes) - 1
    middle = [i for i, g in enumerate(nodes) if g.inputs and i != out]
    lone = len(middle) == 1 and all(g.name != "q" for g in nodes if g.op == "input")
    return tuple(
        name_latex(g.name) if g.op == "input"
        else fmt.tex(g.value if g.param is None else g.param, paren=True) if g.op == "const"
        else "f" if i == out else "q" if lone else f"n_{{{i}}}"
        for i, g in enumerate(nodes)
    )  # fmt: skip


@sized_cache(2 * CACHE_CHARACTERS, lambda graph, fmt, top: len(graph.key[0]))
def layout(graph: Graph, fmt: NumberFormat, top: str) -> Layout:
    """The :class:`Layout` of a graph (cached per expression, gate mode and format);
    ``top`` is ``f``, or ``L`` when an upstream gradient other than 1 arrives."""
    nodes = graph.gates
    out = graph.output
    labels = tuple(g.name if g.op == "input" else gate_label(g.op, g.param, fmt) for g in nodes)
    syms = node_symbols(nodes, fmt)
    branches = [0] * len(nodes)
    for g in nodes:
        for j in g.inputs:
            branches[j] += 1
    params, forward, local, generic, chains = [], [], [], [], []
    for i, g in enumerate(nodes):
        if not g.inputs:
            params.append("")
            forward.append("")
            local.append(())
            generic.append(())
            chains.append(())
            continue
        rule = RULES[g.op]
        p = fmt.tex(g.param, paren=g.op != "^k") if rule.has_param else ""
        k1 = fmt.tex(g.param - 1) if g.op == "^k" else ""
        a = [syms[j] for j in g.inputs]
        params.append(p)
        forward.append(f"{syms[i]} = {rule.forward_tex(a, p)}")
        local.append(tuple(rule.local_tex(a, p, k1)))
        plain = fmt.tex(g.param) if rule.has_param else ""
        generic.append(tuple(rule.local_tex(["x", "y"][: len(a)], plain, k1)))
        d_top = rf"\frac{{\partial {top}}}{{\partial {syms[i]}}}"
        row = []
        for j in g.inputs:
            if nodes[j].op == "const":
                row.append("")
                continue
            left = rf"\frac{{\partial {top}}}{{\partial {syms[j]}}}"
            if branches[j] > 1:
                left = rf"\left.{left}\right|_{{{syms[i]}}}"
            if not (top == "f" and i == out):
                left += rf" = \frac{{\partial {syms[i]}}}{{\partial {syms[j]}}} \cdot {d_top}"
            row.append(left)
        chains.append(tuple(row))
    return Layout(
        labels, syms, tuple(params), tuple(forward), tuple(local), tuple(generic),
        tuple(chains), tuple(branches), sum(1 for g in nodes if g.inputs),
    )  # fmt: skip


def maybe_fraction(x: float, max_denominator: int = 1000) -> bool:
    """Cheap float test: is ``x`` within 1e-9 of a fraction with a small denominator?

    Walks the continued fraction of ``x`` until a convergent's denominator passes the limit.
    """
    a = abs(x)
    q_prev, q = 0, 1
    while q <= max_denominator:
        whole = math.floor(a)
        rest = a - whole
        if rest <= 2e-9 * max(1.0, abs(x)) * q * q:
            return True
        a = 1.0 / rest
        q_prev, q = q, math.floor(a) * q + q_prev
    return False


@lru_cache(maxsize=8192)
def _tex(fmt: NumberFormat, x: float) -> str:
    return fmt.tex(x, paren=True)


@lru_cache(maxsize=8192)
def _eq(fmt: NumberFormat, x: float) -> str:
    relation = r"\approx" if fmt.is_rounded(x) else "="
    return f"{relation} {fmt.tex(x)}"


@lru_cache(maxsize=1024)
def _eq_exact(fmt: NumberFormat, x: float) -> str:
    if not fmt.is_rounded(x) or not maybe_fraction(x):
        return _eq(fmt, x)
    text = fmt.tex_exact(x)
    return text if text.startswith("\\approx") else "= " + text


class Writer:
    """Formats the numbers of one solve into nodes and steps (number texts are memoized)."""

    def __init__(self, graph: Graph, fmt: NumberFormat, upstream: float) -> None:
        self.graph = graph
        self.fmt = fmt
        self.top = "f" if upstream == 1.0 else "L"
        self.layout = layout(graph, fmt, self.top)

    def tex(self, x: float) -> str:
        """A number for substitution: negatives in parentheses."""
        return _tex(self.fmt, x)

    def eq(self, x: float) -> str:
        """``= 2`` or ``\\approx 0.7311``."""
        return _eq(self.fmt, x)

    def eq_exact(self, x: float) -> str:
        """Like :meth:`eq`, with the exact fraction when ``x`` is a small one (``\\tfrac13``)."""
        return _eq_exact(self.fmt, x)

    def nodes(self, ev: Evaluation) -> list[GraphNode]:
        """Every node with its numbers."""
        lay = self.layout
        return [
            trusted(
                GraphNode,
                id=i,
                op=g.op,
                label=lay.labels[i],
                name=g.name or None,
                param=g.param if g.inputs and RULES[g.op].has_param else None,
                inputs=list(g.inputs),
                value=ev.values[i],
                local_gradients=list(ev.local[i]),
                local_formulas=list(lay.generic[i]),
                upstream=ev.grads[i],
                downstream=list(ev.down[i]),
            )
            for i, g in enumerate(self.graph.gates)
        ]

    def forward(self, ev: Evaluation) -> list[Step]:
        """One step per gate, in topological order."""
        lay = self.layout
        steps = []
        for i, g in enumerate(self.graph.gates):
            if not g.inputs:
                continue
            rule = RULES[g.op]
            numbers = rule.forward_tex([self.tex(ev.values[j]) for j in g.inputs], lay.params[i])
            if self.fmt.decimal_comma:  # numbers write theirs {,}: a bare ", " parts arguments
                numbers = numbers.replace(", ", f"{self.fmt.comma} ")
            steps.append(
                step(
                    kind="graph.forward",
                    title=N_("Forward: node {node} ({op})"),
                    params={"node": i, "op": lay.labels[i]},
                    formulas=[f"{lay.forward[i]} = {numbers} {self.eq(ev.values[i])}"],
                    values={N_("value"): ev.values[i]},
                )
            )
        return steps

    def backward(self, ev: Evaluation, upstream: float) -> list[Step]:
        """The start at the output, one step per gate in reverse, the kinks, the branch sums."""
        lay = self.layout
        gates = self.graph.gates
        steps = [
            step(
                kind="graph.backward",
                title=N_("Backward: start at the output"),
                text=N_("The gradient arriving at the output is the upstream gradient {upstream}."),
                params={"upstream": self.fmt.num(upstream)},
                formulas=[
                    rf"\frac{{\partial {self.top}}}{{\partial {lay.syms[-1]}}} = "
                    f"{self.fmt.tex(upstream)}"
                ],
            )
        ]
        for i in range(len(gates) - 1, -1, -1):
            g = gates[i]
            if not g.inputs:
                continue
            u = self.tex(ev.grads[i])
            formulas = []
            for k, chain in enumerate(lay.chains[i]):
                if not chain:
                    continue
                numeric = rf"{self.tex(ev.local[i][k])} \cdot {u}"
                symbolic = rf"{lay.local[i][k]} \cdot {u}"
                middle = f"{symbolic} = {numeric}" if symbolic != numeric else numeric
                formulas.append(f"{chain} = {middle} {self.eq(ev.down[i][k])}")
            steps.append(
                step(
                    kind="graph.backward",
                    title=N_("Backward: node {node} ({op})"),
                    text=N_("downstream = local gradient × upstream"),
                    params={"node": i, "op": lay.labels[i]},
                    formulas=formulas,
                    values={N_("upstream"): ev.grads[i], N_("downstream"): list(ev.down[i])},
                )
            )
            rule = RULES[g.op]
            if rule.kink([ev.values[j] for j in g.inputs]):
                steps.append(
                    step(
                        kind="graph.kink",
                        title=N_("Non-differentiable point at node {node} ({op})"),
                        text=rule.kink_message,
                        params={"node": i, "op": lay.labels[i]},
                    )
                )
        steps.extend(self.branch_sums(ev))
        return steps

    def branch_sums(self, ev: Evaluation) -> list[Step]:
        """For each variable used more than once: its gradient is the sum of its branches'."""
        lay = self.layout
        steps = []
        for i, name in enumerate(self.graph.variables):
            if lay.branches[i] < 2:
                continue
            parts = [
                ev.down[c][k]
                for c, g in enumerate(self.graph.gates)
                for k, j in enumerate(g.inputs)
                if j == i
            ]
            total = " + ".join(self.tex(p) for p in parts)
            steps.append(
                step(
                    kind="graph.branch_sum",
                    title=N_("Gradient of {name}: sum over {count} branches"),
                    text=N_(
                        "{name} is used {count} times, so its gradient is the sum of the "
                        "gradients of its branches."
                    ),
                    params={"name": name, "count": lay.branches[i]},
                    formulas=[
                        rf"\frac{{\partial {self.top}}}{{\partial {lay.syms[i]}}} = "
                        f"{total} {self.eq(ev.grads[i])}"
                    ],
                    values={N_("branches"): parts, N_("sum"): ev.grads[i]},
                )
            )
        return steps
