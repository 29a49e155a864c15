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
MIN_DRAW = 1 << 12
"""When fewer keys than this are left without a valid candidate, each draws several attempts
at once, about this many candidates in all (a check's fixed cost is a few milliseconds)."""
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

    def rejected(self, arrays: Arrays, spec: Any) -> np.ndarray:
        """(B,) bool: whether each candidate breaks some rule (:meth:`violations` of any
        rule; a generator may check its cheap rules first and skip the others where one
        is broken)."""
        return self.violations(arrays, spec).any(1)

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

    def checks_batches(self, spec: Any) -> bool:
        """Whether :meth:`violations` checks a batch of candidates at about the cost of one
        (so the keys left drawing draw a few attempts at once); ``False`` where it checks
        candidate by candidate."""
        return True

    def bulk_meta(self, spec: Any) -> dict[str, Any]:
        """What the integer arrays of :meth:`draw` mean, for bulk users (scales, names)."""
        return {}

    @property
    def notes(self) -> tuple[str, ...]:
        """Message id of each bit of a note mask: the rules, then :data:`DUPLICATE`."""
        return (*self.rules, DUPLICATE)

    def generate(self, rng: CounterRng, spec: Any) -> BaseModel:
        """One problem that breaks none of :attr:`rules` (so it can be worked by hand): the
        first candidate from ``rng``'s attempt on that breaks no rule (the last one drawn
        when none within :data:`MAX_ATTEMPTS`)."""
        if len(rng) != 1:
            raise ValueError("generate takes the random source of one variant")
        arrays, _, _, _ = first_valid(self, spec, rng.keys, rng.attempts.astype(np.int64))
        return self.problems(arrays, spec)[0]


def take(arrays: Arrays, rows: np.ndarray) -> Arrays:
    """The rows ``rows`` of every array."""
    return {name: a[rows] for name, a in arrays.items()}


def _rows(array: np.ndarray) -> np.ndarray:
    """``array`` as one flat row per variant (none, too)."""
    return array.reshape(len(array), int(np.prod(array.shape[1:])))


def fingerprint(arrays: Arrays) -> np.ndarray:
    """A 64-bit hash of each variant's int16 arrays (equal problems, equal fingerprints)."""
    rows = np.concatenate(
        [_rows(arrays[name]).astype(np.int16) for name in sorted(arrays)],
        axis=1,
    )
    rows = np.pad(rows, ((0, 0), (0, -rows.shape[1] % 4)))  # four int16 per uint64 word
    words = np.ascontiguousarray(rows).view(np.uint64)
    h = np.zeros(len(words), dtype=np.uint64)
    for j in range(words.shape[1]):
        h = mix64(h * np.uint64(0x9E3779B97F4A7C15) + words[:, j])
    return h


def _rejected(generator: Generator, spec: Any, arrays: Arrays) -> np.ndarray:
    """:meth:`Generator.rejected`, checked once per distinct candidate when the spec allows
    fewer candidates than were drawn (then many are drawn more than once)."""
    space = generator.space_size(spec)
    count = len(next(iter(arrays.values())))
    if space is None or space >= count:
        return generator.rejected(arrays, spec)
    rows = np.ascontiguousarray(
        np.concatenate([_rows(arrays[name]).astype(np.int16) for name in sorted(arrays)], 1)
    )
    cells = rows.view(np.dtype((np.void, rows.dtype.itemsize * rows.shape[1]))).ravel()
    _, first, inverse = np.unique(cells, return_index=True, return_inverse=True)
    return generator.rejected(take(arrays, first), spec)[inverse.ravel()]


def _bits(broken: np.ndarray) -> np.ndarray:
    return (broken.astype(np.int64) << np.arange(broken.shape[1], dtype=np.int64)).sum(1)


