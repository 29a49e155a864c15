"""Symbolic partial derivatives with sympy, built from the parsed tree (never from text).

sympy costs milliseconds per expression, so the derivatives are cached per canonical
expression and sympy is imported on first use only; each function is its gate rule's
sympy form (:mod:`.rules`).
"""

from __future__ import annotations

from fractions import Fraction
from functools import lru_cache
from typing import Any

from solvers.tasks.graph.parser import Expr, Parsed, name_latex
from solvers.tasks.graph.rules import FUNCTIONS


def _to_sympy(e: Expr, sp: Any, symbols: dict[str, Any]) -> Any:
    kind = e.kind
    if kind == "num":
        fraction = Fraction(repr(e.value))
        return sp.Rational(fraction.numerator, fraction.denominator)
    if kind == "const":
        return sp.E if e.name == "e" else sp.pi
    if kind == "var":
        return symbols[e.name]
    args = [_to_sympy(a, sp, symbols) for a in e.args]
    if kind == "neg":
        return -args[0]
    if kind == "add":
        return args[0] + args[1]
    if kind == "sub":
        return args[0] - args[1]
    if kind == "mul":
        return args[0] * args[1]
    if kind == "div":
        return args[0] / args[1]
    if kind == "pow":
        return args[0] ** args[1]
    return FUNCTIONS[e.name].sympy(sp, *args)  # type: ignore[misc]


def sympy_function(parsed: Parsed) -> tuple[Any, dict[str, Any]]:
    """The sympy expression of a parsed expression and its symbols by variable name."""
    import sympy

    symbols = {name: sympy.Symbol(name, real=True) for name in parsed.variables}
    return _to_sympy(parsed.tree, sympy, symbols), symbols


@lru_cache(maxsize=256)
def derivatives_latex(parsed: Parsed) -> dict[str, str]:
    """LaTeX of ∂f/∂name for every variable (cached per canonical text; do not mutate).

    The symbolic result is only a cross-check: a variable whose derivative sympy cannot
    produce (it fails on some corner cases, e.g. a ``Max`` of two equal terms) is left out.
    """
    import sympy

    try:
        f, symbols = sympy_function(parsed)
    except Exception:  # sympy fails in many ways; the numbers do not need it
        return {}
    names = {sym: name_latex(name) for name, sym in symbols.items()}
    result = {}
    for name, sym in symbols.items():
        try:
            result[name] = sympy.latex(sympy.diff(f, sym), symbol_names=names)
        except Exception:  # as above
            continue
    return result
