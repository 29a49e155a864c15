"""What every task's grading shares: tolerance, the grade models, the misconception record,
submission parsing, and the tensor-level scorer that compares a batch of answers part by part.

Grading works on torch float64 tensors with a leading batch dimension for one submission
(B = 1) and for a million alike, so the single and the bulk paths are the same code. A part
is a scalar, a vector or a stack of matrices; a missing part is all NaN, a missing cell NaN.

**Scoring.** Every part is worth 1 point. A scalar part scores 1 when correct. A vector or
matrix part scores the fraction of its cells that are correct. A wrong value (or cell) that
follows correctly from the student's own earlier wrong part (*error carried forward*) earns
:data:`CARRIED_CREDIT` of its share; that share is reported again in
``carried_forward_score``. Optional parts (loss ``grad_scores``, graph ``nodes``) count only
when given. Missing required parts score 0.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field, fields, replace
from functools import lru_cache
from itertools import groupby
from typing import Any, TypeVar

import torch
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from pydantic_core import PydanticCustomError

from solvers.core import HAND_DECIMALS, N_, NP_, Rounder, hand_rounder, trusted
from solvers.matrix import coerce_matrix, coerce_tensor, coerce_vector

CARRIED_CREDIT = 0.5
"""Share of a part's points for a value carried forward correctly from a wrong earlier part."""
QUIZ_ABSOLUTE = 0.01
"""Default absolute tolerance (see :class:`Tolerance`)."""
QUIZ_RELATIVE = 0.01
"""Default relative tolerance (see :class:`Tolerance`)."""
FLOAT_SLACK = 1e-9
"""Added to every bound, relative to max(1, |expected|): float noise never decides a mark."""
MAX_PART_SIDE = 100
"""Largest side of a vector, matrix or map in an answer."""

F64 = torch.float64
_ONE_DECIMAL_COMMA = re.compile(r"^[+\-\u2212]?\d+,\d+$")

# ---- tolerance ---------------------------------------------------------------------------


class ToleranceRule(BaseModel):
    """When a number counts as right: within any of the bounds given.

    ``absolute`` a: |g − e| ≤ a. ``relative`` r: |g − e| ≤ r·|e|. ``decimals`` d: |g − e| ≤
    ½·10⁻ᵈ (the value rounded to d decimals is right; truncation may not be). ``sigfigs`` n:
    |g − e| ≤ ½ unit in the n-th significant figure of e. With several fields the widest
    bound wins; with none, the quiz default of :class:`Tolerance` applies.
    """

    model_config = ConfigDict(extra="forbid")

    absolute: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    relative: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    decimals: int | None = Field(default=None, ge=0, le=15)
    sigfigs: int | None = Field(default=None, ge=1, le=15)

    @property
    def is_empty(self) -> bool:
        """True when no bound is given."""
        return all(v is None for v in (self.absolute, self.relative, self.decimals, self.sigfigs))

    def bound(self, expected: torch.Tensor) -> torch.Tensor:
        """The largest accepted |given − expected| for each expected value (the widest of
        the bounds given: the constant ones are one clamp, not a tensor each)."""
        size = expected.abs()
        constant = [b for b in (self.absolute, self._decimals_bound) if b is not None]
        bound = None if self.relative is None else size * self.relative
        if self.sigfigs is not None:
            exponent = torch.floor(torch.log10(torch.where(size > 0, size, 1.0)))
            unit = torch.where(size > 0, 10.0 ** (exponent - self.sigfigs + 1), 0.0)
            bound = 0.5 * unit if bound is None else torch.maximum(bound, 0.5 * unit)
        if bound is None:
            bound = torch.full_like(expected, max(constant, default=0.0))
        elif constant:
            bound = bound.clamp_(min=max(constant))
        return bound.add_(size.clamp_(min=1.0).mul_(FLOAT_SLACK))

    @property
    def _decimals_bound(self) -> float | None:
        return None if self.decimals is None else 0.5 * 10.0**-self.decimals


class Tolerance(ToleranceRule):
    """The tolerance of a request, optionally refined per part.

    **Default** (no field given): |given − expected| ≤ max(0.01, 0.01·|expected|), i.e.
    ``absolute=0.01, relative=0.01``. Why: the correct value rounded to 2 decimals is off by
    at most 0.005, so it always passes; the relative part keeps large values fair. Rounding
    that a hand-worked quiz piles up is not the tolerance's job (a probability rounded to 2
    decimals moves −ln p by up to 0.005/p, 0.05 for p = 0.1): the rounding band below
    accepts it, problem by problem. It stays tight enough to tell the
    named misconceptions apart: log₁₀ instead of ln differs by a factor 2.3, +Δ per
    example by Δ, sum and mean by a factor N.

    ``parts`` maps a part name (``loss``, ``pool``, ``gradients.w0``) or a part family
    (``gradients``, ``nodes``) to its own rule; the most specific one wins.

    **Rounding by hand** (``intermediate_decimals`` k): an answer is also right when it lies
    between the exact value and the value the task's own computation gives with every
    intermediate value rounded to k decimals (the lecture's method), that band widened by
    the part's rule at both ends. Not given: k = 2 with the quiz default, none (exact only)
    when the request sets bounds of its own; ``null``: exact only.
    """

    parts: dict[str, ToleranceRule] = Field(default_factory=dict)
    intermediate_decimals: int | None = Field(
        default=HAND_DECIMALS,
        ge=0,
        le=6,
        description="Answers worked by hand with every intermediate value rounded to this "
        "many decimals are right too (null: exact only). Default: 2, or null when the "
        "request gives bounds of its own.",
    )

    @property
    def hand_decimals(self) -> int | None:
        """The k of the rounding band in force (see the class docstring), or None."""
        if "intermediate_decimals" in self.model_fields_set:
            return self.intermediate_decimals
        return HAND_DECIMALS if self.is_empty and not self.parts else None

    def rule(self, part: str) -> ToleranceRule:
        """The rule for one part."""
        for key in (part, part.split(".")[0]):
            rule = self.parts.get(key)
            if rule is not None and not rule.is_empty:
                return rule
        if self.is_empty:
            return QUIZ_RULE
        return self


QUIZ_RULE = ToleranceRule(absolute=QUIZ_ABSOLUTE, relative=QUIZ_RELATIVE)
"""The rule of a part when the request gives none (one object, not one per part)."""


def close(
    given: torch.Tensor,
    expected: torch.Tensor,
    rule: ToleranceRule,
    bound: torch.Tensor | None = None,
    finite: torch.Tensor | None = None,
) -> torch.Tensor:
    """Cell by cell: is ``given`` within the rule's bound of ``expected``? (NaN or an
    infinite expected value: never.) ``bound``: ``rule.bound(expected)`` and ``finite``:
    ``torch.isfinite(expected)``, when known."""
    bound = rule.bound(expected) if bound is None else bound
    finite = torch.isfinite(expected) if finite is None else finite
    return ((given - expected).abs() <= bound) & finite


