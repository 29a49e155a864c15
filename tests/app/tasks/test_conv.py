"""The conv task over HTTP: the JSON API, the page, and bad input."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

SEED = {
    "image": [[1, 2, 3, 4, 5], [2, 2, 1, 1, 1], [3, 2, 1, 1, 1], [4, 1, 1, 1, 1], [5, 1, 1, 1, 1]],
    "filters": [[0, -1, 0], [1, 1, 1], [0, -1, 0]],
    "stride": 2,
}


def test_solve_seed_example(solved: Callable[..., dict[str, Any]]) -> None:
    body = solved("conv", SEED)
    answer = body["answer"]
    assert answer["conv"] == [[[1, -2], [3, 1]]]
    assert answer["activation"] == [[[1, 0], [3, 1]]]
    assert answer["pool"] == [[[3]]]
    assert answer["output"] == [[[3]]]
    kinds = [s["kind"] for s in body["steps"]]
    assert kinds.count("conv.cell") == 4 and "conv.relu" in kinds and "conv.pool" in kinds


def test_solve_from_text_as_typed(client: TestClient) -> None:
    body = {
        "image": "1 2 3 4 5\n2 2 1 1 1\n3 2 1 1 1\n4 1 1 1 1\n5 1 1 1 1",
        "filters": "0 −1 0; 1 1 1; 0 −1 0",
        "stride": "2",
        "pool": {"kind": "max", "size": "2"},
    }
    assert client.post("/api/v1/conv/solve", json=body).json()["answer"]["output"] == [[[3]]]


BAD = [
    ({**SEED, "filters": [[1] * 7] * 7}, "filters", "larger than the padded"),
    (
        {**SEED, "image": [[[1, 2], [3, 4]], [[1, 2], [3, 4]]], "filters": [[[[1]]] * 3]},
        "filters",
        "channel",
    ),
    ({**SEED, "stride": 0}, "stride", "at least 1"),
    ({**SEED, "stride": -2}, "stride", "at least 1"),
    ({**SEED, "padding": -1}, "padding", "negative"),
    ({**SEED, "image": [[1, 2, 3], [4, 5]]}, "image", "row 2"),
    ({**SEED, "image": "1 2\n3 x"}, "image", "not a number"),
    ({**SEED, "image": [[1] * 65] * 65}, "image", "at most"),
    ({**SEED, "bias": [1, 2]}, "bias", "bias"),
    ({**SEED, "mode": "deconvolution"}, "mode", "one of"),
    ({**SEED, "pool": {"kind": "median"}}, "pool.kind", "one of"),
    ({**SEED, "pool": {"size": 0}}, "pool.size", "at least"),
    ({**SEED, "wat": 1}, "wat", "unknown"),
]


@pytest.mark.parametrize(("body", "field", "fragment"), BAD)
def test_bad_input_is_422(client: TestClient, body: dict, field: str, fragment: str) -> None:
    response = client.post("/api/v1/conv/solve", json=body)
    assert response.status_code == 422, response.text
    payload = response.json()
    assert any(d["field"].startswith(field) for d in payload["detail"]), payload
    assert fragment.lower() in payload["message"].lower(), payload


def test_page_shows_the_three_maps(client: TestClient) -> None:
    page = client.get("/conv")
    assert page.status_code == 200
    for stage in ("input", "kernel", "conv", "activation", "pool"):
        assert f'data-stage="{stage}"' in page.text


def test_page_from_url_and_no_pooling(client: TestClient) -> None:
    query = {"image": "1 2\n3 4", "filters": "1", "pool_kind": "none", "activation": "none"}
    page = client.get("/conv", params=query)
    assert page.status_code == 200
    assert 'data-stage="pool"' not in page.text
    assert 'data-stage="activation"' not in page.text


def test_page_error_next_to_the_field(client: TestClient) -> None:
    page = client.get("/conv", params={"image": "1 2\n3 4", "filters": "1 2 3\n4 5 6\n7 8 9"})
    assert page.status_code == 422
    assert "larger than the padded" in page.text
