"""A task record (``TASK`` of ``solvers/tasks/<task>/__init__.py``) checked whole: the
example solves, the record's parts agree with each other (each task's test_init.py)."""

from __future__ import annotations

from typing import Any

from solvers.core import NumberFormat, Solution, Task
from solvers.grading.batch import grade
from solvers.registry import get_task
from solvers.variants.rng import CounterRng


def check_record(task: Task) -> Any:
    """Check ``task``'s record; return its example's solution."""
    assert get_task(task.id) is task
    example = task.example()
    assert isinstance(example, task.problem_model)
    solution = task.solve(example, NumberFormat())
    assert isinstance(solution, task.solution_model) and isinstance(solution, Solution)
    assert isinstance(solution.answer, task.answer_model)
    assert solution.steps, "a worked solution has steps"
    [batched] = task.solve_batch([example], "cpu")
    assert batched.model_dump() == solution.answer.model_dump()
    # the key's cells, read back as a submission, get full marks
    cells = task.answer_cells(solution.answer)
    assert cells and len({c.column for c in cells}) == len(cells)
    submission = task.answer_from_cells({c.column: repr(c.value) for c in cells})
    marks = grade(task.id, example, submission)
    assert marks.score == marks.max_score > 0
    assert set(task.try_parts(example)) <= set(task.part_labels)
    assert task.spec_model.model_validate({}) is not None  # every spec field has a default
    generated = task.generator.generate(CounterRng.of_key(1), task.spec_model())
    assert isinstance(generated, task.problem_model)
    return solution
