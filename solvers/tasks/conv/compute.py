"""The conv task's one tensor implementation: conv → activation → pooling, float64 over a
leading batch dimension (a single problem is a batch of one), in torch or, for one small
problem, in numpy (:meth:`ConvBatch.of`): the same steps, each written once for both array
libraries by the few primitives below (a torch call costs microseconds, more than a quick
problem's whole arithmetic).

The worked solver (:mod:`solvers.tasks.conv.solve`), :func:`solve_batch`, the variant
generator and the grader all call :func:`forward`; each named mistake of the grader's
catalogue is :func:`forward` with one keyword override (kernels flipped, stride 1, padding
ignored, bias forgotten, a cell's sign, ReLU skipped, pooling before ReLU, average instead of
max, the pooling's stride or window), computed from the student's own earlier maps when
grading.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

import numpy as np
import torch
import torch.nn.functional as F

from solvers.core import Rounder
from solvers.tasks.conv.problem import (
    ConvAnswer,
    ConvProblem,
    Geometry,
    Pair,
    out_size,
    stage_shapes,
)

Array: TypeAlias = torch.Tensor | np.ndarray
"""A batch's maps: torch tensors, or numpy arrays for one small problem."""


@dataclass(frozen=True)
class ConvBatch:
    """Problems with one shape and one set of hyperparameters, float64 on one device (torch)
    or numpy arrays: ``image`` (B, C, H, W), ``filters`` (B, K, C, Fh, Fw) as given (not
    flipped), ``bias`` (B, K); ``convolution``: the kernels are flipped before they slide."""

    geometry: Geometry
    convolution: bool
    relu: bool
    pool_kind: str | None
    image: Array
    filters: Array
    bias: Array

    @classmethod
    def of(
        cls, problems: Sequence[ConvProblem], device: Any = "cpu", numpy: bool = False
    ) -> ConvBatch:
        """Validated problems of one group (equal :func:`group_key`) stacked: torch tensors
        on ``device``, or numpy arrays (``numpy``; for few small problems, where numpy's
        calls cost less than torch's and sum as torch's own small kernels do: the same
        numbers to the last bit, see :func:`convolve`)."""
        first = problems[0]
        count = len(first.filters)
        bias = [p.bias if isinstance(p.bias, list) else [p.bias] * count for p in problems]
        return cls(
            geometry=Geometry.of(first),
            convolution=first.mode == "convolution",
            relu=first.activation == "relu",
            pool_kind=first.pool.kind if first.pool else None,
            image=_tensor([p.image for p in problems], device, numpy),
            filters=_tensor([p.filters for p in problems], device, numpy),
            bias=_tensor(bias, device, numpy),
        )

    @classmethod
    def of_arrays(
        cls,
        arrays: Mapping[str, np.ndarray],
        geometry: Geometry,
        pool_kind: str | None,
        device: Any = "cpu",
    ) -> ConvBatch:
        """A variant generator's arrays (``image``, ``filters``, ``bias`` with a leading B):
        cross-correlation, then ReLU, then ``pool_kind`` pooling (or none)."""
        image, filters, bias = (
            _tensor(arrays[name], device) for name in ("image", "filters", "bias")
        )
        return cls(geometry, False, True, pool_kind, image, filters, bias)


def _tensor(data: Any, device: Any, numpy: bool = False) -> Array:
    array = np.asarray(data, dtype=np.float64)
    return array if numpy else torch.as_tensor(array, device=device)


def _pad(image: Array, padding: Pair) -> Array:
    """Zero padding of (B, C, H, W) images: ``padding`` rows above and below, columns left
    and right."""
    pv, ph = padding
    if isinstance(image, np.ndarray):  # np.pad costs ten times this
        batch, channels, height, width = image.shape
        padded = np.zeros((batch, channels, height + 2 * pv, width + 2 * ph))
        padded[:, :, pv : pv + height, ph : ph + width] = image
        return padded
    return F.pad(image, (ph, ph, pv, pv))


def _flip(kernels: Array) -> Array:
    """Kernels (…, Fh, Fw) turned by 180°."""
    return kernels[..., ::-1, ::-1] if isinstance(kernels, np.ndarray) else kernels.flip(-2, -1)


