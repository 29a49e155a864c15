"""The ``graph`` task's models: the problem (validated and parsed), nodes, answer, solution."""

from __future__ import annotations

import math
import re
from functools import lru_cache
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from solvers.core import N_, Solution
from solvers.tasks.graph.compute import Evaluation, evaluate
from solvers.tasks.graph.gates import Graph, compile_graph
from solvers.tasks.graph.parser import MAX_OPERATIONS, Parsed, normalize_name, parse

_NUMBER = re.compile(r"^[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][+-]?\d+)?$")


PARSE_CACHE_SIZE = 256
"""Expressions whose parse and graphs are kept across requests: a class sends one
expression with new values again and again, and a parse costs ~100 µs (a few hundred kB
each for the largest, so the caches stay within tens of MB)."""
_parse = lru_cache(maxsize=PARSE_CACHE_SIZE)(parse)
_compile = lru_cache(maxsize=2 * PARSE_CACHE_SIZE)(compile_graph)


class _ParsedText(str):
    """The expression text while the problem is validated, carrying its parse."""

    parsed: Parsed


def _values_error(template: str, **context: Any) -> PydanticCustomError:
    return PydanticCustomError("values", template, context)


def _number(value: Any, name: str) -> float:
    """A finite float from a number or numeric text (decimal comma and ``−`` allowed)."""
    if isinstance(value, str):
        text = value.strip().replace("\u2212", "-").replace(" ", "")
        if not _NUMBER.match(text):
            raise _values_error(
                N_('the value of {name} is not a number: "{value}"'), name=name, value=value[:20]
            )
        value = float(text.replace(",", "."))
    elif isinstance(value, bool) or not isinstance(value, int | float):
        raise _values_error(
            N_('the value of {name} is not a number: "{value}"'), name=name, value=str(value)[:20]
        )
    value = float(value)
    if not math.isfinite(value):
        raise _values_error(N_("the value of {name} is not a finite number"), name=name)
    return value


