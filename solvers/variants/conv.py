"""Conv variants: an integer image, kernels and biases; conv → ReLU → pooling."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from solvers.conv.batch import forward_tensors
from solvers.conv.problem import ConvProblem, Geometry, PoolSpec
from solvers.core import N_
from solvers.variants.base import Arrays, Generator
from solvers.variants.rng import CounterRng
from solvers.variants.specs import ConvSpec

_IMAGE, _KERNELS, _BIAS = 1, 2, 3


def geometry(spec: ConvSpec) -> Geometry:
    """The spec's stride, padding and pooling (stride = size) as the solver's geometry."""
    pool = None if spec.pool_kind == "none" else (spec.pool_size, spec.pool_size)
    return Geometry((spec.stride, spec.stride), (spec.padding, spec.padding), pool, pool)


def forward(arrays: Arrays, spec: ConvSpec, device: Any) -> tuple[Any, Any, Any]:
    """Conv, ReLU and pooled maps of the arrays (float64 on ``device``)."""
    import torch

    def tensor(name: str) -> Any:
        return torch.from_numpy(arrays[name]).to(device, torch.float64)

    return forward_tensors(
        tensor("image"),
        tensor("filters"),
        tensor("bias"),
        geometry(spec),
        relu=True,
        pool_kind=None if spec.pool_kind == "none" else spec.pool_kind,
    )


def pool_windows(maps: Any, size: int) -> Any:
    """The non-overlapping size×size windows of (B, K, H, W) maps: (B, K, H/size, W/size,
    size²), the last rows and columns dropped when the size does not divide."""
    batch, count, height, width = maps.shape
    rows, cols = height // size, width // size
    cells = maps[:, :, : rows * size, : cols * size].reshape(batch, count, rows, size, cols, size)
    return cells.transpose(3, 4).reshape(batch, count, rows, cols, size * size)


class ConvGenerator(Generator):
    """Draws images and kernels; rules: ReLU zeroes some but not all cells, no max-pool tie."""

    task = "conv"
    rules: ClassVar[tuple[str, ...]] = (
        N_("no conv cell is negative, so ReLU zeroes nothing"),
        N_("no conv cell is positive, so ReLU zeroes everything"),
        N_("a max-pool window has a tie for its maximum"),
    )

    def draw(self, rng: CounterRng, spec: ConvSpec) -> Arrays:
        """Image (B, C, S, S), filters (B, K, C, F, F), bias (B, K)."""
        c, k, f, s = spec.channels, spec.filters, spec.kernel, spec.size
        return {
            "image": rng.integers(_IMAGE, spec.image_low, spec.image_high, (c, s, s)),
            "filters": rng.integers(_KERNELS, spec.kernel_low, spec.kernel_high, (k, c, f, f)),
            "bias": rng.integers(_BIAS, spec.bias_low, spec.bias_high, (k,)),
        }

    def violations(self, arrays: Arrays, spec: ConvSpec) -> np.ndarray:
        """Forward pass in float64 torch on the CPU (exact for these integers)."""
        import torch

        conv, activation, _ = forward(arrays, spec, "cpu")
        flat = conv.flatten(1)
        nothing_zeroed = ~(flat < 0).any(1)
        everything_zeroed = ~(flat > 0).any(1)
        tie = torch.zeros_like(nothing_zeroed)
        if spec.pool_kind == "max":
            windows = pool_windows(activation, spec.pool_size)
            top = windows.max(-1, keepdim=True).values
            tie = ((windows == top).sum(-1) > 1).flatten(1).any(1)
        return np.stack([nothing_zeroed.numpy(), everything_zeroed.numpy(), tie.numpy()], axis=1)

    def problems(self, arrays: Arrays, spec: ConvSpec) -> list[ConvProblem]:
        """Problems as the quiz writes them: cross-correlation, ReLU, the spec's pooling."""
        pool = (
            None if spec.pool_kind == "none" else PoolSpec(kind=spec.pool_kind, size=spec.pool_size)
        )
        result = []
        for image, filters, bias in zip(
            arrays["image"].tolist(),
            arrays["filters"].tolist(),
            arrays["bias"].tolist(),
            strict=True,
        ):
            result.append(
                ConvProblem(
                    image=image,
                    filters=filters,
                    bias=bias[0] if len(bias) == 1 else bias,
                    stride=spec.stride,
                    padding=spec.padding,
                    activation="relu",
                    pool=pool,
                )
            )
        return result

    def solve_tensors(self, arrays: Arrays, spec: ConvSpec, device: Any) -> dict[str, Any]:
        """``conv``, ``activation`` (B, K, H', W') and ``pool`` (B, K, P, P) when pooling."""
        conv, activation, pool = forward(arrays, spec, device)
        result = {"conv": conv, "activation": activation}
        if pool is not None:
            result["pool"] = pool
        return result
