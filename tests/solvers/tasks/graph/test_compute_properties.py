"""Property tests: random expression trees against torch.autograd and a direct evaluation."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import torch
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from solvers.tasks.graph import GraphProblem, solve, solve_batch
from solvers.tasks.graph.parser import parse

VARIABLES = ("x", "y", "w0", "z")
KINK_MARGIN = 1e-6


@dataclass(frozen=True)
class Tree:
    """A random expression: its text, and how to evaluate it on torch tensors.

    ``evaluate`` records in ``kinks`` how close it came to a non-differentiable point.
    """

    text: str
    evaluate: Callable[[dict[str, torch.Tensor], list[float]], torch.Tensor]


def _leaf_var(name: str) -> Tree:
    return Tree(name, lambda env, kinks: env[name])


def _leaf_const(value: float) -> Tree:
    return Tree(
        f"({value})" if value < 0 else str(value),
        lambda env, kinks: torch.tensor(value, dtype=torch.float64),
    )


UNARY: dict[str, Callable[[torch.Tensor, list[float]], torch.Tensor]] = {
    "exp": lambda a, k: torch.exp(a),
    "log": lambda a, k: torch.log(a),
    "sqrt": lambda a, k: torch.sqrt(a),
    "tanh": lambda a, k: torch.tanh(a),
    "sigmoid": lambda a, k: torch.sigmoid(a),
    "relu": lambda a, k: (k.append(abs(a.item())), torch.relu(a))[1],
    "abs": lambda a, k: (k.append(abs(a.item())), torch.abs(a))[1],
}

BINARY: dict[str, Callable[[torch.Tensor, torch.Tensor, list[float]], torch.Tensor]] = {
    "+": lambda a, b, k: a + b,
    "-": lambda a, b, k: a - b,
    "*": lambda a, b, k: a * b,
    "/": lambda a, b, k: a / b,
    "max": lambda a, b, k: (k.append(abs((a - b).item())), torch.maximum(a, b))[1],
    "min": lambda a, b, k: (k.append(abs((a - b).item())), torch.minimum(a, b))[1],
}


def _unary(fn: str, a: Tree) -> Tree:
    apply = UNARY[fn]
    return Tree(f"{fn}({a.text})", lambda env, k: apply(a.evaluate(env, k), k))


def _binary(op: str, a: Tree, b: Tree) -> Tree:
    apply = BINARY[op]
    text = f"{op}({a.text}, {b.text})" if op in ("max", "min") else f"({a.text}){op}({b.text})"
    return Tree(text, lambda env, k: apply(a.evaluate(env, k), b.evaluate(env, k), k))


def _neg(a: Tree) -> Tree:
    return Tree(f"-({a.text})", lambda env, k: -a.evaluate(env, k))


def _pow(a: Tree, power: float) -> Tree:
    return Tree(f"({a.text})^({power})", lambda env, k: torch.pow(a.evaluate(env, k), power))


variables = st.sampled_from(VARIABLES).map(_leaf_var)
leaves = st.one_of(  # mostly variables, so that most trees have gradients to compare
    variables, variables, variables, st.sampled_from([1.0, 2.0, 0.5, -3.0, 1.5]).map(_leaf_const)
)


def _extend(children: st.SearchStrategy[Tree]) -> st.SearchStrategy[Tree]:
    return st.one_of(
        st.builds(_unary, st.sampled_from(sorted(UNARY)), children),
        st.builds(_binary, st.sampled_from(sorted(BINARY)), children, children),
        st.builds(_neg, children),
        st.builds(_pow, children, st.sampled_from([2.0, 3.0, -1.0, 0.5, 0.0])),
    )


def _levels(depth: int) -> st.SearchStrategy[Tree]:
    """Trees at most ``depth`` operations deep; every level may also stop at a leaf."""
    level: st.SearchStrategy[Tree] = leaves
    for _ in range(depth - 1):
        level = st.one_of(leaves, _extend(level))
    return _extend(level)  # the root is an operation


trees = _levels(4)
values = st.fixed_dictionaries(
    {name: st.floats(-3, 3, allow_nan=False).map(lambda v: round(v, 3)) for name in VARIABLES}
)


def _problem(tree: Tree, env: dict[str, float], gates: str = "primitive") -> GraphProblem:
    try:
        used = parse(tree.text).variables
    except Exception:  # a constant subtree without a value (log of a negative constant…)
        assume(False)
        raise
    try:
        return GraphProblem(expression=tree.text, values={n: env[n] for n in used}, gates=gates)
    except ValidationError as exc:
        assume(exc.errors()[0]["type"] != "domain")  # log(−1), 1/0, overflow…
        raise


def _torch_reference(tree: Tree, env: dict[str, float]) -> tuple[float, dict[str, float], bool]:
    leaves_ = {n: torch.tensor(v, dtype=torch.float64, requires_grad=True) for n, v in env.items()}
    kinks: list[float] = []
    out = tree.evaluate(leaves_, kinks)
    if not out.requires_grad:  # a constant
        return out.item(), {}, False
    out.backward()
    grads = {n: (t.grad.item() if t.grad is not None else 0.0) for n, t in leaves_.items()}
    return out.item(), grads, any(k < KINK_MARGIN for k in kinks)


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-7, abs_tol=1e-9)


PROPERTY_SETTINGS: dict[str, Any] = {
    "max_examples": 300,
    "deadline": None,
    "suppress_health_check": [HealthCheck.filter_too_much, HealthCheck.too_slow],
}


@settings(**PROPERTY_SETTINGS)
@given(trees, values, st.sampled_from(["primitive", "grouped"]))
def test_gradients_equal_torch_autograd(tree: Tree, env: dict[str, float], gates: str) -> None:
    problem = _problem(tree, env, gates)
    output, grads, near_kink = _torch_reference(tree, problem.values)
    assume(grads)  # a constant has no gradient to compare (the forward test covers it)
    assume(math.isfinite(output) and all(math.isfinite(g) for g in grads.values()))
    answer = solve(problem).answer
    assert _close(answer.output, output), (tree.text, answer.output, output)
    event(f"{len(grads)} variables" + (", near a kink" if near_kink else ""))
    if near_kink:  # the gradient depends on a convention there; only the value is compared
        return
    for name, grad in grads.items():
        assert _close(answer.gradients[name], grad), (tree.text, name, answer, grads)


@settings(**PROPERTY_SETTINGS)
@given(trees, values)
def test_forward_value_equals_a_direct_evaluation(tree: Tree, env: dict[str, float]) -> None:
    problem = _problem(tree, env)
    with torch.no_grad():
        direct = tree.evaluate(
            {n: torch.tensor(v, dtype=torch.float64) for n, v in problem.values.items()}, []
        ).item()
    assert _close(solve(problem).answer.output, direct)


@settings(**PROPERTY_SETTINGS)
@given(trees)
def test_canonical_text_reads_back_the_same(tree: Tree) -> None:
    try:
        parsed = parse(tree.text)
    except Exception:
        assume(False)
        raise
    again = parse(parsed.canonical)
    assert again.tree == parsed.tree
    assert again.canonical == parsed.canonical


@settings(**{**PROPERTY_SETTINGS, "max_examples": 100})
@given(trees, st.lists(values, min_size=1, max_size=4), st.sampled_from(["primitive", "grouped"]))
def test_solve_batch_equals_solve(tree: Tree, envs: list[dict[str, float]], gates: str) -> None:
    problems = [_problem(tree, env, gates) for env in envs]
    answers = solve_batch(problems, torch.device("cpu"))
    for problem, answer in zip(problems, answers, strict=True):
        expected = solve(problem).answer
        assert answer.output == pytest.approx(expected.output, rel=1e-9, abs=1e-12)
        assert answer.gradients == pytest.approx(expected.gradients, rel=1e-9, abs=1e-12)
