"""In-process cost of one fresh conv request, without HTTP: the API's work (validation,
``solve_for_people``, the JSON dump) and the page's (query → problem, solve, the whole page
rendered), each with new random image numbers per call (as the wrk fresh runs send: a 5×5
image of 0 … 5, the seed's 3×3 filter, stride 2), so no cache answers.

Prints the best and the median µs per call of several repeats.
Run: ``.venv/bin/python bench/conv_fresh.py [--calls 300]``.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from starlette.requests import Request  # noqa: E402

from app.deps import solve_for_people  # noqa: E402
from app.pages import _render_task_page  # noqa: E402
from solvers.core import NumberFormat  # noqa: E402
from solvers.registry import TASKS  # noqa: E402

TASK = TASKS["conv"]
FORMAT = NumberFormat()
RNG = random.Random(1)


def _image() -> list[list[int]]:
    return [[RNG.randint(0, 5) for _ in range(5)] for _ in range(5)]


def api_call() -> bytes:
    """Validate a fresh body, solve it with its steps translated, dump the JSON."""
    body = {"image": _image(), "filters": [[0, -1, 0], [1, 1, 1], [0, -1, 0]], "stride": 2}
    problem = TASK.problem_model.model_validate(body)
    return solve_for_people(TASK, problem, FORMAT).model_dump_json().encode()


def page_call() -> tuple[bytes, int]:
    """Render the conv page for a fresh query string."""
    image = "%0A".join("+".join(map(str, row)) for row in _image())
    query = f"image={image}&filters=0+-1+0%0A1+1+1%0A0+-1+0&stride=2"
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/conv",
        "query_string": query.encode(),
        "headers": [],
    }
    return _render_task_page(TASK, Request(scope), "en", FORMAT)


def measure(call: Callable[[], object], calls: int, repeats: int = 7) -> tuple[float, float]:
    """Best and median µs per call over ``repeats`` runs of ``calls`` calls."""
    for _ in range(calls // 3):
        call()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(calls):
            call()
        times.append((time.perf_counter() - start) / calls * 1e6)
    return min(times), statistics.median(times)


def main() -> None:
    """Time both paths and print a small table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=300)
    args = parser.parse_args()
    for name, call in (("POST /api/v1/conv/solve", api_call), ("GET /conv?…", page_call)):
        best, median = measure(call, args.calls)
        print(f"{name:26} best {best:7.0f} µs   median {median:7.0f} µs")


if __name__ == "__main__":
    main()
