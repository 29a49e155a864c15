"""Variants: keys, determinism, secrecy, sets, regeneration, solve_batch = solve, specs."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from solvers.registry import get_task
from solvers.tasks import conv, graph, loss
from solvers.tasks.conv.variants import ConvSpec
from solvers.tasks.graph.variants import GraphSpec
from solvers.tasks.loss.variants import LossSpec
from solvers.variants import base as variants_base
from solvers.variants.base import DUPLICATE
from solvers.variants.rng import CounterRng, siphash24
from solvers.variants.sets import QuizSpec, generate_bulk, generate_set, regenerate, variant_key

TASKS = ("loss", "graph", "conv")
SOLVERS = {"loss": loss.solve, "graph": graph.solve, "conv": conv.solve}


def test_siphash_matches_the_reference_vector() -> None:
    key = bytes(range(16))
    message = int.from_bytes(bytes(range(8)), "little")
    assert int(siphash24(key, np.array([message], dtype=np.uint64))[0]) == 0x93F5F5799A932462


def test_same_inputs_give_the_same_bytes() -> None:
    first = generate_set(TASKS, QuizSpec(), 2020, 6).model_dump_json()
    second = generate_set(list(reversed(TASKS)), QuizSpec(), 2020, 6).model_dump_json()
    assert first == second
    assert hashlib.sha256(first.encode()).hexdigest() == hashlib.sha256(second.encode()).hexdigest()


def test_a_variant_does_not_depend_on_the_set_size() -> None:
    small = generate_set(TASKS, QuizSpec(), 7, 3)
    large = generate_set(TASKS, QuizSpec(), 7, 40)
    for a, b in zip(small.variants, large.variants[:3], strict=True):
        assert a.model_dump_json() == b.model_dump_json()


def test_a_variant_does_not_depend_on_the_chunking(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = QuizSpec(graph=GraphSpec(family="sum_times", low=-1, high=1))  # many repeats
    whole = {task: generate_bulk(task, spec, 3, 500, "cpu") for task in TASKS}
    monkeypatch.setattr(variants_base, "CHUNK", 7)
    for task in TASKS:
        chunked = generate_bulk(task, spec, 3, 500, "cpu")
        for name, array in whole[task].problems.items():
            assert torch.equal(array, chunked.problems[name]), (task, name)
        assert torch.equal(whole[task].notes, chunked.notes)


@pytest.mark.parametrize("task", TASKS)
def test_a_variant_does_not_depend_on_drawing_attempts_ahead(
    task: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Keys left without a valid candidate draw several attempts at once; each still takes
    its first valid attempt, as when drawing one attempt per round (2 500 variants: three
    blocks, repeats moved on, a few keys that exhaust their attempts)."""
    spec = QuizSpec(graph=GraphSpec(low=-4, high=4))  # most neurons saturate
    ahead = generate_bulk(task, spec, 5, 2500, "cpu")
    monkeypatch.setattr(type(get_task(task).generator), "checks_batches", lambda self, spec: False)
    one_by_one = generate_bulk(task, spec, 5, 2500, "cpu")
    for name, array in ahead.problems.items():
        assert torch.equal(array, one_by_one.problems[name]), name
    assert torch.equal(ahead.notes, one_by_one.notes)


