"""Graph variants: an expression from a family of the lecture's examples, integer inputs.

Values are kept in a (B, WIDTH) array in the order of :data:`FAMILIES`' columns; the columns
a family does not use are 0. A vector family (:data:`VECTOR_FAMILIES`: ``||W x||^2`` with a
2×2 matrix, a linear layer with the SVM loss with a 2×3 one) has a column per element of
each variable (``W[0,1]``), and its class label drawn among the classes; its candidates are
checked in batches by the vector graph's one pass (:func:`.vector.evaluate_batch`).
"""

from __future__ import annotations

import math
from functools import cache
from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from solvers.core import N_
from solvers.grading.core import undecided
from solvers.tasks.graph import vector_grading
from solvers.tasks.graph.compute import passes
from solvers.tasks.graph.gates import Graph, compile_graph
from solvers.tasks.graph.grading import GRADER, GraphBatch
from solvers.tasks.graph.parser import parse
from solvers.tasks.graph.problem import GraphProblem
from solvers.tasks.graph.rules import margin_kinks
from solvers.tasks.graph.vector import VGraph, build_graph, evaluate_batch, split_inputs
from solvers.variants.base import HAND_RULE, Arrays, Generator, take
from solvers.variants.rng import CounterRng
from solvers.variants.specs import check_range

FAMILIES: dict[str, tuple[str, tuple[str, ...]]] = {
    "sigmoid_neuron": ("1/(1+exp(-(w0*x0+w1*x1+w2)))", ("w0", "x0", "w1", "x1", "w2")),
    "sum_times": ("(x+y)*z", ("x", "y", "z")),
    "max_gate": ("2*(x*y+max(z,w))", ("x", "y", "z", "w")),
    "tanh_neuron": ("tanh(w0*x0+w1*x1+w2)", ("w0", "x0", "w1", "x1", "w2")),
    "reused_variable": ("(x+y)*(x+z)", ("x", "y", "z")),
}
"""Family → (expression, variables in the order of the ``values`` columns)."""
SCALAR_FAMILIES = len(FAMILIES)
"""The families ``any`` draws from (the first ones: variants drawn before vector families
existed stay the same)."""
VECTOR_FAMILIES: dict[str, tuple[str, tuple[tuple[str, tuple[int, ...]], ...]]] = {
    "matrix_norm": ("||W x||^2", (("W", (2, 2)), ("x", (2,)))),
    "linear_svm": ("svm(W x + b, y)", (("W", (2, 3)), ("x", (3,)), ("b", (2,)), ("y", ()))),
}
"""Vector family → (expression, variables with their shapes, in the order of the columns)."""
LABELS = {"linear_svm": ("y", 2)}
"""A vector family's class-label variable and its number of classes."""


def _columns(variables: tuple[tuple[str, tuple[int, ...]], ...]) -> tuple[str, ...]:
    """One column per element: ``W[0,1]``, ``x[2]``, ``y``."""
    return tuple(
        name + ("[" + ",".join(map(str, at)) + "]" if shape else "")
        for name, shape in variables
        for at in np.ndindex(*shape)
    )


FAMILIES.update({name: (text, _columns(v)) for name, (text, v) in VECTOR_FAMILIES.items()})
FAMILY_NAMES: tuple[str, ...] = tuple(FAMILIES)
"""Index of the ``family`` array → family."""
WIDTH = max(len(names) for _, names in FAMILIES.values())
NEURON_LIMIT = 2
"""A neuron's input z = w0·x0 + w1·x1 + w2 stays within ±this (σ and tanh not saturated)."""
_NEURONS = (FAMILY_NAMES.index("sigmoid_neuron"), FAMILY_NAMES.index("tanh_neuron"))
_MAX_GATE = FAMILY_NAMES.index("max_gate")

_FAMILY, _VALUES, _LABEL = 1, 2, 3


GraphFamily = Literal[
    "sigmoid_neuron", "sum_times", "max_gate", "tanh_neuron", "reused_variable", "matrix_norm",
    "linear_svm",
]  # fmt: skip

MAX_GRAPH_VALUE = 10
"""Largest magnitude of a graph input bound."""


