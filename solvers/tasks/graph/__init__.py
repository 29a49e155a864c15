"""The graph task: forward and backward pass through the computational graph of a typed
function (the safe parser in :mod:`.parser`, one rule per gate in :mod:`.rules`, the graph
in :mod:`.gates`, the passes in :mod:`.compute`, sympy in :mod:`.symbolic`, the worked
solution in :mod:`.solve` and :mod:`.steps`; vector and matrix graphs in :mod:`.vector`,
:mod:`.vector_solve` and :mod:`.vector_grading`)."""

from solvers.core import N_, Task
from solvers.tasks.graph import grading
from solvers.tasks.graph.problem import (
    GraphAnswer,
    GraphNode,
    GraphProblem,
    GraphSolution,
    VectorAnswer,
)
from solvers.tasks.graph.pytorch import torch_form
from solvers.tasks.graph.solve import own_steps, quick, solve, solve_batch, symbolic_work
from solvers.tasks.graph.variants import GraphGenerator, GraphSpec


def example() -> GraphProblem:
    """The lecture's sigmoid neuron: f = 0.73, ∂f/∂w0 = −0.20, ∂f/∂x0 = 0.39, …"""
    return GraphProblem(
        expression="1/(1+exp(-(w0*x0+w1*x1+w2)))",
        values={"w0": 2.0, "x0": -1.0, "w1": -3.0, "x1": -2.0, "w2": -3.0},
    )


TASK = Task(
    id="graph",
    title=N_("Computational graph"),
    summary=N_("Forward and backward pass through the graph of a function"),
    problem_model=GraphProblem,
    answer_model=GraphAnswer | VectorAnswer,
    solution_model=GraphSolution,
    solve=solve,
    solve_batch=solve_batch,
    example=example,
    spec_model=GraphSpec,
    generator=GraphGenerator(),
    grader=grading.GRADER,
    answer_cells=grading.answer_cells,
    answer_from_cells=grading.answer_from_cells,
    try_parts=grading.try_parts,
    part_labels=grading.PART_LABELS,
    torch_form=torch_form,
    quick=quick,
    own_steps=own_steps,
    slow_part=symbolic_work,
)

__all__ = [
    "TASK",
    "GraphAnswer",
    "GraphNode",
    "GraphProblem",
    "GraphSolution",
    "example",
    "solve",
    "solve_batch",
]
