"""Grading by task id: one submission, a list of them, or a million as tensors.

:func:`grade_bulk` is the tensor-level path for whole-class or synthetic grading: the
problems arrive as a task's batch of tensors (built by :func:`problem_batch` or by a bulk
variant generator) and the submissions as
one tensor per part, NaN where missing; it returns score tensors, no Python object per
submission.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from solvers.core import HAND_DECIMALS, hand_rounder, resolve_device
from solvers.grading.core import (
    BulkGrade,
    Grade,
    PartResult,
    PartSpec,
    RowScore,
    TaskGrader,
    Tolerance,
    check_one,
    grade_many,
    grade_one,
    in_order,
    row_scores,
    score_many,
    score_parts,
    slice_batch,
    task_specs,
)
from solvers.registry import get_task

CPU_CHUNK = 1 << 16
"""Rows graded at once on the CPU (fits the cache-friendly range; more is not faster)."""
CUDA_CHUNK = 1 << 20
"""Rows graded at once on a GPU."""


def _grader(task_id: str) -> TaskGrader:
    return get_task(task_id).grader


def grade(task_id: str, problem: Any, submission: Any, tolerance: Tolerance | None = None) -> Grade:
    """Grade one submission (a submission model or JSON-like data) to a validated problem."""
    return grade_one(_grader(task_id), problem, submission, tolerance)


def check(task_id: str, problem: Any, submission: Any) -> bool:
    """Whether a submission can be graded later as it is (see :func:`check_one`): its
    malformed parts raise :func:`grade`'s ``ValidationError`` now."""
    return check_one(_grader(task_id), problem, submission)


def _device(device: Any) -> torch.device:
    return resolve_device(device if isinstance(device, str | None) else str(device.type))


def grade_batch(
    task_id: str,
    problems: Sequence[Any],
    submissions: Sequence[Any],
    tolerance: Tolerance | None = None,
    device: Any = None,
) -> list[Grade]:
    """Grade many submissions, one per problem, with vectorized torch over groups of
    problems that stack (``device`` None: ``STEPGRAD_DEVICE``). Equal to grading them one
    by one. A ``ValidationError`` locates each malformed part as ``(index, part, …)``."""
    return grade_many(_grader(task_id), problems, submissions, tolerance, _device(device))


def score_batch(
    task_id: str,
    problems: Sequence[Any],
    submissions: Sequence[Any],
    tolerance: Tolerance | None = None,
    device: Any = None,
    *,
    rounding: bool = False,
) -> list[RowScore]:
    """:func:`grade_batch`'s scores only (totals, and each listed part's score and
    misconception, and with ``rounding`` whether it is right only as worked by hand),
    without a grade model per submission: for a table of many."""
    grader = _grader(task_id)
    scored = score_many(grader, problems, submissions, tolerance, _device(device))
    return in_order(
        len(problems),
        scored,
        lambda bulk: row_scores(bulk, grader.misconceptions, rounding=rounding),
    )


def hand_answers(
    task_id: str, problems: Sequence[Any], answers: Sequence[Any], decimals: int = HAND_DECIMALS
) -> list[Any]:
    """Each answer (the task's answer model) with the parts the grader grades worked by hand,
    every intermediate value rounded to ``decimals`` (for a key: the value a student gets),
    computed on the CPU over groups of problems that stack."""
    grader = _grader(task_id)
    if grader.hand is None:
        return list(answers)
    groups: dict[Any, list[int]] = {}
    for i, problem in enumerate(problems):
        groups.setdefault(grader.group_key(problem), []).append(i)
    out = list(answers)
    for indices in groups.values():
        parts = grader.hand(
            grader.batch([problems[i] for i in indices], "cpu"), hand_rounder(decimals)
        )
        values = {name: t.tolist() for name, t in parts.items()}
        for row, i in enumerate(indices):
            update: dict[str, Any] = {}
            for name, rows in values.items():
                head, _, key = name.partition(".")
                if not hasattr(answers[i], head):
                    continue
                if key:
                    update.setdefault(head, dict(getattr(answers[i], head)))[key] = rows[row]
                else:
                    update[head] = rows[row]
            out[i] = answers[i].model_copy(update=update)
    return out


def problem_batch(task_id: str, problems: Sequence[Any], device: Any = "cpu") -> Any:
    """Validated problems that stack (equal ``group_key``) as the task's batch of tensors."""
    grader = _grader(task_id)
    keys = {grader.group_key(p) for p in problems}
    if len(keys) != 1:
        raise ValueError(f"the problems do not stack: {len(keys)} different shapes or settings")
    return grader.batch(problems, device)


def grade_bulk(
    task_id: str,
    batch: Any,
    given: dict[str, torch.Tensor],
    tolerance: Tolerance | None = None,
    device: Any = None,
    chunk: int | None = None,
) -> BulkGrade:
    """Grade B submissions to B problems of one group as tensors, misconceptions included.

    ``batch``: the task's batch of tensors; ``given``: one float64 tensor per part, shaped
    (B, *the part's shape), NaN where a part (or a graph node) is missing: loss
    ``per_example`` (B, N), ``loss`` (B,), ``grad_scores`` (B, *scores); graph ``output``
    (B,), ``gradients.<name>`` (B,), ``nodes`` (B, nodes); conv ``conv``, ``activation``,
    ``pool`` (B, K, H, W). Rows are graded ``chunk`` at a time on ``device``; the result
    stays there.
    """
    grader = _grader(task_id)
    tolerance = tolerance or Tolerance()
    device = _device(device)
    size = int(next(iter(given.values())).shape[0])
    chunk = chunk or (CUDA_CHUNK if device.type == "cuda" else CPU_CHUNK)
    pieces = []
    for start in range(0, size, chunk):
        stop = min(size, start + chunk)
        rows = slice_batch(batch, start, stop, device)
        part = {name: t[start:stop].to(device) for name, t in given.items()}
        specs = task_specs(grader, rows, part, tolerance)
        pieces.append(score_parts(grader.task, specs, tolerance))
    return _concatenate(pieces)


def _concatenate(pieces: list[BulkGrade]) -> BulkGrade:
    if len(pieces) == 1:
        return pieces[0]

    def cat(name: str, parts: list[Any]) -> torch.Tensor:
        return torch.cat([getattr(p, name) for p in parts])

    parts = []
    for k, first in enumerate(pieces[0].parts):
        results = [p.parts[k] for p in pieces]
        specs = [r.spec for r in results]
        spec = PartSpec(
            first.spec.name,
            first.spec.step_kind,
            cat("expected", specs),
            cat("given", specs),
            carried_from=first.spec.carried_from,
            optional=first.spec.optional,
            sparse=first.spec.sparse,
        )
        fields = ("score", "carried", "max_score", "correct", "consistent", "missing")
        fields += ("misconception", "cells", "graded", "shape_error", "rounding")
        fields += ("mistake",)
        tensors = {f: cat(f, results) for f in fields}
        parts.append(PartResult(spec, **tensors, decimals=first.decimals))
    return BulkGrade(
        task=pieces[0].task,
        score=cat("score", pieces),
        max_score=cat("max_score", pieces),
        carried_forward=cat("carried_forward", pieces),
        parts=parts,
        mistakes=pieces[0].mistakes,  # the chunks of one group have the same candidates
    )
