"""Submissions graded together: equal to grading each alone, a malformed one isolated."""

from __future__ import annotations

from typing import Any

import pytest

from app.classroom import grading
from app.classroom.grading import AnswerError, Submitted, grade_many, stored_problem
from solvers.grading.batch import grade
from solvers.grading.core import Tolerance
from solvers.registry import TASKS
from solvers.variants.sets import quiz_spec, regenerate_many
from tests.app.classroom.helpers import SPEC, log10_loss, right

TASK_IDS = ("loss", "graph", "conv")


def _problems(n: int) -> list[dict[str, Any]]:
    spec = quiz_spec().model_validate(SPEC)
    made = {t: regenerate_many(t, spec, 11, list(range(1, n + 1))) for t in TASK_IDS}
    return [{t: stored_problem(t, made[t][i].model_dump(mode="json")) for t in TASK_IDS}
            for i in range(n)]  # fmt: skip


def _answers(problems: dict[str, Any], kind: int) -> dict[str, Any]:
    data = {t: p.model_dump(mode="json") for t, p in problems.items()}
    if kind == 0:
        return {t: right(t, data[t]) for t in TASK_IDS}
    if kind == 1:
        return {"loss": log10_loss(data["loss"]), "graph": right("graph", data["graph"])}
    return {"conv": right("conv", data["conv"])}


def test_submissions_grade_in_one_batch_per_task_equal_to_one_by_one(monkeypatch) -> None:
    problems = _problems(9)
    tolerance = Tolerance(absolute=0.05)
    submitted = [Submitted(TASK_IDS, p, _answers(p, i % 3), tolerance)
                 for i, p in enumerate(problems)]  # fmt: skip
    batches: list[int] = []
    real = grading.grade_batch

    def counted(task: str, problems: Any, *rest: Any) -> Any:
        batches.append(len(problems))
        return real(task, problems, *rest)

    monkeypatch.setattr(grading, "grade_batch", counted)
    results = grade_many(submitted)
    assert batches == [9, 9, 9]
    for one, got in zip(submitted, results, strict=True):
        for task in TASK_IDS:
            alone = grade(task, one.problems[task], one.answers.get(task, {}), tolerance)
            assert got[task].model_dump() == alone.model_dump()


def test_each_submission_gets_its_own_grade_or_error() -> None:
    problems = _problems(12)
    answers = [_answers(p, i % 3) for i, p in enumerate(problems)]
    answers[5]["loss"] = {"loss": "not a number"}
    tolerances = [None, Tolerance(absolute=0.5)]
    results = grade_many(
        [
            Submitted(TASK_IDS, p, a, tolerances[i % 2])
            for i, (p, a) in enumerate(zip(problems, answers, strict=True))
        ]
    )
    assert isinstance(results[5], AnswerError) and results[5].task == "loss"
    assert results[5].error.errors()[0]["loc"][0] == "loss"
    for i, got in enumerate(results):
        if i == 5:
            continue
        for task in TASK_IDS:
            alone = grade(task, problems[i][task], answers[i].get(task, {}), tolerances[i % 2])
            assert got[task].model_dump() == alone.model_dump(), (i, task)


def test_stored_problems_are_validated_once() -> None:
    data = _problems(1)[0]["conv"].model_dump(mode="json")
    assert stored_problem("conv", data) is stored_problem("conv", dict(reversed(data.items())))
    with pytest.raises(ValueError):
        stored_problem("conv", {**data, "stride": -1})
    assert isinstance(stored_problem("conv", data), TASKS["conv"].problem_model)
