"""Symbolic partial derivatives with sympy, built from the parsed tree (never from text).

sympy costs milliseconds per expression, so results are cached per canonical expression
and sympy is imported on first use only.
"""

from __future__ import annotations

from fractions import Fraction
from functools import lru_cache
from typing import Any

from solvers.tasks.graph.parser import Expr, name_latex, parse


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
    functions = {
        "exp": sp.exp, "log": sp.log, "sqrt": sp.sqrt, "tanh": sp.tanh, "abs": sp.Abs,
        "relu": lambda x: sp.Max(0, x), "sigmoid": lambda x: 1 / (1 + sp.exp(-x)),
        "max": sp.Max, "min": sp.Min,
    }  # fmt: skip
    return functions[e.name](*args)


@lru_cache(maxsize=256)
def sympy_function(canonical: str) -> tuple[Any, dict[str, Any]]:
    """The sympy expression of ``canonical`` and its symbols by variable name (cached)."""
    import sympy

    parsed = parse(canonical)
    symbols = {name: sympy.Symbol(name, real=True) for name in parsed.variables}
    return _to_sympy(parsed.tree, sympy, symbols), symbols


@lru_cache(maxsize=256)
def derivatives_latex(canonical: str) -> dict[str, str]:
    """LaTeX of ∂f/∂name for every variable of ``canonical`` (cached; do not mutate).

    The symbolic result is only a cross-check: a variable whose derivative sympy cannot
    produce (it fails on some corner cases, e.g. a ``Max`` of two equal terms) is left out.
    """
    import sympy

    try:
        f, symbols = sympy_function(canonical)
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