class GraphSpec(BaseModel):
    """Graph variants: an expression family and the integer range of its inputs."""

    model_config = ConfigDict(extra="forbid")
    choice_labels: ClassVar[dict[str, str]] = {
        "sigmoid_neuron": N_("sigmoid neuron, as in the lecture"),
        "sum_times": N_("(x + y)·z"),
        "max_gate": N_("a max gate"),
        "tanh_neuron": N_("tanh neuron"),
        "reused_variable": N_("a variable used twice"),
        "matrix_norm": N_("||W x||², W a 2×2 matrix"),
        "linear_svm": N_("a linear layer and the SVM loss, W a 2×3 matrix"),
        "any": N_("any scalar one (drawn per variant)"),
    }
    """What the instructor's form shows for each choice of a field."""

    family: GraphFamily | Literal["any"] = Field(
        title=N_("function"),
        default="sigmoid_neuron",
        description="sigmoid_neuron: 1/(1+exp(-(w0*x0+w1*x1+w2))) (the lecture's); "
        "sum_times: (x+y)*z; max_gate: 2*(x*y+max(z,w)); tanh_neuron: tanh(w0*x0+w1*x1+w2); "
        "reused_variable: (x+y)*(x+z); matrix_norm: ||W x||^2 (W 2×2, x 2); linear_svm: "
        "svm(W x + b, y) (W 2×3, x 3, b 2, y a class 0 or 1); any: a scalar family at random "
        "per variant.",
    )
    low: int = Field(
        title=N_("lowest input"),
        default=-3,
        ge=-MAX_GRAPH_VALUE,
        le=MAX_GRAPH_VALUE,
        description="Lowest input value.",
    )
    high: int = Field(
        title=N_("highest input"),
        default=3,
        ge=-MAX_GRAPH_VALUE,
        le=MAX_GRAPH_VALUE,
        description="Highest input value.",
    )

    @model_validator(mode="after")
    def _valid_range(self) -> GraphSpec:
        check_range(self.low, self.high, "input")
        return self


@cache
def _family_graph(name: str) -> Graph:
    return compile_graph(parse(FAMILIES[name][0]))


def family_batches(arrays: Arrays, device: Any) -> list[tuple[str, Any, GraphBatch]]:
    """The variants of each family: its name, their rows (a tensor) and a
    :class:`GraphBatch` of them (upstream 1)."""
    import torch

    family = arrays["family"]
    values = torch.from_numpy(arrays["values"]).to(device, torch.float64)
    out = []
    for index, name in enumerate(FAMILY_NAMES[:SCALAR_FAMILIES]):
        rows = np.flatnonzero(family == index)
        if not len(rows):
            continue
        graph = _family_graph(name)
        names = FAMILIES[name][1]
        at = torch.from_numpy(rows).to(device)
        columns = values[at][:, [names.index(v) for v in graph.variables]]
        upstream = torch.ones(len(rows), dtype=torch.float64, device=device)
        out.append((name, at, GraphBatch(graph, columns, upstream)))
    return out


def vector_problem(family: str, row: list[int]) -> GraphProblem:
    """The problem of a vector family from its columns."""
    expression, variables = VECTOR_FAMILIES[family]
    values: dict[str, Any] = {}
    start = 0
    for name, shape in variables:
        size = math.prod(shape)
        cells = np.asarray(row[start : start + size], dtype=np.float64)
        values[name] = cells.reshape(shape).tolist() if shape else float(cells[0])
        start += size
    return GraphProblem(expression=expression, values=values)


@cache
def vector_graph(family: str) -> VGraph:
    """The vector graph of a vector family (its variables' shapes)."""
    expression, variables = VECTOR_FAMILIES[family]
    return build_graph(parse(expression), tuple(sorted(variables)))


def vector_inputs(arrays: Arrays) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """The variants of each vector family: its name, their rows and their inputs as the
    graph's variables flattened (B, cells), in the order of ``graph.variables``."""
    out = []
    for name, (_, variables) in VECTOR_FAMILIES.items():
        rows = np.flatnonzero(arrays["family"] == FAMILY_NAMES.index(name))
        if not len(rows):
            continue
        values = arrays["values"][rows].astype(np.float64)
        start, columns = 0, {}
        for variable, shape in variables:
            columns[variable] = values[:, start : start + math.prod(shape)]
            start += math.prod(shape)
        flat = np.concatenate([columns[v] for v in vector_graph(name).variables], axis=1)
        out.append((name, rows, flat))
    return out


