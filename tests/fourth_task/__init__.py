"""A fourth task defined entirely inside the tests: a linear layer s = Wx + b.

It is the worked example of docs/architecture.md: a problem model, one torch computation
(:func:`scores`) that the solver, the batch solver, the generator and the grader all call,
a named mistake (the bias forgotten) as that same computation with one override, the answer
cells; registered with :func:`solvers.registry.register`, the app serves it with its generic
views and templates.
"""

from tests.fourth_task.task import TASK

__all__ = ["TASK"]
