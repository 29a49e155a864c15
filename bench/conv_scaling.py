"""How conv solve time grows with image size: 8×8 … 64×64, 3 channels, 4 filters of 3×3.

For each size it times validation (``ConvProblem.model_validate`` of a JSON-like dict),
``solve`` with its steps (padding 1, stride 1, ReLU, 2×2 max-pool), the JSON dump of the
solution, and ``solve_batch`` over a batch of problems (time per problem) on the chosen
device. Prints the median of several repeats.
Run: ``.venv/bin/python bench/conv_scaling.py [--device cpu|cuda|auto] [--batch 64]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from solvers.core import resolve_device  # noqa: E402
from solvers.tasks.conv import ConvProblem, solve, solve_batch  # noqa: E402

SIZES = (8, 16, 32, 48, 64)
CHANNELS, FILTERS, KERNEL = 3, 4, 3


def problem_data(size: int, rng: np.random.Generator) -> dict[str, Any]:
    """A random problem as the API would receive it (integers, as in the quiz)."""
    return {
        "image": rng.integers(-9, 10, (CHANNELS, size, size)).tolist(),
        "filters": rng.integers(-3, 4, (FILTERS, CHANNELS, KERNEL, KERNEL)).tolist(),
        "bias": rng.integers(-2, 3, FILTERS).tolist(),
        "stride": 1,
        "padding": 1,
        "pool": {"kind": "max", "size": 2},
    }


def median_seconds(action: Callable[[], object], repeats: int) -> float:
    """Median wall time of ``action`` over ``repeats`` runs (after one warm-up run)."""
    action()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    """Print one row per image size."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", help="auto, cpu or cuda (default cpu)")
    parser.add_argument("--batch", type=int, default=64, help="problems per solve_batch call")
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    device = resolve_device(args.device)
    rng = np.random.default_rng(0)
    print(
        f"device {device}; {CHANNELS} channels, {FILTERS} filters {KERNEL}×{KERNEL}, "
        f"padding 1, stride 1, ReLU, 2×2 max-pool; batch {args.batch}; median of "
        f"{args.repeats}"
    )
    print(
        f"{'size':>7} {'validate ms':>12} {'solve ms':>9} {'steps':>6} {'dump ms':>8} "
        f"{'batch µs/problem':>17}"
    )
    for size in SIZES:
        data = problem_data(size, rng)
        problem = ConvProblem.model_validate(data)
        batch = [ConvProblem.model_validate(problem_data(size, rng)) for _ in range(args.batch)]
        solution = solve(problem)
        validate = median_seconds(lambda d=data: ConvProblem.model_validate(d), args.repeats)
        solve_s = median_seconds(lambda p=problem: solve(p), args.repeats)
        dump = median_seconds(lambda s=solution: s.model_dump_json(), args.repeats)
        batch_s = median_seconds(lambda b=batch: solve_batch(b, device), args.repeats)
        print(
            f"{size:>3}×{size:<3} {validate * 1e3:>12.2f} {solve_s * 1e3:>9.2f} "
            f"{len(solution.steps):>6} {dump * 1e3:>8.2f} {batch_s / args.batch * 1e6:>17.1f}"
        )


if __name__ == "__main__":
    main()
