"""Symbolic partial derivatives with sympy, built from the parsed tree (never from text).

sympy costs milliseconds per expression, so the derivatives are cached per canonical
expression and sympy is imported on first use only; each function is its gate rule's
sympy form (:mod:`.rules`).
"""

from __future__ import annotations

from fractions import Fraction
from functools import lru_cache
from typing import Any

from solvers.cache import sized_cache
from solvers.tasks.graph.parser import CACHE_CHARACTERS, Expr, Parsed, characters, name_latex
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


MAX_DERIVATIVE_NODES = 4000
"""The most nodes of all derivatives together that are printed; past it the symbolic check
is skipped (printing costs grow with the size; 8 nested ``sigmoid(tanh(…))`` make 232)."""


@lru_cache(maxsize=1)
def _opaque_exp() -> Any:
    """``exp`` as a function sympy knows nothing about, printed ``e^{…}``.

    sympy's LaTeX printer splits every product into numerator and denominator and, for a
    power of ``e`` whose exponent it can prove negative, asks whether that exponent is
    constant: a simplification that took 40 s for four nested ``sigmoid(tanh(…))`` and
    minutes for eight. The derivative is printed with this stand-in instead (no question
    asked: ``e^{-x}`` stays in the numerator, as it is written)."""
    import sympy

    class exp(sympy.Function):  # named as sympy's exp
        def _latex(self, printer: Any, exp: str | None = None) -> str:
            tex = rf"e^{{{printer._print(self.args[0])}}}"
            return tex if exp is None else rf"\left({tex}\right)^{{{exp}}}"

    return exp


@sized_cache(CACHE_CHARACTERS, characters)
def derivatives_latex(parsed: Parsed) -> dict[str, str] | None:
    """LaTeX of ∂f/∂name for every variable (cached per canonical text; do not mutate);
    ``None`` when the derivatives together exceed :data:`MAX_DERIVATIVE_NODES` nodes.

    The symbolic result is only a cross-check: a variable whose derivative sympy cannot
    produce (it fails on some corner cases, e.g. a ``Max`` of two equal terms) is left out.
    """
    import sympy

    try:
        f, symbols = sympy_function(parsed)
    except Exception:  # sympy fails in many ways; the numbers do not need it
        return {}
    derivatives = {}
    for name, sym in symbols.items():
        try:
            derivatives[name] = sympy.diff(f, sym)
        except Exception:  # as above
            continue
    if sum(d.count(sympy.Basic) for d in derivatives.values()) > MAX_DERIVATIVE_NODES:
        return None
    names = {sym: name_latex(name) for name, sym in symbols.items()}
    result = {}
    for name, derivative in derivatives.items():
        try:
            printable = derivative.replace(sympy.exp, _opaque_exp())
            result[name] = sympy.latex(printable, symbol_names=names)
        except Exception:  # sympy's printer fails too, now and then
            continue
    # sympy's own caches (1000 entries per cached function) would keep every expression's
    # subterms: the LaTeX is cached here, the rest is let go
    sympy.core.cache.clear_cache()
    return result
