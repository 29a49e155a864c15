"""The conv task's record (solvers/tasks/conv/__init__.py): the homework example and the
TASK whose parts agree."""

from __future__ import annotations

from solvers.tasks.conv import TASK, example
from tests.solvers.tasks.records import check_record


def test_the_record_holds_together() -> None:
    check_record(TASK)


def test_the_homework_example_by_hand() -> None:
    answer = TASK.solve(example()).answer
    # windows at (0,0), (0,2), (2,0), (2,2): -1·top + (left+centre+right) - 1·bottom
    assert answer.conv == [[[-2 + 5 - 2, -4 + 3 - 1], [-2 + 6 - 1, -1 + 3 - 1]]]
    assert answer.activation == [[[1, 0], [3, 1]]]
    assert answer.pool == answer.output == [[[3]]]
    assert answer.shapes.conv == [1, 2, 2] and answer.shapes.output == [1, 1, 1]