@pytest.mark.parametrize("family", ["matrix_norm", "linear_svm"])
def test_a_vector_variant_does_not_depend_on_drawing_attempts_ahead(
    family: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Vector families check candidates in batches too: the same variants as one attempt
    per round (many SVM candidates sit on the loss's kink and are drawn again)."""
    spec = QuizSpec(graph=GraphSpec(family=family))
    ahead = generate_bulk("graph", spec, 5, 1200, "cpu")
    monkeypatch.setattr(type(get_task("graph").generator), "checks_batches", lambda self, s: False)
    one_by_one = generate_bulk("graph", spec, 5, 1200, "cpu")
    for name, array in ahead.problems.items():
        assert torch.equal(array, one_by_one.problems[name]), name
    assert torch.equal(ahead.notes, one_by_one.notes)


def test_seeds_and_secrets_change_the_variants() -> None:
    spec = QuizSpec()

    def problems(seed: int, secret: bytes | None) -> str:
        variants = generate_set(TASKS, spec, seed, 4, secret=secret).variants
        return "".join(v.model_dump_json(include={"problems"}) for v in variants)

    plain = problems(1, None)
    assert plain != problems(2, None)
    assert plain != problems(1, b"server secret")
    assert problems(1, b"server secret") != problems(1, b"another secret")
    assert problems(1, b"server secret") == problems(1, b"server secret")
    keys = {variant_key(spec, 1, 5, "loss", s) for s in (None, b"a", b"b")}
    assert len(keys) == 3
    assert generate_set(TASKS, spec, 1, 1, secret=b"a").keyed


def test_regenerate_gives_the_problem_of_the_set() -> None:
    spec = QuizSpec(graph=GraphSpec(family="any"))
    variants = generate_set(TASKS, spec, 11, 25, secret=b"s").variants
    for number in (1, 13, 25):
        for task in TASKS:
            problem = regenerate(task, spec, 11, number, secret=b"s")
            assert problem == variants[number - 1].problems[task]


def test_generate_is_variant_one() -> None:
    """The protocol's generate(rng, spec): variant 1 never repeats an earlier one."""
    spec = QuizSpec()
    for task in TASKS:
        rng = CounterRng.of_key(variant_key(spec, 5, 1, task))
        assert get_task(task).generate(rng, getattr(spec, task)) == regenerate(task, spec, 5, 1)


def _close(a: object, b: object) -> None:
    np.testing.assert_allclose(np.asarray(a, float), np.asarray(b, float), rtol=1e-12, atol=1e-12)


def test_solve_batch_equals_solve_on_hundreds_of_variants() -> None:
    spec = QuizSpec(graph=GraphSpec(family="any"), conv=ConvSpec(channels=2, filters=2))
    variant_set = generate_set(TASKS, spec, 2020, 200)
    for variant in variant_set.variants:
        for task in TASKS:
            expected = SOLVERS[task](variant.problems[task]).answer.model_dump()
            got = variant.answers[task].model_dump()
            assert expected.keys() == got.keys()
            for field, value in expected.items():
                if isinstance(value, dict) and field == "gradients":
                    assert value.keys() == got[field].keys()
                    _close(list(value.values()), list(got[field].values()))
                elif value is None or field == "shapes":
                    assert got[field] == value
                else:
                    _close(got[field], value)


def test_bulk_answers_equal_solve() -> None:
    spec = QuizSpec(graph=GraphSpec(family="any"), conv=ConvSpec(pool_kind="avg"))
    count = 300
    bulks = {task: generate_bulk(task, spec, 9, count, "cpu") for task in TASKS}
    variant_set = generate_set(TASKS, spec, 9, count)
    for i, variant in enumerate(variant_set.variants):
        loss_scores = bulks["loss"].problems["scores"][i].double() / bulks["loss"].meta["scale"]
        assert loss_scores.tolist() == variant.problems["loss"].scores
        assert bulks["conv"].problems["image"][i].tolist() == variant.problems["conv"].image
        for task in TASKS:
            answer = SOLVERS[task](variant.problems[task]).answer
            bulk = bulks[task].answers
            if task == "loss":
                _close(bulk["per_example"][i], answer.per_example)
                _close(bulk["data_loss"][i], answer.data_loss)
                _close(bulk["grad_scores"][i], answer.grad_scores)
                _close(bulk["extra"][i], answer.margins or answer.probabilities)
            elif task == "graph":
                _close(bulk["output"][i], answer.output)
                got = bulk["gradients"][i][: len(answer.gradients)]
                _close(got, list(answer.gradients.values()))
            else:
                _close(bulk["conv"][i], answer.conv)
                _close(bulk["activation"][i], answer.activation)
                _close(bulk["pool"][i], answer.pool)


def test_an_impossible_rule_is_noted() -> None:
    spec = QuizSpec(
        conv=ConvSpec(kernel_low=1, kernel_high=1),  # positive image and kernel: no negative
        graph=GraphSpec(family="sum_times", low=1, high=1),  # one possible problem
    )
    variants = generate_set(["graph", "conv"], spec, 1, 2).variants
    assert "no conv cell is negative, so ReLU zeroes nothing" in variants[0].notes["conv"]
    assert variants[0].notes["graph"] == []
    assert variants[1].notes["graph"] == [DUPLICATE]


def test_small_spaces_still_give_different_variants() -> None:
    spec = QuizSpec(graph=GraphSpec(family="sum_times", low=-2, high=2))  # 125 triples
    variants = generate_set(["graph"], spec, 4, 40).variants
    values = {tuple(v.problems["graph"].values.values()) for v in variants}
    assert len(values) == 40
    assert all(v.notes["graph"] == [] for v in variants)


@settings(max_examples=25, deadline=None)
@given(
    examples=st.integers(1, 10),
    classes=st.integers(2, 10),
    kind=st.sampled_from(["svm", "softmax", "either"]),
    decimals=st.sampled_from([0, 1]),
    seed=st.integers(0, 2**63 - 1),
)
def test_any_loss_spec_gives_valid_problems(
    examples: int, classes: int, kind: str, decimals: int, seed: int
) -> None:
    spec = LossSpec(examples=examples, classes=classes, loss=kind, decimals=decimals)
    problem = regenerate("loss", spec, seed, 3)
    assert problem.n_examples == examples and problem.n_classes == classes
    assert kind == "either" or problem.loss == kind


@pytest.mark.parametrize(
    ("model", "data", "needle"),
    [
        (LossSpec, {"examples": 11}, "less than or equal to 10"),
        (LossSpec, {"low": 3, "high": 1}, "the score range is empty"),
        (LossSpec, {"low": 0.2, "high": 0.8, "decimals": 0}, "no score with 0 decimals"),
        (LossSpec, {"colour": "red"}, "Extra inputs are not permitted"),
        (GraphSpec, {"family": "cubic"}, "'sigmoid_neuron'"),
        (ConvSpec, {"size": 13}, "less than or equal to 12"),
        (ConvSpec, {"size": 6}, "is not whole; change the sizes or allow uneven sizes"),
        (ConvSpec, {"size": 7, "stride": 1}, "does not split into 2×2 pooling windows"),
        (ConvSpec, {"size": 3, "kernel": 3, "stride": 1, "pool_kind": "none"}, "single cell"),
        (QuizSpec, {"conv": {"kernel": 7}}, "larger than the padded 5×5 image"),
    ],
)
def test_spec_errors_are_readable(model: type, data: dict, needle: str) -> None:
    with pytest.raises(ValidationError) as caught:
        model.model_validate(data)
    assert needle in str(caught.value)


def test_uneven_sizes_when_allowed() -> None:
    spec = ConvSpec(size=6, allow_uneven=True)
    problem = regenerate("conv", spec, 1, 1)
    assert conv.solve(problem).answer.shapes.conv == [1, 2, 2]


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="unknown task"):
        generate_set(["loss", "essay"], QuizSpec(), 1, 2)
    with pytest.raises(ValueError, match="number of variants"):
        generate_set(["loss"], QuizSpec(), 1, 0)
    with pytest.raises(ValueError, match="seed"):
        regenerate("loss", QuizSpec(), -1, 1)


@pytest.mark.parametrize("task", ["loss", "graph", "conv"])
def test_variant_n_is_drawn_from_its_block_only(task: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Variant n costs at most a block's draws (it was 1 … n: 43 s for conv number 100 000
    at the largest spec), and equals the set's variant n."""
    from solvers.variants.sets import regenerate_many

    monkeypatch.setattr(variants_base, "BLOCK", 8)
    whole = generate_set([task], QuizSpec(), 4, 20)
    drawn: list[list[int]] = []
    real = variants_base.variant_keys

    def counting(task_id: str, spec: object, seed: int, numbers: np.ndarray, secret: object):
        drawn.append(numbers.tolist())
        return real(task_id, spec, seed, numbers, secret)  # type: ignore[arg-type]

    monkeypatch.setattr(variants_base, "variant_keys", counting)
    numbers = [20, 3, 17, 9, 3]
    found = regenerate_many(task, QuizSpec(), 4, numbers)
    assert found == [whole.variants[n - 1].problems[task] for n in numbers]
    # blocks 1-8, 9-16, 17-24, together: each up to its largest wanted number
    assert drawn == [[1, 2, 3, 9, 17, 18, 19, 20]]
    drawn.clear()
    assert regenerate(task, QuizSpec(), 4, 17) == whole.variants[16].problems[task]
    assert drawn == [[17]]
