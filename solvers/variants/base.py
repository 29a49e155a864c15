"""What every task's generator provides, and how a set of variants is chosen.

A generator draws candidate problems as integer numpy arrays for B variants at once
(:meth:`Generator.draw`), says which hand-computability rules each candidate breaks
(:meth:`Generator.violations`), turns arrays into pydantic problems and solves arrays as
tensors. :func:`select` then picks, for every variant number, the first candidate (attempt
0, 1, 2, …) that breaks no rule and repeats no variant with a smaller number of its block
of :data:`BLOCK` (so any variant is found from at most a block's draws).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from pydantic import BaseModel

from solvers.core import N_
from solvers.variants.rng import CounterRng, mix64, variant_keys

MAX_ATTEMPTS = 64
"""Candidates drawn per variant at most (attempts 0 … 63)."""
MAX_MOVES = 8
"""Times a variant is redrawn because it repeats an earlier one before it is kept anyway."""
CHUNK = 1 << 16
"""Variants drawn and checked together (bounds the memory of the intermediate arrays)."""
DUPLICATE = N_("no variant different from the earlier variants of the set was found")
"""The note of a variant that repeats an earlier one."""
HAND_RULE = N_(
    "rounding every intermediate value to 2 decimals moves an answer as far as a named "
    "mistake (or 10 %) does"
)
"""The rule of a generator that keeps the hand method decisive: the problems where
:func:`solvers.grading.core.undecided` is true are avoided."""

Arrays = dict[str, np.ndarray]


class Generator(ABC):
    """One task's variants: drawing, rules, problems and tensor answers."""

    task: ClassVar[str]
    rules: ClassVar[tuple[str, ...]]
    """The message ids of the rules, in the order of :meth:`violations`' columns."""

    @abstractmethod
    def draw(self, rng: CounterRng, spec: Any) -> Arrays:
        """Candidate problems for ``len(rng)`` variants: int16 arrays with a leading B."""

    @abstractmethod
    def violations(self, arrays: Arrays, spec: Any) -> np.ndarray:
        """(B, len(rules)) bool: which rule each candidate breaks."""

    @abstractmethod
    def problems(self, arrays: Arrays, spec: Any) -> list[BaseModel]:
        """The pydantic problems of the arrays."""

    @abstractmethod
    def solve_tensors(self, arrays: Arrays, spec: Any, device: Any) -> dict[str, Any]:
        """The answers of the arrays as float64 tensors on ``device`` (leading B)."""

    def space_size(self, spec: Any) -> int | None:
        """How many different candidates ``spec`` allows at most (``None``: too many to
        matter). A variant numbered above it cannot differ from all earlier ones, so it is
        not redrawn for repeating one."""
        return None

    def bulk_meta(self, spec: Any) -> dict[str, Any]:
        """What the integer arrays of :meth:`draw` mean, for bulk users (scales, names)."""
        return {}

    @property
    def notes(self) -> tuple[str, ...]:
        """Message id of each bit of a note mask: the rules, then :data:`DUPLICATE`."""
        return (*self.rules, DUPLICATE)

    def generate(self, rng: CounterRng, spec: Any) -> BaseModel:
        """One hand-computable problem (DESIGN §2): the first candidate from ``rng``'s attempt
        on that breaks no rule (the last one drawn when none within :data:`MAX_ATTEMPTS`)."""
        if len(rng) != 1:
            raise ValueError("generate takes the random source of one variant")
        arrays, _, _, _ = first_valid(self, spec, rng.keys, rng.attempts.astype(np.int64))
        return self.problems(arrays, spec)[0]


def take(arrays: Arrays, rows: np.ndarray) -> Arrays:
    """The rows ``rows`` of every array."""
    return {name: a[rows] for name, a in arrays.items()}


