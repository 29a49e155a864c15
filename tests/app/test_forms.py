"""What people type: decimal-comma rows and columns in every answer field, CRLF from forms."""

from __future__ import annotations

import pytest

from app.forms import FormAdapter, has_problem, value_text
from solvers.tasks.loss import LossProblem

LECTURE = {"scores": [[3.2, 1.3, 2.2], [5.1, 4.9, 2.5], [-1.7, 2.0, -3.1]], "labels": [0, 1, 2]}


@pytest.mark.parametrize(
    "typed", ["2,9; 0; 12,9", "2,9\n0\n12,9", "2,9\r\n0\r\n12,9", "2,9 0 12,9"]
)
def test_per_example_losses_with_decimal_commas_are_graded(client, typed: str) -> None:
    answer = {"per_example": typed, "loss": "5,2667"}
    graded = client.post("/api/v1/loss/grade?lang=ru", json={"problem": LECTURE, "answer": answer})
    assert graded.status_code == 200, graded.text
    assert graded.json()["score"] == graded.json()["max_score"]


def test_the_conv_form_sends_two_filters_with_crlf(client) -> None:
    query = {
        "image": "1 2 3\r\n4 5 6\r\n7 8 9",
        "filters": "1 0\r\n0 1\r\n---\r\n0 1\r\n1 0",
        "pool_kind": "none",
        "lang": "ru",
    }
    page = client.get("/conv", params=query)
    assert page.status_code == 200
    assert "2 фильтра" in page.text


# --- the form adapter (app/forms.py) ---------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, ""),
        (True, "true"),
        (3.0, "3"),
        (0.1, "0.1"),
        (1e16, "1e+16"),
        ([1, 2.5], "1 2.5"),
        ([[1, 2], [3, 4]], "1 2\n3 4"),
        ([[[1]], [[2, 3]]], "1\n\n2 3"),
        (["cat", "car"], "cat, car"),
        ({"x": 1, "W": [[1, 0]]}, "x = 1, W = 1 0"),
        ("svm", "svm"),
    ],
)
def test_values_are_written_as_people_type_them(value: object, text: str) -> None:
    assert value_text(value) == text


def test_the_form_round_trips_a_problem() -> None:
    adapter = FormAdapter()
    problem = LossProblem.model_validate(LECTURE)
    form = adapter.to_form(problem)
    assert form["scores"] == "3.2 1.3 2.2\n5.1 4.9 2.5\n-1.7 2 -3.1"
    assert LossProblem.model_validate(adapter.to_data(form, LossProblem)) == problem


def test_empty_and_foreign_fields_are_left_to_the_defaults() -> None:
    form = {"scores": "1 2", "labels": " ", "lang": "ru", "unknown": "1"}
    assert FormAdapter().to_data(form, LossProblem) == {"scores": "1 2"}
    assert FormAdapter().form_field("values.x") == "values"


def test_decimal_commas_spare_verbatim_fields() -> None:
    class Adapter(FormAdapter):
        verbatim_fields = frozenset({"expression"})

    form = {"scores": "3.2 -1.75\n10.5", "expression": "max(0.5*x, y)"}
    assert Adapter().with_decimal_commas(form) == {
        "scores": "3,2 -1,75\n10,5",
        "expression": "max(0.5*x, y)",
    }


def test_a_query_with_page_parameters_only_carries_no_problem() -> None:
    assert not has_problem({}) and not has_problem({"lang": "ru", "digits": "2"})
    assert has_problem({"lang": "ru", "scores": "1"})
