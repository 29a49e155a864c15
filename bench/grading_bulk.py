"""Graded submissions per second: one by one (``grade``), in bulk (``grade_bulk``), and a
CSV upload of a whole class through ``POST /api/v1/grade/batch``.

The quiz is the lecture's three problems (SVM loss on 3 classes × 3 images, the sigmoid
neuron, the seed's 5×5 conv → ReLU → 2×2 max-pool), with random numbers per submission.
Submissions are a mix: a third right (rounded to 2 decimals), a third a named misconception's
answer, a third noise; misconceptions and error carried forward are always checked.

    .venv/bin/python bench/grading_bulk.py                 # CPU: 10^5 and 10^6
    .venv/bin/python bench/grading_bulk.py --device cuda   # on a GPU
    .venv/bin/python bench/grading_bulk.py --sizes "" --csv 10000   # the CSV upload only

The CSV upload and the JSON batch (``--csv`` rows or items per task, through the real route
in process, the file and the body made beforehand) are timed with variant numbers 1 … 30 (low)
and 9 971 … 10 000 (high): they should not depend on them (wall time on a loaded machine
does; compare the CPU seconds). The bulk rates print CPU seconds too (all threads): on a
shared machine they move less than the wall time.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import os
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout's code

from solvers.grading.batch import grade, grade_batch, grade_bulk, problem_batch
from solvers.registry import TASKS
from solvers.tasks import conv, graph, loss


def _quiz_batches(count: int, generator: torch.Generator) -> dict[str, Any]:
    """The three problems with random numbers, ``count`` of each, as tensors on the CPU."""

    def ints(low: int, high: int, *shape: int) -> torch.Tensor:
        return torch.randint(low, high, (count, *shape), generator=generator).to(torch.float64)

    loss_batch = replace(
        problem_batch("loss", [loss.example()]),
        scores=ints(-50, 60, 3, 3) / 10,
        labels=torch.randint(0, 3, (count, 3), generator=generator),
        margin=torch.ones(count, dtype=torch.float64),
        ln_base=torch.ones(count, dtype=torch.float64),
        scale=torch.full((count,), 1 / 3, dtype=torch.float64),
        reg_loss=torch.zeros(count, dtype=torch.float64),
    )
    graph_batch = replace(
        problem_batch("graph", [graph.example()]),
        values=ints(-3, 4, 5),
        upstream=torch.ones(count, dtype=torch.float64),
    )
    conv_batch = replace(
        problem_batch("conv", [conv.example()]),
        image=ints(0, 6, 1, 5, 5),
        filters=ints(-1, 2, 1, 1, 3, 3),
        bias=ints(-1, 2, 1),
    )
    return {"loss": loss_batch, "graph": graph_batch, "conv": conv_batch}


def _submissions(task: str, batch: Any, generator: torch.Generator) -> dict[str, torch.Tensor]:
    """Right, misconception and noisy answers, one third each (expected from the grader)."""
    grader = TASKS[task].grader
    nothing = {
        name: torch.full((batch_size(batch), *shape), math.nan, dtype=torch.float64)
        for name, shape in _shapes(task, batch).items()
    }
    given = {}
    for spec in grader.specs(batch, nothing):
        answer = torch.round(spec.expected * 100) / 100
        pick = torch.randint(0, 3, (answer.shape[0],), generator=generator)
        shape = (-1,) + (1,) * (answer.dim() - 1)
        noise = answer + torch.randn(answer.shape, generator=generator, dtype=torch.float64)
        answer = torch.where((pick == 2).view(shape), noise, answer)
        same = [c for _, c in spec.candidates if c.shape == answer.shape]
        if same:
            answer = torch.where((pick == 1).view(shape), torch.nan_to_num(same[0]), answer)
        if spec.sparse:
            answer = torch.full_like(answer, math.nan)
        given[spec.name] = answer
    return given


def batch_size(batch: Any) -> int:
    """B of a task's batch."""
    return int(next(v for v in batch.__dict__.values() if isinstance(v, torch.Tensor)).shape[0])


def _shapes(task: str, batch: Any) -> dict[str, tuple[int, ...]]:
    example = {"loss": loss.example, "graph": graph.example, "conv": conv.example}[task]()
    return TASKS[task].grader.shapes(example)


def _one_by_one(count: int) -> float:
    """Submissions per second through ``grade`` (the whole quiz counts as 3 submissions)."""
    quiz = {"loss": loss.example(), "graph": graph.example(), "conv": conv.example()}
    answers = {
        "loss": {"per_example": [2.9, 0, 12.9], "loss": 5.27},
        "graph": {"output": 0.73, "gradients": {"w0": 0.2, "x0": -0.39, "w1": 0.39, "x1": 0.59}},
        "conv": {"conv": [[1, -2], [3, 2]], "activation": [[1, 0], [3, 2]], "pool": [[3]]},
    }
    for task in quiz:  # warm up
        grade(task, quiz[task], answers[task])
    start = time.perf_counter()
    for _ in range(count):
        for task in quiz:
            grade(task, quiz[task], answers[task])
    return 3 * count / (time.perf_counter() - start)