def band(
    expected: torch.Tensor,
    rounded: torch.Tensor,
    rule: ToleranceRule,
    bound: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The rounding band, cell by cell: from ``expected`` to ``rounded`` (the value worked by
    hand), each end widened by the rule's bound. A non-finite ``rounded`` (a probability
    rounded to 0) leaves the exact value alone. ``bound``: ``rule.bound(expected)`` when
    known."""
    bound = rule.bound(expected) if bound is None else bound
    rounded = torch.where(torch.isfinite(rounded), rounded, expected)
    slack = rule.bound(rounded)
    low = torch.minimum(expected - bound, rounded - slack)
    high = torch.maximum(expected + bound, rounded + slack)
    return low, high


def in_band(
    given: torch.Tensor,
    expected: torch.Tensor,
    rounded: torch.Tensor,
    rule: ToleranceRule,
    bound: torch.Tensor | None = None,
) -> torch.Tensor:
    """Cell by cell: does ``given`` lie in the rounding band (:func:`band`)?"""
    low, high = band(expected, rounded, rule, bound)
    return (given >= low) & (given <= high) & torch.isfinite(expected)


# ---- the grade models --------------------------------------------------------------------

Value = float | list[float] | list[list[float]] | list[list[list[float]]] | dict[str, float]
Cells = list[bool] | list[list[bool]] | list[list[list[bool]]] | dict[str, bool]


class PartGrade(BaseModel):
    """The mark of one part of an answer."""

    name: str = Field(description="The part: loss, per_example, gradients.w0, conv, …")
    correct: bool
    expected: Value | None = Field(
        description="The right answer; null when hidden (a variant graded in secret mode "
        "without the instructor token)."
    )
    given: Value | None = Field(description="What was graded; null when the part is missing.")
    difference: Value | None = Field(
        description="given − expected (cell by cell); null when missing or hidden."
    )
    score: float
    max_score: float
    feedback: str = Field(description="Message id; placeholders are filled from params.")
    params: dict[str, str | int | float] = Field(default_factory=dict)
    rounding: bool = Field(
        default=False,
        description="Right as worked by hand with every intermediate value rounded "
        "(params.decimals), not within the tolerance of the exact value.",
    )
    misconception: str | None = Field(
        default=None, description="Id of the named mistake this wrong part matches."
    )
    step_kind: str = Field(description="The kind of the solution step to re-read.")
    consistent: bool = Field(
        default=False, description="Wrong, but follows from the student's own earlier part."
    )
    cells: Cells | None = Field(
        default=None, description="Vectors, matrices, nodes: which cells are correct."
    )


class MistakeGrade(BaseModel):
    """A named mistake of one submission, once, with every part it explains."""

    misconception: str = Field(description="Its id in the task's catalogue.")
    params: dict[str, str | int | float] = Field(
        default_factory=dict, description="Where it happened (a node, a gate's input…)."
    )
    parts: list[str] = Field(
        description="The parts it explains, or their cells when only some are: "
        "gradients.w0, per_example[2], pool[1,1]."
    )


class Grade(BaseModel):
    """The marks of one submission."""

    task: str
    score: float
    max_score: float
    carried_forward_score: float = Field(
        description="The part of score earned by errors carried forward (included in score)."
    )
    parts: list[PartGrade]
    mistakes: list[MistakeGrade] = Field(
        default_factory=list,
        description="Each named mistake once, with the parts it explains (a part that "
        "follows from an earlier part's mistake is listed with it).",
    )


class Misconception(BaseModel):
    """A typical mistake: a small variation of the solver that gives a wrong answer."""

    model_config = ConfigDict(frozen=True)

    id: str
    title: str = Field(description="Message id: a short name of the mistake.")
    explanation: str = Field(description="Message id: what went wrong and how to fix it.")
    step_kind: str = Field(description="The kind of the solution step to re-read.")


def catalogue(*entries: tuple[str, str, str, str]) -> list[Misconception]:
    """A task's catalogue from (id, title, explanation, step kind) tuples."""
    return [Misconception(id=i, title=t, explanation=e, step_kind=k) for i, t, e, k in entries]


# ---- submission parsing ------------------------------------------------------------------


def _with_part(error: PydanticCustomError, part: str) -> PydanticCustomError:
    return PydanticCustomError(
        error.type, error.message_template, {**(error.context or {}), "part": part}
    )


def parse_number(value: Any, part: str) -> float:
    """A finite number from JSON or text (decimal comma, typographic minus)."""
    if isinstance(value, str):
        text = value.strip().replace("\u2212", "-").replace(",", ".")
        try:
            number = float(text)
        except ValueError:
            number = math.nan
        if not text or any(c.isalpha() for c in text.lower().replace("e", "")):
            number = math.nan
    elif isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
    else:
        number = math.nan
    if not math.isfinite(number):
        raise PydanticCustomError(
            "grading_number",
            N_('"{value}" is not a number'),
            {"part": part, "value": str(value)[:20]},
        )
    return number


def parse_vector(value: Any, part: str) -> list[float]:
    """A vector part (text or list). One number with a decimal comma (``0,89``) is one
    value, not the two cells 0 and 89."""
    if isinstance(value, str) and _ONE_DECIMAL_COMMA.match(value.strip()):
        return [parse_number(value, part)]
    try:
        return coerce_vector(value, MAX_PART_SIDE)
    except PydanticCustomError as error:
        raise _with_part(error, part) from None


def parse_matrix(value: Any, part: str) -> list[list[float]]:
    """A matrix part (text or nested lists)."""
    try:
        return coerce_matrix(value, MAX_PART_SIDE, MAX_PART_SIDE)
    except PydanticCustomError as error:
        raise _with_part(error, part) from None


