"""What every task shares: steps, solutions, number formatting, the torch device, the task record.

Solvers are pure: they take a validated Problem and return data. User-visible text in a
step is an English message id with ``{placeholders}`` (marked with :func:`N_` so Babel
extracts it); the app translates it and fills in ``params``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from functools import cache
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, GetCoreSchemaHandler
from pydantic_core import CoreSchema, core_schema


class _ByType:
    """A union written by its value's own type (the JSON it gives is the same): pydantic
    otherwise tries the union's members one after the other for each value, converting the
    value at each try, which made up most of a solution's serialization. Validation and the
    JSON schema stay the union's."""

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        """The union's schema, written as its value's type is."""
        schema = handler(source)
        schema["serialization"] = core_schema.simple_ser_schema("any")
        return schema


StepValue = Annotated[
    float | int | str | list[float] | list[list[float]] | list[list[list[float]]], _ByType()
]


def N_(message: str) -> str:
    """Mark a message id for translation without translating it (the app translates)."""
    return message


PLURALS: dict[str, tuple[str, str]] = {}
"""Plural messages: singular message id → (plural message id, the parameter that counts)."""
SINGULARS: dict[str, str] = {}
"""Plural message → its singular message id."""


def NP_(singular: str, plural: str, count: str = "count", n: int | None = None) -> str:
    """Mark a message with plural forms chosen by the parameter ``count`` (the app picks the
    catalog's form for the number, ``ngettext``). Returns the English form for ``n`` (an
    error's own text), the singular message id without it."""
    PLURALS[singular] = (plural, count)
    SINGULARS[plural] = singular
    return plural if n is not None and n != 1 else singular


class Step(BaseModel):
    """One step of a worked solution: a title, an explanation, formulas and named values."""

    model_config = ConfigDict(extra="forbid")

    kind: str = Field(description="Machine-readable step kind, e.g. 'svm.margins'.")
    title: str = Field(description="Message id; placeholders are filled from params.")
    text: str = Field(default="", description="Explanation; message id with placeholders.")
    params: dict[str, Annotated[str | int | float, _ByType()]] = Field(default_factory=dict)
    formulas: list[str] = Field(default_factory=list, description="LaTeX, numbers substituted.")
    values: dict[str, StepValue] = Field(default_factory=dict)


_TEXTS = frozenset({"title", "text"})
_STEP_FIELDS = frozenset(Step.model_fields)
M = TypeVar("M", bound=BaseModel)


def step(
    kind: str,
    title: str,
    text: str = "",
    params: dict[str, str | int | float] | None = None,
    formulas: list[str] | None = None,
    values: dict[str, StepValue] | None = None,
) -> Step:
    """A solver's step, built without validation (a fraction of ``Step(...)``'s time): its
    texts are message ids, its numbers the solver's own floats and the validated problem's.
    Every field counts as set; ``params``, ``formulas`` and ``values`` are kept, not copied."""
    fields = {
        "kind": kind,
        "title": title,
        "text": text,
        "params": {} if params is None else params,
        "formulas": [] if formulas is None else formulas,
        "values": {} if values is None else values,
    }
    return _instance(Step, fields, _STEP_FIELDS)


def translate_steps(steps: Iterable[Step], translate: Callable[[str, Any], str]) -> None:
    """Put the title and text of each of ``steps`` through ``translate(message, params)``, in
    place: for the steps a solver has just made (a task's ``solve`` and ``own_steps`` make new
    ones each call), translated once, not copied."""
    for s in steps:
        fields = s.__dict__
        params = fields["params"]
        fields["title"] = translate(fields["title"], params)
        fields["text"] = translate(fields["text"], params)
        s.__pydantic_fields_set__.update(_TEXTS)


_new = object.__new__
_set = object.__setattr__


def _instance(cls: type[M], fields: dict[str, Any], fields_set: Iterable[str]) -> M:
    instance = _new(cls)
    _set(instance, "__dict__", fields)
    _set(
        instance,
        "__pydantic_fields_set__",
        fields_set if type(fields_set) is set else set(fields_set),
    )
    _set(instance, "__pydantic_extra__", None)
    _set(instance, "__pydantic_private__", None)
    return instance


@cache
def _defaults(cls: type[BaseModel]) -> tuple[tuple[str, Any, Callable[[], Any] | None], ...]:
    return tuple(
        (name, field.default, field.default_factory)  # type: ignore[misc]
        for name, field in cls.model_fields.items()
    )


