"""Whatever JSON arrives, every endpoint answers 2xx or 4xx, never 500 (hypothesis fuzzing)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.main import app

EXAMPLES: dict[str, dict[str, Any]] = {
    "/api/v1/loss/solve": {"scores": [[3.2, 1.3], [5.1, 4.9]], "labels": [0, 1], "loss": "svm",
                           "margin": 1, "weights": [[1, 2]], "reg": 0.1},
    "/api/v1/graph/solve": {"expression": "max(x, y)*z", "values": {"x": 1, "y": 2, "z": 3},
                            "gates": "grouped", "upstream": 1},
    "/api/v1/conv/solve": {"image": [[1, 2, 3], [4, 5, 6], [7, 8, 9]], "filters": [[1, 0], [0, 1]],
                           "stride": [1, 1], "padding": 1, "pool": {"kind": "avg", "size": 2}},
    "/api/v1/loss/grade": {"problem": {"scores": [[1, 2], [3, 4]], "labels": [0, 1]},
                           "answer": {"per_example": [1, 2], "loss": 1, "grad_scores": [[1, 2]]}},
    "/api/v1/graph/grade": {"problem": {"expression": "x*y", "values": {"x": 1, "y": 2}},
                            "answer": {"output": 2, "gradients": {"x": 2}, "nodes": {"0": 1}}},
    "/api/v1/conv/grade": {"variant": {"seed": 1, "number": 2},
                           "answer": {"conv": [[1, 2], [3, 4]], "pool": 3}},
    "/api/v1/variants": {"tasks": ["loss", "conv"], "count": 2, "seed": 3,
                         "spec": {"loss": {"examples": 2}, "conv": {"size": 5}}},
}  # fmt: skip

junk = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
    | st.sampled_from(["1 2; 3 4", "0,5", "−1", "nan", "1e400", "[[1]]", "x^99", "__import__"]),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def _mutate(value: Any, path: list[Any], replacement: Any) -> Any:
    if not path:
        return replacement
    head, *rest = path
    if isinstance(value, dict) and head in value:
        return {**value, head: _mutate(value[head], rest, replacement)}
    return value


def _paths(value: Any, prefix: list[Any]) -> list[list[Any]]:
    paths = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            paths += _paths(child, [*prefix, key])
    return paths


@pytest.fixture(scope="module")
def fuzz_client() -> TestClient:
    return TestClient(app, raise_server_exceptions=False)


@pytest.mark.parametrize("path", list(EXAMPLES))
@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_never_a_server_error(fuzz_client: TestClient, path: str, data: st.DataObject) -> None:
    example = EXAMPLES[path]
    where = data.draw(st.sampled_from(_paths(example, [])))
    body = _mutate(example, where, data.draw(junk))
    response = fuzz_client.post(path, content=json.dumps(body))
    assert response.status_code < 500, (body, response.text[:500])
    if response.status_code >= 400:
        assert response.json()["message"]