def parse_maps(value: Any, part: str, maps: int) -> list[list[list[float]]]:
    """A stack of at most ``maps`` maps K×H×W (one H×W map is a stack of one, one number a
    1×1 map)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = [[value]]
    try:
        return coerce_tensor(value, MAX_PART_SIDE, maps)
    except PydanticCustomError as error:
        raise _with_part(error, part) from None


def nest(values: dict[tuple[int, ...], Any]) -> list[Any]:
    """Cells by 1-based index as nested lists: ``{(1,): a, (2,): b}`` → ``[a, b]``,
    ``{(1, 1): a, (1, 2): b}`` → ``[[a, b]]``."""
    return _nest(sorted(values.items()))


def _nest(items: list[tuple[tuple[int, ...], Any]]) -> list[Any]:
    if len(items[0][0]) == 1:
        return [value for _, value in items]
    return [
        _nest([(key[1:], value) for key, value in group])
        for _, group in groupby(items, key=lambda item: item[0][0])
    ]


def shape_text(shape: Sequence[int]) -> str:
    """``(2, 3)`` → ``2×3``; a scalar is ``1 number``."""
    return "×".join(map(str, shape)) if shape else "1"


def format_error(
    title: str, errors: Sequence[tuple[tuple[int | str, ...], PydanticCustomError, Any]]
) -> ValidationError:
    """A ValidationError from (location, error, input) triples."""
    return ValidationError.from_exception_data(
        title, [{"type": e, "loc": loc, "input": given} for loc, e, given in errors]
    )


def part_loc(part: str) -> tuple[int | str, ...]:
    """The location of a part: ``gradients.w0`` → ``("gradients", "w0")``, ``nodes.3`` →
    ``("nodes", 3)``."""
    return tuple(int(k) if k.isdigit() else k for k in part.split("."))


def shape_error(part: str, expected: Sequence[int], given: Sequence[int]) -> PydanticCustomError:
    """The error of a part whose shape differs from the expected one (the part is its
    location, not in the message)."""
    if not expected:
        template = N_("should be one number, not numbers of shape {given}")
    elif not given:
        template = N_("should be numbers of shape {expected}, not one number")
    else:
        template = N_("should be numbers of shape {expected}, not {given}")
    return PydanticCustomError(
        "grading_shape",
        template,
        {"part": part, "expected": shape_text(expected), "given": shape_text(given)},
    )


def as_tensor(value: Any, shape: Sequence[int], device: Any) -> torch.Tensor:
    """A submitted part as a float64 tensor; ``None`` becomes NaN of ``shape``."""
    if value is None:
        return torch.full(tuple(shape), math.nan, dtype=F64, device=device)
    return torch.tensor(value, dtype=F64, device=device)


def stack_parts(values: Sequence[Any], shape: Sequence[int], device: Any) -> torch.Tensor:
    """Submitted parts of many submissions stacked (B, *shape); ``None`` rows are NaN."""
    nan = torch.full(tuple(shape), math.nan, dtype=F64).tolist() if shape else math.nan
    rows = [nan if v is None else v for v in values]
    return torch.tensor(rows, dtype=F64, device=device).reshape(len(values), *shape)


# ---- the tensor-level scorer -------------------------------------------------------------


@dataclass
class PartSpec:
    """One part of a batch, ready to score.

    ``expected``, ``given`` and every candidate are (B, *shape); ``candidates`` pairs a
    misconception's index in the task's catalogue with the answer it gives (NaN where it
    does not apply); ``carried`` is the answer that follows from the student's own earlier
    parts (error carried forward), or None. ``sparse`` parts grade only the given cells
    (graph nodes) and are optional like ``optional`` ones. ``rounded`` is the expected
    answer worked by hand (every intermediate value rounded, see :class:`Tolerance`), or
    None; ``carried_rounded`` the carried-forward answer worked by hand the same way.

    ``params`` (optional, parallel to ``candidates``) names where a candidate's mistake
    happened (``{"node": 7, "input": "w0·x0"}``): its misconception's explanation is filled
    with them, and the candidates of one mistake in several parts are matched by index and
    params (see :func:`diagnose`). A candidate of a later part should be computed from the
    student's own earlier parts (the task's ``carried`` with the mistake), so that a mistake
    is looked for where it happens, not in everything after it.
    """

    name: str
    step_kind: str
    expected: torch.Tensor
    given: torch.Tensor
    candidates: list[tuple[int, torch.Tensor]] = field(default_factory=list)
    carried: torch.Tensor | None = None
    carried_from: str = ""
    optional: bool = False
    sparse: bool = False
    rounded: torch.Tensor | None = None
    carried_rounded: torch.Tensor | None = None
    params: list[dict[str, Any] | None] = field(default_factory=list)
    cellwise: frozenset[int] = frozenset()
    """Misconceptions (catalogue indices) that may happen in any of the part's cells alone
    (a conv cell's sign): their candidate explains the cells that match it."""


@dataclass
class PartResult:
    """A part's marks over the batch: every tensor has the batch as its first dimension."""

    spec: PartSpec
    score: torch.Tensor
    carried: torch.Tensor
    max_score: torch.Tensor
    correct: torch.Tensor
    consistent: torch.Tensor
    missing: torch.Tensor
    misconception: torch.Tensor
    cells: torch.Tensor
    graded: torch.Tensor
    shape_error: torch.Tensor
    rounding: torch.Tensor
    """(B,): correct (or consistent), some cell only as worked by hand."""
    decimals: int | None = None
    """The k of the rounding band the part was scored with."""
    bound: torch.Tensor | None = None
    """``rule.bound(spec.expected)`` when the part was given in the expected shape."""
    carried_bound: torch.Tensor | None = None
    """``rule.bound(spec.carried)`` when the part was given in the carried answer's shape."""
    mistake: torch.Tensor | None = None
    """(B,): the named mistake (an index into :attr:`BulkGrade.mistakes`) that explains the
    part, −1 for none (see :func:`diagnose`)."""


@dataclass
class BulkGrade:
    """The marks of a batch: totals (B,) and each part's :class:`PartResult`."""

    task: str
    score: torch.Tensor
    max_score: torch.Tensor
    carried_forward: torch.Tensor
    parts: list[PartResult]
    mistakes: list[MistakeKey] = field(default_factory=list)
    """The named mistakes the parts' :attr:`PartResult.mistake` index."""


MistakeKey = tuple[int, tuple[tuple[str, Any], ...], int]
"""A mistake across parts: its index in the catalogue, its params (sorted items) and which
candidate of that index and params it is in each part (0 for the first)."""


def _all(mask: torch.Tensor) -> torch.Tensor:
    return mask.reshape(mask.shape[0], -1).all(1)


def _any(mask: torch.Tensor) -> torch.Tensor:
    return mask.reshape(mask.shape[0], -1).any(1)


def _count(mask: torch.Tensor) -> torch.Tensor:
    return mask.reshape(mask.shape[0], -1).sum(1).to(F64)  # an integer sum is the quicker


def _matches(
    given: torch.Tensor,
    other: torch.Tensor | None,
    rule: ToleranceRule,
    bound: torch.Tensor | None = None,
) -> torch.Tensor:
    """Cells of ``given`` within tolerance of ``other`` (none when the shapes differ);
    ``bound``: ``rule.bound(other)`` when known."""
    if other is None or other.shape != given.shape:
        return torch.zeros_like(given, dtype=torch.bool)
    return close(given, other, rule, bound)


def _has_band(exact: torch.Tensor, by_hand: torch.Tensor | None) -> bool:
    """Whether the hand-worked answer widens the tolerance of the exact one anywhere (not
    where working by hand changed nothing: integer inputs, a max pool)."""
    return by_hand is not None and by_hand.shape == exact.shape and not torch.equal(by_hand, exact)


def score_part(spec: PartSpec, tolerance: Tolerance) -> PartResult:
    """Score one part over the batch (see the module docstring for the rules); the mistake
    that explains it is found afterwards, across the parts (:func:`diagnose`).

    A given part whose shape differs from the expected one is compared only with the
    misconception answers and the carried-forward answer of that shape; when none matches
    it is a ``shape_error`` (a format error, not a wrong answer). A cell in the rounding
    band (:func:`in_band`) is right, so rounding is never taken for a mistake; a cell in the
    rounding band of the carried-forward answer is carried forward (``rounding`` then says
    so too, when no cell needs the band of the exact answer's tolerance alone).
    """
    rule = tolerance.rule(spec.name)
    given = spec.given
    dense = not spec.sparse  # every cell graded: a mask needs no "& graded"
    present = ~torch.isnan(given)
    graded = torch.ones_like(present) if dense else present
    missing = ~_any(present)
    on_shape = given.shape == spec.expected.shape
    bound = rule.bound(spec.expected) if on_shape else None  # each bound computed once
    right = _matches(given, spec.expected, rule, bound)
    by_hand = None
    if on_shape and _has_band(spec.expected, spec.rounded):
        by_hand = in_band(given, spec.expected, spec.rounded, rule, bound) & ~right  # type: ignore[arg-type]
        right = right | by_hand
    right_cells = right if dense else right & graded
    settled = right if dense else right | ~graded
    correct = _all(settled) & ~missing
    wrong = ~correct & ~missing
    rounding = (
        correct & _any(by_hand if dense else by_hand & graded) if by_hand is not None else None
    )
    cells = float(max(math.prod(given.shape[1:]), 1)) if dense else _count(graded).clamp_(min=1.0)
    score = _count(right_cells) / cells
    carried_on_shape = spec.carried is not None and given.shape == spec.carried.shape
    if carried_on_shape:
        carried_bound = rule.bound(spec.carried)  # type: ignore[arg-type]
        carry = close(given, spec.carried, rule, carried_bound)  # type: ignore[arg-type]
        by_hand_carried = spec.carried_rounded
        carry_by_hand = None
        if _has_band(spec.carried, by_hand_carried):  # type: ignore[arg-type]
            carry_by_hand = (
                in_band(given, spec.carried, by_hand_carried, rule, carried_bound) & ~carry  # type: ignore[arg-type]
            )
            carry = carry | carry_by_hand
        carry = carry & ~right
        carry_cells = carry if dense else carry & graded
        consistent = wrong & _all(settled | carry) & _any(carry_cells)
        carried = CARRIED_CREDIT * _count(carry_cells) / cells
        score = score + carried
        if carry_by_hand is not None:
            by_hand_consistent = consistent & _any(
                carry_by_hand if dense else carry_by_hand & graded
            )
            rounding = by_hand_consistent if rounding is None else rounding | by_hand_consistent
    else:  # no carried answer of this shape: nothing is carried forward
        carried_bound = None
        consistent = torch.zeros_like(missing)
        carried = torch.zeros(missing.shape, dtype=F64, device=given.device)
    shape_error = torch.zeros_like(missing)
    if not on_shape:  # a format error unless a mistake or the carried answer has its shape
        explained = torch.zeros_like(missing)
        for _, candidate in spec.candidates:
            explained = explained | _all(settled | _matches(given, candidate, rule))
        shape_error = wrong & ~consistent & ~explained
    optional = spec.optional or spec.sparse
    return PartResult(
        spec=spec,
        score=score,
        carried=carried,
        max_score=(~(missing & optional)).to(F64),
        correct=correct,
        consistent=consistent,
        missing=missing,
        misconception=torch.full(missing.shape, -1, dtype=torch.long, device=given.device),
        cells=right_cells,
        graded=graded,
        shape_error=shape_error,
        rounding=torch.zeros_like(missing) if rounding is None else rounding,
        decimals=tolerance.hand_decimals if spec.rounded is not None else None,
        bound=bound,
        carried_bound=carried_bound,
    )


def _changed(
    answers: torch.Tensor,
    finite: torch.Tensor,
    base: torch.Tensor,
    rule: ToleranceRule,
    bound: torch.Tensor,
    shape: torch.Size,
) -> torch.Tensor:
    """The cells where mistakes' answers (C, B, *shape; ``finite`` where they are) differ
    from the answer without them (``base``, whose ``rule.bound`` is ``bound``; a part's
    ``shape``, or per candidate): beyond the tolerance, or every cell of another shape (NaN
    cells: the mistake does not apply there)."""
    if answers.shape[1:] != shape:
        return finite
    return finite & ~close(answers, base, rule, bound)


def _per_row(mask: torch.Tensor, reduce: Callable[..., torch.Tensor]) -> torch.Tensor:
    """(C, B, *cells) → (C, B): ``reduce`` over each candidate's row's cells."""
    return reduce(mask.reshape(mask.shape[0], mask.shape[1], -1), 2)


Candidate = tuple[int, int, int, int, torch.Tensor]
"""A candidate in :func:`diagnose`: its part (an index into the results), its position
among the part's candidates, its key, its catalogue index, its answer."""


STACKED_CELLS = 1 << 16
"""Most cells of candidates judged at once (a small batch stacks all of a part's, a big
one judges them one by one: a stack of many big answers is only more memory to fill)."""


def _stacks(group: list[Candidate]) -> list[list[Candidate]]:
    """Candidates of one shape in stacks of at most :data:`STACKED_CELLS` cells."""
    size = max(1, STACKED_CELLS // max(1, group[0][4].numel()))
    return [group[n : n + size] for n in range(0, len(group), size)]


@dataclass
class _Judged:
    """What :func:`_judge` compares a part's candidates with: the given answer, the answer
    without the mistakes (``base``) and its ``rule.bound``, and the part's marks."""

    given: torch.Tensor
    base: torch.Tensor
    base_bound: torch.Tensor
    cells: torch.Tensor
    graded: torch.Tensor
    missing: torch.Tensor
    correct: torch.Tensor
    consistent: torch.Tensor

    @staticmethod
    def of(r: PartResult, rule: ToleranceRule) -> _Judged:
        """A scored part's: the base is the carried-forward answer where the part has one,
        the expected one elsewhere (the bounds that :func:`score_part` computed reused)."""
        spec = r.spec
        base, bound = spec.expected, r.bound
        if spec.carried is not None and spec.carried.shape == base.shape:
            missing = torch.isnan(spec.carried)
            base = torch.where(missing, base, spec.carried)
            if bound is not None and r.carried_bound is not None:
                bound = torch.where(missing, bound, r.carried_bound)
            else:
                bound = None
        bound = rule.bound(base) if bound is None else bound
        return _Judged(spec.given, base, bound, r.cells, r.graded, r.missing, r.correct,
                       r.consistent)  # fmt: skip

    @staticmethod
    def per_candidate(parts: list[_Judged]) -> _Judged:
        """One part's as it is (it broadcasts over its candidates), several parts' stacked:
        each candidate's part's (C, B, …)."""
        if all(p is parts[0] for p in parts):
            return parts[0]
        return _Judged(*(torch.stack([getattr(p, f.name) for p in parts]) for f in fields(_Judged)))


def _judge(
    part: _Judged,
    shapes: tuple[torch.Size, torch.Size],
    rule: ToleranceRule,
    group: list[Candidate],
    cellwise: list[bool],
) -> tuple[torch.Tensor, torch.Tensor] | None:
    """For a stack of candidates of one shape (:func:`_stacks`) of one part, or of several
    parts alike (``part`` then per candidate, :meth:`_Judged.per_candidate`; ``shapes``:
    each part's given and expected shapes), one torch op for all: (C, B) where each explains
    its part, and where it agrees with it (see :func:`diagnose`); None when none changes its
    part anywhere (none explains or vetoes). ``cellwise``: per candidate, whether its
    mistake may happen in any cell alone (:attr:`PartSpec.cellwise`)."""
    answers = torch.stack([c[4] for c in group]) if len(group) > 1 else group[0][4][None]
    given_shape, base_shape = shapes
    finite = torch.isfinite(answers)
    changed = _changed(answers, finite, part.base, rule, part.base_bound, base_shape)
    changes = _per_row(changed, torch.any)
    if not changes.any():
        return None
    ungraded = ~part.graded
    settled = part.cells | ungraded
    # every cell it changes is as the mistake gives it, every other one is right
    if answers.shape[1:] == given_shape:
        matches = close(part.given, answers, rule, finite=finite)
        cell = torch.where(changed, matches, settled)
        if any(cellwise):
            alone = torch.tensor(cellwise, device=cell.device)
            cell = torch.where(alone.reshape(-1, *[1] * (cell.dim() - 1)), settled | matches, cell)
    else:  # no cell of the given part matches another shape
        alone = torch.tensor(cellwise, device=settled.device)
        cell = settled & alone.reshape(-1, *[1] * len(given_shape))
    match = _per_row(cell | ungraded, torch.all) & ~part.missing
    wrong = ~part.correct & ~part.missing & ~part.consistent
    return match & wrong & changes, part.missing | ~changes | match


def diagnose(results: Sequence[PartResult], tolerance: Tolerance) -> list[MistakeKey]:
    """Name the mistake that explains each wrong part, looking at all the parts of a row.

    Each part is first checked against the student's own earlier parts: a part that follows
    from them is consistent, and names no mistake of its own (it takes the mistake of the
    part it follows from, ``carried_from``, if that part has one). A mistake's candidates
    (one per part it may change, matched across parts by :data:`MistakeKey`) are compared
    with the answer without the mistake (the carried-forward one where the part has one):
    a mistake *changes* a part there. It is named only in the rows where every part it
    changes that the student gave is explained by it (each wrong cell matches, the others
    are right); a wrong part takes the named mistake that explains the most parts of its
    row (the catalogue order breaks ties). Sets each result's ``mistake`` and
    ``misconception``; gives the mistakes ``mistake`` indexes. The candidates of parts of one
    shape and rule are judged together (:func:`_judge`).
    """
    keys: dict[MistakeKey, int] = {}
    rules = [tolerance.rule(r.spec.name) for r in results]
    judged: dict[int, _Judged] = {}
    by_kind: dict[Hashable, list[Candidate]] = {}
    for i, r in enumerate(results):
        spec = r.spec
        if not spec.candidates:
            continue
        judged[i] = _Judged.of(r, rules[i])
        seen: dict[tuple[int, tuple[tuple[str, Any], ...]], int] = {}
        # a rule with sigfigs alone: its logarithm may round a cell differently elsewhere
        part = i if rules[i].sigfigs is not None else id(rules[i])
        shapes = (spec.given.shape, spec.expected.shape)
        for j, (index, answer) in enumerate(spec.candidates):
            params = spec.params[j] if j < len(spec.params) else None
            frozen = tuple(sorted(params.items())) if params else ()
            ordinal = seen.get((index, frozen), 0)
            seen[(index, frozen)] = ordinal + 1
            k = keys.setdefault((index, frozen, ordinal), len(keys))
            by_kind.setdefault((part, answer.shape, *shapes), []).append((i, j, k, index, answer))
    verdicts: list[tuple[list[Candidate], torch.Tensor, torch.Tensor]] = []
    for (_, _, *shapes), group in by_kind.items():
        for stack in _stacks(group):
            part = _Judged.per_candidate([judged[c[0]] for c in stack])
            cellwise = [c[3] in results[c[0]].spec.cellwise for c in stack]
            verdict = _judge(part, tuple(shapes), rules[stack[0][0]], stack, cellwise)
            if verdict is not None:
                verdicts.append((stack, *verdict))
    rows = results[0].missing.shape[0] if results else 0
    device = results[0].missing.device if results else "cpu"
    ordered = list(keys)
    count = torch.zeros((len(keys), rows), dtype=torch.long, device=device)
    positions: dict[int, list[int]] = {}
    if verdicts:
        candidates = [c for stack, _, _ in verdicts for c in stack]
        explained = torch.cat([e for _, e, _ in verdicts]) if len(verdicts) > 1 else verdicts[0][1]
        agree = torch.cat([a for _, _, a in verdicts]) if len(verdicts) > 1 else verdicts[0][2]
        at = torch.tensor([c[2] for c in candidates], device=device)
        count.index_add_(0, at, explained.long())
        vetoes = torch.zeros_like(count).index_add_(0, at, (~agree).long())
        # the most parts explained first, then the catalogue order, then the candidate order
        # (the first of the best); every rank of a candidate that explains its row is
        # distinct and positive
        order = [ordered[c[2]][0] * 1000 + min(c[1], 999) for c in candidates]
        rank = count[at] * 1_000_000 - torch.tensor(order, device=device)[:, None]
        rank = torch.where(explained & (vetoes == 0)[at], rank, -1)
        for n, c in enumerate(candidates):
            positions.setdefault(c[0], []).append(n)
    none = torch.full((rows,), -1, dtype=torch.long, device=device)
    upstream: dict[str, torch.Tensor] = {}
    catalogue_index = torch.tensor([key[0] for key in ordered] or [0], device=device)
    for i, r in enumerate(results):
        chosen = none
        if i in positions:
            at_part, rank_part = _rows(positions[i], at, rank)
            best, which = rank_part.max(0)
            chosen = torch.where(best >= 0, at_part[which], none)
        source = upstream.get(r.spec.carried_from)
        if source is not None:
            chosen = torch.where(r.consistent & (chosen < 0), source, chosen)
        r.mistake = chosen
        # what a later part follows from: this part's mistake, or where it is missing, the
        # mistake of the part it would follow from
        upstream[r.spec.name] = chosen if source is None else torch.where(r.missing, source, chosen)
    if results:  # every part's misconception at once
        chosen = torch.stack([r.mistake for r in results])  # type: ignore[misc]
        index = torch.where(chosen >= 0, catalogue_index[chosen.clamp(min=0)], -1)
        for r, misconception in zip(results, index.unbind(), strict=True):
            r.misconception = misconception
    return ordered


def _rows(positions: list[int], *tensors: torch.Tensor) -> list[torch.Tensor]:
    """The rows ``positions`` of each tensor (a view when they are consecutive)."""
    first, last = positions[0], positions[-1]
    if last - first + 1 == len(positions):
        return [t[first : last + 1] for t in tensors]
    index = torch.tensor(positions, device=tensors[0].device)
    return [t[index] for t in tensors]


def _stack_key(spec: PartSpec, tolerance: Tolerance) -> Hashable | None:
    """Parts with equal keys may be scored as one stack (:func:`score_alike`): the same
    shapes, flags and rule. None: scored alone (another shape than expected; a rule with
    ``sigfigs``, whose logarithm may round a cell differently in a longer tensor; a part of
    :data:`STACKED_CELLS` cells or more, whose torch ops are long already: a stack would
    only copy it)."""
    rule = tolerance.rule(spec.name)
    if spec.given.shape != spec.expected.shape or rule.sigfigs is not None:
        return None
    if spec.given.numel() >= STACKED_CELLS:
        return None

    def shape(t: torch.Tensor | None) -> torch.Size | None:
        return None if t is None else t.shape

    return (
        spec.given.shape,
        shape(spec.carried),
        shape(spec.rounded),
        shape(spec.carried_rounded),
        spec.sparse,
        spec.optional,
        id(rule),
    )


def _bands(spec: PartSpec) -> tuple[bool, bool]:
    """:func:`score_part`'s choices for a part: whether working by hand widens the tolerance
    of the expected answer, and of the carried-forward one."""
    carried = spec.carried is not None and _has_band(spec.carried, spec.carried_rounded)
    return _has_band(spec.expected, spec.rounded), carried


def alike(specs: Sequence[PartSpec], tolerance: Tolerance) -> list[list[int]]:
    """The parts (indices into ``specs``) in groups that :func:`score_alike` scores at once:
    equal :func:`_stack_key` and equal :func:`_bands`."""
    keyed: dict[Hashable, list[int]] = {}
    for i, spec in enumerate(specs):
        key = _stack_key(spec, tolerance)
        keyed.setdefault(("alone", i) if key is None else key, []).append(i)
    groups: list[list[int]] = []
    for indices in keyed.values():
        if len(indices) == 1:
            groups.append(indices)
            continue
        banded: dict[tuple[bool, bool], list[int]] = {}
        for i in indices:
            banded.setdefault(_bands(specs[i]), []).append(i)
        groups += banded.values()
    return groups


def score_alike(specs: Sequence[PartSpec], tolerance: Tolerance) -> list[PartResult]:
    """:func:`score_part` of parts alike (:func:`alike`) at once: their tensors stacked
    along the batch (row by row the same marks, one set of torch ops for all)."""
    if len(specs) == 1:
        return [score_part(specs[0], tolerance)]

    def cat(name: str) -> torch.Tensor | None:
        values = [getattr(s, name) for s in specs]
        return None if values[0] is None else torch.cat(values)

    first = specs[0]
    stacked = PartSpec(
        first.name,
        first.step_kind,
        cat("expected"),  # type: ignore[arg-type]
        cat("given"),  # type: ignore[arg-type]
        carried=cat("carried"),
        optional=first.optional,
        sparse=first.sparse,
        rounded=cat("rounded"),
        carried_rounded=cat("carried_rounded"),
    )
    result = score_part(stacked, tolerance)
    rows = first.given.shape[0]
    split = {
        f.name: value.split(rows)
        for f in fields(result)
        if isinstance(value := getattr(result, f.name), torch.Tensor)
    }
    return [
        replace(result, spec=spec, **{name: parts[i] for name, parts in split.items()})
        for i, spec in enumerate(specs)
    ]


def score_parts(task: str, specs: list[PartSpec], tolerance: Tolerance) -> BulkGrade:
    """Score every part of a batch (parts alike at once, :func:`score_alike`), name the
    mistakes (:func:`diagnose`) and add up the totals."""
    scored: dict[int, PartResult] = {}
    for indices in alike(specs, tolerance):
        results = score_alike([specs[i] for i in indices], tolerance)
        scored.update(zip(indices, results, strict=True))
    parts = [scored[i] for i in range(len(specs))]
    mistakes = diagnose(parts, tolerance)
    return BulkGrade(
        task=task,
        score=sum(p.score for p in parts),  # type: ignore[arg-type]
        max_score=sum(p.max_score for p in parts),  # type: ignore[arg-type]
        carried_forward=sum(p.carried for p in parts),  # type: ignore[arg-type]
        parts=parts,
        mistakes=mistakes,
    )


# ---- from tensors to the grade models ----------------------------------------------------


def _none_if_nan(value: Any, has_nan: bool = True) -> Any:
    if not has_nan:
        return value
    if isinstance(value, list):
        return [_none_if_nan(v) for v in value]
    return None if isinstance(value, float) and math.isnan(value) else value


def _sparse(values: list[Any], graded: list[bool]) -> dict[str, Any]:
    return {str(i): v for i, (v, g) in enumerate(zip(values, graded, strict=True)) if g}


def _row_counts(mask: torch.Tensor) -> list[int]:
    return mask.reshape(mask.shape[0], -1).sum(1).tolist()


def _listed(result: PartResult) -> list[bool]:
    """Per row: is the part listed (not an optional part left out)?"""
    if not (result.spec.optional or result.spec.sparse):  # a required part always is
        return [True] * result.missing.shape[0]
    return (~(result.missing & (result.max_score == 0.0))).tolist()


SUBSCRIPTS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def subscript(text: str) -> str:
    """Digits as subscripts: ``w0`` → ``w₀`` (for names written as the lecture does)."""
    head = text.rstrip("0123456789")
    return head + text[len(head) :].translate(SUBSCRIPTS)


def split_cell(name: str) -> tuple[str, str]:
    """``pool[1,2]`` → (``pool``, ``1,2``); a part's name → (name, "")."""
    part, _, index = name.partition("[")
    return part, index.rstrip("]")


def cell_name(part: str, index: Sequence[int], shape: Sequence[int]) -> str:
    """A cell of a part named as the answers' columns are: ``per_example[2]``,
    ``pool[1,1]`` (``pool[k,i,j]`` with several maps), counted from 1."""
    if len(shape) == 3 and shape[0] == 1:
        index = index[1:]
    return f"{part}[{','.join(str(i + 1) for i in index)}]"


def part_grades(
    result: PartResult,
    catalogue: Sequence[Misconception],
    mistakes: Sequence[MistakeKey] = (),
) -> list[PartGrade]:
    """The :class:`PartGrade` of every row of a scored part (each tensor read once, with
    one ``tolist``, not once per row; the cells only where a vector's are listed)."""
    spec = result.spec
    sparse, vector = spec.sparse, spec.given.dim() > 1
    on_shape = spec.given.shape == spec.expected.shape
    missing = result.missing.tolist()
    expected, given = spec.expected.tolist(), spec.given.tolist()
    difference = spec.given - spec.expected if on_shape else None

    def nan_rows(values: torch.Tensor | None) -> list[bool]:
        """Per row: whether a dense vector has a NaN cell to show as None (a scalar is
        checked as it is read)."""
        if values is None or not vector or sparse:
            return [True] * len(missing)
        return _any(torch.isnan(values)).tolist()

    given_nan, difference_nan = nan_rows(spec.given), nan_rows(difference)
    difference = difference.tolist() if difference is not None else None
    cells = result.cells.tolist() if vector or sparse else []
    graded = result.graded.tolist() if sparse else []
    totals, rights = (
        (_row_counts(result.graded), _row_counts(result.cells)) if vector or sparse else ([], [])
    )
    chosen = result.mistake.tolist() if result.mistake is not None else [-1] * len(missing)
    rows = zip(
        missing, result.correct.tolist(), result.consistent.tolist(),
        result.misconception.tolist(), result.score.tolist(), result.max_score.tolist(),
        result.rounding.tolist(), chosen, strict=True,
    )  # fmt: skip
    out = []
    for row, (missing, correct, consistent, index, score, max_score, rounding, key) in enumerate(
        rows
    ):
        if sparse:
            mask = graded[row]
            expected_value: Any = _sparse(expected[row], mask)
            given_value = None if missing else _sparse(given[row], mask)
            diff = None if missing or difference is None else _sparse(difference[row], mask)
            row_cells: Any = _sparse(cells[row], mask)
        else:
            expected_value = expected[row]
            given_value = None if missing else _none_if_nan(given[row], given_nan[row])
            diff = (
                None
                if missing or difference is None
                else _none_if_nan(difference[row], difference_nan[row])
            )
            row_cells = cells[row] if vector else None
        params: dict[str, str | int | float] = {"part": spec.name}
        step_kind = spec.step_kind
        misconception = catalogue[index].id if index >= 0 else None
        if missing:
            feedback = N_("This part is missing.")
        elif rounding and correct:
            feedback = N_("Right, as rounded by hand to {decimals} decimals.")
            params["decimals"] = result.decimals or 0
        elif correct:
            feedback = N_("Correct.")
        elif consistent and rounding:
            feedback = N_(
                "Not the right value, but it follows from your own {source} as rounded by "
                "hand to {decimals} decimals: partial credit."
            )
            params.update(source=spec.carried_from, decimals=result.decimals or 0)
        elif consistent:
            feedback = N_(
                "Not the right value, but it follows correctly from your own {source}: "
                "partial credit."
            )
            params["source"] = spec.carried_from
        elif index >= 0:
            entry = catalogue[index]
            step_kind, feedback = entry.step_kind, entry.explanation
            params.update(dict(mistakes[key][1]) if 0 <= key < len(mistakes) else {})
        elif sparse:
            feedback = NP_(
                "{wrong} of {count} node values is not right.",
                "{wrong} of {count} node values are not right.",
                "wrong",
            )
            params.update(wrong=totals[row] - rights[row], count=totals[row])
        elif vector:
            feedback = NP_(
                "{wrong} of {cells} cells is not right.",
                "{wrong} of {cells} cells are not right.",
                "wrong",
            )
            params.update(wrong=totals[row] - rights[row], cells=totals[row])
        else:
            feedback = N_("This is not right.")
        out.append(
            trusted(
                PartGrade,
                name=spec.name,
                correct=correct,
                expected=expected_value,
                given=given_value,
                difference=diff,
                score=score,
                max_score=max_score,
                feedback=feedback,
                params=params,
                rounding=rounding,
                misconception=misconception,
                step_kind=step_kind,
                consistent=consistent,
                cells=None if missing else row_cells,
            )
        )
    return out


def _explained(result: PartResult, row: int) -> list[str]:
    """The part, or its wrong cells when only some are (``pool[1,1]``), that a mistake
    explains in ``row``."""
    if result.spec.given.dim() == 1 or result.spec.sparse:
        return [result.spec.name]
    wrong = (result.graded[row] & ~result.cells[row]).nonzero().tolist()
    if len(wrong) == result.graded[row].numel():
        return [result.spec.name]
    shape = tuple(result.spec.given.shape[1:])
    return [cell_name(result.spec.name, index, shape) for index in wrong]


def row_mistakes(
    bulk: BulkGrade, catalogue: Sequence[Misconception], listed: Sequence[list[bool]]
) -> list[list[MistakeGrade]]:
    """Per row, each named mistake once, with the parts (or cells) it explains, in the
    order of the parts."""
    chosen = [
        p.mistake.tolist() if p.mistake is not None else [-1] * len(listed[0]) for p in bulk.parts
    ]
    out: list[list[MistakeGrade]] = []
    for row in range(len(bulk.score)):
        found: dict[int, MistakeGrade] = {}
        for part, keys, shown in zip(bulk.parts, chosen, listed, strict=True):
            key = keys[row]
            if key < 0 or not shown[row]:
                continue
            index, params, _ = bulk.mistakes[key]
            if key not in found:
                found[key] = trusted(
                    MistakeGrade, misconception=catalogue[index].id, params=dict(params), parts=[]
                )
            found[key].parts.extend(_explained(part, row))
        out.append(list(found.values()))
    return out


def grades(bulk: BulkGrade, catalogue: Sequence[Misconception]) -> list[Grade]:
    """Every row of a scored batch as a :class:`Grade` (parts with max score 0 and nothing
    given, i.e. optional parts left out, are not listed). The models are built without
    validation: every value comes from the scored tensors with its field's type."""
    listed = [_listed(p) for p in bulk.parts]
    parts = [part_grades(p, catalogue, bulk.mistakes) for p in bulk.parts]
    mistakes = row_mistakes(bulk, catalogue, listed)
    totals = zip(
        bulk.score.tolist(), bulk.max_score.tolist(), bulk.carried_forward.tolist(), strict=True
    )
    return [
        trusted(
            Grade,
            task=bulk.task,
            score=score,
            max_score=max_score,
            carried_forward_score=carried,
            parts=[grades[row] for grades, shown in zip(parts, listed, strict=True) if shown[row]],
            mistakes=mistakes[row],
        )
        for row, (score, max_score, carried) in enumerate(totals)
    ]


PartScore = tuple[str, float, str | None] | tuple[str, float, str | None, bool]
"""A listed part of a row: its name, score and misconception id (None when none), and with
``rounding`` whether it is right only as worked by hand (:attr:`PartGrade.rounding`)."""
RowScore = tuple[float, float, float, list[PartScore]]
"""A row's score, max score, carried-forward score and listed parts."""


def row_scores(
    bulk: BulkGrade, catalogue: Sequence[Misconception], *, rounding: bool = False
) -> list[RowScore]:
    """The scores of every row of a scored batch, the parts listed as by :func:`grades`,
    without building a grade model (for tables such as the CSV of a batch); with
    ``rounding``, each part says too whether it is right only as worked by hand."""
    ids = [m.id for m in catalogue]
    parts = [
        (p.spec.name, _listed(p), p.score.tolist(), p.misconception.tolist(),
         p.rounding.tolist() if rounding else None)
        for p in bulk.parts
    ]  # fmt: skip
    totals = zip(
        bulk.score.tolist(), bulk.max_score.tolist(), bulk.carried_forward.tolist(), strict=True
    )
    return [
        (
            score,
            max_score,
            carried,
            [
                (name, scores[row], ids[index[row]] if index[row] >= 0 else None)
                + (() if by_hand is None else (by_hand[row],))
                for name, listed, scores, index, by_hand in parts
                if listed[row]
            ],
        )
        for row, (score, max_score, carried) in enumerate(totals)
    ]


# ---- one task's grading -------------------------------------------------------------------

Row = TypeVar("Row")
PartError = tuple[str, PydanticCustomError, Any]
"""A format error of one part: the part's name, the error, the input."""
Carried = Callable[[Any, dict[str, torch.Tensor], Rounder | None], dict[str, torch.Tensor]]
"""A task's carrying forward: (batch, given parts, rounder or None) → the carried-forward
answer of each part that has one."""


@dataclass(frozen=True)
class TaskGrader:
    """What grading needs from a task (the task modules of this package build one each).

    ``shapes(problem)`` gives every part's expected shape in order; ``values(problem,
    submission)`` the submitted parts (None when missing) in those layouts, and the format
    errors of unknown parts; ``group_key`` says which problems stack into one batch;
    ``batch(problems, device)`` stacks them into the task's tensors; ``specs(batch,
    given)`` computes the expected, misconception and carried-forward answers of every
    part. ``reshapable`` parts are graded even when their shape differs (a misconception
    such as stride 1 changes the shape); any other shape is a format error. ``hand(batch,
    rounder)`` gives the expected answer of every part worked by hand: the task's one
    computation with ``rounder`` applied after each elementary step (None: exact only).
    ``carried(batch, given, rounder)`` gives the carried-forward answers (those of
    ``specs``, which computes them with it, ``rounder`` None) or worked by hand.
    """

    task: str
    submission_model: type[BaseModel]
    misconceptions: list[Misconception]
    shapes: Callable[[Any], dict[str, tuple[int, ...]]]
    values: Callable[[Any, Any], tuple[dict[str, Any], list[PartError]]]
    group_key: Callable[[Any], Hashable]
    batch: Callable[[Sequence[Any], Any], Any]
    specs: Callable[[Any, dict[str, torch.Tensor]], list[PartSpec]]
    reshapable: frozenset[str] = frozenset()
    hand: Callable[[Any, Rounder], dict[str, torch.Tensor]] | None = None
    carried: Carried | None = None
    label: Callable[[str], str] | None = None
    """A part's or cell's name as the lecture writes it (``gradients.w0`` → ``∂f/∂w₀``,
    ``per_example[2]`` → ``L₂``); the name itself without it."""

    def label_of(self, name: str) -> str:
        """``name`` as the lecture writes it (see :attr:`label`)."""
        return self.label(name) if self.label is not None else name

    def index(self, misconception: str) -> int:
        """The position of a misconception in the catalogue."""
        return next(i for i, m in enumerate(self.misconceptions) if m.id == misconception)

    def checked_values(
        self,
        problem: Any,
        submission: BaseModel,
        shapes: dict[str, tuple[int, ...]] | None = None,
    ) -> tuple[dict[str, Any], bool, list[PartError]]:
        """The submitted parts; whether every part has its expected shape (``shapes``, when
        known, is ``self.shapes(problem)``); the format errors (unknown parts, and wrong
        shapes of parts that are not reshapable)."""
        shapes = shapes or self.shapes(problem)
        values, errors = self.values(problem, submission)
        on_shape = True
        for part, value in values.items():
            if value is None:
                continue
            shape = nested_shape(value)
            if shape != shapes[part]:
                on_shape = False
                if part not in self.reshapable:
                    errors.append((part, shape_error(part, shapes[part], shape), value))
        return values, on_shape, errors


def task_specs(
    grader: TaskGrader, batch: Any, given: dict[str, torch.Tensor], tolerance: Tolerance
) -> list[PartSpec]:
    """The grader's specs, each with its answer and its carried-forward answer worked by hand
    when ``tolerance`` has a rounding band (one more pass of the task's computation, and of
    its carrying forward, on the whole batch)."""
    specs = grader.specs(batch, given)
    decimals = tolerance.hand_decimals
    if decimals is None or grader.hand is None:
        return specs
    rounder = hand_rounder(decimals)
    hand = grader.hand(batch, rounder)
    carried = grader.carried(batch, given, rounder) if grader.carried is not None else {}
    for spec in specs:
        spec.rounded = hand.get(spec.name)
        spec.carried_rounded = carried.get(spec.name)
    return specs


OFF = 0.1
"""An answer this far off (relative) stays wrong on every generated variant."""


def undecided(grader: TaskGrader, batch: Any, decimals: int = HAND_DECIMALS) -> torch.Tensor:
    """(B,) True where working the problem by hand (``decimals``) is not decisive: some cell
    of a named mistake's answer, or of an answer :data:`OFF` off, to a part the quiz asks
    (not an optional one) lies in the rounding band though the default tolerance alone
    rejects it. Variant generators avoid these problems, so that on a variant rounding never
    hides a named mistake and a 10 %-off answer stays wrong."""
    assert grader.hand is not None
    hand = grader.hand(batch, hand_rounder(decimals))
    given = {name: torch.full_like(t, math.nan) for name, t in hand.items()}
    default = Tolerance()
    found = torch.zeros(next(iter(hand.values())).shape[0], dtype=torch.bool)
    for spec in grader.specs(batch, given):
        expected, rounded = spec.expected, hand.get(spec.name)
        if rounded is None or spec.optional or spec.sparse:
            continue
        rule = default.rule(spec.name)
        bound = rule.bound(expected)
        low, high = band(expected, rounded, rule, bound)
        wrong = [expected * (1 + OFF), expected * (1 - OFF)]
        answers = torch.stack([a for a in wrong + [a for _, a in spec.candidates]
                               if a.shape == expected.shape])  # fmt: skip
        hidden = (answers >= low) & (answers <= high) & ((answers - expected).abs() > bound)
        found = found | hidden.reshape(len(answers), len(found), -1).any(2).any(0).to(found.device)
    return found


def nested_shape(value: Any) -> tuple[int, ...]:
    """The shape of a number or of rectangular nested lists of numbers (as torch gives it)."""
    shape = []
    while isinstance(value, list):
        shape.append(len(value))
        if not value:
            break
        value = value[0]
    return tuple(shape)


def given_tensors(
    shapes: dict[str, tuple[int, ...]], rows: Sequence[dict[str, Any]], device: Any
) -> dict[str, torch.Tensor]:
    """The submitted parts of many submissions stacked (B, *shape), NaN where missing. A
    single row keeps the shapes it was given in."""
    if len(rows) == 1:
        return {p: as_tensor(rows[0][p], s, device).unsqueeze(0) for p, s in shapes.items()}
    return {p: stack_parts([r[p] for r in rows], s, device) for p, s in shapes.items()}


def shape_errors(
    bulk: BulkGrade, shapes: dict[str, tuple[int, ...]], values: Sequence[dict[str, Any]]
) -> list[tuple[int, PartError]]:
    """The rows and parts of a scored batch whose shape was neither expected nor explained."""
    return [
        (
            row,
            (
                p.spec.name,
                shape_error(p.spec.name, shapes[p.spec.name], given),
                values[row][p.spec.name],
            ),
        )
        for p in bulk.parts
        for row in p.shape_error.nonzero().flatten().tolist()
        for given in [tuple(p.spec.given.shape[1:])]
    ]


def slice_batch(batch: Any, start: int, stop: int, device: Any) -> Any:
    """Rows ``start:stop`` of a task's batch dataclass, its tensors moved to ``device``."""
    changes = {
        f.name: getattr(batch, f.name)[start:stop].to(device)
        for f in fields(batch)
        if isinstance(getattr(batch, f.name), torch.Tensor)
    }
    return replace(batch, **changes)


@lru_cache(maxsize=8)
def _adapter(model: type[BaseModel]) -> TypeAdapter[list[Any]]:
    return TypeAdapter(list[model])  # type: ignore[valid-type]


def _loc(index: int, part: str, indexed: bool) -> tuple[int | str, ...]:
    return (index, *part_loc(part)) if indexed else part_loc(part)


def _given_shapes(
    values: dict[str, Any], expected: dict[str, tuple[int, ...]]
) -> dict[str, tuple[int, ...]]:
    """The shape of each submitted part (the expected one where it is missing)."""
    return {p: expected[p] if values[p] is None else nested_shape(values[p]) for p in expected}


def score_many(
    grader: TaskGrader,
    problems: Sequence[Any],
    submissions: Sequence[Any],
    tolerance: Tolerance | None = None,
    device: Any = "cpu",
    *,
    indexed: bool = True,
) -> list[tuple[list[int], BulkGrade]]:
    """Score submissions to problems of one task: problems that stack are scored together
    on ``device``, and so are submissions whose maps have the same other shapes (10 000
    rows of a wrong shape cost one batch, not 10 000). Gives each group's indices (into
    ``problems``) and its scored batch.

    Raises a ``ValidationError`` with locations ``(index, part, …)`` (``(part, …)`` when not
    ``indexed``) naming every malformed part of every submission.
    """
    tolerance = tolerance or Tolerance()
    models = _adapter(grader.submission_model).validate_python(list(submissions))
    rows: list[dict[str, Any]] = []
    groups: dict[Hashable, list[int]] = {}
    errors: list[tuple[tuple[int | str, ...], PydanticCustomError, Any]] = []
    shapes: dict[int, dict[str, tuple[int, ...]]] = {}  # problems regenerated are shared
    for i, (problem, submission) in enumerate(zip(problems, models, strict=True)):
        if id(problem) not in shapes:
            shapes[id(problem)] = grader.shapes(problem)
        values, on_shape, found = grader.checked_values(problem, submission, shapes[id(problem)])
        rows.append(values)
        errors += [(_loc(i, part, indexed), e, given) for part, e, given in found]
        stacked = shapes[id(problem)] if on_shape else _given_shapes(values, shapes[id(problem)])
        key = (grader.group_key(problem), tuple(stacked.items()))
        groups.setdefault(key, []).append(i)
    if errors:
        raise format_error(f"{grader.task} answers", errors)
    scored = []
    for (_, stacked_shapes), indices in groups.items():
        group_shapes = shapes[id(problems[indices[0]])]
        group_rows = [rows[i] for i in indices]
        given = given_tensors(dict(stacked_shapes), group_rows, device)
        batch = grader.batch([problems[i] for i in indices], device)
        bulk = score_parts(grader.task, task_specs(grader, batch, given, tolerance), tolerance)
        errors += [
            (_loc(indices[row], part, indexed), e, given)
            for row, (part, e, given) in shape_errors(bulk, group_shapes, group_rows)
        ]
        scored.append((indices, bulk))
    if errors:
        raise format_error(f"{grader.task} answers", errors)
    return scored


def grade_many(
    grader: TaskGrader,
    problems: Sequence[Any],
    submissions: Sequence[Any],
    tolerance: Tolerance | None = None,
    device: Any = "cpu",
    *,
    indexed: bool = True,
) -> list[Grade]:
    """:func:`score_many`'s scores as one :class:`Grade` per submission, in order."""
    scored = score_many(grader, problems, submissions, tolerance, device, indexed=indexed)
    return in_order(len(problems), scored, lambda bulk: grades(bulk, grader.misconceptions))


def in_order(
    size: int,
    scored: Sequence[tuple[list[int], BulkGrade]],
    rows: Callable[[BulkGrade], list[Row]],
) -> list[Row]:
    """``rows`` of every scored group, put back in the order of the ``size`` submissions."""
    out: list[Any] = [None] * size
    for indices, bulk in scored:
        for i, row in zip(indices, rows(bulk), strict=True):
            out[i] = row
    return out


def check_one(grader: TaskGrader, problem: Any, submission: Any) -> bool:
    """Validate one submission as :func:`grade_one` does, without grading it: raises the same
    ``ValidationError`` for a malformed part; returns whether every part has its expected
    shape (a part in another shape is decided by grading: a named mistake's shape, or an
    error)."""
    model = grader.submission_model.model_validate(submission)
    _, on_shape, found = grader.checked_values(problem, model)
    if found:
        raise format_error(
            f"{grader.task} answers", [(_loc(0, p, False), e, given) for p, e, given in found]
        )
    return on_shape


def grade_one(
    grader: TaskGrader, problem: Any, submission: Any, tolerance: Tolerance | None = None
) -> Grade:
    """Grade one submission on the CPU. A ``ValidationError`` names the malformed parts
    (locations ``(part, …)``)."""
    model = grader.submission_model.model_validate(submission)
    return grade_many(grader, [problem], [model], tolerance, indexed=False)[0]
