"""Grading many students' submissions at once: the submissions that arrive while others are
being graded wait for the running batch to end and are then graded together, one
vectorized :func:`solvers.grading.batch.grade_batch` per task and tolerance, instead of a
grade of one at a time each (the tensor engine's cost is per batch, not per row).

No timer and no thread of its own: the first request to find nobody grading grades
everything queued, again and again until the queue is empty, and hands each request its
own grade; a request alone is graded at once. A batch that does not grade (a malformed
answer among them) is graded one by one, so every request gets its own grade or error.
The grades equal those of :func:`solvers.grading.batch.grade` (``POST /api/v1/{task}/grade``).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

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
    done: threading.Event = field(default_factory=threading.Event)
    grade: Grade | None = None
    error: Exception | None = None

    @property
    def key(self) -> tuple[str, str]:
        """Jobs of one key grade in one batch: same task, same tolerance."""
        rule = self.tolerance.model_dump_json(exclude_unset=True) if self.tolerance else ""
        return self.task, rule


class GradingQueue:
    """Submissions of concurrent requests graded together (see the module's docstring)."""

    def __init__(self, limit: int = MAX_BATCH) -> None:
        self._lock = threading.Lock()
        self._queue: list[_Job] = []
        self._grading = False
        self._limit = limit

    def grade(
        self, tasks: Sequence[str], problems: dict[str, BaseModel], answers: dict[str, Any],
        tolerance: Tolerance | None,
    ) -> dict[str, Grade]:  # fmt: skip
        """Each task's grade of one submission (a task not answered is graded blank); the
        first malformed answer is raised as :class:`AnswerError`."""
        jobs = [_Job(t, problems[t], answers.get(t, {}), tolerance) for t in tasks]
        with self._lock:
            self._queue.extend(jobs)
            lead = not self._grading
            self._grading = True
        if lead:
            try:
                self._drain()
            except BaseException:
                with self._lock:
                    self._grading = False  # the next request leads (and grades the rest)
                raise
        for job in jobs:
            job.done.wait()
        for job in jobs:
            if isinstance(job.error, ValidationError):
                raise AnswerError(job.task, job.error) from None
            if job.error is not None:
                raise job.error
        return {job.task: job.grade for job in jobs}  # type: ignore[misc]

    def _drain(self) -> None:
        """Grade what is queued until nothing is (the leader's loop)."""
        while True:
            with self._lock:
                taken, self._queue = self._queue[: self._limit], self._queue[self._limit :]
                if not taken:
                    self._grading = False
                    return
            groups: dict[tuple[str, str], list[_Job]] = {}
            for job in taken:
                groups.setdefault(job.key, []).append(job)
            for group in groups.values():
                _grade_group(group)


def _grade_group(jobs: list[_Job]) -> None:
    """Grade jobs of one task and tolerance in one batch; one by one when there is one job,
    or when the batch does not grade (a malformed answer: each job gets its own outcome)."""
    try:
        if len(jobs) > 1 and _grade_together(jobs):
            return
        for job in jobs:
            try:
                job.grade = grade(job.task, job.problem, job.answer, job.tolerance)
            except Exception as exc:  # handed to the job's own request
                job.error = exc
    finally:
        for job in jobs:
            job.done.set()


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


QUEUE = GradingQueue()
"""The worker's queue (one per process)."""
