"""The classroom under load, on SQLite and on PostgreSQL: submissions per second through
``stepgrad serve`` with one and two workers, and for a 1 000-student exam the gradebook
page and the analytics (misconception summary) of 1 000 students × 3 tasks.

Each submission answers the three tasks of the lecture's quiz (a third right, a third with
a named mistake, a third partly blank), sent by ``wrk`` (Debian package ``wrk``, pinned to
core 1) from a Lua list of prepared submissions; each feedback mode is measured: at once
(graded in the request) and after closing (stored, graded by the worker's backlog). The
server's CPU per submission is its process group's; the machine's is ``/proc/stat``'s (the
database server and wrk included). PostgreSQL is a throwaway server from Debian's binaries
(``tests/postgres.py``). The big exam's students are submitted by a Python thread pool.

    PYTHONPATH=. .venv/bin/python bench/classroom.py
    PYTHONPATH=. .venv/bin/python bench/classroom.py --backends sqlite --no-big --seconds 4

The README's "Under load" has the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from bench.http_throughput import run_wrk
from tests.app.classroom.helpers import exam_body, log10_loss, right, students
from tests.conftest import start_server, stop_server
from tests.postgres import running_postgres

TOKEN = "bench-token"


def call(base: str, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    """One request as the instructor: (status, JSON or text)."""
    request = urllib.request.Request(
        base + path, method=method, data=None if body is None else json.dumps(body).encode()
    )
    request.add_header("Content-Type", "application/json")
    request.add_header("Authorization", f"Bearer {TOKEN}")
    try:
        with urllib.request.urlopen(request, timeout=120) as answer:
            data = answer.read()
            return answer.status, json.loads(data) if path.startswith("/api") else data
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def answers(problems: dict[str, Any], kind: int) -> dict[str, Any]:
    """Right (0), the log-base mistake (1), or only the conv part (2)."""
    if kind == 0:
        return {task: right(task, problems[task]) for task in problems}
    if kind == 1:
        return {"loss": log10_loss(problems["loss"]), "graph": right("graph", problems["graph"])}
    return {"conv": right("conv", problems["conv"])}


def exam_with_answers(
    base: str, count: int, attempts: int, feedback: str = "immediate"
) -> tuple[int, list[tuple[str, Any]]]:
    """A new exam of ``count`` students; each student's token and three bodies."""
    body = exam_body(students(count), attempts=attempts, feedback=feedback)
    status, exam = call(base, "POST", "/api/v1/exams", body)
    assert status == 201, exam
    jobs = []
    with ThreadPoolExecutor(8) as pool:
        views = list(
            pool.map(lambda s: call(base, "GET", f"/api/v1/take/{s['token']}")[1], exam["students"])
        )
    for student, view in zip(exam["students"], views, strict=True):
        jobs += [(student["token"], {"answers": answers(view["problems"], k)}) for k in range(3)]
    return exam["id"], jobs


def server_cpu(group: int) -> float:
    """CPU seconds (user and system) of the server's processes so far: those of its process
    group (``stepgrad serve`` and its workers; Linux's ``/proc``, 0 elsewhere)."""
    total = 0
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == group:
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def machine_cpu() -> float:
    """CPU seconds the whole machine has been busy (``/proc/stat``: every process, the
    database server and wrk included; 0 elsewhere)."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return 0.0
    idle = int(fields[3]) + int(fields[4])
    return (sum(map(int, fields[:8])) - idle) / os.sysconf("SC_CLK_TCK")


SUBMIT_SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local jobs = {{{jobs}}}
local next_job = 0
request = function()
  next_job = next_job % #jobs + 1
  return wrk.format(nil, jobs[next_job][1], nil, jobs[next_job][2])
end
"""
"""Lua for wrk: each request the next submission of a prepared list."""


