"""The PyTorch view run by the server: its output and answer, the cache, the time bound."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from app import torch_run
from app.settings import get_settings
from solvers.pytorch_view import TorchRun, run, torch_view
from solvers.registry import TASKS
from solvers.tasks.graph import GraphProblem
from tests.solvers.test_pytorch_view import answer_at_path

PROBLEMS = {
    "loss": {"scores": [[3.2, 1.3], [5.1, 4.9]], "labels": [0, 1], "loss": "softmax"},
    "graph": {"expression": "||W x||^2", "values": {"W": [[0.1, 0.5], [-0.3, 0.8]],
                                                   "x": [0.2, 0.4]}},
    "conv": {"image": "1 2 3; 4 5 6; 7 8 9", "filters": "1 0; 0 -1", "pool": None},
}  # fmt: skip


@pytest.fixture
def fresh_runs() -> Iterator[None]:
    """No cached run (and no cached answer) before or after the test."""
    from app.api import solutions
    from app.pages import pages

    for cache in (torch_run.runs, solutions, pages):
        cache._entries.clear()
    yield
    for cache in (torch_run.runs, solutions, pages):
        cache._entries.clear()


@pytest.mark.parametrize("task", sorted(PROBLEMS))
def test_the_api_gives_what_the_server_printed(client: TestClient, task: str) -> None:
    body = client.post(f"/api/v1/{task}/solve?with=torch", json=PROBLEMS[task]).json()
    view = body["torch"]
    assert view["device"] == ("cuda" if __import__("torch").cuda.is_available() else "cpu")
    assert view["stdout"].splitlines()[0] == f"device: {view['device']}"
    assert len(view["stdout"].splitlines()) == 1 + len(view["prints"])
    for printed in view["prints"]:
        got = answer_at_path(view["answer"], printed["answer"])
        expected = answer_at_path(body["answer"], printed["answer"])
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-15)
    assert view["error"] is None


def test_runs_are_cached_by_problem(
    client: TestClient, fresh_runs: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = []

    def counted(view: Any) -> TorchRun:
        calls.append(view.code)
        return run(view)

    monkeypatch.setattr(torch_run, "run", counted)
    problem = PROBLEMS["graph"]
    first = client.post("/api/v1/graph/solve?with=torch", json=problem).json()["torch"]
    again = client.post("/api/v1/graph/solve?with=torch&lang=ru&digits=2", json=problem)
    values = "W = [[0.1, 0.5], [-0.3, 0.8]]; x = 0.2 0.4"
    page = client.get("/graph/pytorch", params={"expression": "||W x||^2", "values": values})
    assert len(calls) == 1
    assert again.json()["torch"]["stdout"] == first["stdout"]
    assert first["stdout"].split("\n", 1)[1] in page.text
    assert torch_run.runs.size > 0


def test_a_slow_run_answers_without_its_output(
    client: TestClient, fresh_runs: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STEPGRAD_TORCH_RUN_SECONDS", "0.2")
    get_settings.cache_clear()
    release = threading.Event()

    def slow(view: Any) -> TorchRun:
        release.wait(5)
        return run(view)

    monkeypatch.setattr(torch_run, "run", slow)
    try:
        start = time.perf_counter()
        response = client.post("/api/v1/conv/solve?with=torch", json=PROBLEMS["conv"])
        took = time.perf_counter() - start
        page = client.get("/conv/pytorch?lang=ru")
    finally:
        release.set()
        get_settings.cache_clear()
    assert response.status_code == 200 and took < 2
    view = response.json()["torch"]
    assert view["stdout"] is None and view["answer"] is None and view["device"] is None
    assert "no output" in view["error"] and "import torch" in view["code"]
    assert page.status_code == 200 and 'class="error"' in page.text
    assert 'id="pytorch-output"' not in page.text
    assert torch_run.runs.size == 0  # tried again next time


def test_a_failing_run_answers_without_its_output(
    client: TestClient, fresh_runs: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(view: Any) -> TorchRun:
        raise RuntimeError("CUDA error: out of memory")

    monkeypatch.setattr(torch_run, "run", broken)
    response = client.post("/api/v1/graph/solve?with=torch&lang=ru", json=PROBLEMS["graph"])
    assert response.status_code == 200
    view = response.json()["torch"]
    assert view["stdout"] is None and view["error"].startswith("У сервера нет вывода")
    assert torch_run.runs.size == 0


def test_the_page_shows_the_output_and_the_device(client: TestClient) -> None:
    task_page = client.get("/loss").text  # its PyTorch section links to the view (fetched)
    assert 'class="show-pytorch" href="/loss/pytorch?' in task_page
    assert "pytorch-output" not in task_page  # the script runs only when asked for
    link = task_page.split('class="show-pytorch" href="')[1].split('"')[0].replace("&amp;", "&")
    page = client.get(link).text
    assert "when the server ran it on the CPU" in page or "on the CUDA" in page
    assert 'id="pytorch-output">device: ' in page
    assert "loss: 5.266666666666666" in page


def test_runs_in_threads_print_to_their_own_buffers() -> None:
    views = [
        torch_view(TASKS["graph"], GraphProblem(expression="x * y", values={"x": k, "y": 2}))
        for k in range(8)
    ]
    results: dict[int, str] = {}

    def one(k: int) -> None:
        for _ in range(5):
            results[k] = run(views[k]).stdout  # type: ignore[arg-type]

    threads = [threading.Thread(target=one, args=(k,)) for k in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for k in range(8):
        assert results[k].splitlines()[1] == f"f: {2.0 * k}"


def test_the_view_of_a_wrong_problem_is_a_page_naming_the_field(client: TestClient) -> None:
    page = client.get("/conv/pytorch", params={"image": "1 2; 3 x", "filters": "1"})
    assert page.status_code == 422 and "text/html" in page.headers["content-type"]
    assert "row 2, column 2: &#34;x&#34; is not a number" in page.text
    assert "pytorch-code" not in page.text