def _vector_passes(name: str, flat: np.ndarray) -> tuple[np.ndarray, ...]:
    """A vector family's variants' outputs (B,), gradients (B, WIDTH) (one per column of
    the family, NaN for a label and after the family's columns), whether a value is not
    finite (then the output and gradients are NaN) and whether a loss sits on its kink (a
    margin exactly 0), from their inputs (B, cells) (:func:`vector_inputs`)."""
    graph = vector_graph(name)
    batch = len(flat)
    inputs = split_inputs(graph, flat)
    ev = evaluate_batch(graph, inputs, np.ones((batch, *graph.nodes[graph.output].shape)))
    by_name = {v: np.full((batch, math.prod(graph.nodes[k].shape)), math.nan)
               for k, v in enumerate(graph.variables)}  # fmt: skip
    for k, variable in enumerate(graph.variables):
        if variable not in graph.labels:
            by_name[variable] = ev.grads[k].reshape(batch, -1)
    columns = np.full((batch, WIDTH), math.nan)
    start = 0
    for variable, shape in VECTOR_FAMILIES[name][1]:
        columns[:, start : start + math.prod(shape)] = by_name[variable]
        start += math.prod(shape)
    kink = np.zeros(batch, dtype=bool)
    for node in graph.nodes:
        if node.op == "svm":
            kink |= margin_kinks(*(ev.values[j] for j in node.inputs))
    output = np.where(ev.bad, math.nan, ev.values[graph.output])
    columns[ev.bad] = math.nan
    return output, columns, ev.bad, kink & ~ev.bad


def family_passes(arrays: Arrays, device: Any) -> Any:
    """Both passes of every variant, grouped by family: the outputs (B,), the gradients
    (B, WIDTH) (NaN in unused columns), the mask (B,) of non-finite results and the mask of
    losses on their kink."""
    import torch

    batch = len(arrays["family"])
    output = torch.full((batch,), torch.nan, dtype=torch.float64, device=device)
    gradients = torch.full((batch, WIDTH), torch.nan, dtype=torch.float64, device=device)
    bad = torch.zeros(batch, dtype=torch.bool, device=device)
    kink = torch.zeros(batch, dtype=torch.bool, device=device)
    for name, at, b in family_batches(arrays, device):
        graph, names = b.graph, FAMILIES[name][1]
        result = passes(graph, b.values, b.upstream)
        output[at] = result.output()
        grads = result.gradients(graph)
        gradients[at, : len(names)] = grads[:, [graph.variables.index(v) for v in names]]
        bad[at] = result.bad()
    for name, rows, flat in vector_inputs(arrays):
        at = torch.from_numpy(rows).to(device)
        results = [torch.from_numpy(r).to(device) for r in _vector_passes(name, flat)]
        output[at], gradients[at], bad[at], kink[at] = results
    return output, gradients, bad, kink


