"""The ``graph`` task's models: the problem (validated and parsed), nodes, answer, solution."""

from __future__ import annotations

import math
import re
from typing import Annotated, Any, Literal

import numpy as np
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

from solvers.cache import sized_cache
from solvers.core import N_, Solution, Step
from solvers.matrix import coerce_matrix
from solvers.tasks.graph.compute import Evaluation, evaluate
from solvers.tasks.graph.gates import Graph, compile_graph
from solvers.tasks.graph.parser import (
    CACHE_CHARACTERS,
    MAX_LENGTH,
    MAX_OPERATIONS,
    Expr,
    Parsed,
    characters,
    normalize_name,
    parse,
)
from solvers.tasks.graph.vector import MAX_SIDE, VEvaluation, VGraph, build_graph
from solvers.tasks.graph.vector import evaluate as evaluate_vector

SEVERAL_NUMBERS = re.compile(r"[\[;\n]|[\d.,]\s+[+\-\u2212]?[\d.,]")
"""Text that holds several numbers: a vector or a matrix."""
_NUMBER = re.compile(r"^[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][+-]?\d+)?$")


_parse = sized_cache(CACHE_CHARACTERS, len)(parse)
"""Parses kept across requests: a class sends one expression with new values again and
again, and a parse costs ~100 µs."""
_compile = sized_cache(2 * CACHE_CHARACTERS, characters)(compile_graph)


@sized_cache(CACHE_CHARACTERS, lambda source, shapes: len(source))
def _build_vector(source: str, shapes: tuple[tuple[str, tuple[int, ...]], ...]) -> VGraph:
    """The vector graph of the expression as typed. Keyed by the text itself, not its parse:
    differently typed texts parse equal, but the graph records the source positions of the
    products that the shapes made matrix products."""
    return build_graph(_parse(source), shapes)


Value = float | list[float] | list[list[float]]
"""A variable's value: a scalar, a vector or a matrix."""


def _uses_vectors(e: Expr) -> bool:
    if e.kind == "matmul" or (e.kind == "call" and e.name in _VECTOR_CALLS):
        return True
    return any(_uses_vectors(a) for a in e.args)


@sized_cache(CACHE_CHARACTERS, characters)
def uses_vectors(parsed: Parsed) -> bool:
    """Whether the expression has an operation that only vectors and matrices have (``@``,
    ``transpose``, ``sum``, ``norm2``, ``softmax_ce``, ``svm``)."""
    return _uses_vectors(parsed.tree)


_VECTOR_CALLS = frozenset({"transpose", "sum", "norm2", "softmax_ce", "svm"})


def shape_of(value: Value) -> tuple[int, ...]:
    """() for a number, (n,) for a vector, (m, n) for a matrix."""
    if isinstance(value, float):
        return ()
    if value and isinstance(value[0], list):
        return (len(value), len(value[0]))  # type: ignore[arg-type]
    return (len(value),)


NAME_PATTERN = r"^\s*[A-Za-z\u0391-\u03a9\u03b1-\u03c9](_?[0-9]+)?\s*$"
"""A variable's name as a key of ``values``: a letter (Latin or Greek), optional digits."""
_VALUES_INPUT = Annotated[
    dict[str, float | list[float] | list[list[float]] | str],
    Field(
        min_length=1,
        max_length=MAX_OPERATIONS,
        json_schema_extra={"propertyNames": {"pattern": NAME_PATTERN}},
    ),
]


class _ParsedText(str):
    """The expression text while the problem is validated, carrying its parse."""

    parsed: Parsed


def _values_error(template: str, **context: Any) -> PydanticCustomError:
    return PydanticCustomError("values", template, context)


