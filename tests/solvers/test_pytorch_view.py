"""The PyTorch view: the generated script, run here, prints the solver's numbers."""

from __future__ import annotations

import atexit
import subprocess
import sys
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from pydantic_core import PydanticCustomError

from solvers.pytorch_view import (
    Line,
    Output,
    TorchForm,
    TorchView,
    identifier,
    literal,
    render,
    run,
    torch_view,
)
from solvers.registry import TASKS
from solvers.tasks.conv import ConvProblem
from solvers.tasks.graph import GraphProblem
from solvers.tasks.graph.parser import parse
from solvers.tasks.loss.problem import LossProblem

_DRIVER = """
import runpy, sys
for path in sys.stdin:
    runpy.run_path(path.strip(), run_name="__main__")
    print("\\0", flush=True)
"""


@cache
def _python() -> subprocess.Popen[str]:
    """One Python with stock torch for the session, running the scripts it is sent."""
    process = subprocess.Popen(
        [sys.executable, "-c", _DRIVER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    atexit.register(process.kill)
    return process


def run_as_a_script(code: str) -> str:
    """What ``code`` prints when a separate Python runs it as ``__main__`` (real print)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "view.py"
        path.write_text(code)
        process = _python()
        assert process.stdin is not None and process.stdout is not None
        process.stdin.write(f"{path}\n")
        process.stdin.flush()
        lines = []
        while (line := process.stdout.readline()) not in ("\0\n", ""):
            lines.append(line)
    return "".join(lines)


def answer_at(answer: Any, path: str) -> Any:
    return answer_at_path(answer.model_dump(), path)


def answer_at_path(value: Any, path: str) -> Any:
    for part in path.split("."):
        value = value[part]
    return value


def check(task_id: str, problem: Any) -> TorchView:
    """The server's run of the view gives the solver's numbers, and the code run as a
    script elsewhere prints the same again (all but the device line)."""
    task = TASKS[task_id]
    view = torch_view(task, problem)
    assert view is not None
    result = run(view)
    answer = task.solve(problem).answer
    assert result.device in ("cpu", "cuda")
    assert result.stdout.startswith(f"device: {result.device}\n")
    for p in view.prints:
        expected = np.array(answer_at(answer, p.answer), dtype=float)
        got = np.array(answer_at_path(result.answer, p.answer), dtype=float)
        assert got.shape == expected.shape, p.label
        np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12, err_msg=p.label)
    again = run_as_a_script(view.code)
    assert again.startswith("device: ")
    assert again.split("\n", 1)[1] == result.stdout.split("\n", 1)[1]
    return view


@pytest.mark.parametrize("task_id", sorted(TASKS))
def test_lecture_examples(task_id: str) -> None:
    check(task_id, TASKS[task_id].example())


@pytest.mark.parametrize(
    "data",
    [
        {"scores": "1 2 3; 4 5 6", "labels": "2 0", "examples": "rows", "loss": "softmax"},
        {"scores": "1 2; 4 5; 0 1", "labels": "0 1", "loss": "softmax", "log_base": "10"},
        {"scores": "1 2; 4 5; 0 1", "labels": "1 2", "loss": "softmax", "log_base": "2",
         "reduction": "sum", "reg": 0.5, "weights": "1 -2; 3 0.5", "reg_convention": "half_l2"},
        {"scores": "1 2; 4 5", "labels": "1 0", "margin": 0, "reg": 0.1, "weights": "1 2"},
        {"scores": "1 1; 1 1", "labels": "0 1"},  # every margin exactly Δ: no kink on 0
    ],
)  # fmt: skip
def test_loss_cases(data: dict[str, Any]) -> None:
    check("loss", LossProblem.model_validate(data))


@pytest.mark.parametrize(
    "data",
    [
        {"image": "1 2 3; 4 5 6; 7 8 9", "filters": "1 0; 0 -1", "mode": "convolution",
         "padding": 1, "bias": 0.5, "pool": {"kind": "avg", "size": 2, "stride": 1}},
        {"image": "1 2 3 4; 4 5 6 7; 7 8 9 1", "filters": "[[[1, 2]], [[-1, 0]]]",
         "stride": [1, 2], "activation": "none", "pool": None, "bias": [1, -1]},
    ],
)  # fmt: skip
def test_conv_cases(data: dict[str, Any]) -> None:
    check("conv", ConvProblem.model_validate(data))


@pytest.mark.parametrize(
    "data",
    [
        {"expression": "(x+y)*z", "values": {"x": -2, "y": 5, "z": -4}, "upstream": 2},
        {"expression": "max(0, x) + min(x, y)^2 - relu(y)", "values": {"x": 1.5, "y": 1.5}},
        {"expression": "α1 * F + e^F / 2", "values": {"α1": 0.5, "F": -1}},
        {"expression": "sigmoid(w0x0) + tanh(x0)", "values": {"w0": 2, "x0": -1},
         "gates": "grouped"},
        {"expression": "log(x) + sqrt(x) + abs(-x) + 1/x - 3^2", "values": {"x": 0.7}},
        {"expression": "2^3 + x*0", "values": {"x": 1}},
    ],
)  # fmt: skip
def test_graph_cases(data: dict[str, Any]) -> None:
    check("graph", GraphProblem.model_validate(data))


def test_names_are_identifiers_in_the_code() -> None:
    problem = GraphProblem(expression="α1 * F + f64", values={"α1": 1, "F": 2, "f64": 3})
    code = check("graph", problem).code
    assert "v_1 = torch.tensor(1.0, **f64, requires_grad=True)" in code
    assert "v_2 = torch.tensor(2.0" in code
    assert "v_3 = torch.tensor(3.0" in code  # f64 is the script's own name
    assert "'df/dα1:'" in code  # a label is a string literal


def test_the_engine_refuses_unsafe_parts() -> None:
    for name in ("import", "F", "x y", "os;", "é"):
        with pytest.raises(ValueError):
            identifier(name)
    for value in (float("nan"), float("inf"), "1", True):
        with pytest.raises(ValueError):
            literal(value)
    with pytest.raises(ValueError):
        render(TorchForm((Line("1", "a\nb"),), ()))
    with pytest.raises(ValueError):
        render(TorchForm((), (Output("x: y", "1", "a"),)))
    assert literal([[0.1, -2], [1e-300, 3]]) == "[[0.1, -2.0], [1e-300, 3.0]]"


numbers = st.integers(-50, 50).map(lambda k: k / 10)
SETTINGS = settings(
    max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True
)


@SETTINGS
@given(st.data())
def test_random_loss_problems(data: st.DataObject) -> None:
    n, c = data.draw(st.integers(1, 4)), data.draw(st.integers(2, 4))
    scores = data.draw(st.lists(st.lists(numbers, min_size=c, max_size=c), min_size=n, max_size=n))
    weights = data.draw(st.none() | st.lists(st.lists(numbers, min_size=2, max_size=2),
                                             min_size=1, max_size=3))  # fmt: skip
    problem = LossProblem(
        scores=scores,
        labels=data.draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n)),
        examples="rows",
        loss=data.draw(st.sampled_from(["svm", "softmax"])),
        margin=data.draw(st.sampled_from([0.0, 1.0, 0.5])),
        log_base=data.draw(st.sampled_from(["e", "10", "2"])),
        reduction=data.draw(st.sampled_from(["mean", "sum"])),
        reg=0.0 if weights is None else data.draw(st.sampled_from([0.0, 0.1, 1.0])),
        weights=weights,
        reg_convention=data.draw(st.sampled_from(["l2", "half_l2"])),
    )
    check("loss", problem)


@SETTINGS
@given(st.data())
def test_random_conv_problems(data: st.DataObject) -> None:
    channels, side, kernel = (data.draw(st.integers(1, 2)), data.draw(st.integers(3, 6)),
                              data.draw(st.integers(1, 3)))  # fmt: skip

    def grid(rows: int, cols: int) -> Any:
        return st.lists(st.lists(numbers, min_size=cols, max_size=cols), min_size=rows,
                        max_size=rows)  # fmt: skip

    pool = data.draw(st.none() | st.fixed_dictionaries(
        {"kind": st.sampled_from(["max", "avg"]), "size": st.integers(1, 2)}))  # fmt: skip
    try:
        problem = ConvProblem(
            image=data.draw(st.lists(grid(side, side), min_size=channels, max_size=channels)),
            filters=data.draw(st.lists(st.lists(grid(kernel, kernel), min_size=channels,
                                                max_size=channels), min_size=1, max_size=2)),
            stride=data.draw(st.integers(1, 2)),
            padding=data.draw(st.integers(0, 1)),
            mode=data.draw(st.sampled_from(["cross-correlation", "convolution"])),
            activation=data.draw(st.sampled_from(["relu", "none"])),
            pool=pool,
        )  # fmt: skip
    except ValidationError:
        assume(False)
    check("conv", problem)


def expressions(depth: int) -> Any:
    leaf = st.sampled_from(["x", "y", "w0", "2", "0.5"])
    if depth == 0:
        return leaf
    sub = expressions(depth - 1)
    return leaf | st.one_of(
        st.tuples(sub, st.sampled_from(["+", "-", "*", "/"]), sub).map(lambda t: f"({''.join(t)})"),
        st.tuples(st.sampled_from(["exp", "tanh", "sigmoid", "relu", "abs", "log", "sqrt"]),
                  sub).map(lambda t: f"{t[0]}({t[1]})"),
        st.tuples(st.sampled_from(["max", "min"]), sub, sub).map(
            lambda t: f"{t[0]}({t[1]}; {t[2]})"
        ),
        st.tuples(sub, st.sampled_from(["2", "3", "-1"])).map(lambda t: f"({t[0]})^{t[1]}"),
    )  # fmt: skip


@SETTINGS
@given(expressions(3), st.lists(numbers, min_size=3, max_size=3), numbers,
       st.sampled_from(["primitive", "grouped"]))  # fmt: skip
def test_random_graph_problems(text: str, values: list[float], upstream: float, gates: str) -> None:
    given_values = dict(zip(["x", "y", "w0"], values, strict=True))
    try:  # a constant part without a finite value (exp(1618)) is the parser's clear error
        used = {v: given_values[v] for v in parse(text).variables}
        problem = GraphProblem(expression=text, values=used, upstream=upstream, gates=gates)
    except (ValidationError, PydanticCustomError):
        assume(False)
    answer = problem.evaluation()
    assume(all(np.isfinite(answer.grads)) and abs(answer.values[-1]) < 1e8)
    check("graph", problem)