def _batch_list(count: int) -> float:
    """Submissions per second through ``grade_batch`` (pydantic in, Grade objects out)."""
    problems = [conv.example()] * count
    answer = {"conv": [[1, -2], [3, 2]], "activation": [[1, 0], [3, 2]], "pool": [[3]]}
    start = time.perf_counter()
    grade_batch("conv", problems, [answer] * count, device="cpu")
    return count / (time.perf_counter() - start)


def _key_cells(task: str, seed: int = 5) -> dict[str, str]:
    """Variant 1's key as answer cells (``loss.L1`` → ``"2.37"``)."""
    from app.exports import answer_cells
    from solvers.variants.sets import QuizSpec, generate_set

    key = generate_set([task], QuizSpec(), seed, 1).variants[0].answers[task]
    return {c.column: f"{c.value:.2f}" for c in answer_cells(task, key)}


def _csv_upload(task: str, rows: int, first: int, seed: int = 5) -> bytes:
    """``rows`` CSV rows of ``task`` for variants ``first`` … ``first + 29`` in turn, each
    answering with variant 1's key (right for some rows, wrong for most)."""
    cells = _key_cells(task, seed)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=["student", "variant", *cells])
    writer.writeheader()
    for i in range(rows):
        writer.writerow({"student": f"s{i}", "variant": first + i % 30, **cells})
    return out.getvalue().encode()


def _json_batch(task: str, rows: int, first: int, seed: int = 5) -> bytes:
    """The same submissions as :func:`_csv_upload`, as a JSON batch of variant items."""
    from app.grading import submission_from_columns

    answer = submission_from_columns(task, _key_cells(task, seed))
    items = [
        {"task": task, "variant": {"seed": seed, "number": first + i % 30}, "answer": answer,
         "student": f"s{i}"}
        for i in range(rows)
    ]  # fmt: skip
    return json.dumps({"items": items}, separators=(",", ":")).encode()


def _upload_rates(rows: int) -> None:
    """Seconds for a ``rows``-row CSV upload and a JSON batch of ``rows`` items per task,
    at low and high variant numbers (the body limit is raised for the JSON batch)."""
    os.environ.setdefault("STEPGRAD_MAX_BODY_BYTES", str(64 << 20))
    from fastapi.testclient import TestClient

    from app.main import app

    with TestClient(app) as client:
        for task in TASKS:
            for first in (1, 9_971):
                upload, body = _csv_upload(task, rows, first), _json_batch(task, rows, first)
                for kind in ("CSV", "JSON"):
                    start, cpu = time.perf_counter(), time.process_time()
                    if kind == "CSV":
                        response = client.post(
                            "/api/v1/grade/batch",
                            data={"task": task, "seed": "5"},
                            files={"file": ("answers.csv", upload, "text/csv")},
                        )
                    else:
                        response = client.post(
                            "/api/v1/grade/batch",
                            content=body,
                            headers={"content-type": "application/json"},
                        )
                    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
                    response.raise_for_status()
                    print(
                        f"{kind:4} {task:5} {rows:>6} rows, variants {first}…{first + 29}: "
                        f"{elapsed:7.2f} s ({cpu:5.2f} s CPU), {rows / elapsed:9.0f} rows/s",
                        flush=True,
                    )


def main() -> None:
    """Print the rates."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: default)")
    parser.add_argument(
        "--csv", type=int, default=10_000, help="CSV rows and JSON items per task (0: skip)"
    )
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, device {device}")
    if device.type == "cpu" and args.sizes:
        print(f"one by one (grade, CPU):      {_one_by_one(200):10.0f} submissions/s")
        print(f"list of 10^4 (grade_batch):   {_batch_list(10_000):10.0f} submissions/s")
    generator = torch.Generator().manual_seed(0)
    warm = _quiz_batches(64, generator)
    for task, b in warm.items():  # first calls pay torch's one-time set-up (seconds on a CPU)
        grade_bulk(task, b, _submissions(task, b, generator), device=device)
    if args.csv:
        _upload_rates(args.csv)
    for size in (int(s) for s in args.sizes.split(",") if s):
        batches = _quiz_batches(size, generator)
        inputs = {t: _submissions(t, b, generator) for t, b in batches.items()}
        total = total_cpu = 0.0
        for task, b in batches.items():
            if device.type == "cuda":
                torch.cuda.synchronize()
            start, cpu = time.perf_counter(), time.process_time()
            bulk = grade_bulk(task, b, inputs[task], device=device)
            float(bulk.score.sum())  # waits for the device
            elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
            total += elapsed
            total_cpu += cpu
            named = sum(int((p.misconception >= 0).sum()) for p in bulk.parts)
            carried = int((bulk.carried_forward > 0).sum())
            print(
                f"{task:5} {size:>9}: {elapsed:7.2f} s ({cpu:6.2f} s CPU), "
                f"{size / elapsed:12.0f}/s, "
                f"mean score {float(bulk.score.mean()):.2f}/{float(bulk.max_score.mean()):.0f}, "
                f"misconceptions named {named}, carried forward {carried}"
            )
        print(
            f"whole quiz {size:>9}: {total:7.2f} s ({total_cpu:6.2f} s CPU), "
            f"{size / total:12.0f} quizzes/s"
        )


if __name__ == "__main__":
    main()
