"""The worked solution of a vector or matrix graph: every node with its shape, the local
gradients in matrix form with the numbers substituted, every gradient in its variable's
shape (the lecture's check: "the gradient has the shape of the variable")."""

from __future__ import annotations

import numpy as np

from solvers.core import N_, NumberFormat, Step, trusted
from solvers.tasks.graph.parser import name_latex
from solvers.tasks.graph.problem import GraphProblem, VectorAnswer, VectorNode, VectorSolution
from solvers.tasks.graph.rules import ALL_RULES as RULES
from solvers.tasks.graph.steps import node_symbols
from solvers.tasks.graph.vector import VNode

MAX_WRITTEN = 36
"""Largest value written out element by element in a formula (else only its shape)."""


def space(shape: tuple[int, ...]) -> str:
    """``\\mathbb{R}^{2\\times 3}``; a scalar is in ℝ."""
    sides = r" \times ".join(str(n) for n in shape)
    return r"\mathbb{R}" + (f"^{{{sides}}}" if shape else "")


def tex_value(value: np.ndarray, fmt: NumberFormat) -> str:
    """A number, a vector (a column, as the lecture writes it) or a matrix in LaTeX."""
    if value.ndim == 0:
        return fmt.tex(float(value), paren=True)
    if value.size > MAX_WRITTEN:
        return rf"[\ldots] \in {space(value.shape)}"
    rows = value[:, None] if value.ndim == 1 else value
    body = r" \\ ".join(" & ".join(fmt.tex(float(x)) for x in row) for row in rows)
    return rf"\begin{{bmatrix}} {body} \end{{bmatrix}}"


def _label(node: VNode, fmt: NumberFormat) -> str:
    """What the picture writes in a node (a constant's value)."""
    return fmt.num(node.param) if node.op == "const" else RULES[node.op].label(node.param, fmt)


def _has_param(op: str) -> bool:
    return op in RULES and RULES[op].has_param


def solve_vector(problem: GraphProblem, fmt: NumberFormat) -> VectorSolution:
    """Both passes over the vector graph, written as the lecture does."""
    graph, ev = problem.vector_passes()
    parsed = problem.parsed
    syms = node_symbols(graph.nodes, fmt)
    grad_sym = [f"g_{{{sym}}}" for sym in syms]
    values = ev.values
    learnable = [v for v in graph.variables if v not in graph.labels]
    read = trusted(
        Step,
        kind="graph.read",
        title=N_("How the expression was read"),
        text=N_("Read as {expression}: {count} gates; every value with its shape."),
        params={
            "expression": parsed.canonical,
            "count": sum(1 for n in graph.nodes if n.inputs),
        },
        formulas=[f"f = {parsed.latex}"]
        + [
            f"{syms[i]} = {tex_value(values[i], fmt)} \\in {space(graph.nodes[i].shape)}"
            for i in range(len(graph.variables))
        ],
    )
    forward = []
    for i, node in enumerate(graph.nodes):
        if not node.inputs:
            continue
        rule = RULES[node.op]
        text = rule.forward_tex([syms[j] for j in node.inputs], fmt.tex(node.param, paren=True))
        forward.append(f"{syms[i]} = {text} = {tex_value(values[i], fmt)} \\in {space(node.shape)}")
    consumers = [0] * len(graph.nodes)
    for node in graph.nodes:
        for j in node.inputs:
            consumers[j] += 1
    backward = [f"{grad_sym[graph.output]} = {tex_value(ev.grads[graph.output], fmt)}"]
    for i in range(len(graph.nodes) - 1, -1, -1):
        node = graph.nodes[i]
        if not node.inputs:
            continue
        rule = RULES[node.op]
        param = fmt.tex(node.param, paren=True)
        g_text = tex_value(ev.grads[i], fmt)
        if rule.vjp is not None:
            symbolic = rule.local_tex([syms[j] for j in node.inputs], param, grad_sym[i])
            numeric = rule.local_tex(
                [tex_value(values[j], fmt) for j in node.inputs], param, g_text
            )
            parts = [f"{s} = {n}" for s, n in zip(symbolic, numeric, strict=True)]
        else:
            local_tex = rule.local_tex([syms[j] for j in node.inputs], param, "")
            locals_ = ev.local[i]
            parts = [
                rf"\left({t}\right) \odot {grad_sym[i]} = {tex_value(v, fmt)} \odot {g_text}"
                for t, v in zip(local_tex, locals_, strict=True)
            ]
        down = ev.down[i]
        for k, (j, part) in enumerate(zip(node.inputs, parts, strict=True)):
            target = graph.nodes[j]
            if target.op == "const" or k == rule.labels:
                continue
            sign = r"\mathrel{+}=" if consumers[j] > 1 else "="
            summed = r"\textstyle\sum " if not target.shape and node.shape else ""
            lhs = (
                grad_sym[j]
                if target.op != "input"
                else rf"\frac{{\partial f}}{{\partial {syms[j]}}}"
            )
            result_tex = tex_value(down[k], fmt)
            backward.append(
                f"{lhs} {sign} {summed}{part} = {result_tex} \\in {space(target.shape)}"
            )
    gradients = {v: ev.grads[k] for k, v in enumerate(graph.variables) if v in learnable}
    result = trusted(
        Step,
        kind="graph.result",
        title=N_("Result"),
        text=N_("Every gradient has the shape of its variable."),
        formulas=[f"f = {tex_value(values[graph.output], fmt)}"]
        + [
            rf"\frac{{\partial f}}{{\partial {name_latex(v)}}} = {tex_value(g, fmt)} \in "
            rf"{space(g.shape)}, \quad {name_latex(v)} \in {space(g.shape)}"
            for v, g in gradients.items()
        ],
        values={N_("output"): values[graph.output].tolist()}
        | {f"∂/∂{v}": g.tolist() for v, g in gradients.items()},
    )
    steps = [
        read,
        trusted(
            Step,
            kind="graph.forward",
            title=N_("Forward pass"),
            text=N_("Every node's value, with its shape."),
            formulas=forward,
        ),
        trusted(
            Step,
            kind="graph.backward",
            title=N_("Backward pass"),
            text=N_(
                "g_k is the gradient arriving at node k; it has the shape of node k. In matrix "
                "form a product q = W x gives ∂f/∂W = g xᵀ and ∂f/∂x = Wᵀ g; elementwise gates "
                "multiply their local gradient elementwise (⊙); a scalar used with a vector "
                "gets the sum."
            ),
            formulas=backward,
        ),
        result,
    ]
    nodes = [
        VectorNode(
            id=i,
            op=node.op,
            label=node.name if node.op == "input" else _label(node, fmt),
            name=node.name or None,
            param=node.param if node.op == "const" or _has_param(node.op) else None,
            inputs=list(node.inputs),
            shape=list(node.shape),
            value=values[i].tolist(),
            gradient=ev.grads[i].tolist(),
        )
        for i, node in enumerate(graph.nodes)
    ]
    answer = VectorAnswer(
        output=values[graph.output].tolist(),
        gradients={v: g.tolist() for v, g in gradients.items()},
        shapes={v: list(graph.nodes[k].shape) for k, v in enumerate(graph.variables)}
        | {"f": list(graph.nodes[graph.output].shape)},
        nodes={str(i): values[i].tolist() for i in range(len(graph.nodes))},
    )
    return VectorSolution(
        answer=answer,
        steps=steps,
        nodes=nodes,
        expression_read=parsed.canonical,
        expression_latex=parsed.latex,
    )
