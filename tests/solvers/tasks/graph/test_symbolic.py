"""Symbolic derivatives with sympy (solvers/tasks/graph/symbolic.py): built from the tree
with exact fractions, printed in the page's names, cached, skipped when too large."""

from __future__ import annotations

import pytest

from solvers.tasks.graph import symbolic
from solvers.tasks.graph.parser import parse
from solvers.tasks.graph.symbolic import derivatives_latex, sympy_function


def test_the_sympy_function_has_exact_numbers_and_real_symbols() -> None:
    f, symbols = sympy_function(parse("0.1*x + sigmoid(y)"))
    assert str(f) == "x/10 + 1/(1 + exp(-y))"
    assert set(symbols) == {"x", "y"} and symbols["x"].is_real
    assert float(f.subs({symbols["x"]: 5, symbols["y"]: 0})) == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("text", "latex"),
    [
        ("x*y + 3*x", {"x": "y + 3", "y": "x"}),
        ("exp(2*x)", {"x": "2 e^{2 x}"}),
        ("log(x)/2", {"x": r"\frac{1}{2 x}"}),
        ("0.1*x", {"x": r"\frac{1}{10}"}),
        ("w0*x0", {"w0": "x_{0}", "x0": "w_{0}"}),
    ],
)
def test_derivatives_by_hand(text: str, latex: dict[str, str]) -> None:
    assert derivatives_latex(parse(text)) == latex


def test_cached_per_canonical_text() -> None:
    assert derivatives_latex(parse("x*y")) is derivatives_latex(parse("x * y"))


def test_too_large_derivatives_are_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(symbolic, "MAX_DERIVATIVE_NODES", 3)
    assert derivatives_latex(parse("sigmoid(tanh(a*b + c))")) is None
