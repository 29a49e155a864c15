"""Per-task view code: one module per task, ``app/tasks/<task id>.py``, with its ``VIEW``.

A view says how a task's page form maps onto its problem (the form adapter), what its
page needs beyond the solution (the graph's SVG, the conv page's data), which answers a key
shows, how a try page's answer fields read, and any extra routes. A task without a module
gets :class:`TaskView` itself: one form field per problem field, the generic templates.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from fastapi import APIRouter

from app.forms import FormAdapter
from solvers.core import AnswerCell, NumberFormat


@dataclass(frozen=True)
class KeyItem:
    """One entry of the key's summary table: a LaTeX label and its cells as rows (a number
    is one row of one cell, a map its grid)."""

    label: str
    rows: list[list[AnswerCell]]

    @property
    def single(self) -> AnswerCell | None:
        """The cell of a one-number entry, else None."""
        return self.rows[0][0] if len(self.rows) == 1 and len(self.rows[0]) == 1 else None


@dataclass(frozen=True)
class TaskView:
    """How the app shows one task; the defaults suit a task with flat problem fields."""

    adapter: FormAdapter = field(default_factory=FormAdapter)
    multiline_answers: bool = False
    """Try page: each answer part is a text area (maps), not a one-line input."""
    text_answers: frozenset[str] = frozenset()
    """Try page: answer parts typed as text (``w0 = 1, …``) rather than as numbers."""
    router: APIRouter | None = None
    """Extra routes of the task (the app includes them)."""
    template_globals: Mapping[str, Callable[..., Any]] = field(default_factory=dict)
    """Functions the task's templates call (the app adds them to the template globals)."""

    def page_context(self, solution: Any, problem: Any, fmt: NumberFormat) -> dict[str, Any]:
        """What the task's page needs beyond the solution and the problem."""
        return {}

    def try_fields(self, problem: Any, fmt: NumberFormat) -> dict[str, list[tuple[str, str]]]:
        """Try page: optional parts answered in several small fields, shown before the task's
        try parts, as part → (key, LaTeX label) per field; a field's query name is
        ``<part>.<key>`` (none by default)."""
        return {}

    def text_fields(self, problem: Any, shapes: Mapping[str, tuple[int, ...]]) -> set[str]:
        """Try page: the answer fields (parts, or ``<part>.<key>`` of :meth:`try_fields`)
        typed as text, not as one number, so that a phone shows a keyboard with spaces and
        ``;``: the :attr:`text_answers` and the parts of several numbers (``shapes``, the
        grader's)."""
        return set(self.text_answers) | {part for part, shape in shapes.items() if shape}

    def subfield_marks(self, problem: Any, part: str, cells: Any) -> dict[str, bool]:
        """Try page: the mark of each field of a :meth:`try_fields` part (by key) from the
        part's graded cells (by default the cells are keyed as the fields are)."""
        return cells if isinstance(cells, dict) else {}

    def try_answer(self, answer: dict[str, str]) -> dict[str, Any]:
        """A try page's answer fields (part, or ``<part>.<key>`` for the fields of
        :meth:`try_fields` → text) as the task's submission data."""
        return answer

    def key_items(self, answer: Any, cells: list[AnswerCell]) -> list[KeyItem]:
        """The entries of an answer in the key's summary table: every cell on its own by
        default."""
        return [KeyItem(c.label, [[c]]) for c in cells]


@cache
def view_for(task_id: str) -> TaskView:
    """The view of ``task_id``: ``app.tasks.<task_id>.VIEW``, or the generic view."""
    try:
        module = importlib.import_module(f"{__name__}.{task_id}")
    except ModuleNotFoundError as exc:
        if exc.name != f"{__name__}.{task_id}":
            raise
        return TaskView()
    return module.VIEW


def task_templates(task_id: str, kind: str) -> list[str]:
    """Template names to try for a task's ``kind`` (``page``, ``problem``): its own first,
    then the generic one."""
    return [f"tasks/{task_id}/{kind}.html", f"generic/{kind}.html"]
