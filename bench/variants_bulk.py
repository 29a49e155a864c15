"""Variants per second, numbers only (generate + solve), and peak memory.

For each task and for the full quiz (loss + graph + conv) it times ``generate_bulk`` at
10³, 10⁵ and 10⁶ variants on the chosen device, against a per-variant Python loop
(``generate`` + ``solve`` with steps for 10³ variants, extrapolated). Each measurement runs
in a fresh child process so its peak memory (``ru_maxrss``; on CUDA also
``torch.cuda.max_memory_allocated``) is its own.
Run: ``.venv/bin/python bench/variants_bulk.py [--device cpu|cuda|auto] [--threads 1]
[--sizes 1000,100000,1000000]``.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TASKS = ("loss", "graph", "conv")
SEED = 2020
LOOP_COUNT = 1000


def measure(what: str, count: int, device_name: str, threads: int) -> dict[str, Any]:
    """One measurement in this process: seconds and peak memory."""
    import torch

    from solvers.core import resolve_device
    from solvers.registry import TASKS as REGISTRY
    from solvers.variants.rng import CounterRng
    from solvers.variants.sets import QuizSpec, generate_bulk, variant_key

    torch.set_num_threads(threads)
    device = resolve_device(device_name)
    spec = QuizSpec()
    tasks = TASKS if what in ("quiz", "loop-quiz") else (what.removeprefix("loop-"),)
    generate_bulk("loss", spec, SEED, 10, device)  # warm up imports and kernels
    if device.type == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    if what.startswith("loop-"):
        for task in tasks:
            for number in range(1, count + 1):
                rng = CounterRng.of_key(variant_key(spec, SEED, number, task))
                REGISTRY[task].solve(REGISTRY[task].generate(rng, getattr(spec, task)))
    else:
        for task in tasks:
            bulk = generate_bulk(task, spec, SEED, count, device)
            del bulk
    if device.type == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    result = {
        "seconds": seconds,
        "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "device": str(device),
    }
    if device.type == "cuda":
        result["cuda_peak_mb"] = torch.cuda.max_memory_allocated() / 2**20
        result["gpu"] = torch.cuda.get_device_name()
    return result


def child(what: str, count: int, device: str, threads: int) -> dict[str, Any]:
    """Run :func:`measure` in a fresh interpreter."""
    command = [sys.executable, __file__, "--child", f"{what}:{count}"]
    command += ["--device", device, "--threads", str(threads)]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="auto", help="auto, cpu or cuda")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument("--sizes", default="1000,100000,1000000")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        what, count = args.child.split(":")
        print(json.dumps(measure(what, int(count), args.device, args.threads)))
        return
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"device={args.device} threads={args.threads}  (numbers only: generate + solve)")
    header = f"{'what':>10} {'variants':>9} {'seconds':>8} {'variants/s':>12} {'peak RSS':>9}"
    print(header + "  peak CUDA")
    loops: dict[str, float] = {}
    for what in (*TASKS, "quiz"):
        loop = child(f"loop-{what}", LOOP_COUNT, "cpu", args.threads)
        loops[what] = LOOP_COUNT / loop["seconds"]
        print(
            f"{what:>10} {LOOP_COUNT:>9} {loop['seconds']:>8.3f} {loops[what]:>12,.0f} "
            f"{loop['maxrss_mb']:>7.0f}MB  (per-variant Python loop, with steps)"
        )
        for count in sizes:
            r = child(what, count, args.device, args.threads)
            rate = count / r["seconds"]
            cuda = f"  {r['cuda_peak_mb']:.0f}MB {r['gpu']}" if "cuda_peak_mb" in r else ""
            print(
                f"{what:>10} {count:>9} {r['seconds']:>8.3f} {rate:>12,.0f} "
                f"{r['maxrss_mb']:>7.0f}MB{cuda}  ×{rate / loops[what]:,.0f} vs loop "
                f"[{r['device']}]"
            )


if __name__ == "__main__":
    main()
