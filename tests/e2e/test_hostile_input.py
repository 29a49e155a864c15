"""Hostile numbers and text answer a 422 naming the field (issue #15), over every task of the
registry: integers too large for a float, lone UTF-16 surrogates, huge ``?digits=`` and seeds."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.deps import MAX_DIGITS
from solvers.registry import TASKS

HUGE = "1" + "0" * 400
MARK = "@@hostile@@"
Path = tuple[Any, ...]


def numbers(value: Any, path: Path = ()) -> Iterator[Path]:
    """The paths of every number in a JSON value."""
    if isinstance(value, bool):
        return
    if isinstance(value, int | float):
        yield path
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from numbers(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from numbers(item, (*path, index))


def texts(value: Any, path: Path = ()) -> Iterator[tuple[Path, bool]]:
    """The paths of every string in a JSON value, and of every object key (``True``)."""
    if isinstance(value, str):
        yield path, False
    elif isinstance(value, dict):
        for key, item in value.items():
            yield (*path, key), True
            yield from texts(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from texts(item, (*path, index))


def replaced(value: Any, path: Path, new: Any, key: bool = False) -> Any:
    """A deep copy of ``value`` with the item (or the object key) at ``path`` replaced."""
    copy = json.loads(json.dumps(value))
    parent = copy
    for step in path[:-1]:
        parent = parent[step]
    if key:
        parent[new] = parent.pop(path[-1])
    else:
        parent[path[-1]] = new
    return copy


def as_numbers(value: Any) -> Any:
    """A submission with its numeric text as JSON numbers (so every answer field is a number)."""
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    if isinstance(value, dict):
        return {k: as_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_numbers(v) for v in value]
    return value


def bodies(task_id: str) -> dict[str, tuple[str, dict[str, Any]]]:
    """A valid body of every JSON endpoint that takes the task's numbers."""
    task = TASKS[task_id]
    problem = task.example().model_dump(mode="json")
    answer = task.solve_batch([task.example()], "cpu")[0]
    cells = {c.column: repr(float(c.value)) for c in task.answer_cells(answer)}
    submission = as_numbers(task.answer_from_cells(cells))
    graded = {"problem": problem, "answer": submission}
    return {
        "solve": (f"/api/v1/{task_id}/solve", problem),
        "grade": (f"/api/v1/{task_id}/grade", graded),
        "batch": ("/api/v1/grade/batch", {"items": [{"task": task_id, **graded}]}),
    }


def post_raw(client: TestClient, url: str, raw: str) -> Any:
    return client.post(url, content=raw, headers={"content-type": "application/json"})


def assert_error_shape(response: Any, field_start: str) -> None:
    assert response.status_code == 422, response.text
    body = response.json()
    assert set(body) == {"message", "detail"}
    detail = body["detail"][0]
    assert set(detail) >= {"field", "loc", "msg", "type"}
    assert detail["field"].startswith(field_start), detail
    assert detail["field"] in body["message"]


@pytest.mark.parametrize("task_id", list(TASKS))
@pytest.mark.parametrize("endpoint", ["solve", "grade", "batch"])
def test_integer_too_large_for_a_float(client: TestClient, task_id: str, endpoint: str) -> None:
    url, body = bodies(task_id)[endpoint]
    assert client.post(url, json=body).status_code == 200
    paths = list(numbers(body))
    assert paths
    for path in paths:
        raw = json.dumps(replaced(body, path, MARK)).replace(f'"{MARK}"', HUGE)
        response = post_raw(client, url, raw)
        assert_error_shape(response, ".".join(map(str, path)))
        assert response.json()["detail"][0]["type"] == "number_too_large"
        assert "401" in response.json()["detail"][0]["msg"]


@pytest.mark.parametrize("task_id", list(TASKS))
def test_lone_surrogate_in_any_text(client: TestClient, task_id: str) -> None:
    url, body = bodies(task_id)["solve"]
    for path, key in texts(body):
        new = "\ud800" if key else "a\ud800"
        raw = json.dumps(replaced(body, path, new, key=key))  # ensure_ascii: "\\ud800"
        response = post_raw(client, url, raw)
        field = ".".join(map(str, path[:-1] if key else path))
        assert_error_shape(response, field)
        assert "U+D800" in response.json()["detail"][0]["msg"]


def test_surrogate_pair_is_a_character(client: TestClient) -> None:
    body = {"scores": [[3.2], [5.1], [-1.7]], "labels": [0], "class_names": ["🐱", "b", "c"]}
    assert client.post("/api/v1/loss/solve", json=body).status_code == 200


def test_messages_in_russian(client: TestClient) -> None:
    raw = '{"scores": [[' + HUGE + ']], "labels": [0]}'
    response = client.post(
        "/api/v1/loss/solve?lang=ru", content=raw, headers={"content-type": "application/json"}
    )
    assert "цифр" in response.json()["detail"][0]["msg"]
    raw = '{"scores": [[1, 2]], "labels": [0], "class_names": ["\\udc00", "b"]}'
    response = client.post(
        "/api/v1/loss/solve?lang=ru", content=raw, headers={"content-type": "application/json"}
    )
    assert "суррогат" in response.json()["detail"][0]["msg"]


@pytest.mark.parametrize("task_id", list(TASKS))
def test_huge_digits_on_pages_and_api(client: TestClient, task_id: str) -> None:
    for digits in ("1" + "0" * 29, "100000000", "9" * 5000):
        start = time.perf_counter()
        page = client.get(f"/{task_id}?digits={digits}")
        assert page.status_code == 200
        assert time.perf_counter() - start < 2
    url, body = bodies(task_id)["solve"]
    response = client.post(f"{url}?digits={'1' + '0' * 29}", json=body)
    assert_error_shape(response, "digits")


def test_page_digits_are_clamped(client: TestClient) -> None:
    from app.deps import query_int

    assert query_int("100000000", 0, MAX_DIGITS, clamp=True) == MAX_DIGITS
    assert query_int("3", 0, MAX_DIGITS, clamp=True) == 3
    assert query_int("²", 0, MAX_DIGITS, clamp=True) is None
    assert query_int("٣", 0, MAX_DIGITS, clamp=True) is None
    assert query_int("1" * 300, 0, 10, clamp=False) is None
    clamped = client.get("/loss?digits=100000000").text.replace("100000000", str(MAX_DIGITS))
    assert clamped == client.get(f"/loss?digits={MAX_DIGITS}").text


@pytest.mark.parametrize("task_id", list(TASKS))
def test_huge_seed_on_the_try_page(client: TestClient, task_id: str) -> None:
    response = client.get(f"/{task_id}/try?seed={'9' * 300}")
    assert response.status_code == 200
    assert client.get(f"/{task_id}/try?seed=²").status_code == 200
