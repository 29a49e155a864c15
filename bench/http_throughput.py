"""Throughput and latency of stepgrad's endpoints against a bare endpoint of the same app.

Starts ``uvicorn app.main:app`` (one worker, uvloop + httptools, no access log) on loopback,
pinned to core 0, and loads it with ``wrk`` (Debian package ``wrk``) pinned to core 1, one
endpoint after the other, with the same connections and duration. Prints requests/s, p50
and p99 latency and the ratio to the bare ``GET /healthz``. Every solve and page is measured
twice: the same request repeated, and
with fresh random numbers in each request (a wrk Lua ``request`` function: new scores, new
values of the same graph expression, a new conv image), which no response cache answers.
Run: ``.venv/bin/python bench/http_throughput.py [--tasks loss,graph] [--only 'fresh numbers']``.
The load check (issue #15): ``--load``: fresh inputs only, 64 connections, 30 s per endpoint;
non-2xx answers and socket errors (timeouts included: wrk's is 2 s) are counted apart, by
kind (connect/read/write/timeout). Each endpoint is first warmed up by 2 s of one request at
a time: a warm-up under full load left its requests queued into the measured run, whose
first 64 then timed out.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

LOSS = {
    "scores": [[3.2, 1.3, 2.2], [5.1, 4.9, 2.5], [-1.7, 2.0, -3.1]],
    "labels": [0, 1, 2],
    "class_names": ["cat", "car", "frog"],
}
GRAPH = {
    "expression": "1/(1+exp(-(w0*x0+w1*x1+w2)))",
    "values": {"w0": 2, "x0": -1, "w1": -3, "x1": -2, "w2": -3},
}
CONV = {
    "image": [[1, 2, 3, 4, 5], [2, 2, 1, 1, 1], [3, 2, 1, 1, 1], [4, 1, 1, 1, 1], [5, 1, 1, 1, 1]],
    "filters": [[0, -1, 0], [1, 1, 1], [0, -1, 0]],
    "stride": 2,
}

ANSWERS = {
    "loss": {"per_example": [2.9, 0, 12.9], "loss": 5.27},
    "graph": {"output": 0.73, "gradients": {"w0": -0.2, "x0": 0.39, "w1": -0.39, "x1": -0.59,
                                            "w2": 0.2}},
    "conv": {"conv": [[1, -2], [3, 1]], "activation": [[1, 0], [3, 1]], "pool": [[3]]},
}  # fmt: skip

# Lua for wrk: POST a JSON body; with FRESH set, a new expression per request (graph only).
POST_SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = [==[{body}]==]
counter = 0
{fresh}
"""
FRESH_GRAPH = """
request = function()
  counter = counter + 1
  local body = string.format(
    '{"expression": "1/(1+exp(-(w0*x0+w1*x1+w2+%d)))", '
    .. '"values": {"w0": 2, "x0": -1, "w1": -3, "x1": -2, "w2": -3}}', counter)
  return wrk.format(nil, nil, nil, body)
end
"""

