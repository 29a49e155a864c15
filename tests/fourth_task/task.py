"""The linear-layer task: s = Wx + b, with its steps, variants, grader and answer cells."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from solvers.core import N_, AnswerCell, NumberFormat, Solution, Step, Task
from solvers.grading.core import (
    F64,
    PartError,
    PartSpec,
    TaskGrader,
    catalogue,
    parse_vector,
)
from solvers.matrix import coerce_matrix, coerce_vector
from solvers.variants.base import Arrays, Generator
from solvers.variants.rng import CounterRng

MAX_SIDE = 8

# ---- problem -----------------------------------------------------------------------------


class LinearProblem(BaseModel):
    """A linear layer's scores s = Wx + b: W is K×D, x has D entries, b has K."""

    model_config = ConfigDict(extra="forbid")

    W: list[list[float]] = Field(description="Weights, K×D (text such as 1 2; 3 4 is fine).")
    x: list[float] = Field(description="The input, D numbers.")
    b: list[float] = Field(description="The bias, K numbers.")

    @field_validator("W", mode="before")
    @classmethod
    def _matrix(cls, value: Any) -> list[list[float]]:
        return coerce_matrix(value, MAX_SIDE, MAX_SIDE)

    @field_validator("x", "b", mode="before")
    @classmethod
    def _vector(cls, value: Any) -> list[float]:
        return coerce_vector(value, MAX_SIDE)

    @model_validator(mode="after")
    def _shapes(self) -> LinearProblem:
        if len(self.x) != len(self.W[0]) or len(self.b) != len(self.W):
            raise ValueError(f"W is {len(self.W)}×{len(self.W[0])}: x needs {len(self.W[0])} "
                             f"numbers and b {len(self.W)}")  # fmt: skip
        return self


class LinearAnswer(BaseModel):
    """The scores s, one per row of W."""

    s: list[float]


class LinearSolution(Solution):
    """The worked solution of a linear layer."""

    answer: LinearAnswer


# ---- the one computation -----------------------------------------------------------------


def scores(W: torch.Tensor, x: torch.Tensor, b: torch.Tensor, bias: bool = True) -> torch.Tensor:
    """s = Wx + b over a leading batch dimension: W (B, K, D), x (B, D), b (B, K) → (B, K).

    ``bias=False`` is the named mistake "bias forgotten": the same code without ``+ b``.
    """
    product = (W @ x.unsqueeze(-1)).squeeze(-1)
    return product + b if bias else product


def _tensors(problems: Sequence[LinearProblem], device: Any) -> tuple[torch.Tensor, ...]:
    f64 = {"dtype": F64, "device": device}
    return (
        torch.tensor([p.W for p in problems], **f64),
        torch.tensor([p.x for p in problems], **f64),
        torch.tensor([p.b for p in problems], **f64),
    )


def solve_batch(problems: Sequence[LinearProblem], device: Any) -> list[LinearAnswer]:
    """The answers of many problems (grouped by shape) with one batched computation each."""
    out: list[LinearAnswer | None] = [None] * len(problems)
    groups: dict[tuple[int, int], list[int]] = {}
    for i, p in enumerate(problems):
        groups.setdefault((len(p.W), len(p.x)), []).append(i)
    for indices in groups.values():
        s = scores(*_tensors([problems[i] for i in indices], device)).cpu().tolist()
        for i, row in zip(indices, s, strict=True):
            out[i] = LinearAnswer(s=row)
    return out  # type: ignore[return-value]


def solve(problem: LinearProblem, fmt: NumberFormat) -> LinearSolution:
    """s = Wx + b with the product and the bias as two steps."""
    W, x, b = _tensors([problem], "cpu")
    product = scores(W, x, b, bias=False)[0].tolist()
    s = scores(W, x, b)[0].tolist()
    rows = [
        " + ".join(f"{fmt.tex(w, paren=True)} \\cdot {fmt.tex(v, paren=True)}"
                   for w, v in zip(row, problem.x, strict=True))
        for row in problem.W
    ]  # fmt: skip
    steps = [
        Step(
            kind="linear.product",
            title=N_("The product Wx"),
            text=N_("Each row of W times x: {k} dot products of length {d}."),
            params={"k": len(problem.W), "d": len(problem.x)},
            formulas=[
                f"(Wx)_{{{i}}} = {r} = {fmt.tex(p)}"
                for i, (r, p) in enumerate(zip(rows, product, strict=True), 1)
            ],
            values={"Wx": product},
        ),
        Step(
            kind="linear.bias",
            title=N_("Add the bias"),
            text=N_("s = Wx + b, entry by entry."),
            formulas=[
                f"s_{{{i}}} = {fmt.tex(p)} + {fmt.tex(c, paren=True)} = {fmt.tex(v)}"
                for i, (p, c, v) in enumerate(zip(product, problem.b, s, strict=True), 1)
            ],
            values={"s": s},
        ),
    ]
    return LinearSolution(task="linear", answer=LinearAnswer(s=s), steps=steps)


def example() -> LinearProblem:
    """A 2×3 layer."""
    return LinearProblem(W=[[1, 2, 0], [-1, 0, 3]], x=[2, -1, 1], b=[0.5, -2])


# ---- variants ----------------------------------------------------------------------------


