"""Every answer as PyTorch: the few lines of torch that compute a task's answer, as code text.

A task describes its problem in PyTorch as a :class:`TorchForm` (its ``torch_form`` hook on
the :class:`solvers.core.Task` record): the tensors with their numbers, the lines that
compute the answer (from the task's fixed templates), and what the script prints. This
engine, which names no task, checks the form and writes the script.

Nothing a user typed becomes code: tensor and line names must be ASCII identifiers (not
keywords, not the script's own names), numbers are written with :func:`literal` (``repr`` of
finite floats), printed labels as escaped string literals.

The script picks its device (CUDA when there is one, else the CPU) and prints it first; its
tensors are float64 on that device by an explicit ``**f64`` (no global default is changed).
:func:`run` executes exactly that code in a fresh namespace whose ``print`` writes to the
run's own buffer, and reads the answer back from what it printed.
"""

from __future__ import annotations

import ast
import io
import keyword
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, Field

RESERVED = frozenset({"torch", "F", "math", "print", "device", "f64"})
"""Names the script itself uses (the imports); a task renames a variable that clashes."""
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_LABEL = re.compile(r"[^\n\r:]{1,60}")


def safe_name(name: str) -> bool:
    """True when ``name`` may name a tensor in the script: an ASCII identifier that is no
    keyword and none of :data:`RESERVED`."""
    return (
        bool(_IDENTIFIER.fullmatch(name)) and not keyword.iskeyword(name) and (name not in RESERVED)
    )


def identifier(name: str) -> str:
    """``name`` itself if :func:`safe_name`; a ``ValueError`` otherwise."""
    if not safe_name(name):
        raise ValueError(f"not a safe identifier for generated code: {name!r}")
    return name


def literal(value: Any) -> str:
    """Python text of a number or nested lists of numbers: ``repr`` of each finite float."""
    if isinstance(value, list | tuple):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"not a number: {type(value).__name__}")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError("not a finite number")
    return repr(number)


def integers(values: Sequence[int]) -> str:
    """Python text of a list of whole numbers (class labels)."""
    return "[" + ", ".join(str(int(v)) for v in values) + "]"


def tensor(text: str, *, grad: bool = False) -> str:
    """A float64 tensor on the script's device from the Python text of its numbers
    (:func:`literal`), a leaf of autograd when ``grad``."""
    return f"torch.tensor({text}, **f64{', requires_grad=True' if grad else ''})"


def labels(text: str) -> str:
    """A tensor of class labels (:func:`integers`, or one whole number) on the device."""
    return f"torch.tensor({text}, device=device)"


@dataclass(frozen=True)
class Note:
    """A remark beside a line where torch's convention differs from the lecture's: an
    English message id with ``{placeholders}`` filled from ``params`` (the app translates)."""

    message: str
    params: dict[str, str | int | float] = field(default_factory=dict)


@dataclass(frozen=True)
class Line:
    """One line of the script: ``target = code`` (or the bare ``code`` without a target).

    ``code`` is built by the task from its fixed templates, :func:`identifier` names and
    :func:`literal` numbers only.
    """

    code: str
    target: str = ""
    note: Note | None = None


@dataclass(frozen=True)
class Output:
    """One printed result: ``print(label + ":", expression)``; ``answer`` is the path of
    the same number(s) in the solver's answer (``loss``, ``gradients.w0``, ``conv``)."""

    label: str
    expression: str
    answer: str


@dataclass(frozen=True)
class TorchForm:
    """A problem as PyTorch: imports, lines, printed outputs."""

    lines: tuple[Line, ...]
    outputs: tuple[Output, ...]
    functional: bool = False
    """The script imports ``torch.nn.functional as F``."""
    uses_math: bool = False
    """The script imports ``math``."""


class TorchNote(BaseModel):
    """A numbered remark about a line of the code (its number is written as ``# (n)``)."""

    ref: int = Field(description="The number the code's comment gives the line.")
    text: str = Field(description="Message id, or its translation with the params filled.")
    params: dict[str, str | int | float] = Field(default_factory=dict)


class TorchPrint(BaseModel):
    """What one printed line of the script is: its label and the answer field it matches."""

    label: str
    answer: str = Field(description="Dotted path of the same number(s) in the answer.")