def _tensor(value: Any, name: str) -> Value:
    """A number, or a vector or matrix from a list, nested lists or matrix text."""
    if isinstance(value, str) and SEVERAL_NUMBERS.search(value.strip()):
        text = value.strip()
        matrix = coerce_matrix(text, MAX_SIDE, MAX_SIDE)
        return matrix[0] if len(matrix) == 1 and not text.startswith("[[") else matrix
    if isinstance(value, list):
        if len(value) > MAX_SIDE or any(isinstance(r, list) and len(r) > MAX_SIDE for r in value):
            raise _values_error(
                N_("the value of {name} is too large: at most {limit} numbers a side"),
                name=name,
                limit=MAX_SIDE,
            )
        matrix = coerce_matrix(value, MAX_SIDE, MAX_SIDE)
        return matrix if value and isinstance(value[0], list) else matrix[0]
    return _number(value, name)


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
        json_schema_extra={"minLength": 1, "maxLength": MAX_LENGTH},
        examples=["1/(1+exp(-(w0*x0+w1*x1+w2)))"],
        description="The function as typed, e.g. 1/(1+e^-(w0x0+w1x1+w2)). Names are a letter "
        "with optional digits (w0, w_0, x1); w0x0 reads as w0·x0; e is Euler's number; "
        "^ and ** are powers; exp, log/ln, sqrt, sigmoid/σ, tanh, relu, abs, max, min.",
    )
    values: dict[str, Value] = Field(
        examples=[{"w0": 2, "x0": -1, "w1": -3, "x1": -2, "w2": -3}],
        description='The value of every variable, e.g. {"w0": 2, "x0": -1}; numbers or '
        "numeric text (decimal comma allowed). A vector or matrix: a list, nested lists, or "
        f"matrix text ('0.2 0.4', '1 2; 3 4', '[[1, 2], [3, 4]]'); sides at most {MAX_SIDE}.",
    )
    upstream: Value = Field(
        default=1.0,
        description="The gradient arriving at the output (default 1); for a vector or matrix "
        "output a number (every element) or a list of the output's shape.",
    )
    gates: Literal["primitive", "grouped"] = Field(
        default="primitive",
        description="primitive: the lecture's small gates (sigmoid as ·(−1), exp, +1, 1/x); "
        "grouped: sigmoid (also written 1/(1+exp(−z))) as one gate σ with σ' = σ(1−σ).",
    )

    _parsed: Parsed | None = PrivateAttr(default=None)
    _graph: Graph | None = PrivateAttr(default=None)
    _evaluation: tuple[Any, Evaluation] | None = PrivateAttr(default=None)
    _vector: tuple[Any, VGraph, VEvaluation] | None = PrivateAttr(default=None)
    _vector_ops: bool | None = PrivateAttr(default=None)
    # These are read from ``__pydantic_private__`` itself: ``self._parsed`` goes through
    # pydantic's ``__getattr__`` (an AttributeError caught first), ~4 µs, many times a request.

    @property
    def is_vector(self) -> bool:
        """Whether a value is a vector or matrix or the expression uses vector operations
        (then :mod:`.vector` solves it; a scalar problem is solved as before)."""
        if any(not isinstance(v, float) for v in self.values.values()):
            return True
        private = self.__pydantic_private__
        if private["_vector_ops"] is None:  # known with the parse (asked several times)
            private["_vector_ops"] = uses_vectors(self.parsed)
        return private["_vector_ops"]

    def vector_passes(self) -> tuple[VGraph, VEvaluation]:
        """The vector graph (shapes checked) and both passes at the problem's values."""
        key = (repr(self.values), repr(self.upstream))
        private = self.__pydantic_private__
        if private["_vector"] is None or private["_vector"][0] != key:
            shapes = {name: shape_of(v) for name, v in self.values.items()}
            graph = _build_vector(str(self.expression), tuple(sorted(shapes.items())))
            out_shape = graph.nodes[graph.output].shape
            upstream = np.asarray(self.upstream, dtype=np.float64)
            if upstream.shape not in ((), out_shape):
                raise PydanticCustomError(
                    "upstream",
                    N_("the upstream gradient must be a number or have the output's shape "
                       "{shape}"),
                    {"shape": list(out_shape), "field": "upstream"},
                )  # fmt: skip
            inputs = {n: np.asarray(v, dtype=np.float64) for n, v in self.values.items()}
            evaluation = evaluate_vector(graph, inputs, np.broadcast_to(upstream, out_shape))
            private["_vector"] = key, graph, evaluation
        return private["_vector"][1], private["_vector"][2]

    @property
    def parsed(self) -> Parsed:
        """The expression, parsed once: when the problem was validated (or on first use by
        one built with ``model_construct``)."""
        private = self.__pydantic_private__
        if private["_parsed"] is None:
            private["_parsed"] = _parse(self.expression)
        return private["_parsed"]

    @property
    def graph(self) -> Graph:
        """The graph of the expression in the problem's gate mode, compiled once."""
        private = self.__pydantic_private__
        if private["_graph"] is None:
            if self.is_vector:
                raise PydanticCustomError(
                    "vector",
                    N_("a vector or matrix problem has no scalar graph"),
                )  # fmt: skip
            private["_graph"] = _compile(self.parsed, self.gates)
        return private["_graph"]

    def evaluation(self) -> Evaluation:
        """Both passes at the problem's values (the validator's, unless the values or the
        upstream gradient changed since)."""
        key = (tuple(self.values.items()), self.upstream)
        private = self.__pydantic_private__
        found = private["_evaluation"]
        if found is None or found[0] != key:
            found = private["_evaluation"] = key, evaluate(self.graph, self.values, self.upstream)
        return found[1]

    @field_validator("expression")
    @classmethod
    def _parse_expression(cls, value: str) -> str:
        text = _ParsedText(value)
        text.parsed = _parse(value)
        return text

    @field_validator("upstream", mode="before")
    @classmethod
    def _finite_upstream(cls, value: Any) -> Value:
        try:
            return _tensor(value, "upstream")
        except PydanticCustomError:
            raise PydanticCustomError(
                "upstream", N_("the upstream gradient must be a finite number")
            ) from None

    @field_validator("values", mode="before", json_schema_input_type=_VALUES_INPUT)
    @classmethod
    def _check_values(cls, value: Any, info: ValidationInfo) -> dict[str, Value]:
        if not isinstance(value, dict):
            raise _values_error(N_("values must map each variable name to a number"))
        if len(value) > MAX_OPERATIONS:
            raise _values_error(N_("too many values: at most {limit}"), limit=MAX_OPERATIONS)
        result: dict[str, Value] = {}
        for key, raw in value.items():
            name = normalize_name(str(key))
            if not name:
                raise _values_error(N_('"{name}" is not a variable name'), name=str(key)[:20])
            if name in result:
                raise _values_error(N_("{name} is given twice"), name=name)
            result[name] = _tensor(raw, name)
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
            self.__pydantic_private__["_parsed"] = text.parsed
            self.__dict__["expression"] = str(text)
        if self.is_vector:
            self.vector_passes()  # raises a shape or domain error naming the operation
        elif not isinstance(self.upstream, float):
            raise PydanticCustomError(
                "upstream", N_("the upstream gradient of a scalar output is a number")
            )
        else:
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


