"""Grading a vector or matrix graph problem: the output and every gradient in its own
shape, and the classic slips named (:data:`solvers.tasks.graph.vector.MISTAKES`).

The graph task's grader (:mod:`.grading`) hands a problem with vectors here. Each batch is
computed once per problem in numpy (the passes of :mod:`.vector`), then flattened into
(B, cells) tensors so that the generic scorer can slice and score it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from solvers.grading.core import F64, PartSpec
from solvers.tasks.graph.problem import GraphProblem
from solvers.tasks.graph.vector import MISTAKES, evaluate

Layout = tuple[tuple[str, tuple[int, ...]], ...]


def shapes(problem: GraphProblem) -> dict[str, tuple[int, ...]]:
    """The output's shape and each (non-label) variable's: its gradient's."""
    graph, _ = problem.vector_passes()
    return {
        "output": graph.nodes[graph.output].shape,
        **{
            f"gradients.{v}": graph.nodes[k].shape
            for k, v in enumerate(graph.variables)
            if v not in graph.labels
        },
    }


def group_key(problem: GraphProblem) -> Hashable:
    """Problems with one expression and the same shapes stack together."""
    return "vector", problem.parsed.canonical, tuple(shapes(problem).items())


@dataclass(frozen=True)
class VectorBatch:
    """Every part's expected answer flattened (B, cells), each mistake's (B, M, cells) with
    NaN where it changes nothing, and where each part lies in the cells."""

    layout: Layout
    expected: torch.Tensor
    mistakes: torch.Tensor


def _flat(ev: Any, graph: Any, layout: Layout) -> np.ndarray:
    index = {v: k for k, v in enumerate(graph.variables)}
    parts = [ev.values[graph.output]] + [
        ev.grads[index[name.split(".", 1)[1]]] for name, _ in layout[1:]
    ]
    return np.concatenate([np.ravel(p) for p in parts])


def batch(problems: Sequence[GraphProblem], device: Any) -> VectorBatch:
    """Both passes of every problem, and the backward passes with each slip."""
    layout: Layout = tuple(shapes(problems[0]).items())
    expected, mistakes = [], []
    for problem in problems:
        graph, ev = problem.vector_passes()
        right = _flat(ev, graph, layout)
        inputs = {n: np.asarray(v, dtype=np.float64) for n, v in problem.values.items()}
        upstream = np.broadcast_to(
            np.asarray(problem.upstream, dtype=np.float64), graph.nodes[graph.output].shape
        )
        rows = []
        for mistake in MISTAKES:
            wrong = _flat(evaluate(graph, inputs, upstream, mistake), graph, layout)
            rows.append(np.full_like(right, math.nan) if np.array_equal(wrong, right) else wrong)
        expected.append(right)
        mistakes.append(rows)
    return VectorBatch(
        layout,
        torch.tensor(np.array(expected), dtype=F64, device=device),
        torch.tensor(np.array(mistakes), dtype=F64, device=device),
    )


def specs(
    b: VectorBatch, given: dict[str, torch.Tensor], index: Callable[[str], int]
) -> list[PartSpec]:
    """The output and each gradient; a gradient's candidates are the slips'."""
    result = []
    start = 0
    rows = b.expected.shape[0]
    for name, shape in b.layout:
        size = math.prod(shape)
        cells = slice(start, start + size)
        start += size
        candidates = [
            (index(m), b.mistakes[:, k, cells].reshape(rows, *shape))
            for k, m in enumerate(MISTAKES)
            if name != "output"
        ]
        result.append(
            PartSpec(
                name,
                "graph.forward" if name == "output" else "graph.backward",
                b.expected[:, cells].reshape(rows, *shape),
                given[name],
                candidates,
            )
        )
    return result