def fingerprint(arrays: Arrays) -> np.ndarray:
    """A 64-bit hash of each variant's int16 arrays (equal problems, equal fingerprints)."""
    rows = np.concatenate(
        [arrays[name].reshape(len(arrays[name]), -1).astype(np.int16) for name in sorted(arrays)],
        axis=1,
    )
    rows = np.pad(rows, ((0, 0), (0, -rows.shape[1] % 4)))  # four int16 per uint64 word
    words = np.ascontiguousarray(rows).view(np.uint64)
    h = np.zeros(len(words), dtype=np.uint64)
    for j in range(words.shape[1]):
        h = mix64(h * np.uint64(0x9E3779B97F4A7C15) + words[:, j])
    return h


def _bits(broken: np.ndarray) -> np.ndarray:
    return (broken.astype(np.int64) << np.arange(broken.shape[1], dtype=np.int64)).sum(1)


def first_valid(
    generator: Generator, spec: Any, keys: np.ndarray, start: np.ndarray
) -> tuple[Arrays, np.ndarray, np.ndarray, np.ndarray]:
    """For each key, the first candidate from attempt ``start`` on that breaks no rule.

    Returns the arrays, the attempt taken, the mask of rules its candidate breaks (bits in
    the order of ``generator.rules``) and whether a valid one was found; where none was
    found before :data:`MAX_ATTEMPTS`, the last candidate drawn.
    """
    attempts = np.minimum(np.asarray(start, dtype=np.int64), MAX_ATTEMPTS - 1)
    arrays = generator.draw(CounterRng(keys, attempts), spec)
    broken = _bits(generator.violations(arrays, spec))
    pending = np.flatnonzero(broken)
    while len(pending):
        pending = pending[attempts[pending] < MAX_ATTEMPTS - 1]
        if not len(pending):
            break
        attempts[pending] += 1
        candidate = generator.draw(CounterRng(keys[pending], attempts[pending]), spec)
        for name, array in candidate.items():
            arrays[name][pending] = array
        broken[pending] = _bits(generator.violations(candidate, spec))
        pending = pending[broken[pending] != 0]
    return arrays, attempts, broken, broken == 0


@dataclass
class Selection:
    """The chosen candidates of variants 1 … count of one task."""

    arrays: Arrays
    attempts: np.ndarray
    """The attempt of each variant's candidate (0: the first draw)."""
    notes: np.ndarray
    """Bit i set: note ``generator.notes[i]`` applies (a rule not met, or a repeat)."""


def _first_valid_chunked(
    generator: Generator, spec: Any, keys: np.ndarray, start: np.ndarray
) -> tuple[Arrays, np.ndarray, np.ndarray, np.ndarray]:
    parts = [
        first_valid(generator, spec, keys[i : i + CHUNK], start[i : i + CHUNK])
        for i in range(0, len(keys), CHUNK)
    ]
    arrays = {name: np.concatenate([p[0][name] for p in parts]) for name in parts[0][0]}
    return arrays, *(np.concatenate([p[k] for p in parts]) for k in (1, 2, 3))  # type: ignore[return-value]


def _later_repeats(prints: np.ndarray) -> np.ndarray:
    """True where a fingerprint already occurs at a smaller index."""
    _, first, inverse = np.unique(prints, return_index=True, return_inverse=True)
    return first[inverse.reshape(-1)] != np.arange(len(prints))


BLOCK = 1000
"""Variants are chosen in blocks of this many numbers (1 … 1000, 1001 … 2000, …): a variant
is redrawn to differ from the earlier ones *of its block*, so variant n costs at most a
block's draws, whatever n (the largest set of the web and the API is one block). In a
larger set a variant that repeats one of an earlier block keeps the repeat's note."""


