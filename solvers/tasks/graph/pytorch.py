"""The graph task in PyTorch: leaf tensors with ``requires_grad=True``, the function as
typed (from its parse, never from its text), ``.backward()`` and every leaf's ``.grad``."""

from __future__ import annotations

from solvers.core import N_
from solvers.pytorch_view import Line, Note, Output, TorchForm, literal, safe_name
from solvers.tasks.graph.parser import Expr
from solvers.tasks.graph.problem import GraphProblem

_FUNCTIONS = {
    "exp": "torch.exp", "log": "torch.log", "sqrt": "torch.sqrt", "sigmoid": "torch.sigmoid",
    "tanh": "torch.tanh", "relu": "torch.relu", "abs": "torch.abs", "max": "torch.maximum",
    "min": "torch.minimum",
}  # fmt: skip
_PREC = {"add": 1, "sub": 1, "mul": 2, "div": 2, "neg": 3, "pow": 4}
_SYMBOLS = {"add": " + ", "sub": " - ", "mul": " * ", "div": " / "}
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


def to_code(e: Expr, names: dict[str, str]) -> str:
    """Python text of the tree: constants as float literals, functions as torch's."""
    if e.const is not None:
        return literal(e.const)
    kind = e.kind
    if kind == "var":
        return names[e.name]
    if kind == "call":
        args = [
            f"torch.tensor({literal(a.const)})" if a.const is not None else to_code(a, names)
            for a in e.args
        ]
        return f"{_FUNCTIONS[e.name]}({', '.join(args)})"
    if kind == "neg":
        return "-" + _wrap(to_code(e.args[0], names), _prec(e.args[0]) <= 3)
    a, b = e.args
    p = _PREC[kind]
    if kind == "pow":
        return f"{_wrap(to_code(a, names), _prec(a) <= p)} ** {_wrap(to_code(b, names), True)}"
    left = _wrap(to_code(a, names), _prec(a) < p)
    return f"{left}{_SYMBOLS[kind]}{_wrap(to_code(b, names), _prec(b) <= p)}"


def torch_form(problem: GraphProblem) -> TorchForm:
    """The output and every variable's gradient as torch's autograd computes them."""
    parsed = problem.parsed
    names = code_names(parsed.variables)
    lines = [
        Line(f"torch.tensor({literal(problem.values[v])}, requires_grad=True)", names[v])
        for v in parsed.variables
    ]
    tree = parsed.tree
    body = to_code(tree, names)
    lines.append(Line(f"torch.tensor({body})" if tree.const is not None else body, "out"))
    if parsed.variables:
        if problem.upstream == 1.0:
            lines.append(Line("out.backward()"))
        else:
            lines.append(
                Line(
                    f"out.backward(torch.tensor({literal(problem.upstream)}))",
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
