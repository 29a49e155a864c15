"""Micro-benchmark of vector and matrix graphs and of the PyTorch view, in process.

Run from the repository root: ``PYTHONPATH=. .venv/bin/python bench/vector_solve.py``.
Times (p50 and p99 of one call): a fresh vector expression through the solve API (the
HTTP body validated, shapes checked, both passes, steps, JSON; the issue's bound: 50 ms),
the same expression with new values against ``/healthz`` (the ratio of their rates; the
issue's bound: ≥ 0.3), and the PyTorch view per request: ``?with=torch`` with a problem
whose script never ran (cold: the script written and run) and with one whose run is
cached (another rounding, so the response cache misses), each against the plain solve.
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
from solvers.pytorch_view import run, torch_view
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


def report(label: str, fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Print and return the p50 and p99 of one call of ``fn``."""
    p50, p99 = per_call_ms(fn, repeat)
    print(f"{label:<64} p50 {p50:8.3f} ms   p99 {p99:8.3f} ms")
    return p50, p99


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

    fresh_p50, _ = report("fresh two-layer network expression, POST /graph/solve",
                          fresh_expression, 200)  # fmt: skip
    values_p50, _ = report("same expression, new values, POST /graph/solve", new_values, 200)
    health_p50, _ = report("GET /healthz (for comparison)", healthz, 200)
    print(f"fresh expression under 50 ms: {fresh_p50 < 50}; new values vs /healthz: "
          f"{health_p50 / values_p50:.2f}× its rate (bound ≥ 0.3×)")  # fmt: skip
    for task in TASKS.values():
        problem = task.example()
        report(f"PyTorch view of the {task.id} example, written (no run)",
               partial(torch_view, task, problem), 500)  # fmt: skip
        view = torch_view(task, problem)
        report(f"PyTorch view of the {task.id} example, run in process (exec)",
               partial(run, view), 200)  # fmt: skip
    torch_costs(client)


def torch_costs(client: TestClient) -> None:
    """``?with=torch`` per request, cold (a script never run) and cached (its run kept),
    against the same requests without it."""
    digits = itertools.cycle(range(11))
    fresh = itertools.count(1)

    def body(k: int) -> dict[str, object]:
        return {"expression": "||W x||^2", "values": {"W": [[0.1, 0.5], [-0.3, k / 7]],
                                                      "x": [0.2, 0.4]}}  # fmt: skip

    def plain() -> None:
        assert client.post("/api/v1/graph/solve", json=body(next(fresh))).status_code == 200

    def cold() -> None:
        url = "/api/v1/graph/solve?with=torch"
        assert client.post(url, json=body(next(fresh))).status_code == 200

    def cached() -> None:  # one problem, a new rounding: the run is cached, not the answer
        url = f"/api/v1/graph/solve?with=torch&digits={next(digits)}&lang={next(langs)}"
        assert client.post(url, json=body(1)).status_code == 200

    langs = itertools.cycle(["en", "ru"])  # with 11 digits: 22 distinct pages
    solved, _ = report("||W x||^2, new values, POST /graph/solve", plain, 200)
    first, _ = report("the same with ?with=torch, cold (the script runs)", cold, 200)
    again, _ = report("the same with ?with=torch, the run cached", cached, 200)
    print(f"?with=torch costs {first - solved:.2f} ms per request cold, "
          f"{again - solved:.2f} ms cached")  # fmt: skip


if __name__ == "__main__":
    main()
