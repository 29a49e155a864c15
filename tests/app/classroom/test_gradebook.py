"""The gradebook's arithmetic and layouts (app/classroom/gradebook.py): marks scaled to the
exam's points, the CSV and Moodle layouts, the analytics of what the class got wrong."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from app.classroom.gradebook import (
    Gradebook,
    GradebookRow,
    PartMark,
    Scale,
    analytics,
    exam_part_label,
    gradebook_csv,
    moodle_csv,
)


def _row(sid: str, score: float | None, parts: dict[str, PartMark]) -> GradebookRow:
    at = datetime(2026, 12, 3, 8, 0, tzinfo=UTC) if score is not None else None
    max_score = None if score is None else sum(p.max_score for p in parts.values())
    return GradebookRow(
        sid, f"Student {sid}", f"{sid}@x.org", 1, at, int(score is not None), score, max_score,
        parts,
    )  # fmt: skip


def _book() -> Gradebook:
    right = PartMark(2.0, 2.0, "right")
    log10 = PartMark(0.0, 2.0, "wrong", "loss.log10")
    carried = PartMark(0.5, 2.0, "consistent")
    return Gradebook(
        students=[
            _row("s1", 4.0, {"loss.per_example": right, "loss.loss": right}),
            _row("s2", 0.5, {"loss.per_example": log10, "loss.loss": carried}),
            _row("s3", None, {}),
        ]
    )


def test_a_part_is_scaled_to_its_points_or_its_groups() -> None:
    scale = Scale({"loss.loss": 4.0, "graph.gradients": 3.0})
    assert scale.mark("loss.loss", 1, 2, "wrong", None) == PartMark(2.0, 4.0, "wrong")
    assert scale.mark("graph.gradients.w0", 1, 1, "right", None).max_score == 3.0
    mark = scale.mark("loss.per_example", 0, 3, "wrong", "log10")
    assert mark.misconception == "loss.log10" and mark.max_score == 3.0  # the grader's own
    assert scale.mark("loss.loss", 1, 2, "wrong", None) is scale.mark(
        "loss.loss", 1, 2, "wrong", None
    )


def test_a_submissions_marks_add_up() -> None:
    summary = {"loss.per_example": [1, 2, "wrong", None], "loss.loss": [1, 1, "right", None]}
    score, max_score, parts = Scale({"loss.loss": 5}).marks(summary)
    assert (score, max_score) == (1 + 5, 2 + 5)
    assert parts["loss.loss"] == PartMark(5.0, 5.0, "right")


def test_the_csv_has_a_column_per_part_and_blank_cells_for_no_submission() -> None:
    rows = list(csv.DictReader(io.StringIO(gradebook_csv(_book()))))
    assert [r["student"] for r in rows] == ["s1", "s2", "s3"]
    assert rows[1]["score"] == "0.5" and rows[1]["loss.loss"] == "0.5"
    assert rows[0]["submitted_at"].startswith("2026-12-03T08:00")
    assert rows[2]["score"] == rows[2]["loss.loss"] == rows[2]["submitted_at"] == ""


def test_moodle_reads_id_number_email_and_the_grade() -> None:
    rows = list(csv.reader(io.StringIO(moodle_csv(_book(), "Quiz 5"))))
    assert rows[0] == ["ID number", "Email address", "Quiz 5"]
    assert rows[1:] == [["s1", "s1@x.org", "4"], ["s2", "s2@x.org", "0.5"], ["s3", "s3@x.org", ""]]


def test_analytics_count_submitted_scores_verdicts_and_mistakes() -> None:
    stats = analytics(_book())
    assert (stats.students, stats.submitted) == (3, 2)
    assert [b.count for b in stats.score_histogram] == [
        0,
        1,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        1,
    ]  # 12.5 % and 100 %
    assert stats.score_histogram[0].from_ == 0 and stats.score_histogram[-1].to == 100
    assert stats.parts["loss.loss"] == {"right": 1, "consistent": 1, "wrong": 0, "blank": 0}
    [mistake] = stats.misconceptions
    assert (mistake.id, mistake.count, mistake.students) == ("loss.log10", 1, ["s2"])
    assert mistake.title


def test_part_labels_as_the_lecture_writes_them() -> None:
    assert exam_part_label("loss.per_example") != "loss.per_example"
    assert exam_part_label("gone.part") == "gone.part"  # a task not registered now
