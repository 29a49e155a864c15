"""The loss task over HTTP: the JSON API, the page, and every kind of bad input."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

LECTURE = {
    "scores": [[3.2, 1.3, 2.2], [5.1, 4.9, 2.5], [-1.7, 2.0, -3.1]],
    "labels": [0, 1, 2],
    "class_names": ["cat", "car", "frog"],
}


def test_health_and_task_list(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    tasks = client.get("/api/v1/tasks").json()
    assert "loss" in [t["id"] for t in tasks]
    assert all(t["solve"].startswith("/api/v1/") for t in tasks)


def test_solve_lecture_svm(client: TestClient) -> None:
    response = client.post("/api/v1/loss/solve", json=LECTURE)
    assert response.status_code == 200
    body = response.json()
    assert body["task"] == "loss"
    answer = body["answer"]
    assert answer["per_example"] == pytest.approx([2.9, 0.0, 12.9])
    assert answer["loss"] == pytest.approx(79 / 15)
    assert set(answer) >= {"per_example", "data_loss", "reg_loss", "loss", "grad_scores"}
    assert body["steps"] and all(step["title"] for step in body["steps"])


def test_solve_accepts_text_matrices(client: TestClient) -> None:
    body = {"scores": "3,2 1,3 2,2\n5,1 4,9 2,5\n−1,7 2,0 −3,1", "labels": "0 1 2"}
    answer = client.post("/api/v1/loss/solve", json=body).json()["answer"]
    assert answer["loss"] == pytest.approx(79 / 15)


def test_softmax_log10_cat(client: TestClient) -> None:
    body = {"scores": [[3.2], [5.1], [-1.7]], "labels": [0], "loss": "softmax", "log_base": "10"}
    answer = client.post("/api/v1/loss/solve", json=body).json()["answer"]
    assert answer["loss"] == pytest.approx(0.89, abs=0.005)


def test_steps_in_russian(client: TestClient) -> None:
    english = client.post("/api/v1/loss/solve", json=LECTURE).json()["steps"]
    russian = client.post("/api/v1/loss/solve?lang=ru", json=LECTURE).json()["steps"]
    assert [s["kind"] for s in english] == [s["kind"] for s in russian]
    assert english[0]["title"] != russian[0]["title"]
    by_header = client.post(
        "/api/v1/loss/solve", json=LECTURE, headers={"Accept-Language": "ru-RU,ru;q=0.9"}
    ).json()["steps"]
    assert by_header[0]["title"] == russian[0]["title"]


BAD_INPUTS = [
    ({**LECTURE, "scores": [[1, 2], [3]]}, "scores", "row 2"),
    ({**LECTURE, "scores": "1 2 3\n4 x 6\n7 8 9"}, "scores", "column 2"),
    ({**LECTURE, "scores": [[1, "NaN", 2], [1, 2, 3], [1, 2, 3]]}, "scores", "finite"),
    ({**LECTURE, "scores": []}, "scores", "empty"),
    ({**LECTURE, "scores": ""}, "scores", "empty"),
    ({**LECTURE, "scores": "1 " * 200}, "scores", "at most 100"),
    ({**LECTURE, "scores": 5}, "scores", "matrix"),
    ({**LECTURE, "labels": [0, 1]}, "labels", ""),
    ({**LECTURE, "labels": [0, 1, 3]}, "labels", "3"),
    ({**LECTURE, "labels": [0, 1, -1]}, "labels", ""),
    ({**LECTURE, "labels": [0, 1, 1.5]}, "labels", ""),
    ({**LECTURE, "labels": "a b c"}, "labels", ""),
    ({**LECTURE, "margin": -1}, "margin", ""),
    ({**LECTURE, "margin": "abc"}, "margin", "number"),
    ({**LECTURE, "loss": "hinge2"}, "loss", "svm"),
    ({**LECTURE, "log_base": "3"}, "log_base", ""),
    ({**LECTURE, "examples": "diagonal"}, "examples", ""),
    ({**LECTURE, "reduction": "max"}, "reduction", ""),
    ({**LECTURE, "reg": -0.1}, "reg", ""),
    ({**LECTURE, "reg": 0.1}, "", "weights"),
    ({**LECTURE, "surprise": 1}, "surprise", "unknown"),
    ({"labels": [0]}, "scores", "required"),
]


@pytest.mark.parametrize(("body", "field", "fragment"), BAD_INPUTS)
def test_bad_input_is_422_naming_the_field(
    client: TestClient, body: dict, field: str, fragment: str
) -> None:
    response = client.post("/api/v1/loss/solve", json=body)
    assert response.status_code == 422, response.text
    payload = response.json()
    fields = [d["field"] for d in payload["detail"]]
    assert any(f.startswith(field) for f in fields), payload
    assert fragment.lower() in payload["message"].lower(), payload


@pytest.mark.parametrize(
    "raw",
    [b"", b"{", b"not json", b"[1, 2]", b'"text"', b"null", b'{"scores": NaN, "labels": [0]}'],
)
def test_malformed_bodies(client: TestClient, raw: bytes) -> None:
    response = client.post(
        "/api/v1/loss/solve", content=raw, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["message"]


def test_oversize_body_is_refused_before_parsing(client: TestClient) -> None:
    response = client.post(
        "/api/v1/loss/solve", content=b"[" * 2_000_000, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert "bytes" in response.json()["message"]


def test_error_messages_in_russian(client: TestClient) -> None:
    body = {**LECTURE, "scores": "1 2 3\n4 x 6\n7 8 9"}
    message = client.post("/api/v1/loss/solve?lang=ru", json=body).json()["message"]
    assert "строка 2" in message


def test_openapi_documents_the_api(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    assert "/api/v1/loss/solve" in schema["paths"]
    assert client.get("/docs").status_code == 200


def test_openapi_documents_the_query_parameters(client: TestClient) -> None:
    """The solve route reads its query itself; its parameters are documented all the same."""
    operation = client.get("/openapi.json").json()["paths"]["/api/v1/loss/solve"]["post"]
    parameters = {p["name"]: p for p in operation["parameters"]}
    assert list(parameters) == ["with", "digits", "lang"]
    assert parameters["digits"]["schema"]["anyOf"][0] == {
        "type": "integer", "minimum": 0, "maximum": 10
    }  # fmt: skip
    assert parameters["lang"]["schema"]["anyOf"][0]["enum"] == ["en", "ru"]
    assert parameters["with"]["schema"]["anyOf"][0] == {"const": "torch", "type": "string"}
    assert all(p["in"] == "query" and not p["required"] for p in parameters.values())


def test_bad_query_and_bad_body_are_reported_together(client: TestClient) -> None:
    """As FastAPI's own parameters are: the query's errors first, then the body's."""
    response = client.post("/api/v1/loss/solve?digits=11&with=numpy", json={"labels": [0]})
    assert response.status_code == 422
    fields = [d["field"] for d in response.json()["detail"]]
    assert fields == ["digits", "with", "scores"]
    assert response.json()["detail"][0]["loc"] == ["query", "digits"]


def test_bad_query_alone_and_a_body_that_is_no_json(client: TestClient) -> None:
    """A bad query with a good body is its errors alone; a body that is no JSON is that one
    error, the query unread (FastAPI stops there, before any parameter)."""
    body = {"scores": [[1, 2], [3, 4]], "labels": [0, 1]}
    response = client.post("/api/v1/loss/solve?lang=fr", json=body)
    assert [d["loc"] for d in response.json()["detail"]] == [["query", "lang"]]
    response = client.post(
        "/api/v1/loss/solve?digits=x", content=b"{", headers={"content-type": "application/json"}
    )
    assert [d["type"] for d in response.json()["detail"]] == ["json_invalid"]
