"""Task.quick: the lecture's sizes are solved where the server stands, larger problems and
new expressions in a worker thread (app.work.solve_work)."""

from __future__ import annotations

from solvers.registry import TASKS


def test_the_lecture_examples_are_quick_once_seen() -> None:
    for task in TASKS.values():
        problem = task.example()
        task.solve(problem)  # a graph expression is quick once solved (its sympy work kept)
        assert task.quick(problem), task.id


def test_large_problems_and_new_expressions_are_not_quick() -> None:
    loss, graph, conv = TASKS["loss"], TASKS["graph"], TASKS["conv"]
    scores = [[float(i + j) for j in range(11)] for i in range(10)]
    assert not loss.quick(loss.problem_model(scores=scores, labels=[0] * 11))
    image = [[float(i * j % 5) for j in range(7)] for i in range(7)]
    big = conv.problem_model(image=[image] * 3, filters=[[[[1.0] * 3] * 3] * 3] * 2, stride=1)
    assert not conv.quick(big)
    fresh = graph.problem_model(expression="u*v + tanh(u - 17*v)", values={"u": 1, "v": 2})
    assert not graph.quick(fresh)
    graph.solve(fresh)
    assert graph.quick(fresh)
    vector = graph.problem_model(expression="||W x||^2", values={"W": "1 2; 3 4", "x": "1 1"})
    graph.solve(vector)
    assert not graph.quick(vector)
