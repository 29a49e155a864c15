"""The tasks stepgrad knows, in the order the home page lists them."""

from dataclasses import replace

from solvers import conv, graph, loss
from solvers.core import Task
from solvers.variants import GENERATORS

TASKS: dict[str, Task] = {
    task.id: replace(task, generate=GENERATORS[task.id].generate)
    for task in (loss.TASK, graph.TASK, conv.TASK)
}