def first_valid(
    generator: Generator, spec: Any, keys: np.ndarray, start: np.ndarray
) -> tuple[Arrays, np.ndarray, np.ndarray, np.ndarray]:
    """For each key, the first candidate from attempt ``start`` on that breaks no rule.

    Returns the arrays, the attempt taken, the mask of rules its candidate breaks (bits in
    the order of ``generator.rules``) and whether a valid one was found; where none was
    found before :data:`MAX_ATTEMPTS`, the last candidate drawn. When few keys are left
    without a valid candidate and the generator :meth:`~Generator.checks_batches`, each
    draws its next few attempts at once (:data:`MIN_DRAW`), so the last keys cost few
    rounds of checks.
    """
    attempts = np.minimum(np.asarray(start, dtype=np.int64), MAX_ATTEMPTS - 1)
    arrays = generator.draw(CounterRng(keys, attempts), spec)
    broken = _rejected(generator, spec, arrays)
    pending = np.flatnonzero(broken & (attempts < MAX_ATTEMPTS - 1))
    budget = MIN_DRAW if generator.checks_batches(spec) else 1
    while len(pending):
        ahead = min(max(1, budget // len(pending)), MAX_ATTEMPTS - 1 - attempts[pending].min())
        tried = np.minimum(attempts[pending, None] + np.arange(1, ahead + 1), MAX_ATTEMPTS - 1)
        candidate = generator.draw(CounterRng(np.repeat(keys[pending], ahead), tried.ravel()), spec)
        candidate_broken = _rejected(generator, spec, candidate).reshape(-1, ahead)
        valid = ~candidate_broken
        # the first valid attempt of each key, or its last one drawn
        pick = np.where(valid.any(1), valid.argmax(1), ahead - 1)
        rows = np.arange(len(pending)) * ahead + pick
        for name, array in candidate.items():
            arrays[name][pending] = array[rows]
        attempts[pending] = tried[np.arange(len(pending)), pick]
        broken[pending] = candidate_broken.ravel()[rows]
        pending = pending[broken[pending] & (attempts[pending] < MAX_ATTEMPTS - 1)]
    rules = np.zeros(len(keys), dtype=np.int64)
    left = np.flatnonzero(broken)  # no valid candidate: which rules the last one breaks
    if len(left):
        rules[left] = _bits(generator.violations(take(arrays, left), spec))
    return arrays, attempts, rules, ~broken


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


def _later_repeats(prints: np.ndarray, blocks: np.ndarray | None = None) -> np.ndarray:
    """True where a fingerprint already occurs at a smaller index (of the same block, when
    ``blocks``, non-decreasing, gives each index's block). One stable sort: equal
    fingerprints end up side by side in index order, so in block order too."""
    order = np.argsort(prints, kind="stable")
    same = prints[order[1:]] == prints[order[:-1]]
    if blocks is not None:
        same &= blocks[order[1:]] == blocks[order[:-1]]
    later = np.zeros(len(prints), dtype=bool)
    later[order[1:]] = same
    return later


BLOCK = 1000
"""Variants are chosen in blocks of this many numbers (1 … 1000, 1001 … 2000, …): a variant
is redrawn to differ from the earlier ones *of its block*, so variant n costs at most a
block's draws, whatever n (the largest set of the web and the API is one block). In a
larger set a variant that repeats one of an earlier block keeps the repeat's note."""


def _select_blocks(
    generator: Generator,
    spec: Any,
    seed: int,
    numbers: np.ndarray,
    secret: bytes | None,
    note_repeats_across_blocks: bool,
) -> Selection:
    """Variants ``numbers``: sorted, and in each block they touch every number from the
    block's first on. All blocks are drawn and checked together.

    Each variant takes its first candidate that breaks no rule. Then, in rounds, every
    variant equal to one with a smaller number of its block moves on to its next valid
    candidate (at most :data:`MAX_MOVES` times). A variant's choice depends only on the
    variants of its block with smaller numbers, so it is the same in every set that holds
    it. Variants numbered above :meth:`Generator.space_size` within their block are not
    redrawn (they cannot all differ). The notes name the repeats within a block (and of any
    earlier variant, with ``note_repeats_across_blocks``).
    """
    keys = variant_keys(generator.task, spec, seed, numbers, secret)
    blocks = (numbers - 1) // BLOCK
    arrays, attempts, broken, _ = _first_valid_chunked(
        generator, spec, keys, np.zeros(len(numbers), dtype=np.int64)
    )
    prints = fingerprint(arrays)
    moves = np.zeros(len(numbers), dtype=np.int64)
    spent = attempts >= MAX_ATTEMPTS - 1
    space = generator.space_size(spec)
    if space is not None:
        spent |= (numbers - 1) % BLOCK >= space  # pigeonhole: these cannot all differ
    later = _later_repeats(prints, blocks)
    while True:
        can_move = np.flatnonzero((moves < MAX_MOVES) & ~spent)
        if not len(can_move):
            break
        moving = can_move[later[can_move]]
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
        # a variant's repeat depends on its own block only: those of the moved ones change
        touched = np.isin(blocks, blocks[rows])
        later[touched] = _later_repeats(prints[touched], blocks[touched])
    repeats = _later_repeats(prints) if note_repeats_across_blocks else later
    notes = broken | (repeats.astype(np.int64) << len(generator.rules))
    return Selection(arrays, attempts, notes)


def select(
    generator: Generator,
    spec: Any,
    seed: int,
    count: int,
    secret: bytes | None = None,
) -> Selection:
    """Variants 1 … ``count`` of ``generator.task`` for (spec, seed, secret), each block of
    :data:`BLOCK` chosen on its own (:func:`_select_blocks`); a variant that repeats one of
    an earlier block is noted too."""
    return _select_blocks(generator, spec, seed, np.arange(1, count + 1), secret, True)


def select_numbers(
    generator: Generator,
    spec: Any,
    seed: int,
    numbers: np.ndarray,
    secret: bytes | None = None,
) -> Selection:
    """The variants of the sorted distinct ``numbers``, each as :func:`select` chooses it:
    each block they touch is drawn up to its largest wanted number."""
    blocks = (numbers - 1) // BLOCK
    last = np.flatnonzero(np.append(blocks[1:] != blocks[:-1], True))  # each block's largest
    drawn = np.concatenate(
        [np.arange(b * BLOCK + 1, n + 1) for b, n in zip(blocks[last], numbers[last], strict=True)]
    )
    chosen = _select_blocks(generator, spec, seed, drawn, secret, False)
    rows = np.searchsorted(drawn, numbers)
    return Selection(take(chosen.arrays, rows), chosen.attempts[rows], chosen.notes[rows])


def note_list(generator: Generator, mask: int) -> list[str]:
    """The message ids of a note mask."""
    return [message for i, message in enumerate(generator.notes) if mask >> i & 1]


def chunks(count: int, size: int = CHUNK) -> Sequence[slice]:
    """Slices of ``range(count)`` of at most ``size``."""
    return [slice(i, min(i + size, count)) for i in range(0, count, size)]
