"""Hand-computability over 10 000 bulk variants per task, each rule checked independently
(plain numpy formulas here, not the generators' own checks)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from solvers.tasks.conv.variants import ConvSpec
from solvers.tasks.graph.variants import GraphSpec
from solvers.tasks.loss.variants import LossSpec
from solvers.variants.base import DUPLICATE
from solvers.variants.sets import generate_bulk

COUNT = 10_000


def _rows(problems: dict[str, torch.Tensor]) -> np.ndarray:
    return np.concatenate([p.reshape(len(p), -1).numpy() for p in problems.values()], axis=1)


def _distinct(rows: np.ndarray) -> bool:
    return len(np.unique(rows, axis=0)) == len(rows)


@pytest.mark.parametrize(
    "spec",
    [LossSpec(), LossSpec(examples=4, classes=5, low=-3, high=8, decimals=0)],
    ids=["quiz", "4x5-integers"],
)
def test_loss_rules(spec: LossSpec) -> None:
    bulk = generate_bulk("loss", spec, 2020, COUNT, "cpu")
    assert not bulk.notes.any()
    scores = bulk.problems["scores"].numpy() / bulk.meta["scale"]  # (B, C, N)
    labels = bulk.problems["labels"].numpy().astype(int)
    svm = bulk.problems["kind"].numpy() == 0
    assert scores.shape == (COUNT, spec.classes, spec.examples)
    assert spec.low <= scores.min() and scores.max() <= spec.high
    tenths = scores * 10**spec.decimals
    assert np.allclose(tenths, np.round(tenths), atol=1e-9)
    assert labels.min() >= 0 and labels.max() < spec.classes
    correct = np.take_along_axis(scores, labels[:, None, :], 1)
    is_label = np.arange(spec.classes)[None, :, None] == labels[:, None, :]
    margins = np.where(is_label, -np.inf, scores - correct + 1.0)
    assert not (np.abs(margins[svm]) < 1e-9).any(), "an SVM margin is 0"
    assert (margins[svm] > 0).any(axis=(1, 2)).all(), "an SVM variant has loss 0"
    probabilities = np.exp(scores) / np.exp(scores).sum(1, keepdims=True)
    p_correct = np.take_along_axis(probabilities, labels[:, None, :], 1)
    assert (p_correct[~svm] >= 0.01).all()
    spread = scores.max(1) - scores.min(1)
    assert (spread[~svm] <= spec.softmax_spread + 1e-9).all()
    if spec.classes == 3:  # spread ≤ 4 with 3 classes: no probability shows as 0.00
        assert (probabilities[~svm] >= 0.005).all()
    assert 0.45 < svm.mean() < 0.55  # "either": both kinds, equally often
    assert _distinct(_rows(bulk.problems))


def _hand_gradients(family: str, v: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """Gradients by the chain rule written out, and the neuron's input z (or None)."""
    if family in ("sigmoid_neuron", "tanh_neuron"):
        w0, x0, w1, x1, w2 = v.T
        z = w0 * x0 + w1 * x1 + w2
        if family == "sigmoid_neuron":
            s = 1 / (1 + np.exp(-z))
            local = s * (1 - s)
        else:
            local = 1 - np.tanh(z) ** 2
        return np.stack([x0, w0, x1, w1, np.ones_like(z)], 1) * local[:, None], z
    x, y, z = v[:, 0], v[:, 1], v[:, 2]
    w = v[:, 3] if v.shape[1] > 3 else None
    if family == "sum_times":
        return np.stack([z, z, x + y], 1), None
    if family == "max_gate":
        return np.stack([2 * y, 2 * x, 2.0 * (z > w), 2.0 * (w > z)], 1), None
    return np.stack([2 * x + y + z, x + z, x + y], 1), None  # (x+y)*(x+z)


@pytest.mark.parametrize("family", ["sigmoid_neuron", "any"])
def test_graph_rules(family: str) -> None:
    spec = GraphSpec(family=family)
    bulk = generate_bulk("graph", spec, 2020, COUNT, "cpu")
    values = bulk.problems["values"].numpy().astype(float)
    families = bulk.problems["family"].numpy()
    assert spec.low <= values.min() and values.max() <= spec.high
    assert torch.isfinite(bulk.answers["output"]).all()
    for index, name in enumerate(bulk.meta["families"]):
        rows = families == index
        if not rows.any():
            continue
        width = len(bulk.meta["variables"][name])
        grads, z = _hand_gradients(name, values[rows, :width])
        assert (grads != 0).any(1).all(), f"{name}: every gradient 0"
        np.testing.assert_allclose(bulk.answers["gradients"][rows, :width].numpy(), grads)
        if z is not None:
            assert (np.abs(z) <= 2).all(), f"{name}: the neuron saturates"
        if name == "max_gate":
            assert (values[rows, 2] != values[rows, 3]).all(), "a tie in max"
    if family == "any":  # every family equally often, whatever its rules reject
        shares = np.bincount(families, minlength=len(bulk.meta["families"])) / COUNT
        assert (np.abs(shares - 0.2) < 0.02).all()
    duplicate = 1 << bulk.note_messages.index(DUPLICATE)
    assert ((bulk.notes & ~duplicate) == 0).all(), "a rule was not met"
    repeated = (bulk.notes & duplicate).bool().numpy()
    assert not repeated[:1000].any()
    assert _distinct(_rows(bulk.problems)[~repeated])


