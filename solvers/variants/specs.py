"""What an instructor asks for: the size and difficulty of each task's variants.

The defaults are the quiz the seed describes: a 3×3 score matrix (SVM or Softmax), the
lecture's sigmoid neuron, and a 5×5 image with one 3×3 filter, stride 2, ReLU, 2×2 max-pool.
"""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from solvers.core import N_

MAX_EXAMPLES = 10
"""Most examples (and most classes) of a loss variant."""
MAX_LOSS_VALUE = 20
"""Largest magnitude of a score bound."""
MAX_GRAPH_VALUE = 10
"""Largest magnitude of a graph input bound."""
MAX_CONV_SIZE = 12
"""Largest image side of a conv variant."""
MAX_CONV_CHANNELS = 3
"""Most image channels (and most filters) of a conv variant."""
MAX_CONV_VALUE = 9
"""Largest magnitude of an image, kernel or bias bound."""

GraphFamily = Literal["sigmoid_neuron", "sum_times", "max_gate", "tanh_neuron", "reused_variable"]


def spec_error(template: str, **context: Any) -> PydanticCustomError:
    """A spec that cannot be met (type ``"variant_spec"``)."""
    return PydanticCustomError("variant_spec", template, context)


def _check_range(low: float, high: float, what: str) -> None:
    if low > high:
        raise spec_error(
            N_("the {what} range is empty: the lowest value {low} is above the highest {high}"),
            what=what,
            low=low,
            high=high,
        )


class LossSpec(BaseModel):
    """Loss variants: an examples × classes score matrix (classes in rows, as the lecture)."""

    model_config = ConfigDict(extra="forbid")

    examples: int = Field(default=3, ge=1, le=MAX_EXAMPLES, description="Examples (columns).")
    classes: int = Field(default=3, ge=2, le=MAX_EXAMPLES, description="Classes (rows).")
    loss: Literal["svm", "softmax", "either"] = Field(
        default="either",
        description="'svm', 'softmax', or 'either': each variant picks one at random.",
    )
    low: float = Field(
        default=-5, ge=-MAX_LOSS_VALUE, le=MAX_LOSS_VALUE, description="Lowest score."
    )
    high: float = Field(
        default=5, ge=-MAX_LOSS_VALUE, le=MAX_LOSS_VALUE, description="Highest score."
    )
    decimals: Literal[0, 1] = Field(
        default=1, description="Digits after the point of every score: 0 (integers) or 1."
    )
    softmax_spread: float = Field(
        default=4,
        ge=1,
        le=2 * MAX_LOSS_VALUE,
        description="Softmax: the largest difference between two scores of one example "
        "(keeps every probability readable at 2 decimals).",
    )

    @property
    def scale(self) -> int:
        """10 to the power ``decimals``: scores are drawn as integers and divided by it."""
        return 10**self.decimals

    @property
    def int_range(self) -> tuple[int, int]:
        """The score range in units of 10^−decimals."""
        return math.ceil(self.low * self.scale - 1e-9), math.floor(self.high * self.scale + 1e-9)

    @model_validator(mode="after")
    def _valid_range(self) -> LossSpec:
        _check_range(self.low, self.high, "score")
        low, high = self.int_range
        if low > high:
            raise spec_error(
                N_("no score with {decimals} decimal(s) lies between {low} and {high}"),
                decimals=self.decimals,
                low=self.low,
                high=self.high,
            )
        return self


