"""Hostile and malformed expressions: rejected fast, as ``expression`` errors, executing
nothing."""

from __future__ import annotations

import builtins
import os
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from pydantic_core import PydanticCustomError

from solvers.tasks.graph import GraphProblem
from solvers.tasks.graph.parser import parse
from tests.solvers.tasks.graph.hostile_expressions import HOSTILE_EXPRESSIONS

LIMIT_S = 0.1  # the bound; generous, not a benchmark
CANARY = Path("/tmp/stepgrad-pwned")
FORBIDDEN = ("eval", "exec", "compile", "__import__", "open")


@pytest.fixture(scope="module", autouse=True)
def _lazy_imports_done() -> None:
    """The modules the parser imports on first use (constant folding) are imported before
    ``__import__`` is forbidden and the clock runs: a first import is neither an attack nor
    the parser's speed."""
    parse("log(2) + sqrt(4) + exp(1)")


def _forbidden(*args: Any, **kwargs: Any) -> None:
    raise AssertionError("the parser must not execute anything")


def _parse_with_nothing_runnable(text: str) -> BaseException:
    """Parse ``text`` while eval, exec, compile, __import__, open and os.system fail the test;
    return what it raised."""
    saved = {name: getattr(builtins, name) for name in FORBIDDEN}
    saved_system = os.system
    for name in FORBIDDEN:
        setattr(builtins, name, _forbidden)
    os.system = _forbidden  # type: ignore[assignment]
    try:
        parse(text)
    except BaseException as exc:  # inspected by the caller, outside the patch
        return exc
    finally:
        for name, original in saved.items():
            setattr(builtins, name, original)
        os.system = saved_system
    raise AssertionError(f"accepted: {text[:60]!r}")


def test_there_are_enough_attacks() -> None:
    assert len(HOSTILE_EXPRESSIONS) >= 30
    assert len(set(HOSTILE_EXPRESSIONS)) == len(HOSTILE_EXPRESSIONS)


@pytest.mark.parametrize("text", HOSTILE_EXPRESSIONS, ids=lambda t: ascii(t[:30]))
def test_parser_rejects(text: str) -> None:
    start = time.perf_counter()
    error = _parse_with_nothing_runnable(text)
    elapsed = time.perf_counter() - start
    assert isinstance(error, PydanticCustomError), error
    assert error.type == "expression"
    assert error.message()  # the template fills from its context
    assert elapsed < LIMIT_S
    assert not CANARY.exists()


@pytest.mark.parametrize("text", HOSTILE_EXPRESSIONS, ids=lambda t: ascii(t[:30]))
def test_problem_rejects_on_the_expression_field(text: str) -> None:
    start = time.perf_counter()
    with pytest.raises(ValidationError) as exc:
        GraphProblem(expression=text, values={"x": 1, "y": 2})
    elapsed = time.perf_counter() - start
    [error] = exc.value.errors()
    assert error["loc"] == ("expression",)
    assert error["type"] == "expression"
    assert elapsed < LIMIT_S
    assert not CANARY.exists()


@pytest.mark.parametrize(
    ("text", "position"),
    [
        ("x + $", 5),
        ("__import__('os')", 1),
        ("x.y", 2),
        ("x+1)", 4),
        ("(x+1", 1),
        ("w0*x0 + open(x)", 9),
        ("x\x00", 2),
        ("1 +", 4),
        ("((((((((((((((((((((((((((((((((((((((((((((((((((((x))))", 51),
    ],
)
def test_errors_point_at_the_offending_character(text: str, position: int) -> None:
    with pytest.raises(PydanticCustomError) as exc:
        parse(text)
    assert exc.value.context is not None
    assert exc.value.context["position"] == position
    assert str(position) in exc.value.message()


# --- arbitrary text: a parse or the parser's clear error, never another exception ----------

EXPRESSION_ALPHABET = st.sampled_from(
    [*"xyzwe0123456789 +-*/^().,;_σ·×−", "exp", "log", "sqrt", "sigmoid", "tanh", "relu", "abs",
     "max", "min", "**", "pi", "\u00a0", "\t"]
)  # fmt: skip


@settings(max_examples=500, deadline=None)
@given(text=st.lists(EXPRESSION_ALPHABET, max_size=40).map("".join) | st.text(max_size=60))
def test_any_text_parses_or_is_an_expression_error(text: str) -> None:
    """(A lone σ without parentheses raised an IndexError.)"""
    try:
        parsed = parse(text)
    except PydanticCustomError as exc:
        assert exc.type == "expression" and exc.message()
        return
    assert parsed.canonical and parse(parsed.canonical).canonical == parsed.canonical