class GraphProblem(BaseModel):
    """A function as typed, the values of its variables, the upstream gradient, the gates."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "expression": "1/(1+exp(-(w0*x0+w1*x1+w2)))",
                    "values": {"w0": 2, "x0": -1, "w1": -3, "x1": -2, "w2": -3},
                }
            ]
        },
    )

    expression: str = Field(
        description="The function as typed, e.g. 1/(1+e^-(w0x0+w1x1+w2)). Names are a letter "
        "with optional digits (w0, w_0, x1); w0x0 reads as w0·x0; e is Euler's number; "
        "^ and ** are powers; exp, log/ln, sqrt, sigmoid/σ, tanh, relu, abs, max, min."
    )
    values: dict[str, float] = Field(
        description='The value of every variable, e.g. {"w0": 2, "x0": -1}; numbers or '
        "numeric text (decimal comma allowed)."
    )
    upstream: float = Field(
        default=1.0, description="The gradient arriving at the output (default 1)."
    )
    gates: Literal["primitive", "grouped"] = Field(
        default="primitive",
        description="primitive: the lecture's small gates (sigmoid as ·(−1), exp, +1, 1/x); "
        "grouped: sigmoid (also written 1/(1+exp(−z))) as one gate σ with σ' = σ(1−σ).",
    )

    _parsed: Parsed | None = PrivateAttr(default=None)
    _graph: Graph | None = PrivateAttr(default=None)
    _evaluation: tuple[Any, Evaluation] | None = PrivateAttr(default=None)

    @property
    def parsed(self) -> Parsed:
        """The expression, parsed once: when the problem was validated (or on first use by
        one built with ``model_construct``)."""
        if self._parsed is None:
            self._parsed = _parse(self.expression)
        return self._parsed

    @property
    def graph(self) -> Graph:
        """The graph of the expression in the problem's gate mode, compiled once."""
        if self._graph is None:
            self._graph = _compile(self.parsed, self.gates)
        return self._graph

    def evaluation(self) -> Evaluation:
        """Both passes at the problem's values (the validator's, unless the values or the
        upstream gradient changed since)."""
        key = (tuple(self.values.items()), self.upstream)
        if self._evaluation is None or self._evaluation[0] != key:
            self._evaluation = key, evaluate(self.graph, self.values, self.upstream)
        return self._evaluation[1]

    @field_validator("expression")
    @classmethod
    def _parse_expression(cls, value: str) -> str:
        text = _ParsedText(value)
        text.parsed = _parse(value)
        return text

    @field_validator("upstream", mode="before")
    @classmethod
    def _finite_upstream(cls, value: Any) -> float:
        try:
            return _number(value, "upstream")
        except PydanticCustomError:
            raise PydanticCustomError(
                "upstream", N_("the upstream gradient must be a finite number")
            ) from None

    @field_validator("values", mode="before")
    @classmethod
    def _check_values(cls, value: Any, info: ValidationInfo) -> dict[str, float]:
        if not isinstance(value, dict):
            raise _values_error(N_("values must map each variable name to a number"))
        if len(value) > MAX_OPERATIONS:
            raise _values_error(N_("too many values: at most {limit}"), limit=MAX_OPERATIONS)
        result: dict[str, float] = {}
        for key, raw in value.items():
            name = normalize_name(str(key))
            if not name:
                raise _values_error(N_('"{name}" is not a variable name'), name=str(key)[:20])
            if name in result:
                raise _values_error(N_("{name} is given twice"), name=name)
            result[name] = _number(raw, name)
        expression = info.data.get("expression")
        if expression is None:
            return result
        variables = expression.parsed.variables
        missing = [v for v in variables if v not in result]
        if missing:
            raise _values_error(N_("give a value for {names}"), names=", ".join(missing))
        extra = [v for v in result if v not in variables]
        if extra:
            raise _values_error(
                N_("these values are not used by the expression: {names}"), names=", ".join(extra)
            )
        return result

    @model_validator(mode="after")
    def _check_numbers(self) -> GraphProblem:
        text = self.expression
        if isinstance(text, _ParsedText):  # freshly validated (not a copy)
            self._parsed = text.parsed
            self.__dict__["expression"] = str(text)
        self.evaluation()  # raises a domain error naming the node
        return self


class GraphNode(BaseModel):
    """One node of the graph with both passes' numbers (ids are topological: inputs first,
    the output last)."""

    id: int
    op: str = Field(
        description="input, const, +, -, *, +c, ·c, /c, 1/x, exp, ^k, max, min, relu, σ, "
        "tanh, log, sqrt, abs."
    )
    label: str = Field(description="What the picture writes in the node, e.g. +1 or ·(−1).")
    name: str | None = Field(default=None, description="The variable of an input node.")
    param: float | None = Field(default=None, description="c of +c, ·c, /c; k of ^k.")
    inputs: list[int]
    value: float = Field(description="Forward value.")
    local_gradients: list[float] = Field(description="∂node/∂input, one per input.")
    local_formulas: list[str] = Field(
        description="LaTeX of the local gradients in terms of the inputs x (first) and y."
    )
    upstream: float = Field(description="∂f/∂node: the gradient arriving at the node's output.")
    downstream: list[float] = Field(description="local × upstream, one per input.")


class GraphAnswer(BaseModel):
    """The output value and the gradient of the output with respect to every variable."""

    output: float
    gradients: dict[str, float]


class GraphSolution(Solution):
    """The answer, the nodes with both passes, how the expression was read, the steps."""

    task: Literal["graph"] = "graph"
    answer: GraphAnswer
    nodes: list[GraphNode]
    expression_read: str = Field(description="How the expression was read (canonical text).")
    expression_latex: str
    symbolic: dict[str, str] = Field(description="LaTeX of ∂f/∂name from sympy.")
