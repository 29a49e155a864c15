"""Memory over a long run of unique large requests, in process: RSS before and after.

Sends ``--rounds`` rounds of unique bodies (new random numbers every time, so no cache
answers and every cache fills): a 60×60 loss score matrix, a 3×48×48 conv image with 8
filters, a ~400-character graph expression with new constants (each a new parse, graph
and symbolic step), the conv page with a 24×24 image in its query, and a 200-item JSON
grading batch. Prints the resident set size after a warm-up round and at the end; the
caches are bounded by bytes, so it should stay flat (within 50 MB).

Run: ``.venv/bin/python bench/memory_soak.py [--rounds 400]``.
"""

from __future__ import annotations

import argparse
import gc
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fastapi.testclient import TestClient  # noqa: E402

from app.main import app  # noqa: E402


def rss_mb() -> float:
    """This process's resident set size in MB (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _matrix(rows: int, cols: int, rng: random.Random) -> list[list[float]]:
    return [[round(rng.uniform(-9, 9), 3) for _ in range(cols)] for _ in range(rows)]


def requests(client: TestClient, rng: random.Random) -> list[tuple[str, Callable[[], int]]]:
    """One round: each request with fresh numbers."""
    loss = {"scores": _matrix(60, 60, rng), "labels": [rng.randrange(60) for _ in range(60)]}
    conv = {
        "image": [_matrix(48, 48, rng) for _ in range(3)],
        "filters": [[_matrix(3, 3, rng) for _ in range(3)] for _ in range(8)],
        "stride": 1,
    }
    terms = [
        f"{rng.randint(2, 999)}*x{i}*sigmoid(w{i}*x{i}+{rng.randint(1, 99)})" for i in range(9)
    ]
    values = {f"{n}{i}": rng.uniform(-2, 2) for i in range(9) for n in "xw"}
    graph = {"expression": "+".join(terms), "values": values}
    rows = (" ".join(str(rng.randint(0, 9)) for _ in range(24)) for _ in range(24))
    page = {"image": "\n".join(rows), "filters": "1 0 -1\n1 0 -1\n1 0 -1"}
    small = [{"scores": _matrix(3, 4, rng), "labels": [0, 1, 2, 0]} for _ in range(200)]
    items = [{"task": "loss", "problem": p, "answer": {"loss": rng.uniform(0, 9)}} for p in small]
    return [
        ("loss", lambda: client.post("/api/v1/loss/solve", json=loss).status_code),
        ("conv", lambda: client.post("/api/v1/conv/solve", json=conv).status_code),
        ("graph", lambda: client.post("/api/v1/graph/solve", json=graph).status_code),
        ("page", lambda: client.get("/conv", params=page).status_code),
        ("batch", lambda: client.post("/api/v1/grade/batch", json={"items": items}).status_code),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=400)
    parser.add_argument("--only", default="", help="comma-separated: loss,conv,graph,page,batch")
    args = parser.parse_args()
    only = set(filter(None, args.only.split(",")))
    rng = random.Random(15)
    client = TestClient(app)
    for _, send in requests(client, rng):  # warm-up: imports, first caches, torch
        send()
    gc.collect()
    before = rss_mb()
    print(f"RSS after warm-up: {before:.0f} MB", flush=True)
    start = time.perf_counter()
    statuses: dict[str, set[int]] = {}
    for round_number in range(1, args.rounds + 1):
        for name, send in requests(client, rng):
            if not only or name in only:
                statuses.setdefault(name, set()).add(send())
        if round_number % max(1, args.rounds // 8) == 0:
            print(f"  round {round_number}: RSS {rss_mb():.0f} MB", flush=True)
    gc.collect()
    after = rss_mb()
    print(f"RSS after {args.rounds} rounds ({time.perf_counter() - start:.0f} s): {after:.0f} MB"
          f" (+{after - before:.0f} MB); statuses {statuses}")  # fmt: skip


if __name__ == "__main__":
    main()
