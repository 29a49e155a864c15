"""The graph problem (solvers/tasks/graph/problem.py): values as typed, scalar or vector
problems, and every value that does not fit the expression named."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from solvers.tasks.graph.parser import parse
from solvers.tasks.graph.problem import GraphProblem, shape_of, uses_vectors


def test_values_as_typed() -> None:
    problem = GraphProblem(expression="w_0*x", values={"w_0": "0,5", "x": "−2"})
    assert problem.values == {"w0": 0.5, "x": -2.0} and problem.upstream == 1.0
    assert not problem.is_vector
    assert problem.parsed == parse("w0*x") and problem.graph.variables == ("w0", "x")
    assert problem.evaluation().values[-1] == -1.0


def test_vector_problems() -> None:
    problem = GraphProblem(expression="||W x||^2", values={"W": "1 2; 3 4", "x": "1 -1"})
    assert problem.values == {"W": [[1.0, 2.0], [3.0, 4.0]], "x": [1.0, -1.0]}
    assert problem.is_vector
    assert [shape_of(v) for v in (1.0, [1.0, 2.0], [[1.0, 2.0], [3.0, 4.0]])] == [(), (2,), (2, 2)]
    assert uses_vectors(parse("W x^T")) and uses_vectors(parse("sum(x)"))  # whole-tensor gates
    assert not uses_vectors(parse("W x"))  # a product alone is elementwise until shapes say


@pytest.mark.parametrize(
    ("data", "loc", "fragment"),
    [
        ({"expression": "x*y", "values": {"x": 1}}, ("values",), "give a value for y"),
        ({"expression": "x", "values": {"x": 1, "z": 2}}, ("values",),
         "not used by the expression: z"),
        ({"expression": "x", "values": {"x": "abc"}}, ("values",), 'not a number: "abc"'),
        ({"expression": "log(x)", "values": {"x": -1}}, (), "log needs a positive number"),
        ({"expression": "x+", "values": {}}, ("expression",), "ends too early at position 3"),
        ({"expression": "W x", "values": {"W": [[1, 2]], "x": [1, 2, 3]}}, (),
         "shapes [1, 2] and [3]"),
    ],
)  # fmt: skip
def test_values_that_do_not_fit_are_named(data: dict[str, Any], loc: tuple, fragment: str) -> None:
    with pytest.raises(ValidationError) as caught:
        GraphProblem.model_validate(data)
    [error] = caught.value.errors()
    assert error["loc"] == loc and fragment in error["msg"]