class GraphSpec(BaseModel):
    """Graph variants: an expression family and the integer range of its inputs."""

    model_config = ConfigDict(extra="forbid")

    family: GraphFamily | Literal["any"] = Field(
        default="sigmoid_neuron",
        description="sigmoid_neuron: 1/(1+exp(-(w0*x0+w1*x1+w2))) (the lecture's); "
        "sum_times: (x+y)*z; max_gate: 2*(x*y+max(z,w)); tanh_neuron: tanh(w0*x0+w1*x1+w2); "
        "reused_variable: (x+y)*(x+z); any: a family at random per variant.",
    )
    low: int = Field(
        default=-3, ge=-MAX_GRAPH_VALUE, le=MAX_GRAPH_VALUE, description="Lowest input value."
    )
    high: int = Field(
        default=3, ge=-MAX_GRAPH_VALUE, le=MAX_GRAPH_VALUE, description="Highest input value."
    )

    @model_validator(mode="after")
    def _valid_range(self) -> GraphSpec:
        _check_range(self.low, self.high, "input")
        return self


class ConvSpec(BaseModel):
    """Conv variants: conv (integer image, kernels, bias) → ReLU → pooling."""

    model_config = ConfigDict(extra="forbid")

    size: int = Field(default=5, ge=2, le=MAX_CONV_SIZE, description="Image side (square).")
    channels: int = Field(default=1, ge=1, le=MAX_CONV_CHANNELS, description="Image channels.")
    filters: int = Field(default=1, ge=1, le=MAX_CONV_CHANNELS, description="Filters (K).")
    kernel: int = Field(default=3, ge=1, le=7, description="Kernel side (square).")
    stride: int = Field(default=2, ge=1, le=4, description="Convolution stride.")
    padding: int = Field(default=0, ge=0, le=2, description="Zero padding on each side.")
    pool_kind: Literal["max", "avg", "none"] = Field(
        default="max", description="Pooling after ReLU: 'max', 'avg' or 'none'."
    )
    pool_size: int = Field(
        default=2, ge=1, le=4, description="Pooling window side; its stride is the same."
    )
    image_low: int = Field(
        default=0, ge=-MAX_CONV_VALUE, le=MAX_CONV_VALUE, description="Lowest image value."
    )
    image_high: int = Field(
        default=5, ge=-MAX_CONV_VALUE, le=MAX_CONV_VALUE, description="Highest image value."
    )
    kernel_low: int = Field(
        default=-1, ge=-MAX_CONV_VALUE, le=MAX_CONV_VALUE, description="Lowest kernel weight."
    )
    kernel_high: int = Field(
        default=1, ge=-MAX_CONV_VALUE, le=MAX_CONV_VALUE, description="Highest kernel weight."
    )
    bias_low: int = Field(
        default=0, ge=-MAX_CONV_VALUE, le=MAX_CONV_VALUE, description="Lowest bias."
    )
    bias_high: int = Field(
        default=0, ge=-MAX_CONV_VALUE, le=MAX_CONV_VALUE, description="Highest bias."
    )
    allow_uneven: bool = Field(
        default=False,
        description="Allow sizes where (N − F + 2P)/S + 1 or the pooling does not divide "
        "evenly (the last rows and columns are then dropped, as frameworks do).",
    )

    @property
    def conv_side(self) -> int:
        """Side of the conv output map."""
        return (self.size + 2 * self.padding - self.kernel) // self.stride + 1

    @property
    def pool_side(self) -> int | None:
        """Side of the pooled map, ``None`` without pooling."""
        return None if self.pool_kind == "none" else self.conv_side // self.pool_size

    @model_validator(mode="after")
    def _valid_geometry(self) -> ConvSpec:
        for what in ("image", "kernel", "bias"):
            _check_range(getattr(self, f"{what}_low"), getattr(self, f"{what}_high"), what)
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


class QuizSpec(BaseModel):
    """The whole quiz: one spec per task (the defaults are the seed's quiz)."""

    model_config = ConfigDict(extra="forbid")

    loss: LossSpec = Field(default_factory=LossSpec, description="The loss problem.")
    graph: GraphSpec = Field(default_factory=GraphSpec, description="The graph problem.")
    conv: ConvSpec = Field(default_factory=ConvSpec, description="The conv problem.")


TaskSpec = LossSpec | GraphSpec | ConvSpec
