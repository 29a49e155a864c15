"""Sets of quiz variants for an instructor: problems, answers and notes, reproducible.

:func:`generate_set` makes pydantic problems and answers (for sheets, keys and exports);
:func:`generate_bulk` makes tensors only (for hundreds of thousands of variants);
:func:`regenerate` gives back the problem of one variant number (for grading).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic import BaseModel, Field

from solvers.conv import ConvAnswer, ConvProblem
from solvers.core import resolve_device
from solvers.graph import GraphAnswer, GraphProblem
from solvers.loss import LossAnswer, LossProblem
from solvers.variants.base import Generator, chunks, note_list, select, take
from solvers.variants.conv import ConvGenerator
from solvers.variants.graph import FAMILIES, FAMILY_NAMES, GraphGenerator
from solvers.variants.loss import KINDS, LossGenerator
from solvers.variants.rng import variant_keys
from solvers.variants.specs import QuizSpec, TaskSpec

GENERATORS: dict[str, Generator] = {
    g.task: g for g in (LossGenerator(), GraphGenerator(), ConvGenerator())
}
"""Task id → its generator, in the quiz's order."""
MAX_SET_COUNT = 10_000
"""Most variants of a set with pydantic problems and answers (bulk has no limit)."""

TaskProblem = LossProblem | GraphProblem | ConvProblem
TaskAnswer = LossAnswer | GraphAnswer | ConvAnswer


class Variant(BaseModel):
    """One variant: its number, and per task its problem, answer and notes."""

    number: int = Field(ge=1, description="The variant number, 1-based.")
    problems: dict[str, TaskProblem] = Field(description="Task id → the problem.")
    answers: dict[str, TaskAnswer] = Field(description="Task id → the answer.")
    notes: dict[str, list[str]] = Field(
        description="Task id → message ids of the rules this variant could not meet "
        "(empty when it meets them all)."
    )


class VariantSet(BaseModel):
    """Variants 1 … count of (tasks, spec, seed): the same bytes every time."""

    spec: QuizSpec
    seed: int
    count: int
    tasks: list[str] = Field(description="Task ids in the quiz's order.")
    keyed: bool = Field(description="True when a server secret keyed the variants.")
    variants: list[Variant]


def task_spec(task: str, spec: QuizSpec | TaskSpec) -> TaskSpec:
    """The spec of ``task``: the matching part of a quiz spec, or a task spec as it is."""
    if task not in GENERATORS:
        raise ValueError(f"unknown task {task!r}; known: {', '.join(GENERATORS)}")
    return getattr(spec, task) if isinstance(spec, QuizSpec) else spec


def normalize_tasks(tasks: Sequence[str]) -> list[str]:
    """Known task ids, each once, in the quiz's order."""
    for task in tasks:
        task_spec(task, QuizSpec())
    if not tasks:
        raise ValueError("choose at least one task")
    return [task for task in GENERATORS if task in tasks]


def _check(seed: int, count: int, limit: int | None) -> None:
    if not 0 <= seed < 1 << 63:
        raise ValueError("the seed is a whole number from 0 to 2^63 − 1")
    if count < 1 or (limit is not None and count > limit):
        raise ValueError(f"the number of variants is 1 … {limit or 'any'}, not {count}")


def variant_key(
    spec: QuizSpec | TaskSpec, seed: int, number: int, task: str, secret: bytes | None = None
) -> int:
    """The 64-bit key of variant ``number`` of ``task`` (see :mod:`solvers.variants.rng`)."""
    return int(variant_keys(task, task_spec(task, spec), seed, [number], secret)[0])


