"""Batch grading equals grading one by one; the grader's expected answers equal the solvers'.

Problems come from a small seeded generator of this test (mixed shapes and settings, so
``grade_batch`` has to group them); submissions mix right, rounded, scaled, noisy, missing
and wrongly shaped (stride-1) answers.
"""

from __future__ import annotations

import math
import random
from typing import Any

import pytest
import torch
from pydantic import ValidationError

from solvers.grading.batch import grade, grade_batch, grade_bulk, problem_batch, score_batch
from solvers.grading.core import Tolerance, nest, nested_shape
from solvers.tasks import conv, graph, loss
from solvers.tasks.conv import ConvProblem, PoolSpec
from solvers.tasks.graph import GraphProblem
from solvers.tasks.loss import LossProblem

EXPRESSIONS = [
    ("1/(1+exp(-(w0*x0+w1*x1+w2)))", "w0 x0 w1 x1 w2"),
    ("x*y + x", "x y"),
    ("max(x, y)*z", "x y z"),
    ("-(x*y) + exp(z)", "x y z"),
    ("1/(x*x + 1) - y", "x y"),
]


def _loss_problem(rng: random.Random) -> LossProblem:
    n, c = rng.randint(2, 4), rng.randint(2, 4)
    weights = rng.random() < 0.3
    return LossProblem(
        scores=[[rng.randint(-40, 50) / 10 for _ in range(n)] for _ in range(c)],
        labels=[rng.randrange(c) for _ in range(n)],
        loss=rng.choice(["svm", "softmax"]),
        log_base=rng.choice(["e", "e", "10"]),
        reduction=rng.choice(["mean", "mean", "sum"]),
        reg=0.1 if weights else 0.0,
        weights=[[rng.randint(-2, 2) for _ in range(2)] for _ in range(2)] if weights else None,
    )


def _graph_problem(rng: random.Random) -> GraphProblem:
    expression, names = rng.choice(EXPRESSIONS)
    values = {name: rng.randint(-3, 3) for name in names.split()}
    return GraphProblem(expression=expression, values=values)


def _conv_problem(rng: random.Random) -> ConvProblem:
    channels, side = rng.randint(1, 2), rng.randint(4, 6)
    count, kernel = rng.randint(1, 2), rng.randint(2, 3)
    return ConvProblem(
        image=[[[rng.randint(-2, 5) for _ in range(side)] for _ in range(side)]] * channels,
        filters=[[[[rng.randint(-1, 1) for _ in range(kernel)] for _ in range(kernel)]]
                 * channels for _ in range(count)],
        bias=rng.randint(-1, 1),
        stride=rng.choice([1, 1, 2]),
        padding=rng.choice([0, 1]),
        mode=rng.choice(["cross-correlation", "convolution"]),
        pool=rng.choice([PoolSpec(kind="max"), PoolSpec(kind="avg"), None]),
    )  # fmt: skip


GENERATORS = {"loss": _loss_problem, "graph": _graph_problem, "conv": _conv_problem}


def _exact_answer(task: str, problem: Any, answer: Any = None) -> dict[str, Any]:
    if task == "loss":
        answer = loss.solve(problem).answer
        return {"per_example": answer.per_example, "loss": answer.loss,
                "grad_scores": answer.grad_scores}  # fmt: skip
    if task == "graph":
        solution = graph.solve(problem, symbolic=False)
        nodes = {n.id: n.value for n in solution.nodes}
        return {"output": solution.answer.output, "gradients": solution.answer.gradients,
                "nodes": nodes}  # fmt: skip
    answer = answer or conv.solve(problem).answer
    maps = {"conv": answer.conv, "activation": answer.activation, "pool": answer.pool}
    return {k: v for k, v in maps.items() if v is not None}


def _map(value: Any, change: Any) -> Any:
    if isinstance(value, list):
        return [_map(v, change) for v in value]
    if isinstance(value, dict):
        return {k: _map(v, change) for k, v in value.items()}
    return change(value)


def _submission(task: str, problem: Any, rng: random.Random, solved: Any = None) -> dict[str, Any]:
    answer = _exact_answer(task, problem, solved)
    out = {}
    for part, value in answer.items():
        kind = rng.random()
        if kind < 0.4:
            out[part] = _map(value, lambda x: round(x, 2))
        elif kind < 0.55:
            out[part] = _map(value, lambda x: round(2 * x, 2))
        elif kind < 0.75:
            out[part] = _map(value, lambda x: round(x + rng.choice([-1, 0, 0.5]), 2))
        elif kind < 0.85 and part != "nodes":
            continue  # missing
        else:
            out[part] = _map(value, lambda x: round(-x, 1))
    if task == "conv" and rng.random() < 0.05:
        stride1 = ConvProblem(**{**problem.model_dump(), "stride": 1, "pool": None})
        out["conv"] = conv.solve(stride1).answer.conv
    return out


def _same(a: Any, b: Any, path: str = "") -> None:
    if isinstance(a, dict) and isinstance(b, dict):
        assert a.keys() == b.keys(), path
        for k in a:
            _same(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list) and isinstance(b, list):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _same(x, y, f"{path}[{i}]")
    elif isinstance(a, float) and isinstance(b, float):
        assert math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12), path
    else:
        assert a == b, path


