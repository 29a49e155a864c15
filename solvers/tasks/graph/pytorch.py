"""The graph task in PyTorch: leaf tensors with ``requires_grad=True``, the function as
typed (from its parse, never from its text), ``.backward()`` and every leaf's ``.grad``."""

from __future__ import annotations

from solvers.core import N_
from solvers.pytorch_view import (
    Line,
    Note,
    Output,
    TorchForm,
    integers,
    labels,
    literal,
    safe_name,
    tensor,
)
from solvers.tasks.graph.parser import Expr
from solvers.tasks.graph.problem import GraphProblem
from solvers.tasks.graph.rules import FUNCTIONS
from solvers.tasks.graph.vector import VGraph

_FUNCTIONS = {name: rule.torch for name, rule in FUNCTIONS.items() if rule.torch}
"""The functions torch has elementwise, by the name one types (the gates' ``torch``)."""
_PREC = {"add": 1, "sub": 1, "mul": 2, "div": 2, "matmul": 2, "neg": 3, "pow": 4}
_SYMBOLS = {"add": " + ", "sub": " - ", "mul": " * ", "div": " / ", "matmul": " @ "}
_ATOM = 5


def code_names(variables: tuple[str, ...]) -> dict[str, str]:
    """Each variable's name in the code: itself when it is a safe ASCII identifier, else
    ``v_1``, ``v_2``, … (a name the parser never reads, so no clash)."""
    return {v: v if safe_name(v) else f"v_{i}" for i, v in enumerate(variables, start=1)}


def _prec(e: Expr) -> int:
    if e.const is not None:
        return 3 if e.const < 0 else _ATOM
    return _PREC.get(e.kind, _ATOM)


def _wrap(text: str, cond: bool) -> str:
    return f"({text})" if cond else text


def to_code(e: Expr, names: dict[str, str], graph: VGraph | None = None) -> str:
    """Python text of the tree: constants as float literals, functions as torch's; with
    the vector ``graph``, products the shapes made matrix products as ``@``, transposes,
    sums, squared norms and the two losses."""
    if e.const is not None:
        return literal(e.const)
    kind = e.kind
    if kind == "var":
        return names[e.name]
    if graph is not None and (kind == "call" and e.name not in _FUNCTIONS):
        return _vector_call(e, names, graph)
    if kind == "call":
        args = [
            tensor(literal(a.const)) if a.const is not None else to_code(a, names, graph)
            for a in e.args
        ]
        return f"{_FUNCTIONS[e.name]}({', '.join(args)})"
    if kind == "neg":
        return "-" + _wrap(to_code(e.args[0], names, graph), _prec(e.args[0]) <= 3)
    a, b = e.args
    p = _PREC[kind]
    if kind == "pow":
        base = _wrap(to_code(a, names, graph), _prec(a) <= p)
        return f"{base} ** {_wrap(to_code(b, names, graph), True)}"
    left = _wrap(to_code(a, names, graph), _prec(a) < p)
    symbol = " @ " if graph is not None and e.pos in graph.matmuls else _SYMBOLS[kind]
    return f"{left}{symbol}{_wrap(to_code(b, names, graph), _prec(b) <= p)}"


def _vector_call(e: Expr, names: dict[str, str], graph: VGraph) -> str:
    args = [to_code(a, names, graph) for a in e.args]
    if e.name == "transpose":
        if e.pos in graph.no_ops:  # a vector: torch's 1-D tensors have no orientation
            return _wrap(args[0], _prec(e.args[0]) < _ATOM)
        return _wrap(args[0], _prec(e.args[0]) < _ATOM) + ".T"
    if e.name == "sum":
        return f"torch.sum({args[0]})"
    if e.name == "norm2":
        return f"torch.sum({_wrap(args[0], _prec(e.args[0]) < _ATOM)} ** 2)"
    label = e.args[1]
    y = labels(str(int(label.const))) if label.const is not None else args[1]
    if e.name == "softmax_ce":
        return f"F.cross_entropy({args[0]}, {y})"
    node = next(n for n in graph.nodes if n.op == "svm" and n.pos == e.pos)
    classes = graph.nodes[node.inputs[0]].shape[-1]
    return f"(F.multi_margin_loss({args[0]}, {y}) * {classes})"


def _vector_form(problem: GraphProblem) -> TorchForm:
    graph, _ = problem.vector_passes()
    parsed = problem.parsed
    names = code_names(parsed.variables)
    lines = []
    for v in parsed.variables:
        value = problem.values[v]
        if v in graph.labels:
            text = integers(value) if isinstance(value, list) else str(int(value))  # type: ignore[arg-type]
            lines.append(Line(labels(text), names[v]))
        else:
            lines.append(Line(tensor(literal(value), grad=True), names[v]))
    note = None
    svm = next((n for n in graph.nodes if n.op == "svm"), None)
    if svm is not None:
        classes = graph.nodes[svm.inputs[0]].shape[-1]
        note = Note(
            N_(
                "multi_margin_loss divides the sum over j ≠ y_i by the number of classes "
                "C = {classes}; times C it is the course's L_i."
            ),
            {"classes": classes},
        )
    elif any(n.op == "softmax_ce" for n in graph.nodes):
        note = Note(N_("cross_entropy is −log of the correct class's softmax probability (ln)."))
    lines.append(Line(to_code(parsed.tree, names, graph), "out", note))
    upstream = problem.upstream
    if isinstance(upstream, list):
        lines.append(Line(f"out.backward({tensor(literal(upstream))})"))
    elif graph.nodes[graph.output].shape:
        lines.append(Line(f"out.backward(torch.full_like(out, {literal(upstream)}))"))
    elif upstream == 1.0:
        lines.append(Line("out.backward()"))
    else:
        lines.append(Line(f"out.backward({tensor(literal(upstream))})"))
    outputs = [Output("f", "out.tolist()", "output")] + [
        Output(f"df/d{v}", f"{names[v]}.grad.tolist()", f"gradients.{v}")
        for v in parsed.variables
        if v not in graph.labels
    ]
    return TorchForm(tuple(lines), tuple(outputs), functional=note is not None)


def torch_form(problem: GraphProblem) -> TorchForm:
    """The output and every variable's gradient as torch's autograd computes them."""
    if problem.is_vector:
        return _vector_form(problem)
    parsed = problem.parsed
    names = code_names(parsed.variables)
    lines = [
        Line(tensor(literal(problem.values[v]), grad=True), names[v]) for v in parsed.variables
    ]
    tree = parsed.tree
    body = to_code(tree, names)
    lines.append(Line(tensor(body) if tree.const is not None else body, "out"))
    if parsed.variables:
        if problem.upstream == 1.0:
            lines.append(Line("out.backward()"))
        else:
            lines.append(
                Line(
                    f"out.backward({tensor(literal(problem.upstream))})",
                    note=Note(
                        N_(
                            "backward(g) starts the backward pass with the upstream "
                            "gradient g instead of 1."
                        )
                    ),
                )
            )
    outputs = [Output("f", "out.item()", "output")] + [
        Output(f"df/d{v}", f"{names[v]}.grad.item()", f"gradients.{v}") for v in parsed.variables
    ]
    return TorchForm(tuple(lines), tuple(outputs))
