"""The graph task as PyTorch (solvers/tasks/graph/pytorch.py): the script, run, prints the
solver's numbers."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from pydantic import ValidationError
from pydantic_core import PydanticCustomError

from solvers.tasks.graph import GraphProblem
from solvers.tasks.graph.parser import parse
from tests.solvers.test_pytorch_view import SETTINGS, check, numbers


@pytest.mark.parametrize(
    "data",
    [
        {"expression": "(x+y)*z", "values": {"x": -2, "y": 5, "z": -4}, "upstream": 2},
        {"expression": "max(0, x) + min(x, y)^2 - relu(y)", "values": {"x": 1.5, "y": 1.5}},
        {"expression": "α1 * F + e^F / 2", "values": {"α1": 0.5, "F": -1}},
        {"expression": "sigmoid(w0x0) + tanh(x0)", "values": {"w0": 2, "x0": -1},
         "gates": "grouped"},
        {"expression": "log(x) + sqrt(x) + abs(-x) + 1/x - 3^2", "values": {"x": 0.7}},
        {"expression": "2^3 + x*0", "values": {"x": 1}},
    ],
)  # fmt: skip
def test_graph_cases(data: dict[str, Any]) -> None:
    check("graph", GraphProblem.model_validate(data))


def expressions(depth: int) -> Any:
    leaf = st.sampled_from(["x", "y", "w0", "2", "0.5"])
    if depth == 0:
        return leaf
    sub = expressions(depth - 1)
    return leaf | st.one_of(
        st.tuples(sub, st.sampled_from(["+", "-", "*", "/"]), sub).map(lambda t: f"({''.join(t)})"),
        st.tuples(st.sampled_from(["exp", "tanh", "sigmoid", "relu", "abs", "log", "sqrt"]),
                  sub).map(lambda t: f"{t[0]}({t[1]})"),
        st.tuples(st.sampled_from(["max", "min"]), sub, sub).map(
            lambda t: f"{t[0]}({t[1]}; {t[2]})"
        ),
        st.tuples(sub, st.sampled_from(["2", "3", "-1"])).map(lambda t: f"({t[0]})^{t[1]}"),
    )  # fmt: skip


@SETTINGS
@given(expressions(3), st.lists(numbers, min_size=3, max_size=3), numbers,
       st.sampled_from(["primitive", "grouped"]))  # fmt: skip
def test_random_graph_problems(text: str, values: list[float], upstream: float, gates: str) -> None:
    given_values = dict(zip(["x", "y", "w0"], values, strict=True))
    try:  # a constant part without a finite value (exp(1618)) is the parser's clear error
        used = {v: given_values[v] for v in parse(text).variables}
        problem = GraphProblem(expression=text, values=used, upstream=upstream, gates=gates)
    except (ValidationError, PydanticCustomError):
        assume(False)
    answer = problem.evaluation()
    assume(all(np.isfinite(answer.grads)) and abs(answer.values[-1]) < 1e8)
    check("graph", problem)