@cache
def _names(cls: type[BaseModel]) -> tuple[str, ...]:
    return tuple(cls.model_fields)


def trusted(cls: type[M], **fields: Any) -> M:
    """An instance of the pydantic model ``cls`` from fields that already have the right
    types, without validating them: what ``cls(**fields)`` would give (defaults filled in,
    the given fields marked as set), for a solver's hot path (a model with no private
    attributes or extra fields; ``model_construct`` is slower than validating)."""
    names = _names(cls)
    if len(fields) == len(names):  # every field given: in the model's order, as cls(...) keeps
        if tuple(fields) == names:  # them, or put in it (the keyword arguments are a new dict)
            return _instance(cls, fields, fields.keys())
        return _instance(cls, {name: fields[name] for name in names}, fields.keys())
    values = {}
    defaults = _defaults(cls)
    for name, default, factory in defaults:
        if name in fields:
            values[name] = fields[name]
        else:
            values[name] = factory() if factory is not None else default
    return _instance(cls, values, fields.keys())


class Solution(BaseModel):
    """What ``solve`` returns: the task id, the answer and the ordered steps."""

    task: str
    answer: Any
    steps: list[Step]


MEMO_SIZE = 4096
"""Number texts a :class:`NumberFormat` remembers (then it starts over)."""


@dataclass(frozen=True)
class NumberFormat:
    """How numbers are shown: rounding to ``digits`` decimals, decimal comma or point."""

    digits: int = 4
    decimal_comma: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "_texts", {})
        object.__setattr__(self, "_exact", {})
        object.__setattr__(self, "_tex_texts", ({}, {}))  # tex(x, paren) by paren
        object.__setattr__(self, "_hash", hash((self.digits, self.decimal_comma)))

    def __hash__(self) -> int:
        """The fields' hash, computed once: formats key the memos of number texts."""
        return self._hash  # type: ignore[attr-defined,no-any-return]

    def num(self, x: float) -> str:
        """Plain-text number: integers as integers, otherwise rounded, trailing zeros dropped
        (remembered per format: a page writes the same values in its steps, table and SVG)."""
        texts: dict[float, str] = self._texts  # type: ignore[attr-defined]
        text = texts.get(x)
        if text is None:
            if len(texts) >= MEMO_SIZE:
                texts.clear()
            text = texts[x] = self._num(x)
        return text

    def nums(self, xs: Iterable[float]) -> list[str]:
        """:meth:`num` of each of ``xs`` (the remembered texts looked up all at once)."""
        xs = list(xs)
        texts = list(map(self._texts.get, xs))  # type: ignore[attr-defined]
        if None in texts:
            num = self.num
            texts = [num(x) if text is None else text for x, text in zip(xs, texts, strict=True)]
        return texts

    def fixed(self, x: float) -> str:
        """A number with all ``digits`` decimals, trailing zeros kept (an integer stays an
        integer): one rounding for every number of a table, 0.2000 beside 0.1966."""
        text = self.num(x)
        if not math.isfinite(x) or float(x).is_integer():
            return text
        point = "," if self.decimal_comma else "."
        whole, _, decimals = text.partition(point)
        return f"{whole}{point}{decimals.ljust(self.digits, '0')}" if self.digits else whole

    def _num(self, x: float) -> str:
        if not math.isfinite(x):
            return str(x)
        rounded = round(float(x), self.digits)
        if rounded == 0:
            rounded = 0.0  # no "-0"
        if rounded.is_integer():
            text = str(int(rounded))
        else:
            text = f"{rounded:.{self.digits}f}".rstrip("0").rstrip(".")
        text = text.replace("-", "\u2212")
        return text.replace(".", ",") if self.decimal_comma else text

    @property
    def separator(self) -> str:
        """Between the numbers of a list: ``"; "`` where a comma is the decimal sign."""
        return "; " if self.decimal_comma else ", "

    @property
    def comma(self) -> str:
        """Between a function's arguments in a formula (``\\max(0; 2{,}9)``): ``;`` where a
        comma is the decimal sign."""
        return ";" if self.decimal_comma else ","

    def tex(self, x: float, paren: bool = False) -> str:
        """LaTeX number; negatives in parentheses when ``paren`` (for substitution)."""
        text = self.num(x).replace("\u2212", "-")
        if self.decimal_comma:
            text = text.replace(",", "{,}")
        return f"({text})" if paren and text.startswith("-") else text

    def texs(self, xs: Iterable[float], paren: bool = False) -> list[str]:
        """:meth:`tex` of each of ``xs`` (remembered per format, as :meth:`nums`: a worked
        step writes the same kernel weights and small numbers over and over)."""
        xs = list(xs)
        memo: dict[float, str] = self._tex_texts[paren]  # type: ignore[attr-defined]
        texts = list(map(memo.get, xs))
        if None in texts:
            if len(memo) >= MEMO_SIZE:
                memo.clear()
            texts = [
                (memo.setdefault(x, self.tex(x, paren)) if text is None else text)
                for x, text in zip(xs, texts, strict=True)
            ]
        return texts

    def is_rounded(self, x: float) -> bool:
        """True when :meth:`num` had to round ``x`` (so an ≈ sign is honest)."""
        return abs(round(float(x), self.digits) - x) > 1e-12 * max(1.0, abs(x))

    def tex_exact(self, x: float) -> str:
        """LaTeX of ``x`` with its exact fraction when it has a small one and rounding hides it.

        ``79/15`` becomes ``\\tfrac{79}{15} \\approx 5.2667``; ``0.5`` stays ``0.5``. The
        fraction is only looked for when rounding hides something (and remembered).
        """
        if not self.is_rounded(x):
            return self.tex(x)
        texts: dict[float, str] = self._exact  # type: ignore[attr-defined]
        text = texts.get(x)
        if text is None:
            if len(texts) >= MEMO_SIZE:
                texts.clear()
            text = texts[x] = self._tex_rounded(x)
        return text

    def _tex_rounded(self, x: float) -> str:
        fraction = exact_fraction(x)
        if fraction is None or fraction.denominator == 1:
            return "\\approx " + self.tex(x)
        sign = "-" if fraction < 0 else ""
        return (
            f"{sign}\\tfrac{{{abs(fraction.numerator)}}}{{{fraction.denominator}}}"
            f" \\approx {self.tex(x)}"
        )


