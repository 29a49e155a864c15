"""The words of 422 answers: counts in their plural form, each place named once, and every
message a user can meet translated (no raw pydantic English in another language)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.e2e.test_fuzz_api import EXAMPLES

NEURON = {"expression": "x*y+z", "values": {"x": 1, "y": 2, "z": 3}}


@pytest.mark.parametrize(
    ("image", "lang", "message"),
    [
        ([[1, 2], [3]], "en", "row 2 has 1 number but row 1 has 2"),
        ([[1], [2, 3]], "en", "row 2 has 2 numbers but row 1 has 1"),
        ([[1, 2], [3]], "ru", "в строке 2 — 1 число, а в строке 1 — 2"),
        ([[1], [2, 3, 4]], "ru", "в строке 2 — 3 числа, а в строке 1 — 1"),
        ([[1], [2, 3, 4, 5, 6]], "ru", "в строке 2 — 5 чисел, а в строке 1 — 1"),
    ],
)
def test_a_ragged_matrix_counts_in_the_plural_form(
    client: TestClient, image: list[list[int]], lang: str, message: str
) -> None:
    response = client.post(f"/api/v1/conv/solve?lang={lang}", json={"image": image, "filters": 1})
    assert response.status_code == 422
    assert response.json()["detail"][0]["msg"] == message


@pytest.mark.parametrize(
    ("answer", "field", "message"),
    [
        ({"output": "abc"}, "answer.output", '"abc" is not a number'),
        ({"gradients": {"x": "two"}}, "answer.gradients.x", '"two" is not a number'),
        ({"output": [1, 2]}, "answer.output", "should be one number, not numbers of shape 2"),
        ({"gradients": "x"}, "answer.gradients", "must map names to numbers"),
    ],
)
def test_a_grading_error_names_its_part_once(
    client: TestClient, answer: dict[str, Any], field: str, message: str
) -> None:
    response = client.post("/api/v1/graph/grade", json={"problem": NEURON, "answer": answer})
    assert response.status_code == 422
    detail = response.json()["detail"][0]
    assert (detail["field"], detail["msg"]) == (field, message)
    assert response.json()["message"] == f"{field}: {message}"


def test_a_batch_and_the_try_page_name_the_part_once(client: TestClient) -> None:
    item = {"task": "graph", "problem": NEURON, "answer": {"gradients": {"y": "?"}}}
    response = client.post("/api/v1/grade/batch", json={"items": [item]})
    assert response.json()["message"] == 'items.0.answer.gradients.y: "?" is not a number'
    page = client.get("/loss/try", params={"seed": "3", "a_loss": "many"}).text
    assert '<p class="error" data-field="loss">&#34;many&#34; is not a number</p>' in page


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({}, "lang: must be one of 'en', 'ru'"),
        ({"Accept-Language": "ru"}, "lang: должно быть одним из: 'en', 'ru'"),
    ],
)
def test_a_bad_language_lists_the_languages(
    client: TestClient, headers: dict[str, str], message: str
) -> None:
    response = client.post("/api/v1/graph/solve?lang=xx", json=NEURON, headers=headers)
    assert response.status_code == 422
    assert response.json()["message"] == message


WRONG: list[Any] = ["x", {}, [1], [[1, "a"]], 1.5, True, None, -1, "", {"a": 1}, 10**6]
"""Values of the wrong type, shape or range for some field."""


def _places(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every field of a JSON body (the first item of a list stands for the others)."""
    places = [path]
    if isinstance(value, dict):
        for key, child in value.items():
            places += _places(child, (*path, key))
    elif isinstance(value, list) and value:
        places += _places(value[0], (*path, 0))
    return places


def _replaced(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    head, *rest = path
    copy = dict(value) if isinstance(value, dict) else list(value)
    copy[head] = _replaced(value[head], tuple(rest), new)
    return copy


def _messages(client: TestClient, url: str, body: Any, lang: str) -> list[str]:
    response = client.post(f"{url}?lang={lang}", json=body)
    assert response.status_code < 500, (url, body, response.text[:300])
    return [d["msg"] for d in response.json()["detail"]] if response.status_code == 422 else []


@pytest.mark.parametrize("url", list(EXAMPLES))
def test_wrong_values_in_every_field_are_answered_in_russian(client: TestClient, url: str) -> None:
    """Each field of each operation's example, given each wrong value: every 422 message in
    Russian differs from the English one (a message left in English is untranslated)."""
    untranslated = set()
    for place in _places(EXAMPLES[url]):
        for value in WRONG:
            body = _replaced(EXAMPLES[url], place, value)
            english, russian = (_messages(client, url, body, lang) for lang in ("en", "ru"))
            pairs = zip(english, russian, strict=True)
            untranslated |= {e for e, r in pairs if e == r and re.search("[a-z]{3}", e)}
    assert not untranslated
