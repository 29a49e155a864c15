"""The loss task's record (solvers/tasks/loss/__init__.py): the lecture's example and the
TASK whose parts agree."""

from __future__ import annotations

import numpy as np
import pytest

from solvers.tasks.loss import TASK, example
from tests.solvers.tasks.records import check_record


def test_the_record_holds_together() -> None:
    check_record(TASK)


def test_the_lecture_example_by_hand() -> None:
    problem = example()
    assert problem.class_names == ["cat", "car", "frog"] and problem.examples == "columns"
    answer = TASK.solve(problem).answer
    # cat: max(0, 5.1-3.2+1) + max(0, -1.7-3.2+1); car: 0; frog: (2.2+3.1+1) + (2.5+3.1+1)
    assert answer.per_example == pytest.approx([2.9, 0.0, 12.9])
    assert answer.loss == pytest.approx(15.8 / 3)
    # each positive margin: +1/N for its class, -1/N for the correct one
    third = 1 / 3
    expected = [[-third, 0, third], [third, 0, third], [0, 0, -2 * third]]
    assert np.allclose(answer.grad_scores, expected)
