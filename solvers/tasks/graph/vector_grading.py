"""Grading a vector or matrix graph problem: the output, every gradient in its own shape and
(optionally) the nodes' values, cell by cell; the classic slips named
(:data:`solvers.tasks.graph.vector.OVERRIDES`); the rounding band worked by hand.

The graph task's grader (:mod:`.grading`) hands a problem with vectors here. Each batch is
computed in numpy by the one pass (:mod:`.compute`, as :mod:`.vector` calls it) over the
whole batch (right, with each mistake's override, and by hand), then flattened into
(B, cells) tensors so that the generic scorer can slice and score it. The ``nodes`` part
is every node's value flattened in node order (the try page's fields; a submission gives
``{node id: value in the node's shape}``), graded over the cells given.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from pydantic_core import PydanticCustomError

from solvers.core import N_, Rounder
from solvers.grading.core import F64, PartError, PartSpec, nested_shape, shape_error
from solvers.tasks.graph.compute import Override
from solvers.tasks.graph.problem import GraphProblem
from solvers.tasks.graph.vector import (
    MISTAKES,
    OVERRIDES,
    VEvaluation,
    VGraph,
    evaluate_batch,
    split_inputs,
)

Layout = tuple[tuple[str, tuple[int, ...]], ...]


def shapes(problem: GraphProblem) -> dict[str, tuple[int, ...]]:
    """The output's shape, each (non-label) variable's (its gradient's), and the cells of
    all nodes (``nodes``)."""
    return dict(layout(problem.vector_passes()[0]))


def layout(graph: VGraph) -> Layout:
    """The parts of :func:`shapes` of a graph's problems, in order, with their shapes."""
    return (
        ("output", graph.nodes[graph.output].shape),
        *(
            (f"gradients.{v}", graph.nodes[k].shape)
            for k, v in enumerate(graph.variables)
            if v not in graph.labels
        ),
        ("nodes", (sum(math.prod(n.shape) for n in graph.nodes),)),
    )


def _unknown(template: str, name: Any, count: int = 0) -> PydanticCustomError:
    return PydanticCustomError("grading_unknown", template, {"name": name, "last": count - 1})


def values(problem: GraphProblem, submission: Any) -> tuple[dict[str, Any], list[PartError]]:
    """The submitted parts by name: each gradient as given, the nodes given put at their
    cells (NaN elsewhere); unknown gradient names and node ids, and nodes of a wrong shape."""
    graph, _ = problem.vector_passes()
    names = [v for v in graph.variables if v not in graph.labels]
    errors: list[PartError] = [
        (f"gradients.{name}", _unknown(N_("{name} is not a variable of the function"), name), v)
        for name, v in submission.gradients.items()
        if name not in names
    ]
    nodes = None
    if submission.nodes:
        count = len(graph.nodes)
        cells = np.full(shapes(problem)["nodes"], math.nan)
        starts = np.cumsum([0] + [math.prod(n.shape) for n in graph.nodes])
        for i, value in submission.nodes.items():
            part = f"nodes.{i}"
            if not 0 <= i < count:
                template = N_("there is no node {name}: ids go from 0 to {last}")
                errors.append((part, _unknown(template, i, count), value))
            elif nested_shape(value) != graph.nodes[i].shape:
                errors.append(
                    (part, shape_error(part, graph.nodes[i].shape, nested_shape(value)), value)
                )
            else:
                cells[starts[i] : starts[i + 1]] = np.ravel(value)
        nodes = cells.tolist()
    return {
        "output": submission.output,
        **{f"gradients.{name}": submission.gradients.get(name) for name in names},
        "nodes": nodes,
    }, errors


def group_key(problem: GraphProblem) -> Hashable:
    """Problems with one expression and the same shapes stack together."""
    return "vector", problem.parsed.canonical, tuple(shapes(problem).items())


@dataclass(frozen=True)
class VectorBatch:
    """Problems of one vector graph: their inputs (B, cells of the variables, in order) and
    upstream gradients (B, cells of the output); every part's expected answer flattened
    (B, cells), each mistake's (B, M, cells) with NaN where it changes nothing; where each
    part lies in the cells."""

    graph: VGraph
    layout: Layout
    inputs: torch.Tensor
    upstream: torch.Tensor
    expected: torch.Tensor
    mistakes: torch.Tensor


def _flat(ev: VEvaluation, graph: VGraph, layout: Layout) -> np.ndarray:
    """A batch's parts flattened as ``layout`` says (B, cells)."""
    index = {v: k for k, v in enumerate(graph.variables)}
    parts = [ev.values[graph.output]]
    parts += [ev.grads[index[name.split(".", 1)[1]]] for name, _ in layout[1:-1]]
    parts += ev.values
    return np.concatenate([p.reshape(len(p), -1) for p in parts], axis=1)


def _passes(
    graph: VGraph,
    layout: Layout,
    flat: np.ndarray,
    upstream: np.ndarray,
    override: Override | None = None,
    rounder: Rounder | None = None,
) -> np.ndarray:
    """Both passes of a batch from its inputs and upstream gradients (flattened, (B, cells)),
    the result flattened as ``layout`` says."""
    inputs = split_inputs(graph, flat)
    upstream = upstream.reshape(len(flat), *graph.nodes[graph.output].shape)
    return _flat(evaluate_batch(graph, inputs, upstream, override, rounder), graph, layout)


def batch(problems: Sequence[GraphProblem], device: Any) -> VectorBatch:
    """Both passes of every problem, and the backward passes with each slip."""
    graph, _ = problems[0].vector_passes()
    out_shape = graph.nodes[graph.output].shape
    inputs = [np.concatenate([np.ravel(p.values[v]) for v in graph.variables]) for p in problems]
    upstream = [np.ravel(np.broadcast_to(np.asarray(p.upstream), out_shape)) for p in problems]
    return batch_of(
        graph, np.array(inputs, dtype=np.float64), np.array(upstream, dtype=np.float64), device
    )


def batch_of(graph: VGraph, inputs: np.ndarray, upstream: np.ndarray, device: Any) -> VectorBatch:
    """The :func:`batch` of problems of ``graph`` given by their inputs (B, cells of the
    variables, in order) and upstream gradients (B, cells of the output), all passes over the
    whole batch at once; a mistake that touches no gate of the graph is not run."""
    shape = layout(graph)
    right = _passes(graph, shape, inputs, upstream)
    mistakes = np.full((len(right), len(OVERRIDES), right.shape[1]), math.nan)
    for k, override in enumerate(OVERRIDES.values()):
        if override.applies(graph):
            wrong = _passes(graph, shape, inputs, upstream, override)
            same = (wrong == right).all(1)
            mistakes[:, k] = np.where(same[:, None], math.nan, wrong)

    def tensor(rows: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(rows).to(device, F64)

    return VectorBatch(
        graph, shape, tensor(inputs), tensor(upstream), tensor(right), tensor(mistakes)
    )


def _parts(b: VectorBatch, flat: torch.Tensor) -> dict[str, torch.Tensor]:
    """The (B, cells) tensor ``flat`` cut into the parts, each (B, *shape)."""
    result, start = {}, 0
    for name, shape in b.layout:
        size = math.prod(shape)
        result[name] = flat[:, start : start + size].reshape(flat.shape[0], *shape)
        start += size
    return result


def specs(
    b: VectorBatch, given: dict[str, torch.Tensor], index: Callable[[str], int]
) -> list[PartSpec]:
    """The output, each gradient (its candidates the slips'), the nodes (sparse)."""
    expected = _parts(b, b.expected)
    slips = [_parts(b, b.mistakes[:, k]) for k in range(len(MISTAKES))]
    result = []
    for name, _ in b.layout:
        gradient = name.startswith("gradients.")
        result.append(
            PartSpec(
                name,
                "graph.backward" if gradient else "graph.forward",
                expected[name],
                given[name],
                [(index(m), slip[name]) for m, slip in zip(MISTAKES, slips, strict=True)]
                if gradient
                else [],
                sparse=name == "nodes",
            )
        )
    return result


def hand(b: VectorBatch, rounder: Rounder) -> dict[str, torch.Tensor]:
    """Every part worked by hand: both passes with ``rounder`` after every value, local
    gradient, product and sum of branches."""
    inputs, upstream = b.inputs.cpu().numpy(), b.upstream.cpu().numpy()
    rows = _passes(b.graph, b.layout, inputs, upstream, rounder=rounder)
    flat = torch.from_numpy(rows).to(b.expected.device, F64)
    return _parts(b, flat.reshape(b.expected.shape))
