"""Grading many students' submissions at once: the tasks of every submission given are graded
together, one vectorized :func:`solvers.grading.batch.grade_batch` per task and tolerance
for up to :data:`MAX_BATCH` of them, instead of a grade of one at a time each (the tensor
engine's cost is per batch, not per row). A batch that does not grade (a malformed answer
among them) is graded one by one, so every submission gets its own grade or error.
The grades equal those of :func:`solvers.grading.batch.grade` (``POST /api/v1/{task}/grade``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain
from typing import Any, NamedTuple

from pydantic import BaseModel, ValidationError

from solvers.grading.batch import grade, grade_batch
from solvers.grading.core import Grade, Tolerance
from solvers.registry import TASKS

MAX_BATCH = 512
"""Most submissions of one task graded in one batch."""


@lru_cache(maxsize=8192)
def _problem(task: str, stored: str) -> BaseModel:
    return TASKS[task].problem_model.model_validate_json(stored)


def stored_problem(task: str, data: dict[str, Any]) -> BaseModel:
    """A stored problem (JSON data) as the task's model, validated once per worker for each
    distinct problem (a student's variant never changes; bounded)."""
    return _problem(task, json.dumps(data, sort_keys=True, separators=(",", ":")))


@lru_cache(maxsize=8192)
def stored_problems(stored: str) -> dict[str, BaseModel]:
    """A student's problems as the database holds them (the JSON text of ``{task: problem}``)
    as the tasks' models, read once per worker for each student (bounded)."""
    return {task: stored_problem(task, data) for task, data in json.loads(stored).items()}


class AnswerError(Exception):
    """A task's answer that does not grade; ``error`` names its malformed parts."""

    def __init__(self, task: str, error: ValidationError) -> None:
        super().__init__(task, str(error))
        self.task = task
        self.error = error


@dataclass
class _Job:
    """One task of one submission, waiting for its grade."""

    task: str
    problem: BaseModel
    answer: Any
    tolerance: Tolerance | None
    grade: Grade | None = None
    error: Exception | None = None

    @property
    def key(self) -> tuple[str, str]:
        """Jobs of one key grade in one batch: same task, same tolerance."""
        rule = self.tolerance.model_dump_json(exclude_unset=True) if self.tolerance else ""
        return self.task, rule


class Submitted(NamedTuple):
    """One submission to grade: its tasks, each task's problem, the answers (a task not
    answered is graded blank), the tolerance."""

    tasks: Sequence[str]
    problems: dict[str, BaseModel]
    answers: dict[str, Any]
    tolerance: Tolerance | None


def grade_many(submissions: Sequence[Submitted]) -> list[dict[str, Grade] | Exception]:
    """Each submission's grade of each task, or its error: :class:`AnswerError` for its
    first malformed answer, or the exception its grading raised."""
    jobs = [[_Job(t, s.problems[t], s.answers.get(t, {}), s.tolerance) for t in s.tasks]
            for s in submissions]  # fmt: skip
    groups: dict[tuple[str, str], list[_Job]] = {}
    for job in chain.from_iterable(jobs):
        groups.setdefault(job.key, []).append(job)
    for group in groups.values():
        for start in range(0, len(group), MAX_BATCH):
            _grade_group(group[start : start + MAX_BATCH])
    return [_outcome(own) for own in jobs]


def _outcome(jobs: list[_Job]) -> dict[str, Grade] | Exception:
    for job in jobs:
        if isinstance(job.error, ValidationError):
            return AnswerError(job.task, job.error)
        if job.error is not None:
            return job.error
    return {job.task: job.grade for job in jobs}  # type: ignore[misc]


def _grade_group(jobs: list[_Job]) -> None:
    """Grade jobs of one task and tolerance in one batch; one by one when there is one job,
    or when the batch does not grade (a malformed answer: each job gets its own outcome)."""
    if len(jobs) > 1 and _grade_together(jobs):
        return
    for job in jobs:
        try:
            job.grade = grade(job.task, job.problem, job.answer, job.tolerance)
        except Exception as exc:  # handed to the job's own submission
            job.error = exc


def _grade_together(jobs: list[_Job]) -> bool:
    """Grade the jobs in one batch; False when it does not grade."""
    first = jobs[0]
    try:
        results = grade_batch(first.task, [j.problem for j in jobs],
                              [j.answer for j in jobs], first.tolerance, "cpu")  # fmt: skip
    except Exception:  # the jobs are graded one by one instead
        return False
    for job, result in zip(jobs, results, strict=True):
        job.grade = result
    return True
