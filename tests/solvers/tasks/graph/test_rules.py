"""One rule per gate (solvers/tasks/graph/rules.py): each local gradient is the derivative of
its forward (numerically, in numpy and torch), kinks and domains named, vector gates' shapes
and vector-Jacobian products checked by hand."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from solvers.core import NumberFormat
from solvers.tasks.graph.rules import ALL_RULES, FUNCTIONS, RULES, VECTOR_RULES

POINTS = [np.array([0.7, -0.4, 1.9]), np.array([0.3, 1.1, -2.5])]
"""Inputs away from every kink (no ties, no zeros); log and sqrt take their absolute value."""
PARAM = {"+c": 2.0, "·c": -3.0, "/c": 4.0, "^k": 3.0}


def _inputs(op: str, arity: int) -> list[np.ndarray]:
    xs = [p.copy() for p in POINTS[:arity]]
    return [np.abs(x) for x in xs] if op in ("log", "sqrt", "1/x") else xs


@pytest.mark.parametrize("op", sorted(RULES))
def test_local_gradients_are_the_derivatives(op: str) -> None:
    rule, p = RULES[op], PARAM.get(op, 0.0)
    xs = _inputs(op, rule.arity)
    y = rule.forward(xs, p)
    local = rule.local(xs, y, p)
    assert len(local) == rule.arity
    h = 1e-6
    for i in range(rule.arity):
        up = [x + h * (j == i) for j, x in enumerate(xs)]
        down = [x - h * (j == i) for j, x in enumerate(xs)]
        numeric = (rule.forward(up, p) - rule.forward(down, p)) / (2 * h)
        np.testing.assert_allclose(np.broadcast_to(local[i], numeric.shape), numeric, rtol=1e-5)


@pytest.mark.parametrize("op", sorted(RULES))
def test_torch_and_numpy_agree(op: str) -> None:
    rule, p = RULES[op], PARAM.get(op, 0.0)
    xs = _inputs(op, rule.arity)
    tensors = [torch.tensor(x, dtype=torch.float64) for x in xs]
    np.testing.assert_allclose(rule.forward(tensors, p).numpy(), rule.forward(xs, p))


def test_kinks() -> None:
    assert RULES["relu"].kink([0.0]) and not RULES["relu"].kink([0.5])
    assert RULES["abs"].kink([0.0]) and not RULES["abs"].kink([-0.5])
    assert RULES["max"].kink([1.0, 1.0]) and not RULES["max"].kink([1.0, 2.0])
    assert RULES["min"].kink([2.0, 2.0]) and "max" in RULES["max"].kink_message
    assert not RULES["exp"].kink([0.0])


@pytest.mark.parametrize(
    ("op", "x", "p", "fragment", "context"),
    [
        ("1/x", 0.0, 0.0, "division by zero", {}),
        ("log", 0.0, 0.0, "log needs a positive number", {"value": "0"}),
        ("log", -2.0, 0.0, "log needs a positive number", {"value": "-2"}),
        ("sqrt", -1.0, 0.0, "not negative", {"value": "-1"}),
        ("^k", -8.0, 0.5, "has no real power", {"value": "-8", "k": "0.5"}),
        ("^k", 0.0, -1.0, "division by zero", {"k": "-1"}),
    ],
)
def test_domains(op: str, x: float, p: float, fragment: str, context: dict) -> None:
    message, found = RULES[op].domain([x], p)
    assert fragment in message and found == context


def test_no_domain_error_inside_the_domain() -> None:
    assert RULES["log"].domain([0.5], 0) is None and RULES["sqrt"].domain([0.0], 0) is None
    assert RULES["^k"].domain([-8.0], 3.0) is None


def test_labels_and_formulas() -> None:
    fmt = NumberFormat()
    labels = [RULES[op].label(PARAM[op], fmt) for op in ("+c", "·c", "/c", "^k")]
    assert labels == ["+2", "·(−3)", "/4", "^3"]
    assert RULES["+c"].label(-0.5, fmt) == "−0.5"  # a negative constant is subtracted
    assert RULES["*"].local_tex(["a", "b"], "", "") == ["b", "a"]
    assert RULES["σ"].forward_tex(["a"], "") == r"\sigma(a)"
    assert RULES["1/x"].local_tex(["a"], "", "") == [r"-\frac{1}{a^{2}}"]
    assert {FUNCTIONS[name].op for name in ("sigmoid", "exp", "max")} == {"σ", "exp", "max"}
    assert set(ALL_RULES) == set(RULES) | set(VECTOR_RULES)


def test_matrix_product_shape_and_vjp_by_hand() -> None:
    rule = VECTOR_RULES["@"]
    assert rule.shape([(2, 3), (3,)]) == (2,) and rule.shape([(2, 3), (3, 4)]) == (2, 4)
    assert "must match the rows" in str(rule.shape([(2, 3), (2,)]))
    w = np.array([[[1.0, 2, 3], [4, 5, 6]]])
    x = np.array([[1.0, 0, -1]])
    y = rule.forward([w, x], 0)
    assert y.tolist() == [[1 - 3, 4 - 6]]
    dw, dx = rule.vjp([w, x], y, np.array([[1.0, 2]]))
    assert dw.tolist() == [[[1, 0, -1], [2, 0, -2]]]  # g xᵀ
    assert dx.tolist() == [[1 + 8, 2 + 10, 3 + 12]]  # Wᵀ g


def test_squared_norm_and_its_gradient() -> None:
    rule = VECTOR_RULES["norm2"]
    x = np.array([[1.0, 0, -1]])
    y = rule.forward([x], 0)
    assert rule.shape([(3,)]) == () and y.tolist() == [2.0]
    (dx,) = rule.vjp([x], y, np.array([0.5]))
    assert dx.tolist() == [[1.0, 0, -1.0]]  # 2x times the upstream ½