def exact_fraction(x: float, max_denominator: int = 1000) -> Fraction | None:
    """The fraction with a small denominator equal to ``x`` up to float noise, if any."""
    if not math.isfinite(x):
        return None
    fraction = Fraction(x).limit_denominator(max_denominator)
    if abs(float(fraction) - x) <= 1e-9 * max(1.0, abs(x)):
        return fraction
    return None


def resolve_device(name: str | None = None) -> Any:
    """The torch device for batch work: ``auto`` (CUDA when available), ``cpu`` or ``cuda``.

    ``None`` reads ``STEPGRAD_DEVICE`` (default ``auto``).
    """
    import torch

    choice = (name or os.environ.get("STEPGRAD_DEVICE", "auto")).strip().lower()
    if choice == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if choice == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("STEPGRAD_DEVICE=cuda but torch sees no CUDA device")
    if choice not in {"cpu", "cuda"}:
        raise ValueError(f"device must be auto, cpu or cuda, not {choice!r}")
    return torch.device(choice)


Rounder = Callable[[Any], Any]
"""Rounds a value as a student working by hand writes it: a torch tensor, a numpy array or
scalar, or a float (see :func:`hand_rounder`)."""

HAND_DECIMALS = 2
"""The lecture's convention: every intermediate value is rounded to 2 decimals."""


def hand_rounder(decimals: int) -> Rounder:
    """Round to ``decimals`` decimals as a student does by hand, halves away from zero on the
    decimal value written (0.415 → 0.42, −0.125 → −0.13; Python's ``round`` would round the
    binary value, 0.41), whatever the array type: the hook a task's computation applies after
    each elementary step to work a problem as the lecture does."""
    scale = 10.0**decimals

    def rounded(x: Any) -> Any:
        if type(x) is float:
            if not math.isfinite(x):
                return x
            return math.copysign(math.floor(abs(x) * scale + _HALF) / scale, x)
        if hasattr(x, "dim"):  # a torch tensor: in place on one new tensor
            return x.abs().mul_(scale).add_(_HALF).floor_().div_(scale).copysign_(x)
        import numpy as np

        return np.copysign(np.floor(np.abs(x) * scale + _HALF) / scale, x)

    return rounded


_HALF = 0.5 + 1e-9
"""A half, and float noise: 3.32/8 is 0.41499999999999998 in binary but 0.415 written."""


