"""The loss task's problem: scores, labels and options, validated; the answer models."""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from solvers.core import N_, Solution
from solvers.matrix import (
    MatrixText,
    coerce_matrix,
    coerce_vector,
    listed,
    matrix_input,
    number_input,
)

MAX_SIDE = 100
"""At most this many examples and this many classes (and rows and columns of W)."""
MAX_ABS = 1e12
"""Largest magnitude of a score, weight, margin or λ: keeps every result finite."""
MAX_NAME_LENGTH = 40
"""Longest class name."""
LN_BASE = {"e": 1.0, "10": math.log(10.0), "2": math.log(2.0)}
"""The natural logarithm of each softmax log base."""


def _error(template: str, **context: Any) -> PydanticCustomError:
    return PydanticCustomError("loss", template, context)


def _bounded_matrix(value: Any) -> list[list[float]]:
    matrix = coerce_matrix(value, MAX_SIDE, MAX_SIDE)
    for r, row in enumerate(matrix, start=1):
        for c, x in enumerate(row, start=1):
            if abs(x) > MAX_ABS:
                raise _error(
                    N_("row {row}, column {col}: {value} is too large; at most {limit} in size"),
                    row=r,
                    col=c,
                    value=f"{x:g}",
                    limit=f"{MAX_ABS:g}",
                )
    return matrix


def _optional_matrix(value: Any) -> list[list[float]] | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return _bounded_matrix(value)


def _labels(value: Any) -> list[int]:
    labels = []
    for i, x in enumerate(coerce_vector(value, MAX_SIDE), start=1):
        if not x.is_integer():
            raise _error(
                N_("the label of example {i} is {label}; labels are class numbers 0, 1, 2, …"),
                i=i,
                label=x,
            )
        labels.append(int(x))
    return labels


def _class_names(value: Any) -> list[str] | None:
    if isinstance(value, str):
        value = value.split(",") if "," in value else value.split()
    if not value:
        return None
    if not isinstance(value, list):
        return value  # pydantic reports the wrong type
    names = [v.strip() if isinstance(v, str) else v for v in value]
    for i, name in enumerate(names, start=1):
        if isinstance(name, str) and not name:
            raise _error(N_("class name {index} is empty"), index=i)
        if isinstance(name, str) and len(name) > MAX_NAME_LENGTH:
            raise _error(
                N_("class name {index} is longer than {limit} characters"),
                index=i,
                limit=MAX_NAME_LENGTH,
            )
    return names


def _decimal(value: Any) -> Any:
    """Accept a decimal comma and a typographic minus in a number typed as text."""
    if isinstance(value, str):
        return value.strip().replace(",", ".").replace("\u2212", "-")
    return value


_MATRIX_INPUT = matrix_input(MAX_SIDE, MAX_SIDE, MAX_ABS)
Matrix = Annotated[
    list[list[float]], BeforeValidator(_bounded_matrix, json_schema_input_type=_MATRIX_INPUT)
]
OptionalMatrix = Annotated[
    list[list[float]] | None,
    BeforeValidator(_optional_matrix, json_schema_input_type=_MATRIX_INPUT | None),
]
Labels = Annotated[
    list[int],
    BeforeValidator(
        _labels,
        json_schema_input_type=listed(Annotated[int, Field(ge=0, lt=MAX_SIDE)], MAX_SIDE)
        | MatrixText,
    ),
]
_NAME = Annotated[str, Field(min_length=1, max_length=MAX_NAME_LENGTH, pattern=r"\S")]
ClassNames = Annotated[
    list[str] | None,
    BeforeValidator(
        _class_names,
        json_schema_input_type=listed(_NAME, MAX_SIDE)
        | Annotated[str, Field(max_length=MAX_SIDE * (MAX_NAME_LENGTH + 2))]
        | None,
    ),
]
Decimal = Annotated[
    float, BeforeValidator(_decimal, json_schema_input_type=number_input(0, MAX_ABS))
]
"""A number ≥ 0 (at most :data:`MAX_ABS`), also typed as text with a decimal comma."""


