"""The classroom's tables (app/classroom/models.py): a part's verdict, the summary the
gradebook reads, kept in step with a submission's grades."""

from __future__ import annotations

from datetime import UTC

from app.classroom.models import Submission, now, summarize, verdict

GRADES = {
    "loss": {
        "parts": [
            {"name": "per_example", "score": 0, "max_score": 3, "correct": False,
             "given": [1, 2, 3], "misconception": "log10"},
            {"name": "loss", "score": 1, "max_score": 1, "correct": False, "given": 2.0,
             "consistent": True},
        ]
    },
    "graph": {
        "parts": [
            {"name": "value", "score": 1, "max_score": 1, "correct": True, "given": 0.73},
            {"name": "gradients.w0", "score": 0, "max_score": 1, "correct": False,
             "given": None},
        ]
    },
}  # fmt: skip


def test_verdicts() -> None:
    parts = [p for grade in GRADES.values() for p in grade["parts"]]
    assert [verdict(p) for p in parts] == ["wrong", "consistent", "right", "blank"]


def test_the_summary_names_each_part_by_task() -> None:
    assert summarize(GRADES) == {
        "loss.per_example": [0, 3, "wrong", "log10"],
        "loss.loss": [1, 1, "consistent", None],
        "graph.value": [1, 1, "right", None],
        "graph.gradients.w0": [0, 1, "blank", None],
    }


def test_a_submissions_summary_follows_its_grades() -> None:
    submission = Submission(attempt=1, answers={}, grades=GRADES)
    assert submission.summary == summarize(GRADES)
    submission.grades = None  # waiting for its grade again (a regrade after closing)
    assert submission.summary is None


def test_now_is_timezone_aware() -> None:
    assert now().tzinfo is UTC