# Lua for wrk: fresh numbers in every request (no response cache can answer them).
# FRESH_LIB's ``fresh(task)`` gives the task's JSON body, ``page(task)`` its page's query.
FRESH_LIB = """
init = function(args)
  math.randomseed(os.time() * 1000 + math.floor(os.clock() * 1e6) + math.random(1e6))
end
local function grid(rows, cols, cell, colsep, rowsep)
  local out = {}
  for i = 1, rows do
    local row = {}
    for j = 1, cols do row[j] = cell() end
    out[i] = table.concat(row, colsep)
  end
  return out
end
local function score() return string.format("%.1f", math.random(-50, 60) / 10) end
local function pixel() return tostring(math.random(0, 5)) end
local function value() return tostring(math.random(-3, 3)) end
local function labels() return {math.random(0, 2), math.random(0, 2), math.random(0, 2)} end
local names = {"w0", "x0", "w1", "x1", "w2"}
local EXPRESSION = "1/(1+exp(-(w0*x0+w1*x1+w2)))"
function fresh(task)
  if task == "loss" then
    local y = labels()
    return '{"scores": [[' .. table.concat(grid(3, 3, score, ", ", nil), "], [")
      .. ']], "labels": [' .. table.concat(y, ", ") .. '], '
      .. '"class_names": ["cat", "car", "frog"]}'
  elseif task == "graph" then
    local values = {}
    for i, name in ipairs(names) do values[i] = '"' .. name .. '": ' .. value() end
    return '{"expression": "' .. EXPRESSION .. '", "values": {'
      .. table.concat(values, ", ") .. '}}'
  else
    return '{"image": [[' .. table.concat(grid(5, 5, pixel, ", "), "], [")
      .. ']], "filters": [[0, -1, 0], [1, 1, 1], [0, -1, 0]], "stride": 2}'
  end
end
function page(task)
  if task == "loss" then
    return "/loss?scores=" .. table.concat(grid(3, 3, score, "+"), "%0A")
      .. "&labels=" .. table.concat(labels(), "+") .. "&class_names=cat%2C+car%2C+frog"
  elseif task == "graph" then
    local values = {}
    for i, name in ipairs(names) do values[i] = name .. "+%3D+" .. value() end
    return "/graph?expression=1%2F%281%2Bexp%28-%28w0%2Ax0%2Bw1%2Ax1%2Bw2%29%29%29"
      .. "&values=" .. table.concat(values, "%2C+")
  else
    return "/conv?image=" .. table.concat(grid(5, 5, pixel, "+"), "%0A")
      .. "&filters=0+-1+0%0A1+1+1%0A0+-1+0&stride=2"
  end
end
"""
FRESH_SOLVE = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function() return wrk.format(nil, nil, nil, fresh("{task}")) end
"""
FRESH_PAGE = """
request = function() return wrk.format("GET", page("{task}")) end
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait(base: str) -> None:
    for _ in range(300):
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("server did not start")


def _latency_ms(text: str, percentile: str) -> float:
    match = re.search(rf"^\s*{percentile}%\s+([\d.]+)(us|ms|s)", text, re.M)
    if not match:
        return float("nan")
    value, unit = float(match.group(1)), match.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value


def pinned(core: int) -> list[str]:
    """``taskset -c core`` where it exists and there are two cores or more (the server and
    wrk on separate cores keep them from taking each other's time), else nothing."""
    if shutil.which("taskset") and (os.cpu_count() or 1) >= 2:
        return ["taskset", "-c", str(core)]
    return []


def run_wrk(
    url: str, seconds: int, connections: int, script: str | None = None, timeout: int = 2
) -> dict:
    """One wrk run (on core 1; a request unanswered after ``timeout`` seconds counts as a
    socket error); returns requests/s, p50 and p99 in milliseconds and non-2xx count."""
    command = [
        *pinned(1),
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{seconds}s",
        f"--timeout={timeout}s",
        "--latency",
        url,
    ]
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
        if script:
            lua.write(script)
            command[command.index("wrk") + 1 : command.index("wrk") + 1] = ["-s", lua.name]
    try:
        text = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    finally:
        Path(lua.name).unlink()
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
                        text)  # fmt: skip
    return {
        "rps": rate,
        "p50": _latency_ms(text, "50"),
        "p99": _latency_ms(text, "99"),
        "non2xx": int(errors.group(1)) if errors else 0,
        "socket_errors": sum(map(int, sockets.groups())) if sockets else 0,
        "socket_kinds": "/".join(sockets.groups()) if sockets else "0/0/0/0",
        "requests": int(re.search(r"(\d+) requests in", text).group(1)),  # type: ignore[union-attr]
    }


