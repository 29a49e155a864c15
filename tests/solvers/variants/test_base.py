"""How a set of variants is chosen (solvers/variants/base.py), with a generator of one
number in 0…2 whose rule forbids 0: the first valid candidate, no repeat within a block
while the space allows, notes for what could not be met."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pytest
from pydantic import BaseModel

from solvers.variants.base import (
    DUPLICATE,
    MAX_ATTEMPTS,
    Arrays,
    Generator,
    chunks,
    fingerprint,
    first_valid,
    note_list,
    select,
    select_numbers,
    take,
)
from solvers.variants.rng import CounterRng, variant_keys

NO_ZERO = "the number is not 0"


class Number(BaseModel):
    value: int


class Spec(BaseModel):
    high: int = 2


class Tiny(Generator):
    """Numbers 0…high; 0 breaks the rule; at most ``high`` different valid ones."""

    task: ClassVar[str] = "tiny"
    rules: ClassVar[tuple[str, ...]] = (NO_ZERO,)

    def draw(self, rng: CounterRng, spec: Spec) -> Arrays:
        return {"value": rng.integers(0, 0, spec.high, shape=(1,))}

    def violations(self, arrays: Arrays, spec: Spec) -> np.ndarray:
        return arrays["value"] == 0

    def problems(self, arrays: Arrays, spec: Spec) -> list[BaseModel]:
        return [Number(value=int(v)) for v in arrays["value"][:, 0]]

    def solve_tensors(self, arrays: Arrays, spec: Spec, device: Any) -> dict[str, Any]:
        return {}

    def space_size(self, spec: Spec) -> int:
        return spec.high


def _values(arrays: Arrays) -> list[int]:
    return arrays["value"][:, 0].tolist()


def test_first_valid_takes_the_first_attempt_that_breaks_no_rule() -> None:
    keys = variant_keys("tiny", Spec(), 1, np.arange(1, 201))
    arrays, attempts, broken, found = first_valid(Tiny(), Spec(), keys, np.zeros(200, int))
    assert found.all() and not broken.any() and 0 not in _values(arrays)
    for key, attempt, value in zip(keys[:20], attempts[:20], _values(arrays)[:20], strict=True):
        drawn = [Tiny().draw(CounterRng.of_key(int(key), a), Spec())["value"][0, 0]
                 for a in range(attempt + 1)]  # fmt: skip
        assert drawn[-1] == value and all(v == 0 for v in drawn[:-1])


def test_no_valid_candidate_keeps_the_last_one_drawn_and_says_so() -> None:
    keys = variant_keys("tiny", Spec(high=0), 1, [1, 2])
    arrays, attempts, broken, found = first_valid(Tiny(), Spec(high=0), keys, np.zeros(2, int))
    assert not found.any() and broken.tolist() == [1, 1]
    assert attempts.tolist() == [MAX_ATTEMPTS - 1] * 2 and _values(arrays) == [0, 0]


def test_a_set_differs_while_the_space_allows_then_notes_the_repeats() -> None:
    chosen = select(Tiny(), Spec(), seed=3, count=4)
    values = _values(chosen.arrays)
    assert sorted(values[:2]) == [1, 2]  # two different valid numbers exist
    assert set(values[2:]) <= {1, 2}
    assert [note_list(Tiny(), int(n)) for n in chosen.notes] == [[], [], [DUPLICATE], [DUPLICATE]]
    assert Tiny().notes == (NO_ZERO, DUPLICATE)


def test_a_variant_is_the_same_in_any_set_that_holds_it() -> None:
    whole = select(Tiny(), Spec(high=50), seed=9, count=30)
    some = select_numbers(Tiny(), Spec(high=50), 9, np.array([4, 17, 30]))
    assert _values(some.arrays) == [_values(whole.arrays)[i - 1] for i in (4, 17, 30)]
    assert some.attempts.tolist() == whole.attempts[[3, 16, 29]].tolist()
    assert _values(select(Tiny(), Spec(high=50), seed=10, count=30).arrays) != _values(whole.arrays)


def test_generate_one_problem() -> None:
    problem = Tiny().generate(CounterRng.of_key(12345), Spec())
    assert isinstance(problem, Number) and problem.value in (1, 2)
    with pytest.raises(ValueError):
        Tiny().generate(CounterRng(np.array([1, 2], dtype=np.uint64)), Spec())


def test_fingerprints_and_rows() -> None:
    arrays = {"a": np.array([[1, 2], [1, 2], [2, 1]], np.int16), "b": np.zeros((3, 0), np.int16)}
    prints = fingerprint(arrays)
    assert prints[0] == prints[1] != prints[2]
    assert _values({"value": take(arrays, np.array([2]))["a"]}) == [2]


def test_chunks_cover_the_range() -> None:
    assert chunks(5, 2) == [slice(0, 2), slice(2, 4), slice(4, 5)]
    assert chunks(0, 2) == []


def test_a_small_space_checks_each_distinct_candidate_once() -> None:
    """Where the spec allows fewer candidates than are drawn, each distinct one is checked
    once, and every draw gets its verdict: the same choices as checking each draw."""
    checked: list[int] = []

    class Counting(Tiny):
        def rejected(self, arrays: Arrays, spec: Spec) -> np.ndarray:
            checked.append(len(arrays["value"]))
            return super().rejected(arrays, spec)

    class Unbounded(Tiny):
        def space_size(self, spec: Spec) -> None:
            return None

    keys = variant_keys("tiny", Spec(), 1, np.arange(1, 201))
    start = np.zeros(200, int)
    counted = first_valid(Counting(), Spec(), keys, start)
    each = first_valid(Unbounded(), Spec(), keys, start)
    assert checked[0] == 3  # 200 draws of 0, 1 or 2
    assert _values(counted[0]) == _values(each[0])
    for mine, theirs in zip(counted[1:], each[1:], strict=True):
        assert mine.tolist() == theirs.tolist()
