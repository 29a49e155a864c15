"""Micro-benchmark of vector and matrix graphs and of the PyTorch view, in process.

Run from the repository root: ``PYTHONPATH=. .venv/bin/python bench/vector_solve.py``.
Times (p50 and p99 of one call): a fresh vector expression through the solve API (the
HTTP body validated, shapes checked, both passes, steps, JSON), the same expression with
new values, and the PyTorch view of each task's example (``?with=torch``'s extra cost).
Prints numbers; asserts nothing.
"""

from __future__ import annotations

import itertools
import statistics
import time
from collections.abc import Callable
from functools import partial

from fastapi.testclient import TestClient

from app.main import create_app
from solvers.pytorch_view import torch_view
from solvers.registry import TASKS

NETWORK = "softmax_ce(W2 relu(W1 x + b1), y) + {k}/1000*(||W1||^2 + ||W2||^2)"
VALUES = {
    "W1": [[0.2, -0.5], [1.5, 1.3], [0.0, 0.3]],
    "b1": [0.1, -0.2, 0.3],
    "W2": [[1.0, -1.0, 0.5], [0.2, 0.4, -0.3]],
    "x": [1.0, 2.0],
    "y": 1,
}


def per_call_ms(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Median and 99th percentile of one call, in ms."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1e3)
    times.sort()
    return statistics.median(times), times[int(0.99 * (len(times) - 1))]


def report(label: str, fn: Callable[[], object], repeat: int) -> None:
    p50, p99 = per_call_ms(fn, repeat)
    print(f"{label:<60} p50 {p50:8.3f} ms   p99 {p99:8.3f} ms")


def main() -> None:
    client = TestClient(create_app())
    fresh = itertools.count(1)
    scale = itertools.count(1)

    def fresh_expression() -> None:
        body = {"expression": NETWORK.format(k=next(fresh)), "values": VALUES}
        assert client.post("/api/v1/graph/solve", json=body).status_code == 200

    def new_values() -> None:
        values = {**VALUES, "x": [1.0, next(scale) / 7]}
        body = {"expression": NETWORK.format(k=1), "values": values}
        assert client.post("/api/v1/graph/solve", json=body).status_code == 200

    def healthz() -> None:
        assert client.get("/healthz").status_code == 200

    report("fresh two-layer network expression, POST /graph/solve", fresh_expression, 200)
    report("same expression, new values, POST /graph/solve", new_values, 200)
    report("GET /healthz (for comparison)", healthz, 200)
    for task in TASKS.values():
        problem = task.example()
        view = partial(torch_view, task, problem)
        report(f"PyTorch view of the {task.id} example", view, 500)


if __name__ == "__main__":
    main()
