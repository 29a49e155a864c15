"""Conv variants: an integer image, kernels and biases; conv → ReLU → pooling."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict, Field, model_validator

from solvers.core import N_
from solvers.tasks.conv.compute import ConvBatch, forward
from solvers.tasks.conv.problem import ConvProblem, Geometry, PoolSpec, out_size
from solvers.variants.base import Arrays, Generator
from solvers.variants.rng import CounterRng
from solvers.variants.specs import check_range, spec_error

_IMAGE, _KERNELS, _BIAS = 1, 2, 3


MAX_CONV_SIZE = 12
"""Largest image side of a conv variant."""
MAX_CONV_CHANNELS = 3
"""Most image channels (and most filters) of a conv variant."""
MAX_CONV_VALUE = 9
"""Largest magnitude of an image, kernel or bias bound."""


class ConvSpec(BaseModel):
    """Conv variants: conv (integer image, kernels, bias) → ReLU → pooling."""

    model_config = ConfigDict(extra="forbid")
    choice_labels: ClassVar[dict[str, str]] = {
        "max": N_("max"),
        "avg": N_("average"),
        "none": N_("none"),
    }
    """What the instructor's form shows for each choice of a field."""

    size: int = Field(
        title=N_("image side"),
        default=5,
        ge=2,
        le=MAX_CONV_SIZE,
        description="Image side (square).",
    )
    channels: int = Field(
        title=N_("channels"), default=1, ge=1, le=MAX_CONV_CHANNELS, description="Image channels."
    )
    filters: int = Field(
        title=N_("filters"), default=1, ge=1, le=MAX_CONV_CHANNELS, description="Filters (K)."
    )
    kernel: int = Field(
        title=N_("kernel side"), default=3, ge=1, le=7, description="Kernel side (square)."
    )
    stride: int = Field(
        title=N_("stride"), default=2, ge=1, le=4, description="Convolution stride."
    )
    padding: int = Field(
        title=N_("padding"), default=0, ge=0, le=2, description="Zero padding on each side."
    )
    pool_kind: Literal["max", "avg", "none"] = Field(
        title=N_("pooling"),
        default="max",
        description="Pooling after ReLU: 'max', 'avg' or 'none'.",
    )
    pool_size: int = Field(
        title=N_("pooling window"),
        default=2,
        ge=1,
        le=4,
        description="Pooling window side; its stride is the same.",
    )
    image_low: int = Field(
        title=N_("lowest pixel"),
        default=0,
        ge=-MAX_CONV_VALUE,
        le=MAX_CONV_VALUE,
        description="Lowest image value.",
    )
    image_high: int = Field(
        title=N_("highest pixel"),
        default=5,
        ge=-MAX_CONV_VALUE,
        le=MAX_CONV_VALUE,
        description="Highest image value.",
    )
    kernel_low: int = Field(
        title=N_("lowest weight"),
        default=-1,
        ge=-MAX_CONV_VALUE,
        le=MAX_CONV_VALUE,
        description="Lowest kernel weight.",
    )
    kernel_high: int = Field(
        title=N_("highest weight"),
        default=1,
        ge=-MAX_CONV_VALUE,
        le=MAX_CONV_VALUE,
        description="Highest kernel weight.",
    )
    bias_low: int = Field(
        title=N_("lowest bias"),
        default=0,
        ge=-MAX_CONV_VALUE,
        le=MAX_CONV_VALUE,
        description="Lowest bias.",
    )
    bias_high: int = Field(
        title=N_("highest bias"),
        default=0,
        ge=-MAX_CONV_VALUE,
        le=MAX_CONV_VALUE,
        description="Highest bias.",
    )
    allow_uneven: bool = Field(
        title=N_("allow sizes that do not divide evenly"),
        default=False,
        description="Allow sizes where (N − F + 2P)/S + 1 or the pooling does not divide "
        "evenly (the last rows and columns are then dropped, as frameworks do).",
    )

    @property
    def conv_side(self) -> int:
        """Side of the conv output map."""
        return out_size(self.size, self.kernel, self.padding, self.stride)

    @model_validator(mode="after")
    def _valid_geometry(self) -> ConvSpec:
        for what in ("image", "kernel", "bias"):
            check_range(getattr(self, f"{what}_low"), getattr(self, f"{what}_high"), what)
        padded = self.size + 2 * self.padding
        if self.kernel > padded:
            raise spec_error(
                N_("the {kernel}×{kernel} kernel is larger than the padded {side}×{side} image"),
                kernel=self.kernel,
                side=padded,
            )
        uneven = (padded - self.kernel) % self.stride
        if uneven and not self.allow_uneven:
            raise spec_error(
                N_(
                    "(N − F + 2P)/S + 1 = ({size} − {kernel} + 2·{padding})/{stride} + 1 is not "
                    "whole; change the sizes or allow uneven sizes"
                ),
                size=self.size,
                kernel=self.kernel,
                padding=self.padding,
                stride=self.stride,
            )
        if self.pool_kind != "none":
            if self.pool_size > self.conv_side:
                raise spec_error(
                    N_("the {pool}×{pool} pooling window is larger than the {side}×{side} map"),
                    pool=self.pool_size,
                    side=self.conv_side,
                )
            if self.conv_side % self.pool_size and not self.allow_uneven:
                raise spec_error(
                    N_(
                        "the {side}×{side} map does not split into {pool}×{pool} pooling "
                        "windows; change the sizes or allow uneven sizes"
                    ),
                    side=self.conv_side,
                    pool=self.pool_size,
                )
        if self.conv_side * self.conv_side * self.filters < 2:
            raise spec_error(
                N_("the conv output has a single cell: ReLU cannot zero some cells but not all")
            )
        return self


def geometry(spec: ConvSpec) -> Geometry:
    """The spec's stride, padding and pooling (stride = size) as the solver's geometry."""
    pool = None if spec.pool_kind == "none" else (spec.pool_size, spec.pool_size)
    return Geometry((spec.stride, spec.stride), (spec.padding, spec.padding), pool, pool)


def batch(arrays: Arrays, spec: ConvSpec, device: Any) -> ConvBatch:
    """The arrays as the one implementation's batch (float64 on ``device``)."""
    pool_kind = None if spec.pool_kind == "none" else spec.pool_kind
    return ConvBatch.of_arrays(arrays, geometry(spec), pool_kind, device)


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
        maps = forward(batch(arrays, spec, "cpu"))
        assert maps.conv is not None and maps.activation is not None  # the spec is valid
        flat = maps.conv.flatten(1)
        nothing_zeroed = ~(flat < 0).any(1)
        everything_zeroed = ~(flat > 0).any(1)
        tie = torch.zeros_like(nothing_zeroed)
        if spec.pool_kind == "max" and maps.pool is not None:
            size = spec.pool_size
            windows = maps.activation.unfold(2, size, size).unfold(3, size, size)
            tie = ((windows == maps.pool[..., None, None]).sum((-2, -1)) > 1).flatten(1).any(1)
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
        maps = forward(batch(arrays, spec, device))
        result = {"conv": maps.conv, "activation": maps.activation}
        if maps.pool is not None:
            result["pool"] = maps.pool
        return result