def _valid(task: str, rng: random.Random, count: int) -> list[tuple[Any, dict[str, Any]]]:
    """``count`` problems with submissions (a generated conv problem may be invalid: skip)."""
    problems: list[Any] = []
    while len(problems) < count:
        try:
            problems.append(GENERATORS[task](rng))
        except ValidationError:
            continue
    solved = conv.solve_batch(problems, "cpu") if task == "conv" else [None] * count
    return [(p, _submission(task, p, rng, a)) for p, a in zip(problems, solved, strict=True)]


@pytest.mark.parametrize(("task", "count"), [("loss", 3500), ("graph", 3500), ("conv", 3000)])
def test_batch_equals_one_by_one(task: str, count: int) -> None:
    """10 000 submissions over the three tasks."""
    rng = random.Random(f"grading-{task}")
    pairs = _valid(task, rng, count)
    problems, submissions = [p for p, _ in pairs], [s for _, s in pairs]
    together = grade_batch(task, problems, submissions, device="cpu")
    named = 0
    for problem, submission, batched in zip(problems, submissions, together, strict=True):
        alone = grade(task, problem, submission)
        _same(batched.model_dump(), alone.model_dump())
        named += sum(p.misconception is not None for p in alone.parts)
    assert named > 0


@pytest.mark.parametrize("task", ["loss", "graph", "conv"])
def test_scores_equal_the_grades(task: str) -> None:
    """``score_batch`` (the CSV upload's table) lists what ``grade_batch`` grades."""
    rng = random.Random(f"scores-{task}")
    pairs = _valid(task, rng, 300)
    problems, submissions = [p for p, _ in pairs], [s for _, s in pairs]
    graded = grade_batch(task, problems, submissions, device="cpu")
    scored = score_batch(task, problems, submissions, device="cpu")
    for result, (score, max_score, carried, parts) in zip(graded, scored, strict=True):
        assert (score, max_score, carried) == (
            result.score,
            result.max_score,
            result.carried_forward_score,
        )
        assert parts == [(p.name, p.score, p.misconception) for p in result.parts]


@pytest.mark.parametrize(
    "value", [1.5, [], [1.0, 2.0], [[1.0], [2.0]], [[[1.0, 2.0], [3.0, 4.0]]], [[]]]
)
def test_nested_shape_is_torch_shape(value: Any) -> None:
    assert nested_shape(value) == tuple(torch.tensor(value).shape)


def test_nest_orders_cells_by_index() -> None:
    assert nest({(2,): "b", (1,): "a"}) == ["a", "b"]
    cells = {(1, 2, 1): "c", (1, 1, 2): "b", (2, 1, 1): "e", (1, 1, 1): "a", (1, 2, 2): "d"}
    assert nest(cells) == [[["a", "b"], ["c", "d"]], [["e"]]]


@pytest.mark.parametrize("task", ["loss", "graph", "conv"])
def test_expected_answers_equal_the_solver(task: str) -> None:
    """Exact answers get full marks under a near-zero tolerance."""
    rng = random.Random(f"exact-{task}")
    strict = Tolerance(absolute=1e-9)
    for problem, _ in _valid(task, rng, 150):
        result = grade(task, problem, _exact_answer(task, problem), strict)
        assert result.score == result.max_score, (problem, result)


def test_graph_node_ids_match_the_solution() -> None:
    rng = random.Random("nodes")
    for problem, _ in _valid("graph", rng, 20):
        nodes = {str(n.id): n.value for n in graph.solve(problem, symbolic=False).nodes}
        given = {"nodes": nodes}
        assert grade("graph", problem, given).parts[-1].expected == pytest.approx(nodes)


def test_batch_errors_are_located_by_index() -> None:
    problems = [loss.example()] * 3
    submissions = [{"loss": 1}, {"per_example": [1, 2]}, {"loss": "x"}]
    with pytest.raises(ValidationError) as info:
        grade_batch("loss", problems, submissions, device="cpu")
    assert [e["loc"] for e in info.value.errors()] == [(2, "loss")]
    with pytest.raises(ValidationError) as info:
        grade_batch("loss", problems[:2], submissions[:2], device="cpu")
    assert [e["loc"] for e in info.value.errors()] == [(1, "per_example")]


def test_bulk_tensors_equal_grade_batch() -> None:
    rng = random.Random("bulk")
    problems = [conv.example()] * 50
    submissions = [_submission("conv", p, rng) for p in problems]
    submissions = [s for s in submissions if "conv" not in s or len(s["conv"][0]) == 2]
    listed = grade_batch("conv", problems[: len(submissions)], submissions, device="cpu")
    import torch

    given = {
        part: torch.tensor(
            [s.get(part, [[[math.nan] * w] * h]) for s in submissions], dtype=torch.float64
        )
        for part, (h, w) in {"conv": (2, 2), "activation": (2, 2), "pool": (1, 1)}.items()
    }
    batch = problem_batch("conv", problems[: len(submissions)])
    bulk = grade_bulk("conv", batch, given, device="cpu", chunk=7)
    assert bulk.score.tolist() == [g.score for g in listed]
    assert bulk.carried_forward.tolist() == [g.carried_forward_score for g in listed]