class LinearSpec(BaseModel):
    """How big the layer is and the range of its integers."""

    model_config = ConfigDict(extra="forbid")

    rows: int = Field(default=2, ge=1, le=MAX_SIDE, title="rows of W")
    cols: int = Field(default=3, ge=1, le=MAX_SIDE, title="columns of W")
    low: int = Field(default=-3, ge=-9, le=9, title="lowest entry")
    high: int = Field(default=3, ge=-9, le=9, title="highest entry")


class LinearGenerator(Generator):
    """Integer W, x and b; rule: not every score is 0."""

    task = "linear"
    rules: ClassVar[tuple[str, ...]] = (N_("every score is 0"),)

    def draw(self, rng: CounterRng, spec: LinearSpec) -> Arrays:
        """W (B, K, D), x (B, D), b (B, K), int16."""
        k, d = spec.rows, spec.cols
        return {
            "W": rng.integers(0, spec.low, spec.high, (k, d)),
            "x": rng.integers(1, spec.low, spec.high, (d,)),
            "b": rng.integers(2, spec.low, spec.high, (k,)),
        }

    def violations(self, arrays: Arrays, spec: LinearSpec) -> np.ndarray:
        """(B, 1): every score 0."""
        s = np.einsum("bkd,bd->bk", arrays["W"].astype(np.int64), arrays["x"]) + arrays["b"]
        return (s == 0).all(1)[:, None]

    def problems(self, arrays: Arrays, spec: LinearSpec) -> list[BaseModel]:
        """The pydantic problems."""
        return [
            LinearProblem(W=w, x=x, b=b)
            for w, x, b in zip(arrays["W"].tolist(), arrays["x"].tolist(),
                               arrays["b"].tolist(), strict=True)
        ]  # fmt: skip

    def solve_tensors(self, arrays: Arrays, spec: LinearSpec, device: Any) -> dict[str, Any]:
        """``s`` (B, K)."""
        W, x, b = (torch.from_numpy(arrays[n]).to(device, F64) for n in ("W", "x", "b"))
        return {"s": scores(W, x, b)}


# ---- grading -----------------------------------------------------------------------------

MISCONCEPTIONS = catalogue(
    (
        "bias_forgotten",
        N_("bias forgotten"),
        N_("This is Wx alone: the bias b must be added, s = Wx + b."),
        "linear.bias",
    ),
)


class LinearSubmission(BaseModel):
    """A student's scores (a list or text such as '1 2')."""

    model_config = ConfigDict(extra="forbid")

    s: list[float] | None = None

    @field_validator("s", mode="before")
    @classmethod
    def _s(cls, value: Any) -> list[float] | None:
        return None if value is None else parse_vector(value, "s")


@dataclass(frozen=True)
class LinearBatch:
    """Problems of one shape as tensors."""

    W: torch.Tensor
    x: torch.Tensor
    b: torch.Tensor


def _shapes(problem: LinearProblem) -> dict[str, tuple[int, ...]]:
    return {"s": (len(problem.W),)}


def _values(
    problem: LinearProblem, submission: LinearSubmission
) -> tuple[dict[str, Any], list[PartError]]:
    return submission.model_dump(), []


def _group_key(problem: LinearProblem) -> Hashable:
    return len(problem.W), len(problem.x)


def _batch(problems: Sequence[LinearProblem], device: Any) -> LinearBatch:
    return LinearBatch(*_tensors(problems, device))


def _specs(b: LinearBatch, given: dict[str, torch.Tensor]) -> list[PartSpec]:
    forgotten = scores(b.W, b.x, b.b, bias=False)
    return [
        PartSpec("s", "linear.bias", scores(b.W, b.x, b.b), given["s"],
                 [(GRADER.index("bias_forgotten"), forgotten)]),
    ]  # fmt: skip


GRADER = TaskGrader(
    task="linear",
    submission_model=LinearSubmission,
    misconceptions=MISCONCEPTIONS,
    shapes=_shapes,
    values=_values,
    group_key=_group_key,
    batch=_batch,
    specs=_specs,
)
PART_LABELS = {"s": N_("the scores s")}


def answer_cells(answer: LinearAnswer) -> list[AnswerCell]:
    """s₁ … s_K."""
    return [AnswerCell(f"s{i}", f"s_{{{i}}}", v) for i, v in enumerate(answer.s, 1)]


def answer_from_cells(cells: dict[str, str]) -> dict[str, Any]:
    """A submission from the columns ``s1`` … ``sK``."""
    s = {int(k[1:]): v for k, v in cells.items() if k[:1] == "s" and k[1:].isdigit()}
    return {"s": [s[i] for i in sorted(s)]} if s else {}


TASK = Task(
    id="linear",
    title=N_("Linear layer"),
    summary=N_("Scores s = Wx + b of a linear layer"),
    problem_model=LinearProblem,
    answer_model=LinearAnswer,
    solution_model=LinearSolution,
    solve=solve,
    solve_batch=solve_batch,
    example=example,
    spec_model=LinearSpec,
    generator=LinearGenerator(),
    grader=GRADER,
    answer_cells=answer_cells,
    answer_from_cells=answer_from_cells,
    try_parts=lambda problem: list(PART_LABELS),
    part_labels=PART_LABELS,
)
