"""The worked solution of the ``graph`` task: nodes and steps with the numbers substituted.

Everything that does not depend on the values (labels, symbols, symbolic formulas) is built
once per expression, gate mode and number format (:func:`layout`, cached); a solve then only
formats numbers.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from solvers.core import N_, NumberFormat, Step
from solvers.tasks.graph.gates import KINK_MESSAGES, Evaluation, GateMode, compile_graph, is_kink
from solvers.tasks.graph.parser import name_latex
from solvers.tasks.graph.problem import GraphNode

PARAM_OPS = ("+c", "·c", "/c", "^k")

# LaTeX of a gate applied to its inputs ``a`` (symbols or numbers); ``p`` is its constant.
_FORWARD: dict[str, Callable[[list[str], str], str]] = {
    "+": lambda a, p: f"{a[0]} + {a[1]}",
    "-": lambda a, p: f"{a[0]} - {a[1]}",
    "*": lambda a, p: rf"{a[0]} \cdot {a[1]}",
    "+c": lambda a, p: f"{a[0]} + {p}",
    "·c": lambda a, p: rf"{a[0]} \cdot {p}",
    "/c": lambda a, p: rf"\frac{{{a[0]}}}{{{p}}}",
    "1/x": lambda a, p: rf"\frac{{1}}{{{a[0]}}}",
    "exp": lambda a, p: f"e^{{{a[0]}}}",
    "^k": lambda a, p: f"{a[0]}^{{{p}}}",
    "max": lambda a, p: rf"\max({a[0]}, {a[1]})",
    "min": lambda a, p: rf"\min({a[0]}, {a[1]})",
    "relu": lambda a, p: rf"\max(0, {a[0]})",
    "σ": lambda a, p: rf"\sigma({a[0]})",
    "tanh": lambda a, p: rf"\tanh({a[0]})",
    "log": lambda a, p: rf"\ln({a[0]})",
    "sqrt": lambda a, p: rf"\sqrt{{{a[0]}}}",
    "abs": lambda a, p: rf"\left|{a[0]}\right|",
}


def local_tex(op: str, a: list[str], p: str, k_minus_1: str = "") -> list[str]:
    """LaTeX of the local gradients of a gate with inputs ``a``, one per input."""
    x, y = a[0], a[-1]
    table = {
        "+": ["1", "1"], "-": ["1", "-1"], "*": [y, x], "+c": ["1"], "·c": [p],
        "/c": [rf"\frac{{1}}{{{p}}}"], "1/x": [rf"-\frac{{1}}{{{x}^{{2}}}}"],
        "exp": [f"e^{{{x}}}"], "^k": [rf"{p} \cdot {x}^{{{k_minus_1}}}"],
        "max": [f"[{x} > {y}]", f"[{y} > {x}]"], "min": [f"[{x} < {y}]", f"[{y} < {x}]"],
        "relu": [f"[{x} > 0]"], "σ": [rf"\sigma({x})\,(1 - \sigma({x}))"],
        "tanh": [rf"1 - \tanh^{{2}}({x})"], "log": [rf"\frac{{1}}{{{x}}}"],
        "sqrt": [rf"\frac{{1}}{{2\sqrt{{{x}}}}}"], "abs": [rf"\operatorname{{sign}}({x})"],
    }  # fmt: skip
    return table[op]


def gate_label(op: str, param: float, fmt: NumberFormat) -> str:
    """What the picture writes in a gate: ``+1``, ``·(−1)``, ``/2``, ``^2``, ``exp``…"""
    if op == "+c":
        text = fmt.num(param)
        return text if text.startswith("\u2212") else "+" + text
    if op in ("·c", "/c", "^k"):
        text = fmt.num(param)
        if text.startswith("\u2212"):
            text = f"({text})"
        return {"·c": "·", "/c": "/", "^k": "^"}[op] + text
    if op == "const":
        return fmt.num(param)
    return "−" if op == "-" else op


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


@lru_cache(maxsize=512)
def layout(text: str, gates: GateMode, fmt: NumberFormat, top: str) -> Layout:
    """The :class:`Layout` of an expression (cached); ``top`` is ``f``, or ``L`` when an
    upstream gradient other than 1 arrives."""
    graph = compile_graph(text, gates)
    nodes = graph.gates
    out = graph.output
    labels = tuple(g.name if g.op == "input" else gate_label(g.op, g.param, fmt) for g in nodes)
    syms = tuple(
        name_latex(g.name) if g.op == "input"
        else fmt.tex(g.param, paren=True) if g.op == "const"
        else "f" if i == out else f"n_{{{i}}}"
        for i, g in enumerate(nodes)
    )  # fmt: skip
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
        p = fmt.tex(g.param, paren=g.op != "^k") if g.op in PARAM_OPS else ""
        k1 = fmt.tex(g.param - 1) if g.op == "^k" else ""
        a = [syms[j] for j in g.inputs]
        params.append(p)
        forward.append(f"{syms[i]} = {_FORWARD[g.op](a, p)}")
        local.append(tuple(local_tex(g.op, a, p, k1)))
        plain = fmt.tex(g.param) if g.op in PARAM_OPS else ""
        generic.append(tuple(local_tex(g.op, ["x", "y"][: len(a)], plain, k1)))
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

    def __init__(self, text: str, gates: GateMode, fmt: NumberFormat, upstream: float) -> None:
        self.graph = compile_graph(text, gates)
        self.fmt = fmt
        self.top = "f" if upstream == 1.0 else "L"
        self.layout = layout(text, gates, fmt, self.top)

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
            GraphNode(
                id=i,
                op=g.op,
                label=lay.labels[i],
                name=g.name or None,
                param=g.param if g.op in PARAM_OPS else None,
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
            numbers = _FORWARD[g.op]([self.tex(ev.values[j]) for j in g.inputs], lay.params[i])
            steps.append(
                Step(
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
            Step(
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
                Step(
                    kind="graph.backward",
                    title=N_("Backward: node {node} ({op})"),
                    text=N_("downstream = local gradient × upstream"),
                    params={"node": i, "op": lay.labels[i]},
                    formulas=formulas,
                    values={N_("upstream"): ev.grads[i], N_("downstream"): list(ev.down[i])},
                )
            )
            if is_kink(g.op, [ev.values[j] for j in g.inputs]):
                steps.append(
                    Step(
                        kind="graph.kink",
                        title=N_("Non-differentiable point at node {node} ({op})"),
                        text=KINK_MESSAGES[g.op],
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
                Step(
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
