"""Hostile and malformed expressions: rejected fast, as ``expression`` errors, executing
nothing."""

from __future__ import annotations

import builtins
import os
import sys
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from pydantic_core import PydanticCustomError

import solvers
from solvers.tasks.graph import GraphProblem
from solvers.tasks.graph.parser import MAX_LENGTH, parse
from tests.solvers.tasks.graph.hostile_expressions import HOSTILE_EXPRESSIONS

STEPS_PER_CHARACTER = 40
"""The parser's work budget, in calls of the solvers' functions per character it reads
(the most any expression here needs is about 21, for 49 nested parentheses): linear in
the text, so exponential (or quadratic) work on a hostile text exceeds it at once."""
STEPS_BASE = 200
CANARY = Path("/tmp/stepgrad-pwned")
FORBIDDEN = ("eval", "exec", "compile", "__import__", "open")
SOLVERS = str(Path(solvers.__file__).parent)


def _budget(text: str) -> int:
    """The most steps reading ``text`` may take (past the length limit, nothing is read)."""
    return STEPS_BASE + STEPS_PER_CHARACTER * min(len(text), MAX_LENGTH)


def _steps(call: Callable[[], Any]) -> tuple[BaseException | None, int]:
    """What ``call()`` raised (None if nothing) and how many calls of functions of the
    solvers package it made: a deterministic measure of work, unlike a timing."""
    count = 0

    def profile(frame: FrameType, event: str, arg: Any) -> None:
        nonlocal count
        if event == "call" and frame.f_code.co_filename.startswith(SOLVERS):
            count += 1

    sys.setprofile(profile)
    try:
        call()
    except BaseException as exc:  # inspected by the caller
        return exc, count
    finally:
        sys.setprofile(None)
    return None, count


@pytest.fixture(scope="module", autouse=True)
def _lazy_imports_done() -> None:
    """The modules the parser imports on first use (constant folding) are imported before
    ``__import__`` is forbidden and the steps are counted: a first import is neither an
    attack nor the parser's work."""
    parse("log(2) + sqrt(4) + exp(1)")


def _forbidden(*args: Any, **kwargs: Any) -> None:
    raise AssertionError("the parser must not execute anything")


def _parse_with_nothing_runnable(text: str) -> tuple[BaseException, int]:
    """Parse ``text`` while eval, exec, compile, __import__, open and os.system fail the test;
    return what it raised and how many steps it took (:func:`_steps`)."""
    saved = {name: getattr(builtins, name) for name in FORBIDDEN}
    saved_system = os.system
    for name in FORBIDDEN:
        setattr(builtins, name, _forbidden)
    os.system = _forbidden  # type: ignore[assignment]
    try:
        error, steps = _steps(lambda: parse(text))
    finally:
        for name, original in saved.items():
            setattr(builtins, name, original)
        os.system = saved_system
    if error is None:
        raise AssertionError(f"accepted: {text[:60]!r}")
    return error, steps


def test_the_steps_are_counted_and_linear() -> None:
    """The budget's measure: a valid parse takes steps, about in proportion to its text."""
    _, short = _steps(lambda: parse("x+y"))
    _, long = _steps(lambda: parse("+".join(["x"] * 100)))
    assert 0 < short < long <= _budget("+".join(["x"] * 100))
    assert long < 60 * short


def test_there_are_enough_attacks() -> None:
    assert len(HOSTILE_EXPRESSIONS) >= 30
    assert len(set(HOSTILE_EXPRESSIONS)) == len(HOSTILE_EXPRESSIONS)


@pytest.mark.parametrize("text", HOSTILE_EXPRESSIONS, ids=lambda t: ascii(t[:30]))
def test_parser_rejects(text: str) -> None:
    error, steps = _parse_with_nothing_runnable(text)
    assert isinstance(error, PydanticCustomError), error
    assert error.type == "expression"
    assert error.message()  # the template fills from its context
    assert steps <= _budget(text)
    assert not CANARY.exists()


@pytest.mark.parametrize("text", HOSTILE_EXPRESSIONS, ids=lambda t: ascii(t[:30]))
def test_problem_rejects_on_the_expression_field(text: str) -> None:
    exc, steps = _steps(lambda: GraphProblem(expression=text, values={"x": 1, "y": 2}))
    assert isinstance(exc, ValidationError), exc
    [error] = exc.errors()
    assert error["loc"] == ("expression",)
    assert error["type"] == "expression"
    assert steps <= _budget(text)
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
