"""The loss problem (solvers/tasks/loss/problem.py): what people type accepted, the layout
of examples, every inconsistency a 422 naming its field."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from solvers.tasks.loss.problem import MAX_ABS, MAX_NAME_LENGTH, LossProblem, transpose


def test_text_as_typed() -> None:
    problem = LossProblem.model_validate(
        {"scores": "3.2 1.3; 5.1 4.9; -1.7 2", "labels": "0 1", "class_names": "cat, car, frog",
         "margin": "0,5", "reg": "−0", "weights": "1 -2"}
    )  # fmt: skip
    assert problem.scores == [[3.2, 1.3], [5.1, 4.9], [-1.7, 2.0]]
    assert problem.labels == [0, 1] and problem.class_names == ["cat", "car", "frog"]
    assert problem.margin == 0.5 and problem.reg == 0 and problem.weights == [[1.0, -2.0]]
    assert LossProblem(scores=[[1], [2]], labels=[0], class_names="a b").class_names == ["a", "b"]


def test_columns_or_rows() -> None:
    columns = LossProblem(scores=[[1, 2, 3], [4, 5, 6]], labels=[0, 1, 1])
    assert (columns.n_examples, columns.n_classes) == (3, 2)
    assert columns.rows() == [[1, 4], [2, 5], [3, 6]]
    rows = LossProblem(scores=[[1, 2, 3], [4, 5, 6]], labels=[2, 0], examples="rows")
    assert (rows.n_examples, rows.n_classes) == (2, 3) and rows.rows() == rows.scores
    assert transpose(transpose(rows.scores)) == rows.scores


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"labels": [0]}, "one label per example is needed"),
        ({"labels": [0, 2]}, "but there are only 2 classes (0 … 1)"),
        ({"labels": [0, 0.5]}, "labels are class numbers"),
        ({"class_names": ["cat"]}, "one name per class is needed"),
        ({"class_names": ["cat", " "]}, "class name 2 is empty"),
        ({"class_names": ["cat", "x" * (MAX_NAME_LENGTH + 1)]}, "longer than 40 characters"),
        ({"reg": 0.1}, "needs the weights W"),
        ({"scores": [[1, 2], [3, 2 * MAX_ABS]]}, "row 2, column 2: 2e+12 is too large"),
        ({"margin": -1}, "greater than or equal to 0"),
        ({"loss": "hinge"}, "'svm' or 'softmax'"),
        ({"extra": 1}, "Extra inputs are not permitted"),
    ],
)
def test_inconsistent_problems_are_refused(changes: dict[str, Any], fragment: str) -> None:
    data = {"scores": [[1, 2], [3, 4]], "labels": [0, 1], **changes}
    with pytest.raises(ValidationError) as caught:
        LossProblem.model_validate(data)
    assert fragment in str(caught.value)


def test_an_empty_weights_text_is_no_weights() -> None:
    assert LossProblem(scores=[[1], [2]], labels=[1], weights=" ").weights is None