class TorchRun(BaseModel):
    """What the script printed when it ran, and the answer read from it."""

    device: str = Field(description="The device the script ran on: `cpu` or `cuda`.")
    stdout: str = Field(description="Everything the script printed (the device line first).")
    answer: dict[str, Any] = Field(
        description="The printed numbers at their places in the solver's answer."
    )


class TorchView(BaseModel):
    """The PyTorch that computes a solution's answer, ready to paste into a notebook, and
    what it printed when the server ran it (absent when it did not run)."""

    code: str = Field(description="A complete script; it prints `label: value` lines.")
    notes: list[TorchNote] = Field(description="Where torch's convention differs from the course.")
    prints: list[TorchPrint] = Field(description="The printed lines, in order.")
    device: str | None = Field(default=None, description="The device the server ran it on.")
    stdout: str | None = Field(default=None, description="What it printed on the server.")
    answer: dict[str, Any] | None = Field(
        default=None, description="The solver's answer as read from `stdout`."
    )
    error: str | None = Field(
        default=None, description="Why the server has no output (the run took too long or failed)."
    )


DEVICE_LINE = "device"
"""The label of the script's first printed line, the device it chose."""


def render(form: TorchForm) -> TorchView:
    """The script of ``form``: imports, the device (printed first), the lines, the prints."""
    code = ["import torch"]
    if form.functional:
        code.append("import torch.nn.functional as F")
    if form.uses_math:
        code.append("import math")
    code += [
        "",
        'device = "cuda" if torch.cuda.is_available() else "cpu"',
        f"print({DEVICE_LINE + ':'!r}, device)",
        'f64 = {"dtype": torch.float64, "device": device}  # the solver\'s precision',
        "",
    ]
    notes: list[TorchNote] = []
    for line in form.lines:
        text = f"{identifier(line.target)} = {line.code}" if line.target else line.code
        if "\n" in text or "\r" in text:
            raise ValueError("a line of generated code spans lines")
        if line.note is not None:
            notes.append(
                TorchNote(ref=len(notes) + 1, text=line.note.message, params=line.note.params)
            )
            text += f"  # ({len(notes)})"
        code.append(text)
    code.append("")
    prints = []
    for output in form.outputs:
        if not _LABEL.fullmatch(output.label):
            raise ValueError(f"not a printable label: {output.label!r}")
        code.append(f"print({output.label + ':'!r}, {output.expression})")
        prints.append(TorchPrint(label=output.label, answer=output.answer))
    return TorchView(code="\n".join(code) + "\n", notes=notes, prints=prints)


def run(view: TorchView) -> TorchRun:
    """Execute ``view.code`` (generated by :func:`render`, never user text) in a fresh
    namespace whose ``print`` writes to this run's buffer (other threads print as before),
    and read each printed line back into the answer, at the place ``prints`` names."""
    buffer = io.StringIO()

    def write(*args: object, sep: str | None = " ", end: str | None = "\n", **_: object) -> None:
        buffer.write((" " if sep is None else sep).join(map(str, args)))
        buffer.write("\n" if end is None else end)

    exec(compile(view.code, "<torch view>", "exec"), {"__name__": "torch_view", "print": write})
    stdout = buffer.getvalue()
    first, *lines = stdout.splitlines()
    answer: dict[str, Any] = {}
    for printed, line in zip(view.prints, lines, strict=True):
        prefix = f"{printed.label}: "
        if not line.startswith(prefix):
            raise ValueError(f"the script printed {line[:40]!r} for {printed.label!r}")
        *parents, last = printed.answer.split(".")
        place = answer
        for part in parents:
            place = place.setdefault(part, {})
        place[last] = ast.literal_eval(line[len(prefix) :])
    return TorchRun(device=first.removeprefix(f"{DEVICE_LINE}: "), stdout=stdout, answer=answer)


def torch_view(task: Any, problem: BaseModel) -> TorchView | None:
    """The PyTorch view of a validated problem of ``task``, or ``None`` when the task has
    no torch form."""
    if task.torch_form is None:
        return None
    return render(task.torch_form(problem))
