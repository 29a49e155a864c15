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
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

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
from solvers.tasks.graph import GraphProblem

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
