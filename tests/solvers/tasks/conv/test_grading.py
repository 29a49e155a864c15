"""The conv task's grading (solvers/tasks/conv/grading.py): maps as typed, the stages a
problem has, the wrong pooling window a student takes, answer cells, the hand method."""

from __future__ import annotations

import pytest
from pydantic_core import PydanticCustomError

from solvers.core import hand_rounder
from solvers.tasks.conv import ConvProblem, PoolSpec, example, solve
from solvers.tasks.conv.compute import ConvBatch
from solvers.tasks.conv.grading import (
    ConvSubmission,
    answer_cells,
    answer_from_cells,
    hand,
    part_label,
    shapes,
    try_parts,
    values,
    wrong_window,
)

FLAT = ConvProblem(image="1 2 3; 4 5 6; 7 8 9", filters="1 0; 0 1", activation="none", pool=None)
"""No ReLU, no pooling: conv[i,j] = x[i,j] + x[i+1,j+1]."""


def test_maps_as_typed() -> None:
    typed = ConvSubmission.model_validate({"conv": "1 -2\n3 1", "pool": 3})
    assert typed.conv == [[[1, -2], [3, 1]]] and typed.pool == [[[3]]]
    assert typed.activation is None


def test_the_stages_a_problem_has() -> None:
    assert shapes(example()) == {"conv": (1, 2, 2), "activation": (1, 2, 2), "pool": (1, 1, 1)}
    assert shapes(FLAT) == {"conv": (1, 2, 2)}
    assert try_parts(example()) == ["conv", "activation", "pool"] and try_parts(FLAT) == ["conv"]
    given, extra = values(FLAT, ConvSubmission(conv=[[[6, 8], [12, 14]]], pool=[[[1]]]))
    assert given == {"conv": [[[6, 8], [12, 14]]]}
    [(part, error, value)] = extra
    assert part == "pool" and value == [[[1]]]
    assert error.message() == "this problem has no pool stage"


def test_the_wrong_window_a_student_takes() -> None:
    def window(pool: PoolSpec | None, filters: str = "1 0 0; 0 1 0; 0 0 1") -> tuple | None:
        image = [[float(i + j) for j in range(8)] for i in range(8)]
        return wrong_window(ConvBatch.of([ConvProblem(image=image, filters=filters, pool=pool)]))

    assert window(PoolSpec(kind="max", size=2, stride=1)) == (1, 1)  # the stride
    assert window(PoolSpec(kind="max", size=2)) == (3, 3)  # else the filter's size
    assert window(PoolSpec(kind="max", size=3)) == (4, 4)  # else one cell more
    assert window(None) is None


def test_cells_of_the_key_read_back() -> None:
    cells = answer_cells(solve(example()).answer)
    assert [c.column for c in cells[:2]] == ["conv[1,1]", "conv[1,2]"]
    assert cells[-1].column == "pool[1,1]" and cells[-1].value == 3
    assert cells[-1].label == "\\text{pool}_{1,1}"
    submission = answer_from_cells({c.column: str(c.value) for c in cells} | {"student": "s1"})
    assert submission["conv"] == [[["1.0", "-2.0"], ["3.0", "1.0"]]]
    several = answer_from_cells({"pool[2, 1,1]": "4", "pool[1,1,1]": "3"})
    assert several == {"pool": [[["3"]], [["4"]]]}  # map, row, column
    with pytest.raises(PydanticCustomError, match="counted from 1"):
        answer_from_cells({"pool[0,1]": "4"})


def test_labels_as_the_lecture_writes_them() -> None:
    assert [part_label(p) for p in ("conv", "activation", "pool[1,2]")] == [
        "conv",
        "ReLU",
        "pool[1,2]",
    ]


def test_the_hand_method_rounds_every_average() -> None:
    problem = ConvProblem(
        image="1 0 0; 0 0 0; 0 0 1", filters="1", activation="none",
        pool={"kind": "avg", "size": 3},
    )  # fmt: skip
    worked = hand(ConvBatch.of([problem]), hand_rounder(2))
    assert worked["pool"].tolist() == [[[[0.22]]]]  # 2/9 = 0.2222…
    assert solve(problem).answer.pool[0][0][0] == pytest.approx(2 / 9)
