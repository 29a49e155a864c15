"""solvers.core: the remembered number texts give what a fresh format computes, and
``trusted`` / ``step`` / ``translate_steps`` build what validation and ``model_copy`` would."""

from __future__ import annotations

import math
import random
from fractions import Fraction

import pytest

from solvers.core import (
    MEMO_SIZE,
    NumberFormat,
    Step,
    exact_fraction,
    step,
    translate_steps,
    trusted,
)
from solvers.registry import TASKS


def _reference_tex_exact(fmt: NumberFormat, x: float) -> str:
    """tex_exact as first written: the fraction looked for every time."""
    fraction = exact_fraction(x)
    if fraction is None or fraction.denominator == 1 or not fmt.is_rounded(x):
        return ("\\approx " if fmt.is_rounded(x) else "") + fmt.tex(x)
    sign = "-" if fraction < 0 else ""
    return (
        f"{sign}\\tfrac{{{abs(fraction.numerator)}}}{{{fraction.denominator}}}"
        f" \\approx {fmt.tex(x)}"
    )


def _numbers() -> list[float]:
    rng = random.Random(7)
    special = [0.0, -0.0, 1, 1.0, -1, 2.5, 1 / 3, -79 / 15, 1e300, math.inf, -math.inf, math.nan]
    special += [float(Fraction(rng.randint(-500, 500), rng.randint(1, 60))) for _ in range(300)]
    return special + [rng.uniform(-100, 100) for _ in range(300)] + [True, 7]


@pytest.mark.parametrize("digits", [0, 2, 4, 10])
@pytest.mark.parametrize("comma", [False, True])
def test_remembered_texts_match_fresh_ones(digits: int, comma: bool) -> None:
    shared = NumberFormat(digits=digits, decimal_comma=comma)
    for _ in range(2):  # the second round reads the memo
        for x in _numbers():
            fresh = NumberFormat(digits=digits, decimal_comma=comma)
            assert shared.num(x) == fresh._num(x)
            assert shared.tex(x, paren=True) == fresh.tex(x, paren=True)
            assert shared.tex_exact(x) == _reference_tex_exact(fresh, x)
        for paren in (False, True):
            assert shared.texs(_numbers(), paren) == [fresh.tex(x, paren) for x in _numbers()]


def test_memo_is_bounded_and_formats_stay_values() -> None:
    fmt = NumberFormat()
    for k in range(MEMO_SIZE + 10):
        fmt.num(k + 0.5)
    assert len(fmt._texts) <= MEMO_SIZE  # type: ignore[attr-defined]
    assert fmt == NumberFormat() and hash(fmt) == hash(NumberFormat())
    assert repr(fmt) == "NumberFormat(digits=4, decimal_comma=False)"


def test_trusted_and_with_text_match_validation_and_copy() -> None:
    fields = {"kind": "k", "title": "t", "params": {"n": 1}, "values": {"v": [1.0, 2.0]}}
    built, validated = trusted(Step, **fields), Step(**fields)
    assert built == validated
    assert built.model_fields_set == validated.model_fields_set
    assert built.model_dump_json() == validated.model_dump_json()
    copied = validated.model_copy(update={"title": "T", "text": "x"})
    translate_steps([built], lambda message, params: {"t": "T", "": "x"}[message])
    assert built == copied and built.model_fields_set == copied.model_fields_set


@pytest.mark.parametrize("task_id", sorted(TASKS))
def test_solve_makes_steps_of_its_own(task_id: str) -> None:
    """``translate_steps`` translates a solution's steps in place: each solve makes new ones,
    none twice in one solution (translated twice) or shared with another solve."""
    task = TASKS[task_id]
    first, second = (task.solve(task.example()) for _ in range(2))
    ids = [id(s) for s in first.steps]
    assert len(set(ids)) == len(ids)
    assert not set(ids) & {id(s) for s in second.steps}


def test_step_matches_validation() -> None:
    fields = {"kind": "k", "title": "t {n}", "params": {"n": 1}, "formulas": ["x = 1"],
              "values": {"v": [1.0, 2.0], "w": 3.5}}  # fmt: skip
    built, validated = step(**fields), Step(**fields)
    assert built == validated
    assert built.model_dump_json() == validated.model_dump_json()
    assert step("k", "t").model_dump() == Step(kind="k", title="t").model_dump()


def test_step_json_is_the_values_own_and_the_schema_the_union() -> None:
    values = {"n": 2, "x": 2.0, "big": 1e18, "s": "ok", "v": [1.0, -0.0], "m": [[1.5]],
              "t": [[[0.1, 2.0]]]}  # fmt: skip
    built = Step(kind="k", title="t", params={"i": 1, "f": 0.5, "s": "a"}, values=values)
    assert built.model_dump_json() == (
        '{"kind":"k","title":"t","text":"","params":{"i":1,"f":0.5,"s":"a"},"formulas":[],'
        '"values":{"n":2,"x":2.0,"big":1e+18,"s":"ok","v":[1.0,-0.0],"m":[[1.5]],'
        '"t":[[[0.1,2.0]]]}}'
    )
    for mode in ("validation", "serialization"):
        union = Step.model_json_schema(mode=mode)["properties"]["values"]["additionalProperties"]
        assert len(union["anyOf"]) == 6


def test_fixed_keeps_every_decimal_and_integers_whole() -> None:
    fmt = NumberFormat(digits=4)
    assert [fmt.fixed(x) for x in (0.2, -0.19661, 3.0, 2.99999, 0.5)] == [
        "0.2000", "−0.1966", "3", "3.0000", "0.5000",
    ]  # fmt: skip
    assert NumberFormat(digits=2, decimal_comma=True).fixed(0.1) == "0,10"
    assert NumberFormat(digits=0).fixed(2.4) == "2"
