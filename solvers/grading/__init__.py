"""Grading: "check my answer" with per-part marks, named misconceptions and error carried
forward, for one submission, a list, or a million as tensors (see :mod:`.core` for the
scoring rules and the default tolerance)."""

from solvers.grading.batch import (
    GRADERS,
    MISCONCEPTIONS,
    grade,
    grade_batch,
    grade_bulk,
    problem_batch,
)
from solvers.grading.conv import ConvBatch, ConvSubmission
from solvers.grading.core import (
    BulkGrade,
    Grade,
    Misconception,
    PartGrade,
    Tolerance,
    ToleranceRule,
    grades,
)
from solvers.grading.graph import GraphBatch, GraphSubmission
from solvers.grading.loss import LossBatch, LossSubmission

SUBMISSION_MODELS = {task: grader.submission_model for task, grader in GRADERS.items()}
"""Each task's submission (answer) schema."""

__all__ = [
    "GRADERS",
    "MISCONCEPTIONS",
    "SUBMISSION_MODELS",
    "BulkGrade",
    "ConvBatch",
    "ConvSubmission",
    "Grade",
    "GraphBatch",
    "GraphSubmission",
    "LossBatch",
    "LossSubmission",
    "Misconception",
    "PartGrade",
    "Tolerance",
    "ToleranceRule",
    "grade",
    "grade_batch",
    "grade_bulk",
    "grades",
    "problem_batch",
]