class GraphGenerator(Generator):
    """Draws inputs; rules: finite passes, some gradient ≠ 0, unsaturated neurons, no max tie."""

    task = "graph"
    rules: ClassVar[tuple[str, ...]] = (
        N_("a value or a gradient of the graph is not finite"),
        N_("every gradient is 0"),
        N_("the neuron's input w0·x0 + w1·x1 + w2 is outside −2 … 2, so it saturates"),
        N_("both inputs of max are equal"),
        HAND_RULE,
        N_("a margin of the SVM loss is exactly 0 (its kink)"),
    )

    def bulk_meta(self, spec: GraphSpec) -> dict[str, Any]:
        """``family`` indexes ``families`` (those the spec draws from and the ones before);
        ``values`` columns follow ``variables`` (a vector family's: one per element, its
        class label among them)."""
        names = FAMILY_NAMES[: self._drawn(spec) + 1]
        return {
            "families": names,
            "variables": {name: FAMILIES[name][1] for name in names},
            "expressions": {name: FAMILIES[name][0] for name in names},
        }

    @staticmethod
    def _drawn(spec: GraphSpec) -> int:
        """The highest family index the spec draws."""
        return SCALAR_FAMILIES - 1 if spec.family == "any" else FAMILY_NAMES.index(spec.family)

    def draw(self, rng: CounterRng, spec: GraphSpec) -> Arrays:
        """Family index (B,) and values (B, WIDTH), unused columns 0."""
        if spec.family == "any":
            family = rng.first_attempt().integers(_FAMILY, 0, SCALAR_FAMILIES - 1)
        else:
            family = np.full(len(rng), FAMILY_NAMES.index(spec.family), dtype=np.int16)
        values = rng.integers(_VALUES, spec.low, spec.high, (WIDTH,))
        used = np.array([len(FAMILIES[name][1]) for name in FAMILY_NAMES])[family]
        values[np.arange(WIDTH)[None, :] >= used[:, None]] = 0
        for name, (label, classes) in LABELS.items():
            rows = family == FAMILY_NAMES.index(name)
            column = FAMILIES[name][1].index(label)
            values[rows, column] = rng.integers(_LABEL, 0, classes - 1)[rows]
        return {"family": family, "values": values}

    def space_size(self, spec: GraphSpec) -> int:
        """Every family's values: (high − low + 1) to the power of its number of variables."""
        families = FAMILY_NAMES[:SCALAR_FAMILIES] if spec.family == "any" else (spec.family,)
        side = spec.high - spec.low + 1
        return sum(
            side ** (len(FAMILIES[name][1]) - (name in LABELS)) * LABELS.get(name, ("", 1))[1]
            for name in families
        )

    def violations(self, arrays: Arrays, spec: GraphSpec) -> np.ndarray:
        """The passes in float64 torch on the CPU; z and the max inputs from the integers."""
        return self._broken(arrays)

    def rejected(self, arrays: Arrays, spec: GraphSpec) -> np.ndarray:
        """The rules on the integers first, the passes only where those are met."""
        return self._broken(arrays, quick=True).any(1)

    def _broken(self, arrays: Arrays, quick: bool = False) -> np.ndarray:
        """:meth:`violations`; ``quick``: a candidate that breaks a rule on its integers (a
        saturated neuron, a tie of max) is not checked for the others."""
        family, v = arrays["family"], arrays["values"]
        z = v[:, 0] * v[:, 1] + v[:, 2] * v[:, 3] + v[:, 4]
        saturated = np.isin(family, _NEURONS) & (np.abs(z) > NEURON_LIMIT)
        tie = (family == _MAX_GATE) & (v[:, 2] == v[:, 3])
        passed = np.flatnonzero(~(saturated | tie)) if quick else np.arange(len(family))
        bad, all_zero, kink = (np.zeros(len(family), dtype=bool) for _ in range(3))
        checked = take(arrays, passed) if quick else arrays
        _, gradients, bad_passes, kinks = family_passes(checked, "cpu")
        bad[passed] = bad_passes.numpy()
        all_zero[passed] = (gradients.nan_to_num(0.0) == 0).all(1).numpy()
        kink[passed] = kinks.numpy()
        broken = np.stack([bad, all_zero, saturated, tie, kink], axis=1)
        hand = np.zeros(len(family), dtype=bool)
        rest = np.flatnonzero(~broken.any(1))  # the hand method only where the rest is met
        kept = take(arrays, rest)
        for _, at, b in family_batches(kept, "cpu"):
            hand[rest[at.numpy()]] = undecided(GRADER, b).numpy()
        for name, rows, flat in vector_inputs(kept):
            graph = vector_graph(name)
            upstream = np.ones((len(rows), math.prod(graph.nodes[graph.output].shape)))
            batch = vector_grading.batch_of(graph, flat, upstream, "cpu")
            hand[rest[rows]] = undecided(GRADER, batch).numpy()
        return np.concatenate([broken[:, :4], hand[:, None], broken[:, 4:]], axis=1)

    def problems(self, arrays: Arrays, spec: GraphSpec) -> list[GraphProblem]:
        """Problems with the family's expression and its values as floats."""
        result = []
        for family, values in zip(
            arrays["family"].tolist(), arrays["values"].tolist(), strict=True
        ):
            if FAMILY_NAMES[family] in VECTOR_FAMILIES:
                result.append(vector_problem(FAMILY_NAMES[family], values))
                continue
            expression, names = FAMILIES[FAMILY_NAMES[family]]
            result.append(
                GraphProblem(
                    expression=expression,
                    values={n: float(x) for n, x in zip(names, values, strict=False)},
                )
            )
        return result

    def solve_tensors(self, arrays: Arrays, spec: GraphSpec, device: Any) -> dict[str, Any]:
        """``output`` (B,) and ``gradients`` (B, WIDTH) in the family's variable order."""
        output, gradients, _, _ = family_passes(arrays, device)
        return {"output": output, "gradients": gradients}