class LossProblem(BaseModel):
    """A score matrix, the correct class of each example, and the loss to compute."""

    model_config = ConfigDict(extra="forbid")

    scores: Matrix = Field(
        examples=[
            [[3.2, 5.1, -1.7], [1.3, 4.9, 2.0], [2.2, 2.5, -3.1]],
            "3.2 5.1 -1.7; 1.3 4.9 2; 2.2 2.5 -3.1",
        ],
        description=(
            "Class scores: a matrix as nested lists or text ('3.2 1.3; 5.1 4.9'). With "
            f"examples='columns' rows are classes and columns are examples (the lecture's "
            f"table); with 'rows' it is N×C. At most {MAX_SIDE} examples × {MAX_SIDE} classes."
        ),
    )
    labels: Labels = Field(
        examples=[[0, 1, 2], "0 1 2"],
        description="The correct class of each example: 0-based class numbers ('0 1 2').",
    )
    class_names: ClassNames = Field(
        default=None,
        examples=[["cat", "car", "frog"], "cat, car, frog"],
        description=(
            "Optional names of the classes in order, as a list or text ('cat, car, frog'), "
            f"at most {MAX_NAME_LENGTH} characters each."
        ),
    )
    examples: Literal["columns", "rows"] = Field(
        default="columns",
        description=(
            "'columns': each column of scores is an example, rows are classes (the lecture); "
            "'rows': each row is an example (N×C, as in code)."
        ),
    )
    loss: Literal["svm", "softmax"] = Field(
        default="svm", description="'svm': multiclass hinge loss; 'softmax': cross-entropy."
    )
    margin: Decimal = Field(
        default=1.0,
        ge=0,
        le=MAX_ABS,
        allow_inf_nan=False,
        description="SVM margin Δ ≥ 0 in max(0, s_j − s_{y_i} + Δ).",
    )
    log_base: Literal["e", "10", "2"] = Field(
        default="e",
        description="Softmax logarithm base: 'e' (natural, the usual), '10' or '2'.",
    )
    reduction: Literal["mean", "sum"] = Field(
        default="mean", description="Data loss as the mean or the sum of the per-example losses."
    )
    reg: Decimal = Field(
        default=0.0,
        ge=0,
        le=MAX_ABS,
        allow_inf_nan=False,
        description="Regularization strength λ ≥ 0; λ > 0 needs weights.",
    )
    weights: OptionalMatrix = Field(
        default=None,
        examples=[[[0.2, -0.5], [1.5, 1.3]]],
        description=f"Weights W for the regularization term R(W) = ΣW², at most {MAX_SIDE}×"
        f"{MAX_SIDE}.",
    )
    reg_convention: Literal["l2", "half_l2"] = Field(
        default="l2",
        description="'l2': the regularization loss is λΣW²; 'half_l2': it is ½λΣW².",
    )

    @property
    def n_examples(self) -> int:
        """N, the number of examples."""
        return len(self.scores[0]) if self.examples == "columns" else len(self.scores)

    @property
    def n_classes(self) -> int:
        """C, the number of classes."""
        return len(self.scores) if self.examples == "columns" else len(self.scores[0])

    @model_validator(mode="after")
    def _consistent(self) -> LossProblem:
        n, c = self.n_examples, self.n_classes
        if len(self.labels) != n:
            raise _error(
                N_(
                    "one label per example is needed: the scores have {examples} examples, "
                    "labels given: {count}"
                ),
                count=len(self.labels),
                examples=n,
                field="labels",
            )
        for i, label in enumerate(self.labels, start=1):
            if not 0 <= label < c:
                raise _error(
                    N_(
                        "the label of example {i} is {label}, but there are only {classes} "
                        "classes (0 … {last})"
                    ),
                    i=i,
                    label=label,
                    classes=c,
                    last=c - 1,
                    field="labels",
                )
        if self.class_names is not None and len(self.class_names) != c:
            raise _error(
                N_(
                    "one name per class is needed: there are {classes} classes, "
                    "names given: {count}"
                ),
                count=len(self.class_names),
                classes=c,
                field="class_names",
            )
        if self.reg > 0 and self.weights is None:
            raise _error(
                N_("regularization λ = {reg} needs the weights W"), reg=self.reg, field="weights"
            )
        return self

    def rows(self) -> list[list[float]]:
        """The scores as N×C (one row per example) whatever the input layout."""
        return transpose(self.scores) if self.examples == "columns" else self.scores


class LossAnswer(BaseModel):
    """The losses and the gradient; matrices are in the layout of the input scores."""

    per_example: list[float] = Field(description="L_i for each example.")
    data_loss: float = Field(description="Mean (or sum) of the L_i.")
    reg_loss: float = Field(description="λΣW² or ½λΣW² (0 without regularization).")
    loss: float = Field(description="data_loss + reg_loss.")
    grad_scores: list[list[float]] = Field(
        description="dL/ds of the total loss, in the layout of the input scores."
    )
    probabilities: list[list[float]] | None = Field(
        default=None, description="Softmax: the class probabilities, in the layout of scores."
    )
    margins: list[list[float]] | None = Field(
        default=None,
        description="SVM: max(0, s_j − s_{y_i} + Δ), 0 at the correct class, layout of scores.",
    )


class LossSolution(Solution):
    """The loss task's answer and its worked steps."""

    task: Literal["loss"] = "loss"
    answer: LossAnswer


def transpose(matrix: list[list[float]]) -> list[list[float]]:
    return [list(column) for column in zip(*matrix, strict=True)]