def _slide(maps: Array, size: Pair, stride: Pair) -> Array:
    """Every window of (B, C, H, W) maps, a view (B, C, H', W', Fh, Fw) (the window fits)."""
    if isinstance(maps, np.ndarray):  # numpy's sliding_window_view, without its checks' cost
        maps = np.ascontiguousarray(maps)
        batch, channels, height, width = maps.shape
        b, c, r, k = maps.strides
        shape = (
            batch,
            channels,
            out_size(height, size[0], 0, stride[0]),
            out_size(width, size[1], 0, stride[1]),
            *size,
        )
        strides = (b, c, r * stride[0], k * stride[1], r, k)
        return np.ndarray(shape, maps.dtype, buffer=maps, strides=strides)
    return maps.unfold(2, size[0], stride[0]).unfold(3, size[1], stride[1])


def _in_order_sum(terms: Array, axis: int) -> Array:
    """The sum of ``terms`` along ``axis``, added one after the other to 0 as torch's small
    kernels add them (numpy's own sum adds in pairs): a cumulative sum's last, plus 0 (a sum
    started from 0 is never −0)."""
    return np.cumsum(terms, axis=axis).take(-1, axis=axis) + 0.0


def group_key(problem: ConvProblem) -> Hashable:
    """Problems with equal keys stack into one :class:`ConvBatch`."""
    image, filters = problem.image, problem.filters
    return (
        (len(image), len(image[0]), len(image[0][0])),
        (len(filters), len(filters[0]), len(filters[0][0]), len(filters[0][0][0])),
        Geometry.of(problem),
        problem.mode,
        problem.activation,
        problem.pool.kind if problem.pool else None,
    )


@dataclass(frozen=True)
class Maps:
    """Every stage of a batch: the zero-padded input (B, C, H+2P, W+2P), the kernels as
    applied (B, K, C, Fh, Fw), the conv maps (B, K, H', W'), the activation (``None``
    without ReLU) and the pooled maps (``None`` without pooling). Every map is ``None`` when
    the kernel (or the pooling window) does not fit, as a mistake's geometry may make it."""

    padded: Array
    kernels: Array
    conv: Array | None
    activation: Array | None
    pool: Array | None
    columns: Array | None = None
    """The padded input's windows as :func:`windows` gives them (``None``: they do not fit)."""

    @property
    def output(self) -> Array | None:
        """The last stage's maps."""
        for stage in (self.pool, self.activation):
            if stage is not None:
                return stage
        return self.conv


def windows(padded: Array, size: Pair, stride: Pair) -> Array | None:
    """Every window of the padded images as columns (B, C·Fh·Fw, H'·W') and its output's
    height and width; ``None`` when the kernel does not fit.

    The windows are a strided view, copied once into columns: the one copy of a
    convolution, which a mistake that keeps the geometry (flipped kernels, no bias) shares.
    """
    fh, fw = size
    if fh > padded.shape[2] or fw > padded.shape[3]:
        return None
    view = _slide(padded, size, stride)  # (B, C, H', W', Fh, Fw)
    height, width = view.shape[2], view.shape[3]
    order = (0, 1, 4, 5, 2, 3)
    view = view.transpose(order) if isinstance(view, np.ndarray) else view.permute(order)
    return view.reshape(padded.shape[0], -1, height, width)


def convolve(
    columns: Array | None,
    kernels: Array,
    bias: Array | None,
    rounder: Rounder | None = None,
) -> Array | None:
    """Each problem's kernels over its own windows (:func:`windows`: (B, C·Fh·Fw, H', W')),
    plus ``bias`` (B, K): (B, K, H', W'); ``None`` without windows (the kernel does not
    fit). ``rounder`` works it by hand: every product, the sum of the products and the sum
    with the bias are rounded.

    In torch the kernels multiply the columns in one batched product: the fewest torch calls
    for one problem, and as fast as ``einsum`` for a million. In numpy (one small problem)
    each window's products are added in order, as torch's own kernel does for a product of
    under 400 multiplications (where BLAS would add them in another order): the same sums to
    the last bit.
    """
    if columns is None:
        return None
    batch, count = kernels.shape[:2]
    height, width = columns.shape[2], columns.shape[3]
    columns = columns.reshape(batch, -1, height * width)
    weights = kernels.reshape(batch, count, -1)
    if isinstance(columns, np.ndarray) and rounder is None:
        out = _in_order_sum(weights[:, :, :, None] * columns[:, None], axis=2)
        if bias is not None:
            out = bias[:, :, None] + out
    elif rounder is not None:
        out = rounder(rounder(weights[:, :, :, None] * columns[:, None]).sum(2))
        if bias is not None:
            out = rounder(out + bias[:, :, None])
    elif bias is None:
        out = torch.bmm(weights, columns)
    else:
        out = torch.baddbmm(bias[:, :, None], weights, columns)
    return out.reshape(batch, count, height, width)


