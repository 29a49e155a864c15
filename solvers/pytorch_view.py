"""Every answer as PyTorch: the few lines of torch that compute a task's answer, as code text.

A task describes its problem in PyTorch as a :class:`TorchForm` (its ``torch_form`` hook on
the :class:`solvers.core.Task` record): the tensors with their numbers, the lines that
compute the answer (from the task's fixed templates), and what the script prints. This
engine, which names no task, checks the form and writes the script.

Nothing a user typed becomes code: tensor and line names must be ASCII identifiers (not
keywords, not the script's own names), numbers are written with :func:`literal` (``repr`` of
finite floats), printed labels as escaped string literals. The app never runs the code; the
tests do, and compare what it prints with the solver's answer.
"""

from __future__ import annotations

import keyword
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, Field

RESERVED = frozenset({"torch", "F", "math", "print"})
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


class TorchView(BaseModel):
    """The PyTorch that computes a solution's answer, ready to paste into a notebook."""

    code: str = Field(description="A complete script; it prints `label: value` lines.")
    notes: list[TorchNote] = Field(description="Where torch's convention differs from the course.")
    prints: list[TorchPrint] = Field(description="The printed lines, in order.")


def render(form: TorchForm) -> TorchView:
    """The script of ``form``: imports, float64 by default, the lines, the prints."""
    code = ["import torch"]
    if form.functional:
        code.append("import torch.nn.functional as F")
    if form.uses_math:
        code.append("import math")
    code += ["", "torch.set_default_dtype(torch.float64)  # the solver's precision", ""]
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


def torch_view(task: Any, problem: BaseModel) -> TorchView | None:
    """The PyTorch view of a validated problem of ``task``, or ``None`` when the task has
    no torch form."""
    if task.torch_form is None:
        return None
    return render(task.torch_form(problem))
