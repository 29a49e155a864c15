"""Task.quick: the lecture's sizes are solved where the server stands, larger problems and
new expressions in a worker thread (app.work.solve_work)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from solvers.registry import TASKS, get_task, register, unregister


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


# --- the registry itself ---------------------------------------------------------------------


def test_the_three_tasks_in_the_quizs_order() -> None:
    assert list(TASKS) == ["loss", "graph", "conv"]
    assert all(task.id == task_id for task_id, task in TASKS.items())


def test_register_replace_and_unregister() -> None:
    extra = replace(TASKS["loss"], id="extra")
    again = replace(extra, title="another title")
    try:
        assert register(extra) is extra and list(TASKS)[-1] == "extra"
        register(again)  # the same id replaces, in its place
        assert get_task("extra") is again and list(TASKS).count("extra") == 1
        assert unregister("extra") is again
    finally:
        TASKS.pop("extra", None)
    assert list(TASKS) == ["loss", "graph", "conv"]
    with pytest.raises(KeyError):
        unregister("extra")


def test_an_unknown_task_names_the_known_ones() -> None:
    assert get_task("conv") is TASKS["conv"]
    with pytest.raises(ValueError, match="unknown task 'linear'; tasks: loss, graph, conv"):
        get_task("linear")