def relu(maps: Array) -> Array:
    """ReLU of maps: negative cells set to 0 (−0 and NaN kept, as ``torch.relu`` keeps them)."""
    return np.where(maps < 0, 0.0, maps) if isinstance(maps, np.ndarray) else torch.relu(maps)


def activate(batch: ConvBatch, maps: Array | None) -> Array | None:
    """The batch's activation of (B, K, H, W) maps: ReLU, or ``None`` without one."""
    return relu(maps) if batch.relu and maps is not None else None


def pool(
    batch: ConvBatch,
    maps: Array | None,
    kind: str | None = None,
    rounder: Rounder | None = None,
    size: Pair | None = None,
    stride: Pair | None = None,
) -> Array | None:
    """The batch's pooling of (B, K, H, W) maps (``kind``, ``size`` and ``stride`` instead
    of its own); ``None`` without pooling or when the window does not fit; an average
    through ``rounder``."""
    size, stride, kind = (
        size or batch.geometry.pool_size,
        stride or batch.geometry.pool_stride,
        kind or batch.pool_kind,
    )
    if maps is None or size is None or stride is None or kind is None:
        return None
    if size[0] > maps.shape[2] or size[1] > maps.shape[3]:
        return None
    if isinstance(maps, np.ndarray):  # each window's cells in order, as torch's kernels
        view = _slide(maps, size, stride)
        if kind == "max":
            return view.max(axis=(4, 5))
        pooled = _in_order_sum(view.reshape(*view.shape[:4], -1), axis=4) / (size[0] * size[1])
    elif kind == "max":
        return F.max_pool2d(maps, size, stride)
    else:
        pooled = F.avg_pool2d(maps, size, stride)
    return pooled if rounder is None else rounder(pooled)


def forward(
    batch: ConvBatch,
    *,
    flip_kernels: bool = False,
    stride: Pair | None = None,
    padding: Pair | None = None,
    bias: bool = True,
    negate: bool = False,
    relu: bool = True,
    pool_kind: str | None = None,
    pool_size: Pair | None = None,
    pool_stride: Pair | None = None,
    pool_before_relu: bool = False,
    given: Mapping[str, torch.Tensor] | Own | None = None,
    reuse: Maps | None = None,
    rounder: Rounder | None = None,
) -> Maps:
    """Conv → activation → pooling of a batch, each stage as :class:`Maps`.

    Every keyword changes one thing, as a named mistake does: ``flip_kernels`` slides the
    kernels flipped by 180° from the way the mode slides them (flipped for
    cross-correlation, as given for convolution), ``stride`` and ``padding`` instead of the
    batch's, ``bias=False`` leaves the bias out, ``negate`` writes every conv cell with the
    opposite sign (one cell's sign lost is this in that cell), ``relu=False`` skips the
    ReLU (the activation is the conv map), ``pool_kind``, ``pool_size`` and ``pool_stride``
    instead of the batch's, ``pool_before_relu`` pools the conv maps and applies ReLU to
    the pooled ones.

    ``given``: the student's own maps (``conv``, ``activation``; NaN rows where not given):
    each stage is then computed from the student's own previous stage where they gave it
    (error carried forward, and a mistake looked for where it happens); or them prepared
    once (:class:`Own`) for several passes. ``reuse``: an
    earlier result of the same batch, whose stages before the first change are taken as
    they are (then unchanged stages are the very same tensors). ``rounder``: worked by
    hand, every product, sum and average rounded (see :func:`convolve`).
    """
    geometry = batch.geometry
    conv_changed = flip_kernels or stride is not None or padding is not None or not bias
    conv_changed = conv_changed or negate
    if reuse is not None and not conv_changed:
        padded, kernels, columns, conv = reuse.padded, reuse.kernels, reuse.columns, reuse.conv
    else:
        kernels = batch.filters
        if batch.convolution != flip_kernels:
            kernels = _flip(kernels)
        if reuse is not None and stride is None and padding is None:  # the same windows
            padded, columns = reuse.padded, reuse.columns
        else:
            pv, ph = padding or geometry.padding
            padded = _pad(batch.image, (pv, ph)) if pv or ph else batch.image
            columns = windows(padded, kernels.shape[-2:], stride or geometry.stride)
        conv = convolve(columns, kernels, batch.bias if bias else None, rounder)
        if negate and conv is not None:
            conv = -conv
    own = given if isinstance(given, Own) else Own.of(given)
    own_conv = _own(own, "conv", conv)
    if reuse is not None and relu and own_conv is reuse.conv:
        activation = reuse.activation
    else:
        activation = activate(batch, own_conv) if relu else own_conv if batch.relu else None
    before = own_conv if activation is None else _own(own, "activation", activation)
    if pool_before_relu:
        pooled = activate(batch, pool(batch, own_conv, pool_kind, rounder))
    else:
        pooled = pool(batch, before, pool_kind, rounder, pool_size, pool_stride)
    return Maps(padded, kernels, conv, activation, pooled, columns)


