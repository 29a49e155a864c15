"""The tasks stepgrad knows, in the order the home page lists them: the only list of tasks.

Everything generic (routes, forms, try pages, the spec form, exports, CLI choices, batch
grading) iterates :data:`TASKS`; :func:`register` adds a task (a fourth one, or a test's).
The app reads the registry when :func:`app.main.create_app` builds it.
"""

from solvers.core import Task
from solvers.tasks import conv, graph, loss

TASKS: dict[str, Task] = {}
"""Task id → task, in the quiz's order."""


def register(task: Task) -> Task:
    """Add ``task`` to the registry (after the others); a task with its id is replaced."""
    TASKS[task.id] = task
    return task


def unregister(task_id: str) -> Task:
    """Remove the task ``task_id`` from the registry (a test's task, when the test ends)."""
    return TASKS.pop(task_id)


def get_task(task_id: str) -> Task:
    """The registered task ``task_id``; a ``ValueError`` names the known ones."""
    try:
        return TASKS[task_id]
    except KeyError:
        raise ValueError(f"unknown task {task_id!r}; tasks: {', '.join(TASKS)}") from None


for _task in (loss.TASK, graph.TASK, conv.TASK):
    register(_task)
