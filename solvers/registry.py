"""The tasks stepgrad knows, in the order the home page lists them."""

from solvers import conv, graph, loss
from solvers.core import Task

TASKS: dict[str, Task] = {task.id: task for task in (loss.TASK, graph.TASK, conv.TASK)}