@dataclass(frozen=True)
class OwnStage:
    """A stage the student gave in some row: the maps (NaN rows where not given), the
    rows (B, 1, 1, 1) that gave it, and whether every row did."""

    maps: torch.Tensor
    rows: torch.Tensor
    every: bool


@dataclass(frozen=True)
class Own:
    """The student's own maps as :func:`forward` takes them, prepared once for every pass
    over them (:meth:`of`)."""

    stages: dict[str, OwnStage]

    @staticmethod
    def of(given: Mapping[str, torch.Tensor] | None) -> Own:
        """From the maps by name (``conv``, ``activation``; NaN rows where not given): a
        stage that no row gave is left out."""
        stages = {}
        for stage, mine in (given or {}).items():
            missing = torch.isnan(mine)
            if stage not in ("conv", "activation") or bool(missing.all()):
                continue
            rows = ~missing.flatten(1).all(1)
            stages[stage] = OwnStage(mine, rows[:, None, None, None], bool(rows.all()))
        return Own(stages)


def _own(own: Own, stage: str, computed: torch.Tensor | None) -> torch.Tensor | None:
    """A stage as the student gave it, row by row where they did (all of it given), else
    as ``computed``; a given stage of another shape is taken when every row gave it."""
    mine = own.stages.get(stage)
    if mine is None:
        return computed
    if computed is None or mine.maps.shape != computed.shape:
        return mine.maps if mine.every else computed
    return torch.where(mine.rows, mine.maps, computed)


def solve_batch(problems: Sequence[ConvProblem], device: Any) -> list[ConvAnswer]:
    """Answers (no steps) for many validated problems, in order, computed on ``device``.

    Problems with the same shapes and hyperparameters (:func:`group_key`) are stacked and
    computed with one :func:`forward`; the answers are :func:`solvers.tasks.conv.solve`'s.
    """
    groups: dict[Hashable, list[int]] = {}
    for index, problem in enumerate(problems):
        groups.setdefault(group_key(problem), []).append(index)
    answers: list[ConvAnswer | None] = [None] * len(problems)
    for indices in groups.values():
        group = [problems[i] for i in indices]
        maps = forward(ConvBatch.of(group, device))
        stages = [
            None if m is None else m.cpu().tolist() for m in (maps.conv, maps.activation, maps.pool)
        ]
        shapes = stage_shapes(group[0])
        for row, index in enumerate(indices):
            conv, activation, pooled = (None if s is None else s[row] for s in stages)
            # Trusted data (floats from tolist): skip re-validating thousands of floats.
            answers[index] = ConvAnswer.model_construct(
                conv=conv,
                activation=activation,
                pool=pooled,
                output=pooled or activation or conv,
                shapes=shapes,
            )
    return [a for a in answers if a is not None]
