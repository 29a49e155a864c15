"""The ``graph`` task: forward and backward pass through the computational graph of a typed
function (parser in :mod:`.parser`, gates and passes in :mod:`.engine`, sympy in
:mod:`.symbolic`, models and steps in :mod:`.task`)."""

from solvers.graph.models import GraphAnswer, GraphNode, GraphProblem, GraphSolution
from solvers.graph.task import TASK, example, solve, solve_batch

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
