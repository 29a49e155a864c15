"""Graph variants (solvers/tasks/graph/variants.py): families and their inputs drawn within
the spec, the size of the space, the rules checked on hand-made candidates, problems and
their tensor answers."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from solvers.tasks.graph import solve
from solvers.tasks.graph.variants import (
    FAMILIES,
    FAMILY_NAMES,
    SCALAR_FAMILIES,
    WIDTH,
    GraphGenerator,
    GraphSpec,
)
from solvers.variants.rng import CounterRng

KEYS = CounterRng(np.arange(1, 401, dtype=np.uint64))


def _candidates(family: str, rows: list[list[int]]) -> dict[str, np.ndarray]:
    values = np.zeros((len(rows), WIDTH), np.int16)
    for i, row in enumerate(rows):
        values[i, : len(row)] = row
    return {"family": np.full(len(rows), FAMILY_NAMES.index(family), np.int16), "values": values}


def test_an_empty_range_is_refused() -> None:
    with pytest.raises(ValidationError, match="the input range is empty"):
        GraphSpec(low=2, high=1)


def test_any_draws_scalar_families_with_unused_columns_zero() -> None:
    arrays = GraphGenerator().draw(KEYS, GraphSpec(family="any", low=1, high=2))
    families = set(arrays["family"].tolist())
    assert families == set(range(SCALAR_FAMILIES))
    for family, row in zip(arrays["family"], arrays["values"], strict=True):
        used = len(FAMILIES[FAMILY_NAMES[family]][1])
        assert set(row[:used].tolist()) <= {1, 2} and not row[used:].any()


def test_the_svm_family_draws_a_class_label() -> None:
    arrays = GraphGenerator().draw(KEYS, GraphSpec(family="linear_svm", low=-3, high=3))
    label = FAMILIES["linear_svm"][1].index("y")
    assert set(arrays["values"][:, label].tolist()) == {0, 1}


def test_space_sizes() -> None:
    generator = GraphGenerator()
    assert generator.space_size(GraphSpec(family="sum_times", low=-1, high=1)) == 3**3
    assert generator.space_size(GraphSpec(family="linear_svm", low=0, high=1)) == 2**11 * 2
    scalar = [len(FAMILIES[name][1]) for name in FAMILY_NAMES[:SCALAR_FAMILIES]]
    assert generator.space_size(GraphSpec(family="any", low=0, high=1)) == sum(2**n for n in scalar)


def test_the_rules_on_hand_made_candidates() -> None:
    spec = GraphSpec(family="any")
    generator = GraphGenerator()
    rules = generator.rules
    # (x + y)·z with x + y = 0 and z = 0: every gradient is 0
    zero = generator.violations(_candidates("sum_times", [[1, -1, 0], [1, 2, 3]]), spec)
    assert zero[0, rules.index("every gradient is 0")] and not zero[1].any()
    # the neuron's z = 3·1 + 0 + 0 = 3 > 2 saturates; z = 1 does not
    neuron = generator.violations(
        _candidates("sigmoid_neuron", [[3, 1, 0, 0, 0], [2, -1, -3, -2, -3]]), spec
    )
    saturates = next(i for i, rule in enumerate(rules) if "saturates" in rule)
    assert neuron[:, saturates].tolist() == [True, False]
    # max(z, w) with z = w is a tie
    tie = generator.violations(_candidates("max_gate", [[1, 2, 3, 3], [1, 2, 3, -1]]), spec)
    assert tie[:, rules.index("both inputs of max are equal")].tolist() == [True, False]


@pytest.mark.parametrize("family", ["sum_times", "reused_variable", "max_gate"])
def test_problems_and_their_tensor_answers_agree_with_the_solver(family: str) -> None:
    spec = GraphSpec(family=family)
    generator = GraphGenerator()
    arrays = generator.draw(CounterRng(np.arange(1, 7, dtype=np.uint64)), spec)
    problems = generator.problems(arrays, spec)
    tensors = generator.solve_tensors(arrays, spec, "cpu")
    names = FAMILIES[family][1]
    for i, problem in enumerate(problems):
        assert problem.expression == FAMILIES[family][0]
        answer = solve(problem).answer
        assert tensors["output"][i].item() == pytest.approx(answer.output)
        got = tensors["gradients"][i, : len(names)].tolist()
        assert got == pytest.approx([answer.gradients[n] for n in names])
