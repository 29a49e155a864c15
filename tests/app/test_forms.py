"""What people type: decimal-comma rows and columns in every answer field, CRLF from forms."""

from __future__ import annotations

import pytest

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