@dataclass(frozen=True)
class AnswerCell:
    """One number of an answer that a key lists and a student writes down.

    ``column`` names it in CSV files (without the task prefix: ``L1``, ``df/dw0``,
    ``pool[1,1]``), ``label`` is its LaTeX.
    """

    column: str
    label: str
    value: float


@dataclass(frozen=True)
class OwnSteps:
    """The steps of a worked solution that read a student's earlier parts, written with the
    student's own numbers (the try page's hint ladder, middle rung).

    ``reads``: step kind → the parts whose numbers such a step takes (``loss.reduce`` →
    ``per_example``); ``steps``: those steps written with the parts the student gave (none
    of a kind whose parts were not given, or gave numbers that it cannot use).
    """

    reads: dict[str, tuple[str, ...]]
    steps: list[Step]


@dataclass(frozen=True)
class Task:
    """One quiz problem type: everything the generic engines, the app and the CLI need.

    A task is one folder under :mod:`solvers.tasks` that builds such a record; the registry
    (:mod:`solvers.registry`) is the only list of tasks.

    - ``solve(problem, fmt)`` the worked solution, a new one with steps of its own each
      call (the app translates them in place, :func:`translate_steps`);
      ``solve_batch(problems, device)`` the answers of many problems; ``example()`` the
      page's default problem.
    - ``spec_model`` and ``generator``: the instructor's variant spec and the generator
      (:class:`solvers.variants.base.Generator`) that draws variants from it.
    - ``grader`` (:class:`solvers.grading.core.TaskGrader`): the submission schema, the
      named mistakes and the tensor grading of every part.
    - ``answer_cells(answer)`` the numbers of an answer, for keys and exports;
      ``answer_from_cells(cells)`` a submission from those numbers by ``column``;
      ``try_parts(problem)`` the parts a student answers on the try page, each labelled in
      ``part_labels``.
    - ``torch_form(problem)`` (optional): the problem as PyTorch, a
      :class:`solvers.pytorch_view.TorchForm` that :mod:`solvers.pytorch_view` writes out.
    - ``quick(problem)`` (optional): whether solving ``problem`` and writing its page cost
      well under a few milliseconds (the lecture's sizes), so that a server may do it where it
      stands instead of handing it to a worker thread, whose hop costs more than such work.
      Default: never.
    - ``own_steps(problem, given, fmt)`` (optional): an :class:`OwnSteps`, the steps that
      read earlier parts written with the student's own numbers (new ones each call, as
      ``solve``'s); ``given`` holds the submitted parts that have their expected shape, as
      the grader's ``values`` gives them (NaN where a cell was not given).
    - ``slow_part(problem)`` (optional): the part of ``solve`` whose cost comes with a new
      kind of input and is then cached (the graph's symbolic derivatives of a new
      expression), as a call to make first, or ``None`` when there is none; the app runs it
      in a lane of its own so that a flood of such inputs waits behind itself only. When
      it could not wait for it, it calls ``solve(problem, fmt, busy=True)``, which leaves
      that part out unless cached, and says so.
    """

    id: str
    title: str
    summary: str
    problem_model: type[BaseModel]
    answer_model: Any
    """The answer's model, or a union of models (the graph task's scalar and vector ones)."""
    solution_model: type[Solution]
    solve: Callable[..., Solution]
    solve_batch: Callable[[Sequence[Any], Any], list[Any]]
    example: Callable[[], BaseModel]
    spec_model: type[BaseModel]
    generator: Any
    grader: Any
    answer_cells: Callable[[Any], list[AnswerCell]]
    answer_from_cells: Callable[[dict[str, str]], dict[str, Any]]
    try_parts: Callable[[Any], list[str]]
    part_labels: dict[str, str]
    torch_form: Callable[[Any], Any] | None = None
    quick: Callable[[Any], bool] = lambda problem: False
    own_steps: Callable[[Any, dict[str, Any], NumberFormat], OwnSteps] | None = None
    slow_part: Callable[[Any], Callable[[], object] | None] | None = None

    def generate(self, rng: Any, spec: BaseModel) -> BaseModel:
        """One problem that breaks none of the generator's rules (so it can be worked by hand),
        from a one-variant random source (:meth:`solvers.variants.base.Generator.generate`)."""
        return self.generator.generate(rng, spec)

    def grade(self, problem: BaseModel, answer: Any, tolerance: Any = None) -> Any:
        """Grade one answer to a validated problem (:func:`solvers.grading.core.grade_one`)."""
        from solvers.grading.core import grade_one

        return grade_one(self.grader, problem, answer, tolerance)
