"""Whether a flood of new graph expressions starves other requests (issue #15).

Starts the app as ``http_throughput.py`` does, then loads it with a flood of ``POST
/api/v1/graph/solve`` bodies, each with a new expression (64 connections), and meanwhile, on
a few connections each, ``GET /healthz``, a solve the response cache answers (the graph
example, repeated) and a loss solve with fresh numbers (worked in the heavy threads). The
same three are measured first without the flood. Prints requests/s, p50, p99 and errors.

Run: ``.venv/bin/python bench/fresh_flood.py [--seconds 20] [--connections 64]``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from concurrent.futures import ThreadPoolExecutor

from http_throughput import FRESH_GRAPH, FRESH_LIB, FRESH_SOLVE, GRAPH, POST_SCRIPT, run_wrk, serve

OTHERS = [
    ("GET /healthz", "/healthz", None),
    ("POST /api/v1/graph/solve (cached)", "/api/v1/graph/solve",
     POST_SCRIPT.format(body=json.dumps(GRAPH), fresh="")),
    ("POST /api/v1/loss/solve (fresh numbers)", "/api/v1/loss/solve",
     FRESH_LIB + FRESH_SOLVE.replace("{task}", "loss")),
]  # fmt: skip
"""(name, path, wrk script) of the requests that must stay responsive."""
FLOOD = POST_SCRIPT.format(body=json.dumps(GRAPH), fresh=FRESH_GRAPH)


def _row(name: str, result: dict) -> str:
    return (
        f"{name:44} {result['rps']:8.0f} {result['p50']:8.2f} {result['p99']:8.2f}"
        f" {result['non2xx']:7d} {result['socket_kinds']:>13}"
    )


def main() -> None:
    """Measure the others alone, then the others under the flood, and the flood itself."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=64, help="of the flood")
    parser.add_argument("--others", type=int, default=2, help="connections of each other")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: apt-get install wrk")
    header = f"{'endpoint':44} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'non-2xx':>7}"
    with serve() as base:
        for _, path, script in OTHERS:
            run_wrk(base + path, 2, 1, script)  # warm-up (and the cached solve cached)
        print(f"alone, {args.others} connections each\n{header} {'c/r/w/timeout':>13}")
        for name, path, script in OTHERS:
            print(_row(name, run_wrk(base + path, args.seconds, args.others, script)), flush=True)
        print(f"\nduring a flood of new expressions ({args.connections} connections)")
        with ThreadPoolExecutor(len(OTHERS) + 1) as pool:
            flood = pool.submit(
                run_wrk, base + "/api/v1/graph/solve", args.seconds, args.connections, FLOOD
            )
            others = [
                (name, pool.submit(run_wrk, base + path, args.seconds, args.others, script))
                for name, path, script in OTHERS
            ]
            print(f"{header} {'c/r/w/timeout':>13}")
            print(_row("POST /api/v1/graph/solve (new expression)", flood.result()))
            for name, result in others:
                print(_row(name, result.result()), flush=True)


if __name__ == "__main__":
    main()
