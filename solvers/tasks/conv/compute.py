"""Many conv problems at once: torch float64 on a given device, one batched product per group."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from solvers.tasks.conv.problem import ConvAnswer, ConvProblem, Geometry, stage_shapes


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


def forward_tensors(
    images: Any,
    kernels: Any,
    bias: Any,
    geometry: Geometry,
    relu: bool = True,
    pool_kind: str | None = "max",
) -> tuple[Any, Any, Any]:
    """Conv → activation → pooling of B problems from tensors, without pydantic objects.

    ``images`` (B, C, H, W), ``kernels`` (B, K, C, Fh, Fw) as applied (already flipped for
    convolution), ``bias`` (B, K), all float64 on one device. Each problem's own kernels
    meet its own image: im2col (``unfold``) and one batched matrix product, which on small
    quiz images is several times faster than a grouped ``conv2d``. Returns the conv maps
    (B, K, H', W'), the activation (or ``None``) and the pooled maps (or ``None``).
    """
    import torch
    import torch.nn.functional as F

    batch, count = kernels.shape[:2]
    (fh, fw), (sv, sh), (pv, ph) = kernels.shape[-2:], geometry.stride, geometry.padding
    out_h = (images.shape[2] + 2 * pv - fh) // sv + 1
    out_w = (images.shape[3] + 2 * ph - fw) // sh + 1
    columns = F.unfold(images, (fh, fw), padding=(pv, ph), stride=(sv, sh))
    conv = torch.bmm(kernels.reshape(batch, count, -1), columns) + bias[:, :, None]
    conv = conv.reshape(batch, count, out_h, out_w)
    activation = F.relu(conv) if relu else None
    pool = None
    if pool_kind and geometry.pool_size and geometry.pool_stride:
        source = conv if activation is None else activation
        pooling = F.max_pool2d if pool_kind == "max" else F.avg_pool2d
        pool = pooling(source, geometry.pool_size, geometry.pool_stride)
    return conv, activation, pool


def _solve_group(problems: list[ConvProblem], device: Any) -> list[ConvAnswer]:
    """Stack a group and compute it with :func:`forward_tensors`."""
    import torch

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
    conv, activation, pool = forward_tensors(
        images.to(device),
        kernels.to(device),
        bias.to(device),
        geometry,
        relu=first.activation == "relu",
        pool_kind=first.pool.kind if first.pool else None,
    )
    batch = len(problems)
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
    batched im2col product (:func:`forward_tensors`), then ``relu`` and
    ``max_pool2d``/``avg_pool2d``, in float64. The answers equal :func:`solvers.tasks.conv.solve`'s
    up to float rounding (exactly for integer inputs).
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