def generate_set(
    tasks: Sequence[str],
    spec: QuizSpec,
    seed: int,
    count: int,
    secret: bytes | None = None,
    device: Any = None,
) -> VariantSet:
    """Variants 1 … ``count`` with problems, answers (each task's ``solve_batch`` over the
    whole set, on ``device``; ``None``: ``STEPGRAD_DEVICE``) and notes."""
    _check(seed, count, MAX_SET_COUNT)
    tasks = normalize_tasks(tasks)
    device = resolve_device(device if isinstance(device, str | None) else str(device))
    from solvers.registry import TASKS

    problems: dict[str, list[Any]] = {}
    answers: dict[str, list[Any]] = {}
    notes: dict[str, list[list[str]]] = {}
    for task in tasks:
        generator, part = GENERATORS[task], task_spec(task, spec)
        selection = select(generator, part, seed, count, secret)
        problems[task] = generator.problems(selection.arrays, part)
        answers[task] = TASKS[task].solve_batch(problems[task], device)
        notes[task] = [note_list(generator, mask) for mask in selection.notes.tolist()]
    variants = [
        Variant(
            number=i + 1,
            problems={t: problems[t][i] for t in tasks},
            answers={t: answers[t][i] for t in tasks},
            notes={t: notes[t][i] for t in tasks},
        )
        for i in range(count)
    ]
    return VariantSet(
        spec=spec, seed=seed, count=count, tasks=tasks, keyed=secret is not None, variants=variants
    )


def regenerate(
    task: str, spec: QuizSpec | TaskSpec, seed: int, number: int, secret: bytes | None = None
) -> TaskProblem:
    """The problem of variant ``number`` of ``task``, as :func:`generate_set` made it.

    Variants 1 … number are drawn (a variant must differ from the earlier ones): vectorized,
    about a millisecond for a class-sized number.
    """
    _check(seed, number, None)
    generator, part = GENERATORS[task], task_spec(task, spec)
    selection = select(generator, part, seed, number, secret)
    return generator.problems(take(selection.arrays, np.array([number - 1])), part)[0]  # type: ignore[return-value]


@dataclass
class Bulk:
    """Variants 1 … count of one task as tensors (numbers only, no pydantic objects).

    ``problems``: int64 CPU tensors with a leading variant dimension: loss ``kind`` (index
    into :data:`~solvers.variants.loss.KINDS`), ``labels`` (B, N), ``scores`` (B, C, N) in
    units of ``meta["scale"]``; graph ``family`` (index into ``meta["families"]``) and
    ``values`` (B, 5) in the family's variable order (``meta["variables"]``); conv ``image``
    (B, C, S, S), ``filters`` (B, K, C, F, F), ``bias`` (B, K). ``answers``: float64
    tensors on the device, as each generator's ``solve_tensors`` documents. ``notes``:
    (B,) int64, bit i set when ``note_messages[i]`` applies.
    """

    task: str
    count: int
    problems: dict[str, Any]
    answers: dict[str, Any]
    notes: Any
    note_messages: tuple[str, ...]
    meta: dict[str, Any]


def _meta(task: str, spec: TaskSpec) -> dict[str, Any]:
    if task == "loss":
        return {"scale": spec.scale, "kinds": KINDS}  # type: ignore[union-attr]
    if task == "graph":
        return {
            "families": FAMILY_NAMES,
            "variables": {name: FAMILIES[name][1] for name in FAMILY_NAMES},
            "expressions": {name: FAMILIES[name][0] for name in FAMILY_NAMES},
        }
    return {}


def generate_bulk(
    task: str,
    spec: QuizSpec | TaskSpec,
    seed: int,
    count: int,
    device: Any = None,
    secret: bytes | None = None,
) -> Bulk:
    """The same variants as :func:`generate_set`, as tensors: drawn and checked vectorized in
    numpy chunks, solved in chunks on ``device`` (``None``: ``STEPGRAD_DEVICE``)."""
    import torch

    _check(seed, count, None)
    generator, part = GENERATORS[task], task_spec(task, spec)
    device = resolve_device(device if isinstance(device, str | None) else str(device))
    selection = select(generator, part, seed, count, secret)
    pieces = [
        generator.solve_tensors({k: a[s] for k, a in selection.arrays.items()}, part, device)
        for s in chunks(count)
    ]
    answers = {name: torch.cat([p[name] for p in pieces]) for name in pieces[0]}
    return Bulk(
        task=task,
        count=count,
        problems={k: torch.from_numpy(a) for k, a in selection.arrays.items()},
        answers=answers,
        notes=torch.from_numpy(selection.notes),
        note_messages=generator.notes,
        meta=_meta(task, part),
    )