Tensor = float | list[float] | list[list[float]]


class VectorNode(BaseModel):
    """A node of a vector graph: its value and ∂f/∂node, both in the node's shape."""

    id: int
    op: str = Field(description="input, const, a gate: +, -, *, /, @, T, sum, norm2, exp, …")
    label: str
    name: str | None = None
    param: float | None = Field(default=None, description="A constant's value; c of +c, ·c, /c.")
    inputs: list[int]
    shape: list[int] = Field(description="[] a scalar, [n] a vector, [m, n] a matrix.")
    value: Tensor
    gradient: Tensor = Field(description="∂f/∂node, in the node's shape.")


class VectorAnswer(BaseModel):
    """The output and every variable's gradient, each in its own shape."""

    output: Tensor
    gradients: dict[str, Tensor] = Field(
        description="∂f/∂name in the shape of the variable (class labels have none)."
    )
    shapes: dict[str, list[int]] = Field(description="The shape of every variable and 'f'.")
    nodes: dict[str, Tensor] = Field(description="Every node's value by node id.")


class VectorSolution(Solution):
    """A vector or matrix problem's answer, nodes and steps (scalar problems answer
    :class:`GraphSolution`)."""

    task: Literal["graph"] = "graph"
    answer: VectorAnswer
    steps: list[Step]
    nodes: list[VectorNode]
    expression_read: str
    expression_latex: str
