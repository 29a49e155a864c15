"""Many conv problems at once: torch float64 on a given device, one conv2d call per group."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from solvers.conv.problem import ConvAnswer, ConvProblem, Geometry, stage_shapes


def _group_key(problem: ConvProblem) -> tuple[Any, ...]:
    """Problems with equal keys stack into one batch (the mode is applied per problem)."""
    image, filters = problem.image, problem.filters
    return (
        (len(image), len(image[0]), len(image[0][0])),
        (len(filters), len(filters[0][0]), len(filters[0][0][0])),
        Geometry.of(problem),
        problem.activation,
        problem.pool.kind if problem.pool else None,
    )


def _solve_group(problems: list[ConvProblem], device: Any) -> list[ConvAnswer]:
    """Stack a group, apply each problem's own filters to its own image (grouped conv)."""
    import torch
    import torch.nn.functional as F

    first = problems[0]
    geometry = Geometry.of(first)
    images = torch.from_numpy(np.asarray([p.image for p in problems], dtype=np.float64))
    kernels = torch.from_numpy(np.asarray([p.filters for p in problems], dtype=np.float64))
    flip = torch.tensor([p.mode == "convolution" for p in problems]).view(-1, 1, 1, 1, 1)
    kernels = torch.where(flip, kernels.flip(-2, -1), kernels)
    count = kernels.shape[1]
    bias = torch.from_numpy(
        np.asarray([np.broadcast_to(np.asarray(p.bias), (count,)) for p in problems], np.float64)
    )
    batch, channels, height, width = images.shape
    conv = F.conv2d(
        images.to(device).reshape(1, batch * channels, height, width),
        kernels.to(device).reshape(batch * count, channels, *kernels.shape[-2:]),
        bias.to(device).reshape(batch * count),
        stride=geometry.stride,
        padding=geometry.padding,
        groups=batch,
    )
    conv = conv.reshape(batch, count, *conv.shape[-2:])
    activation = F.relu(conv) if first.activation == "relu" else None
    pool = None
    if first.pool and geometry.pool_size and geometry.pool_stride:
        source = conv if activation is None else activation
        pooling = F.max_pool2d if first.pool.kind == "max" else F.avg_pool2d
        pool = pooling(source, geometry.pool_size, geometry.pool_stride)
    conv_list = conv.cpu().numpy().tolist()
    activation_list = activation.cpu().numpy().tolist() if activation is not None else None
    pool_list = pool.cpu().numpy().tolist() if pool is not None else None
    shapes = stage_shapes(first)
    answers = []
    for b in range(batch):
        act = activation_list[b] if activation_list is not None else None
        pooled = pool_list[b] if pool_list is not None else None
        answers.append(
            # Trusted data (floats from tolist): skip re-validating thousands of floats.
            ConvAnswer.model_construct(
                conv=conv_list[b],
                activation=act,
                pool=pooled,
                output=pooled or act or conv_list[b],
                shapes=shapes,
            )
        )
    return answers


def solve_batch(problems: Sequence[ConvProblem], device: Any) -> list[ConvAnswer]:
    """Answers (no steps) for many validated problems, in order, computed on ``device``.

    Problems with the same shapes and hyperparameters are stacked and computed with one
    grouped ``conv2d`` (groups = batch size), then ``relu`` and ``max_pool2d``/``avg_pool2d``,
    in float64. The answers equal :func:`solvers.conv.solve`'s up to float rounding (exactly
    for integer inputs).
    """
    groups: dict[tuple[Any, ...], list[int]] = {}
    for index, problem in enumerate(problems):
        groups.setdefault(_group_key(problem), []).append(index)
    answers: list[ConvAnswer | None] = [None] * len(problems)
    for indices in groups.values():
        group = [problems[i] for i in indices]
        for index, answer in zip(indices, _solve_group(group, device), strict=True):
            answers[index] = answer
    return [a for a in answers if a is not None]