def endpoints(tasks: list[str]) -> list[tuple[str, str, str | None]]:
    """(name, path, wrk script) for each measured endpoint."""
    bodies = {"loss": LOSS, "graph": GRAPH, "conv": CONV}
    rows: list[tuple[str, str, str | None]] = [("GET /healthz (bare)", "/healthz", None)]
    for task in tasks:
        body = json.dumps(bodies[task])
        rows.append(
            (
                f"POST /api/v1/{task}/solve",
                f"/api/v1/{task}/solve",
                POST_SCRIPT.format(body=body, fresh=""),
            )
        )
        rows.append(
            (
                f"POST /api/v1/{task}/solve (fresh numbers)",
                f"/api/v1/{task}/solve",
                FRESH_LIB + FRESH_SOLVE.replace("{task}", task),
            )
        )
        if task == "graph":
            fresh = POST_SCRIPT.format(body=body, fresh=FRESH_GRAPH)
            rows.append(("POST /api/v1/graph/solve (fresh expr)", "/api/v1/graph/solve", fresh))
            rows.append(("  … fresh expr, one connection", "/api/v1/graph/solve", fresh))
        graded = json.dumps({"problem": bodies[task], "answer": ANSWERS[task]})
        rows.append(
            (
                f"POST /api/v1/{task}/grade",
                f"/api/v1/{task}/grade",
                POST_SCRIPT.format(body=graded, fresh=""),
            )
        )
        query = {k: _form_text(v) for k, v in bodies[task].items()}
        rows.append((f"GET /{task}?…", f"/{task}?{urlencode(query)}", None))
        rows.append((f"GET /{task}?… (fresh numbers)", f"/{task}", FRESH_LIB
                     + FRESH_PAGE.replace("{task}", task)))  # fmt: skip
    return rows


def _form_text(value: object) -> str:
    from app.forms import value_text

    return value_text(value)


@contextlib.contextmanager
def serve() -> Iterator[str]:
    """``uvicorn app.main:app`` (one worker, uvloop + httptools) on a free loopback port,
    pinned to core 0, until the block ends; yields its base URL."""
    port = _free_port()
    server = subprocess.Popen(
        [
            *pinned(0),
            sys.executable,
            "-m",
            "uvicorn",
            "app.main:app",
            "--port",
            str(port),
            "--no-access-log",
            "--loop",
            "uvloop",
            "--http",
            "httptools",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait(base)
        yield base
    finally:
        server.terminate()
        server.wait()


def main() -> None:
    """Start the server, measure every endpoint, print a table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", default="loss,graph,conv")
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument(
        "--only",
        default="",
        help="measure only endpoints whose name contains this text "
        "(and the bare one), e.g. 'fresh numbers'",
    )
    parser.add_argument(
        "--load",
        action="store_true",
        help="the load check: fresh inputs only, 64 connections, 30 s each, errors counted",
    )
    args = parser.parse_args()
    if args.load:
        args.seconds, args.connections, args.only = 30, 64, args.only or "fresh"
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: apt-get install wrk")
    with serve() as base:
        tasks = [t for t in args.tasks.split(",") if t]
        bare = None
        print(f"{'endpoint':42} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'× bare':>7}"
              f" {'requests':>9} {'non-2xx':>7} {'socket':>6} {'c/r/w/timeout':>13}")  # fmt: skip
        for name, path, script in endpoints(tasks):
            if args.only not in name and path != "/healthz":
                continue
            connections = 1 if "one connection" in name else args.connections
            run_wrk(base + path, 2, 1, script)  # warm-up, one request at a time
            result = run_wrk(base + path, args.seconds, connections, script)
            bare = bare or result["rps"]
            print(
                f"{name:42} {result['rps']:9.0f} {result['p50']:8.2f} {result['p99']:8.2f}"
                f" {result['rps'] / bare:7.2f} {result['requests']:9d} {result['non2xx']:7d}"
                f" {result['socket_errors']:6d} {result['socket_kinds']:>13}",
                flush=True,
            )


if __name__ == "__main__":
    main()