def _conv_by_hand(image: np.ndarray, filters: np.ndarray, bias: np.ndarray, s: int, p: int):
    image = np.pad(image, ((0, 0), (0, 0), (p, p), (p, p)))
    f = filters.shape[-1]
    side = (image.shape[-1] - f) // s + 1
    out = np.zeros((len(image), filters.shape[1], side, side))
    for i in range(side):
        for j in range(side):
            window = image[:, None, :, i * s : i * s + f, j * s : j * s + f]
            out[:, :, i, j] = (window * filters).sum((2, 3, 4)) + bias
    return out


@pytest.mark.parametrize(
    "spec",
    [
        ConvSpec(),
        ConvSpec(size=6, channels=2, filters=2, stride=1, padding=1, pool_size=3, bias_low=-1),
    ],
    ids=["quiz", "two-channels-padded"],
)
def test_conv_rules(spec: ConvSpec) -> None:
    bulk = generate_bulk("conv", spec, 2020, COUNT, "cpu")
    assert not bulk.notes.any()
    image = bulk.problems["image"].numpy().astype(float)
    filters = bulk.problems["filters"].numpy().astype(float)
    bias = bulk.problems["bias"].numpy().astype(float)
    assert spec.image_low <= image.min() and image.max() <= spec.image_high
    assert spec.kernel_low <= filters.min() and filters.max() <= spec.kernel_high
    assert (spec.size + 2 * spec.padding - spec.kernel) % spec.stride == 0  # even sizes
    conv = _conv_by_hand(image, filters, bias, spec.stride, spec.padding)
    assert conv.shape[-1] % spec.pool_size == 0
    np.testing.assert_array_equal(bulk.answers["conv"].numpy(), conv)
    flat = conv.reshape(COUNT, -1)
    assert ((flat < 0).any(1) & (flat > 0).any(1)).all(), "ReLU zeroes none or all"
    relu = np.maximum(conv, 0)
    k = spec.pool_size
    for i in range(0, conv.shape[-2], k):
        for j in range(0, conv.shape[-1], k):
            window = relu[:, :, i : i + k, j : j + k].reshape(COUNT, conv.shape[1], -1)
            top = window.max(-1, keepdims=True)
            assert ((window == top).sum(-1) == 1).all(), "a tie in a max-pool window"
    assert _distinct(_rows(bulk.problems))


@pytest.mark.parametrize("family", ["matrix_norm", "linear_svm"])
def test_vector_graph_rules(family: str) -> None:
    """Vector families by hand in numpy: ||W x||² (dW = 2q xᵀ, dx = 2Wᵀq) and the SVM of a
    linear layer (dL/ds_j = 1 where the margin is violated, −their count at the label)."""
    spec = GraphSpec(family=family)
    count = 500
    bulk = generate_bulk("graph", spec, 2020, count, "cpu")
    assert bulk.meta["families"][-1] == family
    v = bulk.problems["values"].numpy().astype(float)
    grads = bulk.answers["gradients"].numpy()
    output = bulk.answers["output"].numpy()
    if family == "matrix_norm":
        w, x = v[:, :4].reshape(-1, 2, 2), v[:, 4:6]
        q = np.einsum("bij,bj->bi", w, x)
        expected = np.concatenate(
            [(2 * q[:, :, None] * x[:, None, :]).reshape(-1, 4),
             np.einsum("bij,bi->bj", w, 2 * q)], axis=1)  # fmt: skip
        np.testing.assert_allclose(output, (q**2).sum(1))
        np.testing.assert_allclose(grads[:, :6], expected)
        assert np.isnan(grads[:, 6:]).all()
    else:
        w, x, b, y = v[:, :6].reshape(-1, 2, 3), v[:, 6:9], v[:, 9:11], v[:, 11].astype(int)
        assert set(np.unique(y)) == {0, 1}
        s = np.einsum("bij,bj->bi", w, x) + b
        rows = np.arange(count)
        margins = s - s[rows, y][:, None] + 1
        margins[rows, y] = -np.inf
        assert (margins != 0).all(), "a margin on the kink"
        ds = (margins > 0).astype(float)
        ds[rows, y] = -ds.sum(1)
        np.testing.assert_allclose(output, np.maximum(margins, 0).sum(1))
        np.testing.assert_allclose(grads[:, :6], (ds[:, :, None] * x[:, None, :]).reshape(-1, 6))
        np.testing.assert_allclose(grads[:, 6:9], np.einsum("bij,bi->bj", w, ds))
        np.testing.assert_allclose(grads[:, 9:11], ds)
        assert np.isnan(grads[:, 11]).all()
    assert (np.nan_to_num(grads) != 0).any(1).all(), "every gradient 0"
    assert spec.low <= v.min() and v.max() <= spec.high
    duplicate = 1 << bulk.note_messages.index(DUPLICATE)
    assert ((bulk.notes & ~duplicate) == 0).all(), "a rule was not met"
