"""Symbolic partial derivatives with sympy, built from the parsed tree (never from text).

sympy costs milliseconds per expression, so the derivatives are cached per canonical
expression and sympy is imported on first use only; each function is its gate rule's
sympy form (:mod:`.rules`).
"""

from __future__ import annotations

import itertools
from fractions import Fraction
from functools import lru_cache
from types import SimpleNamespace
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
    """``exp`` as a function sympy knows little about, printed ``e^{…}``: the derivatives are
    built and differentiated with it.

    sympy's LaTeX printer splits every product into numerator and denominator and, for a
    power of ``e`` whose exponent it can prove negative, asks whether that exponent is
    constant: a simplification that took 40 s for four nested ``sigmoid(tanh(…))`` and
    minutes for eight. With this stand-in no question is asked (``e^{-x}`` stays in the
    numerator, as it is written). Built and differentiated with it, a new expression's
    derivatives cost about a third less than with sympy's ``exp``, whose every construction
    queries assumptions; it keeps the simplifications a student expects: ``exp(0) = 1``,
    ``exp(log(x)) = x``, ``exp(x)^2 = exp(2x)``."""
    import sympy

    class exp(sympy.Function):  # named as sympy's exp
        @classmethod
        def eval(cls, arg: Any) -> Any:
            if arg == sympy.S.Zero:
                return sympy.S.One
            if isinstance(arg, sympy.log):
                return arg.args[0]
            return None

        def fdiff(self, argindex: int = 1) -> Any:
            return self

        def _eval_power(self, other: Any) -> Any:
            return self.func(self.args[0] * other)

        def _eval_evalf(self, prec: int) -> Any:
            return sympy.exp(self.args[0])._eval_evalf(prec)

        def _latex(self, printer: Any, exp: str | None = None) -> str:
            tex = rf"e^{{{printer._print(self.args[0])}}}"
            return tex if exp is None else rf"\left({tex}\right)^{{{exp}}}"

    return exp


@lru_cache(maxsize=1)
def _sympy_opaque_exp() -> Any:
    """sympy's names for the gate rules' sympy forms, ``exp`` the :func:`_opaque_exp`."""
    import sympy

    return SimpleNamespace(**{**vars(sympy), "exp": _opaque_exp()})


CLEAR_EVERY = 32
"""sympy's own caches (1000 entries per cached function) would keep every expression's
subterms: they are emptied after this many new expressions (the LaTeX is cached here; a
cache emptied after each one made the next one's sympy work about a fifth slower)."""
_since_cleared = itertools.count(1)


@sized_cache(CACHE_CHARACTERS, characters)
def derivatives_latex(parsed: Parsed) -> dict[str, str] | None:
    """LaTeX of ∂f/∂name for every variable (cached per canonical text; do not mutate);
    ``None`` when the derivatives together exceed :data:`MAX_DERIVATIVE_NODES` nodes.

    The symbolic result is only a cross-check: a variable whose derivative sympy cannot
    produce (it fails on some corner cases, e.g. a ``Max`` of two equal terms) is left out.
    """
    import sympy

    try:
        symbols = {name: sympy.Symbol(name, real=True) for name in parsed.variables}
        f = _to_sympy(parsed.tree, _sympy_opaque_exp(), symbols)
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
            # e**x (the constant e) is sympy's exp again
            printable = derivative.replace(sympy.exp, _opaque_exp())
            result[name] = sympy.latex(printable, symbol_names=names)
        except Exception:  # sympy's printer fails too, now and then
            continue
    if next(_since_cleared) % CLEAR_EVERY == 0:
        sympy.core.cache.clear_cache()
    return result