def _select_block(
    generator: Generator, spec: Any, seed: int, start: int, stop: int, secret: bytes | None
) -> Selection:
    """Variants ``start`` … ``stop`` − 1, ``start`` the first number of a block.

    Each variant takes its first candidate that breaks no rule. Then, in rounds, every
    variant equal to one with a smaller number of the block moves on to its next valid
    candidate (at most :data:`MAX_MOVES` times). A variant's choice depends only on the
    variants of its block with smaller numbers, so it is the same in every set that holds
    it. Variants numbered above :meth:`Generator.space_size` within their block are not
    redrawn (they cannot all differ).
    """
    count = stop - start
    keys = variant_keys(generator.task, spec, seed, np.arange(start, stop), secret)
    arrays, attempts, broken, _ = _first_valid_chunked(
        generator, spec, keys, np.zeros(count, dtype=np.int64)
    )
    prints = fingerprint(arrays)
    moves = np.zeros(count, dtype=np.int64)
    spent = attempts >= MAX_ATTEMPTS - 1
    space = generator.space_size(spec)
    if space is not None:
        spent[space:] = True  # pigeonhole: these cannot all differ from the earlier ones
    while True:
        can_move = np.flatnonzero((moves < MAX_MOVES) & ~spent)
        if not len(can_move):
            break
        prefix = can_move[-1] + 1  # a variant's move depends on smaller numbers only
        moving = can_move[_later_repeats(prints[:prefix])[can_move]]
        if not len(moving):
            break
        moves[moving] += 1
        candidate, tried, candidate_broken, found = _first_valid_chunked(
            generator, spec, keys[moving], attempts[moving] + 1
        )
        spent[moving] = ~found | (tried >= MAX_ATTEMPTS - 1)
        rows, kept = moving[found], np.flatnonzero(found)
        attempts[rows] = tried[kept]
        for name, array in candidate.items():
            arrays[name][rows] = array[kept]
        broken[rows] = candidate_broken[kept]
        prints[rows] = fingerprint(take(candidate, kept))
    notes = broken | (_later_repeats(prints).astype(np.int64) << len(generator.rules))
    return Selection(arrays, attempts, notes)


def _joined(parts: Sequence[Selection]) -> Selection:
    if len(parts) == 1:
        return parts[0]
    arrays = {name: np.concatenate([p.arrays[name] for p in parts]) for name in parts[0].arrays}
    return Selection(
        arrays,
        np.concatenate([p.attempts for p in parts]),
        np.concatenate([p.notes for p in parts]),
    )


def _noted_repeats(selection: Selection, generator: Generator) -> Selection:
    """``selection`` with the repeat's note on every variant that repeats an earlier one."""
    repeats = _later_repeats(fingerprint(selection.arrays)).astype(np.int64)
    selection.notes |= repeats << len(generator.rules)
    return selection


def select(
    generator: Generator,
    spec: Any,
    seed: int,
    count: int,
    secret: bytes | None = None,
) -> Selection:
    """Variants 1 … ``count`` of ``generator.task`` for (spec, seed, secret), block by block
    (:data:`BLOCK`, :func:`_select_block`)."""
    parts = [
        _select_block(generator, spec, seed, start, min(start + BLOCK, count + 1), secret)
        for start in range(1, count + 1, BLOCK)
    ]
    return parts[0] if len(parts) == 1 else _noted_repeats(_joined(parts), generator)


def select_numbers(
    generator: Generator,
    spec: Any,
    seed: int,
    numbers: np.ndarray,
    secret: bytes | None = None,
) -> Selection:
    """The variants of the sorted distinct ``numbers``, each as :func:`select` chooses it:
    each block they touch is drawn up to its largest wanted number."""
    parts = []
    blocks = (numbers - 1) // BLOCK
    for block in np.unique(blocks).tolist():
        wanted = numbers[blocks == block]
        start = block * BLOCK + 1
        chosen = _select_block(generator, spec, seed, start, int(wanted[-1]) + 1, secret)
        rows = wanted - start
        parts.append(Selection(take(chosen.arrays, rows), chosen.attempts[rows],
                               chosen.notes[rows]))  # fmt: skip
    return _joined(parts)


def note_list(generator: Generator, mask: int) -> list[str]:
    """The message ids of a note mask."""
    return [message for i, message in enumerate(generator.notes) if mask >> i & 1]


def chunks(count: int, size: int = CHUNK) -> Sequence[slice]:
    """Slices of ``range(count)`` of at most ``size``."""
    return [slice(i, min(i + size, count)) for i in range(0, count, size)]
