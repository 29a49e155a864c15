"""Sets of quiz variants for an instructor: problems, answers and notes, reproducible.

:func:`generate_set` makes pydantic problems and answers (for sheets, keys and exports);
:func:`generate_bulk` makes tensors only (for hundreds of thousands of variants);
:func:`regenerate` gives back the problem of one variant number, :func:`regenerate_many`
those of many numbers at once (for grading).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializeAsAny,
    TypeAdapter,
    ValidationInfo,
    create_model,
    field_validator,
)

from solvers.core import resolve_device
from solvers.registry import TASKS, get_task
from solvers.variants.base import chunks, note_list, select, select_numbers
from solvers.variants.rng import variant_keys

MAX_SET_COUNT = 10_000
"""Most variants of a set with pydantic problems and answers (bulk has no limit)."""


class QuizSpecBase(BaseModel):
    """What every quiz spec model is: the model itself, one field per task, comes from
    :func:`quiz_spec`."""

    model_config = ConfigDict(extra="forbid")


@lru_cache(maxsize=16)
def _quiz_spec_model(tasks: tuple[tuple[str, type[BaseModel]], ...]) -> type[QuizSpecBase]:
    fields: dict[str, Any] = {
        task: (spec, Field(default_factory=spec, description=f"The {task} problem."))
        for task, spec in tasks
    }
    return create_model(
        "QuizSpec",
        __base__=QuizSpecBase,
        __doc__="The whole quiz: one spec per task (the defaults are the seed's quiz).",
        **fields,
    )


def quiz_spec() -> type[QuizSpecBase]:
    """The whole quiz's spec model for the tasks registered now: one field per task,
    holding its spec (built once per set of tasks)."""
    return _quiz_spec_model(tuple((t.id, t.spec_model) for t in TASKS.values()))


def __getattr__(name: str) -> Any:
    """``QuizSpec`` is :func:`quiz_spec`'s model for the tasks registered when it is read."""
    if name == "QuizSpec":
        return quiz_spec()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


TaskSpec = BaseModel
"""Any task's spec model."""


@lru_cache
def _adapter(model: Any) -> TypeAdapter[Any]:
    """The validator of a model or of a union of models."""
    return TypeAdapter(model)


