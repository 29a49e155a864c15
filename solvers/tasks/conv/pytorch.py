"""The conv task in PyTorch: ``F.conv2d``, ``F.relu``, ``F.max_pool2d`` / ``F.avg_pool2d``."""

from __future__ import annotations

from solvers.core import N_
from solvers.pytorch_view import Line, Note, Output, TorchForm, literal, tensor
from solvers.tasks.conv.problem import ConvProblem, Geometry


def _pair(values: tuple[int, int]) -> str:
    return f"({int(values[0])}, {int(values[1])})"


def torch_form(problem: ConvProblem) -> TorchForm:
    """The conv, activation and pooling maps as torch computes them (a batch of one image)."""
    geometry = Geometry.of(problem)
    count = len(problem.filters)
    bias = problem.bias if isinstance(problem.bias, list) else [problem.bias] * count
    conv_note = Note(
        N_(
            "conv2d computes cross-correlation: the kernel slides as given, not flipped "
            "(as the lecture's conv layer)."
        )
    )
    lines = [
        Line(tensor(literal(problem.image)), "x"),
        Line(tensor(literal(problem.filters)), "w"),
        Line(tensor(literal(bias)), "b"),
    ]
    if problem.mode == "convolution":
        lines.append(
            Line(
                "torch.flip(w, dims=(2, 3))",
                "w",
                Note(
                    N_(
                        "A true convolution flips the kernel by 180°; conv2d does not, so "
                        "flip it first."
                    )
                ),
            )
        )
        conv_note = None
    lines.append(
        Line(
            f"F.conv2d(x[None], w, b, stride={_pair(geometry.stride)}, "
            f"padding={_pair(geometry.padding)})[0]",
            "conv",
            conv_note,
        )
    )
    outputs = [Output("conv", "conv.tolist()", "conv")]
    last = "conv"
    if problem.activation == "relu":
        lines.append(Line("F.relu(conv)", "act"))
        outputs.append(Output("activation", "act.tolist()", "activation"))
        last = "act"
    if problem.pool is not None and geometry.pool_size and geometry.pool_stride:
        function = "F.max_pool2d" if problem.pool.kind == "max" else "F.avg_pool2d"
        lines.append(
            Line(
                f"{function}({last}[None], kernel_size={_pair(geometry.pool_size)}, "
                f"stride={_pair(geometry.pool_stride)})[0]",
                "pool",
            )
        )
        outputs.append(Output("pool", "pool.tolist()", "pool"))
        last = "pool"
    outputs.append(Output("output", f"{last}.tolist()", "output"))
    return TorchForm(tuple(lines), tuple(outputs), functional=True)
