"""Micro-benchmark of the graph solver, in process: µs per solve, repeated vs fresh expressions.

Run from the repository root: ``PYTHONPATH=. .venv/bin/python bench/graph_solve.py
[--batch 100000] [--device cpu|cuda|auto]`` (without ``PYTHONPATH=.`` a worktree would time
the installed checkout's code). ``evaluate`` is the pass of one problem (numpy scalars),
``solve_batch`` the batch pass (torch). Prints numbers; asserts nothing.
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import time
from collections.abc import Callable

import torch

from solvers.core import resolve_device
from solvers.tasks.graph import GraphProblem, example, solve, solve_batch
from solvers.tasks.graph.compute import evaluate
from solvers.tasks.graph.parser import parse
from solvers.tasks.graph.symbolic import derivatives_latex

VALUES = {"w0": 2.0, "x0": -1.0, "w1": -3.0, "x1": -2.0, "w2": -3.0}
_fresh = itertools.count(1)


def fresh_expression() -> str:
    """A sigmoid neuron no cache has seen (a new constant each time)."""
    k = next(_fresh)
    return f"1/(1+exp(-(w0*x0+w1*x1+w2+{k}/{k + 7})))"


def per_call_us(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Median and 99th percentile of one call, in µs."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1e6)
    times.sort()
    return statistics.median(times), times[int(0.99 * (len(times) - 1))]


def report(label: str, fn: Callable[[], object], repeat: int) -> None:
    p50, p99 = per_call_us(fn, repeat)
    print(f"{label:<58} p50 {p50:9.1f} µs   p99 {p99:9.1f} µs")


def fresh_values(expression: str, repeat: int) -> None:
    """Each part of a solve request whose values no cache has seen: the JSON body validated
    (with both passes), the worked solution, its translation, its JSON."""
    from app.deps import number_format, solve_for_people
    from app.i18n import current_language
    from solvers.registry import get_task

    task = get_task("graph")
    counter = itertools.count(1)

    def body() -> bytes:
        k = next(counter)
        values = {**VALUES, "x0": -1.0 - k % 97 / 8, "w1": -3.0 + k % 89 / 16}
        return json.dumps({"expression": expression, "values": values}).encode()

    def one_language(lang: str) -> None:
        current_language.set(lang)
        fmt = number_format(lang, None)
        problem = GraphProblem.model_validate_json(body())
        solution = solve_for_people(task, problem, fmt)
        report(f"[{lang}] validation (with both passes)",
               lambda: GraphProblem.model_validate_json(body()), repeat)  # fmt: skip
        report(f"[{lang}] evaluate (both passes)",
               lambda: evaluate(problem.graph, {**problem.values, "x0": next(counter) / 7}),
               repeat)  # fmt: skip
        report(f"[{lang}] solve", lambda: solve(problem, fmt), repeat)
        report(f"[{lang}] solve_for_people (solve + translate)",
               lambda: solve_for_people(task, problem, fmt), repeat)  # fmt: skip
        report(f"[{lang}] model_dump_json", solution.model_dump_json, repeat)
        report(
            f"[{lang}] all: validation + solve_for_people + JSON",
            lambda: solve_for_people(
                task, GraphProblem.model_validate_json(body()), fmt
            ).model_dump_json(),
            repeat,
        )

    for lang in ("en", "ru"):
        one_language(lang)
    current_language.set("en")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=2000)
    parser.add_argument("--fresh", type=int, default=200)
    parser.add_argument("--batch", type=int, default=100_000)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()

    problem = example()
    start = time.perf_counter()
    solve(problem)  # imports sympy, fills the caches
    print(f"first solve (imports sympy): {(time.perf_counter() - start) * 1e3:.0f} ms")
    for _ in range(200):
        solve(problem)

    print("\nsigmoid neuron, same expression repeated (caches warm):")
    report("solve(problem)", lambda: solve(problem), args.repeat)
    report(
        "GraphProblem(...) validation",
        lambda: GraphProblem(expression=problem.expression, values=VALUES),
        args.repeat,
    )
    report(
        "validation + solve + model_dump_json",
        lambda: solve(GraphProblem(expression=problem.expression, values=VALUES)).model_dump_json(),
        args.repeat,
    )

    print("\nsame expression, new values each call (as the API serves them):")
    fresh_values(problem.expression, args.repeat)

    print("\nfresh expression each call (nothing cached):")
    report("parse", lambda: parse(fresh_expression()), args.fresh)
    report(
        "sympy: derivatives_latex (build + diff + latex)",
        lambda: derivatives_latex(parse(fresh_expression())),
        args.fresh,
    )
    report(
        "validation + solve + model_dump_json",
        lambda: solve(GraphProblem(expression=fresh_expression(), values=VALUES)).model_dump_json(),
        args.fresh,
    )
    big = "+".join(f"sigmoid(w{i}*x{i} + b{i})*tanh(x{i})" for i in range(8))
    big_values = {f"{n}{i}": 0.5 for i in range(8) for n in "wxb"}
    report(
        f"large fresh expression ({len(big)} chars, 24 variables)",
        lambda: solve(GraphProblem(expression=big + f"+{next(_fresh)}", values=big_values)),
        max(args.fresh // 10, 5),
    )

    device = resolve_device(args.device)
    print(f"\nsolve_batch on {device} ({torch.get_num_threads()} threads):")
    problems = [
        GraphProblem(expression=problem.expression, values={**VALUES, "w2": i / args.batch})
        for i in range(args.batch)
    ]
    solve_batch(problems[:100], device)
    start = time.perf_counter()
    solve_batch(problems, device)
    elapsed = time.perf_counter() - start
    rate = args.batch / elapsed
    print(f"{args.batch} sigmoid neurons: {elapsed * 1e3:.0f} ms, {rate:,.0f} problems/s")


if __name__ == "__main__":
    main()