class Variant(BaseModel):
    """One variant: its number, and per task its problem, answer and notes."""

    number: int = Field(ge=1, description="The variant number, 1-based.")
    problems: dict[str, Any] = Field(description="Task id → the task's problem.")
    answers: dict[str, Any] = Field(description="Task id → the task's answer.")
    notes: dict[str, list[str]] = Field(
        description="Task id → message ids of the rules this variant could not meet "
        "(empty when it meets them all)."
    )

    @field_validator("problems", "answers", mode="after")
    @classmethod
    def _task_models(cls, value: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        """Each task's entry as that task's problem (or answer) model."""
        kind = "problem_model" if info.field_name == "problems" else "answer_model"
        return {
            task: _adapter(getattr(get_task(task), kind)).validate_python(entry)
            for task, entry in value.items()
        }


class VariantSet(BaseModel):
    """``count`` variants of (tasks, spec, seed), numbered from 1 unless a later ``first``
    was asked: the same bytes every time."""

    spec: SerializeAsAny[QuizSpecBase]
    seed: int
    count: int
    tasks: list[str] = Field(description="Task ids in the quiz's order.")
    keyed: bool = Field(description="True when a server secret keyed the variants.")
    variants: list[Variant]

    @field_validator("spec", mode="before")
    @classmethod
    def _quiz_spec(cls, value: Any) -> Any:
        """A spec read from JSON as the quiz spec model of the registered tasks."""
        return value if isinstance(value, QuizSpecBase) else quiz_spec().model_validate(value)


def task_spec(task: str, spec: TaskSpec) -> TaskSpec:
    """The spec of ``task``: the matching part of a quiz spec, or a task spec as it is."""
    get_task(task)
    return getattr(spec, task) if isinstance(spec, QuizSpecBase) else spec


def normalize_tasks(tasks: Sequence[str]) -> list[str]:
    """Known task ids, each once, in the quiz's order."""
    for task in tasks:
        get_task(task)
    if not tasks:
        raise ValueError("choose at least one task")
    return [task for task in TASKS if task in tasks]


def _check(seed: int, count: int, limit: int | None) -> None:
    if not 0 <= seed < 1 << 63:
        raise ValueError("the seed is a whole number from 0 to 2^63 − 1")
    if count < 1 or (limit is not None and count > limit):
        raise ValueError(f"the number of variants is 1 … {limit or 'any'}, not {count}")


def variant_key(
    spec: TaskSpec, seed: int, number: int, task: str, secret: bytes | None = None
) -> int:
    """The 64-bit key of variant ``number`` of ``task`` (see :mod:`solvers.variants.rng`)."""
    return int(variant_keys(task, task_spec(task, spec), seed, [number], secret)[0])


def generate_set(
    tasks: Sequence[str],
    spec: QuizSpecBase,
    seed: int,
    count: int,
    secret: bytes | None = None,
    device: Any = None,
    first: int = 1,
) -> VariantSet:
    """Variants ``first`` … ``first + count − 1`` (1 … ``count`` by default) with problems,
    answers (each task's ``solve_batch`` over the whole set, on ``device``; ``None``:
    ``STEPGRAD_DEVICE``) and notes: each variant the same as in any other set of the same
    tasks, spec and seed."""
    _check(seed, count, MAX_SET_COUNT)
    _check(seed, first, None)
    tasks = normalize_tasks(tasks)
    device = resolve_device(device if isinstance(device, str | None) else str(device))
    problems: dict[str, list[Any]] = {}
    answers: dict[str, list[Any]] = {}
    notes: dict[str, list[list[str]]] = {}
    for task in tasks:
        generator, part = TASKS[task].generator, task_spec(task, spec)
        if first == 1:
            selection = select(generator, part, seed, count, secret)
        else:
            numbers = np.arange(first, first + count, dtype=np.int64)
            selection = select_numbers(generator, part, seed, numbers, secret)
        problems[task] = generator.problems(selection.arrays, part)
        answers[task] = TASKS[task].solve_batch(problems[task], device)
        notes[task] = [note_list(generator, mask) for mask in selection.notes.tolist()]
    variants = [
        Variant(
            number=first + i,
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
    task: str, spec: TaskSpec, seed: int, number: int, secret: bytes | None = None
) -> BaseModel:
    """The problem of variant ``number`` of ``task``, as :func:`generate_set` made it.

    The variants of its block up to ``number`` are drawn (a variant must differ from the
    earlier ones of its block, :data:`solvers.variants.base.BLOCK`): vectorized, at most
    about 0.1 s for the largest spec.
    """
    return regenerate_many(task, spec, seed, [number], secret)[0]


def regenerate_many(
    task: str,
    spec: TaskSpec,
    seed: int,
    numbers: Sequence[int],
    secret: bytes | None = None,
) -> list[BaseModel]:
    """The problems of variants ``numbers`` (any order, repeats allowed) of ``task``, each
    equal to :func:`regenerate`'s: each block of numbers they touch is drawn once, up to
    its largest wanted number (one problem object per distinct number): a batch costs at
    most a block's draws per block it touches."""
    if not numbers:
        return []
    wanted = np.asarray(numbers, dtype=np.int64)
    _check(seed, int(wanted.min()), None)
    count = int(wanted.max())
    _check(seed, count, None)
    generator, part = TASKS[task].generator, task_spec(task, spec)
    distinct, where = np.unique(wanted, return_inverse=True)
    selection = select_numbers(generator, part, seed, distinct, secret)
    problems = generator.problems(selection.arrays, part)
    return [problems[i] for i in where.reshape(-1).tolist()]


@dataclass
class Bulk:
    """Variants 1 … count of one task as tensors (numbers only, no pydantic objects).

    ``problems``: the integer CPU tensors each generator's ``draw`` documents, with a
    leading variant dimension; ``meta`` what its ``bulk_meta`` says they mean. ``answers``:
    float64 tensors on the device, as its ``solve_tensors`` documents. ``notes``: (B,)
    int64, bit i set when ``note_messages[i]`` applies.
    """

    task: str
    count: int
    problems: dict[str, Any]
    answers: dict[str, Any]
    notes: Any
    note_messages: tuple[str, ...]
    meta: dict[str, Any]


def generate_bulk(
    task: str,
    spec: TaskSpec,
    seed: int,
    count: int,
    device: Any = None,
    secret: bytes | None = None,
) -> Bulk:
    """The same variants as :func:`generate_set`, as tensors: drawn and checked vectorized in
    numpy chunks, solved in chunks on ``device`` (``None``: ``STEPGRAD_DEVICE``)."""
    import torch

    _check(seed, count, None)
    generator, part = TASKS[task].generator, task_spec(task, spec)
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
        meta=generator.bulk_meta(part),
    )