def submissions_per_second(
    base: str, seconds: int, connections: int, group: int, feedback: str
) -> dict[str, float]:
    """Submissions from wrk (``connections`` at once, for ``seconds``), each the next of
    an exam big enough that none is refused (students × 3 attempts): submissions per second
    (answered 201), the server's and the whole machine's CPU milliseconds per submission,
    and the median and 99th percentile latency."""
    count = max(300, seconds * 1200)  # more than this machine can take in ``seconds``
    _, jobs = exam_with_answers(base, count // 3, attempts=3, feedback=feedback)
    table = ",".join(  # every student's first attempt, then the second, the third
        f"{{[==[/api/v1/take/{token}/submissions]==], [==[{json.dumps(body)}]==]}}"
        for token, body in jobs[0::3] + jobs[1::3] + jobs[2::3]
    )
    cpu, machine = server_cpu(group), machine_cpu()
    result = run_wrk(base, seconds, connections, SUBMIT_SCRIPT.format(jobs=table), timeout=30)
    accepted = result["requests"] - result["non2xx"]
    assert result["non2xx"] == 0 and result["socket_errors"] == 0, result
    return {
        "rate": accepted / seconds,
        "server": 1000 * (server_cpu(group) - cpu) / accepted,
        "machine": 1000 * (machine_cpu() - machine) / accepted,
        "p50": result["p50"],
        "p99": result["p99"],
    }


def big_exam(base: str, size: int, repeats: int) -> dict[str, float]:
    """Median ms of the gradebook page, the gradebook JSON and the analytics of an exam of
    ``size`` students who all submitted once."""
    exam_id, jobs = exam_with_answers(base, size, attempts=1)
    with ThreadPoolExecutor(32) as pool:
        list(
            pool.map(
                lambda job: call(base, "POST", f"/api/v1/take/{job[0]}/submissions", job[1]),
                jobs[::3],
            )
        )
    timings: dict[str, float] = {}
    for name, path in (
        ("gradebook page", f"/instructor/exams/{exam_id}"),
        ("gradebook JSON", f"/api/v1/exams/{exam_id}/gradebook"),
        ("analytics", f"/api/v1/exams/{exam_id}/analytics"),
    ):
        samples = []
        for _ in range(repeats):
            started = time.perf_counter()
            status, _ = call(base, "GET", path)
            samples.append(1000 * (time.perf_counter() - started))
            assert status == 200
        timings[name] = statistics.median(samples)
    return timings


def main() -> None:
    """Run the measures and print a table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=5, help="of submissions per run")
    parser.add_argument("--connections", type=int, default=64, help="wrk's, at once")
    parser.add_argument("--students", type=int, default=1000, help="the big exam's size")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--big",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="measure the big exam's gradebook and analytics",
    )
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--feedback", default="immediate,after_close", help="modes to measure")
    args = parser.parse_args()
    with ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        for backend in args.backends.split(","):
            for workers in (1, 2):
                if backend == "sqlite":
                    url = f"sqlite:///{folder / f'bench-{workers}.db'}"
                else:
                    server = stack.enter_context(running_postgres())
                    admin = create_engine(server, isolation_level="AUTOCOMMIT")
                    with admin.connect() as connection:
                        connection.execute(text(f"CREATE DATABASE bench{workers}"))
                    admin.dispose()
                    url = server.rsplit("/", 1)[0] + f"/bench{workers}"
                env = {"STEPGRAD_DATABASE_URL": url, "STEPGRAD_INSTRUCTOR_TOKEN": TOKEN}
                process, base = start_server(env, "--workers", str(workers))
                try:
                    for feedback in args.feedback.split(","):
                        run = submissions_per_second(
                            base, args.seconds, args.connections, process.pid, feedback
                        )
                        print(
                            f"{backend:10} {workers} worker(s), feedback {feedback:11}: "
                            f"{run['rate']:6.0f} submissions/s, CPU a submission: server "
                            f"{run['server']:5.2f} ms, machine {run['machine']:5.2f} ms; "
                            f"latency p50 {run['p50']:.0f} ms, p99 {run['p99']:.0f} ms",
                            flush=True,
                        )
                    if workers == 1 and args.big:
                        for name, ms in big_exam(base, args.students, args.repeats).items():
                            print(
                                f"{backend:10} {args.students} students: {name:15} {ms:7.1f} ms",
                                flush=True,
                            )
                finally:
                    stop_server(process)


if __name__ == "__main__":
    main()
