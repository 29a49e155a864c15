"""The safe parser (solvers/tasks/graph/parser.py): what students type read into one tree,
its canonical text (which reads back the same), its LaTeX and its variables. Hostile text is
tested in test_parser_hostile.py."""

from __future__ import annotations

import pytest
from pydantic_core import PydanticCustomError

from solvers.tasks.graph.parser import (
    MAX_LENGTH,
    characters,
    name_latex,
    normalize_name,
    number_text,
    parse,
)


@pytest.mark.parametrize(
    ("typed", "canonical", "variables"),
    [
        ("1/(1+exp(-(w0*x0+w1*x1+w2)))", "1/(1 + exp(-(w0·x0 + w1·x1 + w2)))",
         ("w0", "x0", "w1", "x1", "w2")),
        ("2x + 3,5y", "2·x + 3.5·y", ("x", "y")),  # implicit product, decimal comma
        ("w0x0", "w0·x0", ("w0", "x0")),
        ("a-(b-c)", "a - (b - c)", ("a", "b", "c")),
        ("(a-b)-c", "a - b - c", ("a", "b", "c")),
        ("-x^2", "-x^2", ("x",)),  # the power binds first
        ("(-x)^2", "(-x)^2", ("x",)),
        ("x^-1", "x^(-1)", ("x",)),
        ("ln(x) + e^x", "log(x) + exp(x)", ("x",)),
        ("max(x; y)", "max(x, y)", ("x", "y")),
        ("x/y/z", "x/y/z", ("x", "y", "z")),
        ("2 * pi", "2·pi", ()),
        ("||W x||^2", "norm2(W·x)", ("W", "x")),
    ],
)  # fmt: skip
def test_typed_text_to_its_canonical_form(typed: str, canonical: str, variables: tuple) -> None:
    parsed = parse(typed)
    assert parsed.canonical == canonical and parsed.variables == variables
    assert parse(canonical) == parsed  # the canonical text reads back as the same tree
    assert characters(parsed) == len(canonical)


@pytest.mark.parametrize(
    ("typed", "latex"),
    [
        ("x/(y/z)", r"\frac{x}{\frac{y}{z}}"),
        ("(-x)^2", r"\left(-x\right)^{2}"),
        ("exp(-(a+b))", r"e^{-\left(a + b\right)}"),
        ("α1*β", r"\alpha_{1} \cdot \beta"),
        ("x^T", r"{x}^{\top}"),
        ("sigmoid(x) * tanh(y)", r"\sigma\left(x\right) \cdot \tanh\left(y\right)"),
    ],
)
def test_latex(typed: str, latex: str) -> None:
    assert parse(typed).latex == latex


def test_constant_subtrees_carry_their_value() -> None:
    tree = parse("2^3*x").tree
    assert tree.kind == "mul" and tree.args[0].const == 8 and tree.const is None


def test_names_and_numbers() -> None:
    assert [number_text(v) for v in (2.0, 0.5, -3.0, 1e20)] == ["2", "0.5", "-3", "1e+20"]
    assert name_latex("w0") == "w_{0}" and name_latex("α12") == r"\alpha_{12}"
    assert name_latex("x") == "x"
    assert [normalize_name(n) for n in ("w_0", " α_1 ", "0w", "w 0", "")] == [
        "w0", "α1", "", "", ""
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("typed", "fragment"),
    [("foo(x)", "foo"), ("x +", ""), ("x" * (MAX_LENGTH + 1), "too long")],
)
def test_rejections_are_expression_errors(typed: str, fragment: str) -> None:
    with pytest.raises(PydanticCustomError) as caught:
        parse(typed)
    assert caught.value.type == "expression" and fragment in caught.value.message()
    assert "position" in (caught.value.context or {})
