"""Task views (app/tasks/__init__.py): a task's own view or the generic one, the defaults of
TaskView, and where a task's templates are looked for."""

from __future__ import annotations

import pytest

from app.tasks import KeyItem, TaskView, task_templates, view_for
from solvers.core import AnswerCell, NumberFormat


def test_a_task_with_a_view_module_gets_its_view_and_others_the_generic_one() -> None:
    from app.tasks import conv, graph

    assert view_for("graph") is graph.VIEW and view_for("conv") is conv.VIEW
    generic = view_for("linear")
    assert type(generic) is TaskView and generic.router is None and not generic.template_globals
    assert view_for("linear") is view_for("linear")  # cached


def test_a_broken_view_module_is_not_hidden(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(name: str) -> None:
        raise ModuleNotFoundError("No module named 'missing_dependency'", name="missing_dependency")

    monkeypatch.setattr("importlib.import_module", broken)
    with pytest.raises(ModuleNotFoundError):
        view_for.__wrapped__("some_task")


def test_templates_own_first_then_generic() -> None:
    assert task_templates("conv", "page") == ["tasks/conv/page.html", "generic/page.html"]
    assert task_templates("linear", "problem")[-1] == "generic/problem.html"


def test_the_defaults_suit_flat_fields() -> None:
    view = TaskView(text_answers=frozenset({"expr"}))
    fmt = NumberFormat()
    assert view.page_context(None, None, fmt) == {} and view.try_fields(None, fmt) == {}
    assert view.text_fields(None, {"loss": (), "per_example": (3,)}) == {"expr", "per_example"}
    assert view.subfield_marks(None, "p", {"a": True}) == {"a": True}
    assert view.subfield_marks(None, "p", [True]) == {}
    assert view.try_answer({"loss": "1"}) == {"loss": "1"}


def test_key_items_one_cell_each_and_single() -> None:
    cells = [AnswerCell("L1", "L_1", 0.5), AnswerCell("L2", "L_2", 1.5)]
    items = TaskView().key_items(None, cells)
    assert [(i.label, i.single) for i in items] == [("L_1", cells[0]), ("L_2", cells[1])]
    assert KeyItem("M", [[cells[0], cells[1]]]).single is None
