"""Graph variants: an expression from a family of the lecture's examples, integer inputs.

Values are kept in a (B, 5) array in the order of :data:`FAMILIES`' variables; the columns
a family does not use are 0.
"""

from __future__ import annotations

from functools import cache
from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from solvers.core import N_
from solvers.grading.core import undecided
from solvers.tasks.graph.compute import passes
from solvers.tasks.graph.gates import Graph, compile_graph
from solvers.tasks.graph.grading import GRADER, GraphBatch
from solvers.tasks.graph.parser import parse
from solvers.tasks.graph.problem import GraphProblem
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
FAMILY_NAMES: tuple[str, ...] = tuple(FAMILIES)
"""Index of the ``family`` array → family."""
WIDTH = max(len(names) for _, names in FAMILIES.values())
NEURON_LIMIT = 2
"""A neuron's input z = w0·x0 + w1·x1 + w2 stays within ±this (σ and tanh not saturated)."""
_NEURONS = (FAMILY_NAMES.index("sigmoid_neuron"), FAMILY_NAMES.index("tanh_neuron"))
_MAX_GATE = FAMILY_NAMES.index("max_gate")

_FAMILY, _VALUES = 1, 2


GraphFamily = Literal["sigmoid_neuron", "sum_times", "max_gate", "tanh_neuron", "reused_variable"]

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
        "any": N_("any (drawn per variant)"),
    }
    """What the instructor's form shows for each choice of a field."""

    family: GraphFamily | Literal["any"] = Field(
        title=N_("function"),
        default="sigmoid_neuron",
        description="sigmoid_neuron: 1/(1+exp(-(w0*x0+w1*x1+w2))) (the lecture's); "
        "sum_times: (x+y)*z; max_gate: 2*(x*y+max(z,w)); tanh_neuron: tanh(w0*x0+w1*x1+w2); "
        "reused_variable: (x+y)*(x+z); any: a family at random per variant.",
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
    for index, name in enumerate(FAMILY_NAMES):
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


def family_passes(arrays: Arrays, device: Any) -> Any:
    """Both passes of every variant, grouped by family: the outputs (B,), the gradients
    (B, WIDTH) (NaN in unused columns) and the mask (B,) of non-finite results."""
    import torch

    batch = len(arrays["family"])
    output = torch.full((batch,), torch.nan, dtype=torch.float64, device=device)
    gradients = torch.full((batch, WIDTH), torch.nan, dtype=torch.float64, device=device)
    bad = torch.zeros(batch, dtype=torch.bool, device=device)
    for name, at, b in family_batches(arrays, device):
        graph, names = b.graph, FAMILIES[name][1]
        result = passes(graph, b.values, b.upstream)
        output[at] = result.output()
        grads = result.gradients(graph)
        gradients[at, : len(names)] = grads[:, [graph.variables.index(v) for v in names]]
        bad[at] = result.bad()
    return output, gradients, bad


class GraphGenerator(Generator):
    """Draws inputs; rules: finite passes, some gradient ≠ 0, unsaturated neurons, no max tie."""

    task = "graph"
    rules: ClassVar[tuple[str, ...]] = (
        N_("a value or a gradient of the graph is not finite"),
        N_("every gradient is 0"),
        N_("the neuron's input w0·x0 + w1·x1 + w2 is outside −2 … 2, so it saturates"),
        N_("both inputs of max are equal"),
        HAND_RULE,
    )

    def bulk_meta(self, spec: GraphSpec) -> dict[str, Any]:
        """``family`` indexes ``families``; ``values`` columns follow ``variables``."""
        return {
            "families": FAMILY_NAMES,
            "variables": {name: FAMILIES[name][1] for name in FAMILY_NAMES},
            "expressions": {name: FAMILIES[name][0] for name in FAMILY_NAMES},
        }

    def draw(self, rng: CounterRng, spec: GraphSpec) -> Arrays:
        """Family index (B,) and values (B, WIDTH), unused columns 0."""
        if spec.family == "any":
            family = rng.first_attempt().integers(_FAMILY, 0, len(FAMILY_NAMES) - 1)
        else:
            family = np.full(len(rng), FAMILY_NAMES.index(spec.family), dtype=np.int16)
        values = rng.integers(_VALUES, spec.low, spec.high, (WIDTH,))
        used = np.array([len(FAMILIES[name][1]) for name in FAMILY_NAMES])[family]
        values[np.arange(WIDTH)[None, :] >= used[:, None]] = 0
        return {"family": family, "values": values}

    def space_size(self, spec: GraphSpec) -> int:
        """Every family's values: (high − low + 1) to the power of its number of variables."""
        families = FAMILY_NAMES if spec.family == "any" else (spec.family,)
        side = spec.high - spec.low + 1
        return sum(side ** len(FAMILIES[name][1]) for name in families)

    def violations(self, arrays: Arrays, spec: GraphSpec) -> np.ndarray:
        """The passes in float64 torch on the CPU; z and the max inputs from the integers."""

        _, gradients, bad = family_passes(arrays, "cpu")
        family, v = arrays["family"], arrays["values"]
        all_zero = (gradients.nan_to_num(0.0) == 0).all(1).numpy()
        z = v[:, 0] * v[:, 1] + v[:, 2] * v[:, 3] + v[:, 4]
        saturated = np.isin(family, _NEURONS) & (np.abs(z) > NEURON_LIMIT)
        tie = (family == _MAX_GATE) & (v[:, 2] == v[:, 3])
        broken = np.stack([bad.numpy(), all_zero, saturated, tie], axis=1)
        hand = np.zeros(len(family), dtype=bool)
        rest = np.flatnonzero(~broken.any(1))  # the hand method only where the rest is met
        for _, at, b in family_batches(take(arrays, rest), "cpu"):
            hand[rest[at.numpy()]] = undecided(GRADER, b).numpy()
        return np.concatenate([broken, hand[:, None]], axis=1)

    def problems(self, arrays: Arrays, spec: GraphSpec) -> list[GraphProblem]:
        """Problems with the family's expression and its values as floats."""
        result = []
        for family, values in zip(
            arrays["family"].tolist(), arrays["values"].tolist(), strict=True
        ):
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
        output, gradients, _ = family_passes(arrays, device)
        return {"output": output, "gradients": gradients}
