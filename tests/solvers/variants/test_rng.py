"""Counter-based randomness (solvers/variants/rng.py): keys from (task, spec, seed, secret),
draws that depend on (key, attempt, stream, index) only, uniform small integers."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import BaseModel

from solvers.variants.rng import MAX_INDEX, CounterRng, canonical_json, mix64, set_key, variant_keys


class Spec(BaseModel):
    low: int = -3
    high: int = 3


def test_canonical_json_sorts_keys_without_spaces() -> None:
    assert canonical_json(Spec()) == '{"high":3,"low":-3}'


def test_set_keys_change_with_every_input_and_the_secret() -> None:
    key = set_key("loss", Spec(), 1)
    assert len(key) == 32 and key == set_key("loss", Spec(), 1)
    others = [set_key("conv", Spec(), 1), set_key("loss", Spec(high=4), 1),
              set_key("loss", Spec(), 2), set_key("loss", Spec(), 1, b"s"),
              set_key("loss", Spec(), 1, b"t")]  # fmt: skip
    assert len({key, *others}) == 6


def test_variant_keys_are_per_number_and_independent_of_the_batch() -> None:
    all_keys = variant_keys("loss", Spec(), 5, [1, 2, 3])
    assert all_keys.dtype == np.uint64 and len(set(all_keys.tolist())) == 3
    assert variant_keys("loss", Spec(), 5, [3])[0] == all_keys[2]


def test_mix64_is_splitmix64s_finalizer() -> None:
    # SplitMix64 seeded with 0: its first output is mix64(0x9E3779B97F4A7C15)
    assert int(mix64(np.array([0x9E3779B97F4A7C15], dtype=np.uint64))[0]) == 0xE220A8397B1DCDAF
    assert int(mix64(np.array([0], dtype=np.uint64))[0]) == 0


def test_draws_depend_on_key_attempt_and_stream_only() -> None:
    rng = CounterRng(np.array([7, 8], dtype=np.uint64), attempts=np.array([0, 3]))
    bits = rng.bits(2, 5)
    assert bits.shape == (2, 5)
    assert (CounterRng.of_key(8, attempt=3).bits(2, 5)[0] == bits[1]).all()
    assert (rng.bits(2, 3) == bits[:, :3]).all()  # a prefix of the longer draw
    assert not (rng.bits(1, 5) == bits).any()
    assert (rng.first_attempt().bits(2, 5)[0] == bits[0]).all()
    assert not (rng.first_attempt().bits(2, 5)[1] == bits[1]).any()


def test_integers_are_uniform_in_the_closed_range() -> None:
    rng = CounterRng(np.arange(1, 4001, dtype=np.uint64))
    values = rng.integers(0, -2, 2, shape=(2, 3))
    assert values.shape == (4000, 2, 3) and values.dtype == np.int16
    counts = np.bincount((values + 2).ravel(), minlength=5)
    assert counts.min() > 4500 and counts.max() < 5100  # 24 000 draws, 4 800 expected each
    assert len(rng) == 4000 and rng.integers(1, 5, 5).tolist() == [5] * 4000


@pytest.mark.parametrize(
    "call",
    [
        lambda rng: rng.bits(1 << 16, 1),
        lambda rng: rng.bits(0, 0),
        lambda rng: rng.bits(0, MAX_INDEX + 1),
        lambda rng: rng.integers(0, 2, 1),
        lambda rng: rng.integers(0, 0, 1 << 14),
    ],
)
def test_out_of_range_requests_are_errors(call) -> None:
    with pytest.raises(ValueError):
        call(CounterRng.of_key(1))
