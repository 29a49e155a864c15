"""Where one fresh request's time goes: requests with new random numbers (as
``http_throughput.py`` sends them) driven through the ASGI app in-process, no server and no
socket, timed per request in CPU time and optionally profiled with pyinstrument (``--profile``, the
``test`` extra installs it).

Run: ``.venv/bin/python bench/request_profile.py [--tasks loss] [--kinds solve,page,expr]
[-n 2000] [--profile] [--html out.html]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

NAMES = ("w0", "x0", "w1", "x1", "w2")
EXPRESSION = "1/(1+exp(-(w0*x0+w1*x1+w2)))"
FILTER = [[0, -1, 0], [1, 1, 1], [0, -1, 0]]


def fresh_problem(task: str, rng: random.Random) -> dict:
    """A problem with new random numbers, as the throughput bench's Lua draws them."""
    if task == "loss":
        scores = [[rng.randint(-50, 60) / 10 for _ in range(3)] for _ in range(3)]
        labels = [rng.randint(0, 2) for _ in range(3)]
        return {"scores": scores, "labels": labels, "class_names": ["cat", "car", "frog"]}
    if task == "graph":
        return {"expression": EXPRESSION, "values": {n: rng.randint(-3, 3) for n in NAMES}}
    image = [[rng.randint(0, 5) for _ in range(5)] for _ in range(5)]
    return {"image": image, "filters": FILTER, "stride": 2}


def page_query(task: str, problem: dict) -> str:
    """The page's query string for ``problem`` (the form's text fields)."""
    from app.forms import value_text

    return urlencode({k: value_text(v) for k, v in problem.items()})


async def call(app: Callable, method: str, path: str, query: str, body: bytes) -> int:
    """One request through the ASGI app; its status."""
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
        "scheme": "http", "path": path, "raw_path": path.encode(), "root_path": "",
        "query_string": query.encode(), "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 5000),
        "headers": [(b"host", b"127.0.0.1"), (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode())],
    }  # fmt: skip
    sent = False
    status = 0

    async def receive() -> dict:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


async def run(app: Callable, task: str, kind: str, count: int, seed: int) -> float:
    """CPU seconds per request of ``count`` fresh requests of one kind (CPU time: the
    machine may be shared)."""
    rng = random.Random(seed)
    requests = []
    for _ in range(count):
        problem = fresh_problem(task, rng)
        if kind == "healthz":
            requests.append(("GET", "/healthz", "", b""))
        elif kind == "solve":
            requests.append(("POST", f"/api/v1/{task}/solve", "", json.dumps(problem).encode()))
        elif kind == "expr":  # a new expression each time (the neuron plus a new constant)
            fresh = {**problem, "expression": f"{EXPRESSION[:-3]}+{rng.randrange(10**6)})))"}
            requests.append(("POST", f"/api/v1/{task}/solve", "", json.dumps(fresh).encode()))
        else:
            requests.append(("GET", f"/{task}", page_query(task, problem), b""))
    start = time.process_time()
    for method, path, query, body in requests:
        status = await call(app, method, path, query, body)
        if status != 200:
            raise RuntimeError(f"{method} {path}?{query}: {status}")
    return (time.process_time() - start) / count


def _work_inline() -> None:
    """Run ``app.work.off_loop``'s work on the calling thread (pyinstrument samples only the
    thread it started on; the work would otherwise be in a worker thread, unseen)."""
    import anyio.to_thread

    async def inline(function: Callable, *args: object, **_: object) -> object:
        return function(*args)

    anyio.to_thread.run_sync = inline  # type: ignore[assignment]


def main() -> None:
    """Time (and optionally profile) fresh requests per task and kind."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", default="loss,graph,conv")
    parser.add_argument(
        "--kinds",
        default="solve,page",
        help="solve, page, expr (graph: a new expression per request), comma-separated",
    )
    parser.add_argument("-n", type=int, default=1000, help="requests per task and kind")
    parser.add_argument("--profile", action="store_true", help="print pyinstrument's tree")
    parser.add_argument("--all", action="store_true", help="show library frames too")
    parser.add_argument("--html", help="write pyinstrument's HTML report here")
    args = parser.parse_args()
    from app.main import app

    profiler = None
    if args.profile or args.html:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.0005, async_mode="disabled")
        _work_inline()
    health = asyncio.run(run(app, "", "healthz", args.n, seed=2))
    print(f"GET /healthz   {health * 1e3:7.3f} ms/request", flush=True)
    for task in args.tasks.split(","):
        for kind in args.kinds.split(","):
            asyncio.run(run(app, task, kind, 50, seed=1))  # warm-up (caches, imports)
            if profiler:
                profiler.start()
            seconds = asyncio.run(run(app, task, kind, args.n, seed=2))
            if profiler:
                profiler.stop()
            print(f"{task:6} {kind:6} {seconds * 1e3:7.3f} ms/request", flush=True)
    if profiler and args.html:
        Path(args.html).write_text(profiler.output_html())
    elif profiler:
        print(profiler.output_text(unicode=True, color=False, show_all=args.all))


if __name__ == "__main__":
    main()
