"""The tasks stepgrad knows, in the order the home page lists them."""

from dataclasses import replace
from functools import partial

from solvers import conv, grading, graph, loss
from solvers.core import Task
from solvers.variants import GENERATORS

TASKS: dict[str, Task] = {
    task.id: replace(
        task, generate=GENERATORS[task.id].generate, grade=partial(grading.grade, task.id)
    )
    for task in (loss.TASK, graph.TASK, conv.TASK)
}
