"""Grading the graph task: the output, the gradient for every variable, optionally node values.

Parts: ``output``, ``gradients.<name>`` for each variable, and the optional ``nodes`` (node id
→ forward value, graded over the nodes given; ids as in the solution's ``nodes``).

Error carried forward: the forward pass is continued from the student's own node values
(a node they gave replaces the computed one), so a node, or the output, computed correctly
from their wrong inputs is consistent; and the backward pass over those values (local
gradients taken at their values, as the lecture does: exp's local gradient is its own
value) gives the gradients that are consistent with their forward pass. A wrong output
alone is carried into the backward pass too.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from solvers.core import N_, AnswerCell, NumberFormat, Rounder
from solvers.grading.core import (
    F64,
    PartError,
    PartSpec,
    TaskGrader,
    catalogue,
    nest,
    nested_shape,
    parse_number,
    shape_error,
    subscript,
)
from solvers.matrix import coerce_matrix
from solvers.tasks.graph import vector_grading
from solvers.tasks.graph.compute import (
    Backward,
    Forward,
    Override,
    backward,
    forward,
    leaves,
    passes,
)
from solvers.tasks.graph.gates import Graph
from solvers.tasks.graph.parser import name_latex, normalize_name
from solvers.tasks.graph.problem import SEVERAL_NUMBERS, GraphProblem
from solvers.tasks.graph.rules import RULES
from solvers.tasks.graph.steps import node_symbols
from solvers.tasks.graph.vector import MAX_SIDE

Answer = float | list[float] | list[list[float]]

MISCONCEPTIONS = catalogue(
    (
        "sign_lost",
        N_("sign lost at a ·(−1) or − gate"),
        N_(
            "This loses the minus sign at a ·(−1) gate (or at the second input of a − gate): "
            "its local gradient is −1, so the gradient changes sign there."
        ),
        "graph.backward",
    ),
    (
        "exp_local_one",
        N_("exp's local gradient taken as 1"),
        N_(
            "This passes the gradient through the exp gate unchanged. The local gradient of "
            "exp(x) is exp(x), the gate's own forward value."
        ),
        "graph.backward",
    ),
    (
        "reciprocal_local",
        N_("1/x's local gradient taken as 1/x"),
        N_("This uses 1/x as the local gradient of the 1/x gate; the derivative of 1/x is −1/x²."),
        "graph.backward",
    ),
    (
        "branch_not_summed",
        N_("branch gradients not summed"),
        N_(
            "This keeps the gradient of one branch only. A value used several times gets "
            "the sum of the gradients of all its branches."
        ),
        "graph.branch_sum",
    ),
    (
        "max_both",
        N_("max routing the gradient to both inputs"),
        N_(
            "This sends the gradient through max (or min) to both inputs. The gate routes "
            "it to the input that won only; the other gets 0."
        ),
        "graph.backward",
    ),
    (
        "transposed_gradient",
        N_("the gradient of W transposed"),
        N_(
            "This is the transpose of ∂f/∂W: for q = W x it is g xᵀ (upstream gradient times "
            "x transposed), which has the shape of W."
        ),
        "graph.backward",
    ),
    (
        "transpose_forgotten",
        N_("Wᵀ forgotten"),
        N_("This multiplies the upstream gradient by W; for q = W x, ∂f/∂x = Wᵀ g."),
        "graph.backward",
    ),
    (
        "norm_factor_forgotten",
        N_("the squared norm's factor 2 forgotten"),
        N_("This forgets the factor 2: the gradient of ||q||² is 2q (times the upstream one)."),
        "graph.backward",
    ),
    (
        "sign_lost_at_gate",
        N_("sign lost at one gate"),
        N_(
            "This is what the backward pass gives with the opposite sign at the gate {node} "
            "({gate}), on its input {input}: ∂{node}/∂{input} was taken with the wrong sign, "
            "which flips exactly the gradients that flow back through {input}."
        ),
        "graph.backward",
    ),
    (
        "mul_swapped",
        N_("a · gate's local gradients swapped"),
        N_(
            "At the gate {node} = {first}·{second}, the local gradient of each input is the "
            "other input: ∂{node}/∂{first} = {second} and ∂{node}/∂{second} = {first}. This "
            "took each input's own value instead."
        ),
        "graph.backward",
    ),
)


class GraphSubmission(BaseModel):
    """A student's answer to a graph problem; every part is optional (missing scores 0)."""

    model_config = ConfigDict(extra="forbid")

    output: Answer | None = Field(
        default=None, examples=[0.73], description="The value of the function."
    )
    gradients: dict[str, Answer] = Field(
        default_factory=dict,
        examples=[{"w0": -0.2, "x0": 0.39, "w1": -0.39, "x1": -0.59, "w2": 0.2}],
        description="∂f/∂name for each variable, e.g. {'w0': -0.2}; a vector or matrix "
        "variable's gradient in its shape (lists, or text such as '1 2; 3 4').",
    )
    nodes: dict[int, Answer] | None = Field(
        default=None,
        description="Optional forward values by node id (the ids of the solution's nodes); "
        "a vector graph's node in the node's shape.",
    )

    @field_validator("output", mode="before")
    @classmethod
    def _output(cls, value: Any) -> Answer | None:
        return None if value is None else _answer(value, "output")

    @field_validator("gradients", mode="before")
    @classmethod
    def _gradients(cls, value: Any) -> dict[str, Answer]:
        return _numbers(
            value, "gradients", lambda key: normalize_name(str(key)) or str(key), _answer
        )

    @field_validator("nodes", mode="before")
    @classmethod
    def _nodes(cls, value: Any) -> dict[int, Answer] | None:
        return None if value is None else _numbers(value, "nodes", _node_id, _answer)


def _node_id(key: Any) -> int:
    text = str(key).strip()
    if not text.isdigit():
        raise PydanticCustomError(
            "grading_node", N_('"{id}" is not a node id (0, 1, 2, …)'), {"id": text[:20]}
        )
    return int(text)


def _answer(value: Any, part: str) -> Answer:
    """A number, or a vector or matrix as (nested) lists or matrix text."""
    if isinstance(value, str) and SEVERAL_NUMBERS.search(value.strip()):
        matrix = coerce_matrix(value, MAX_SIDE, MAX_SIDE)
        return matrix[0] if len(matrix) == 1 and not value.strip().startswith("[[") else matrix
    if isinstance(value, list):
        return [_answer(v, part) for v in value]  # type: ignore[misc]
    return parse_number(value, part)


def _numbers(
    value: Any,
    part: str,
    key: Callable[[Any], Any],
    number: Callable[[Any, str], Any] = parse_number,
) -> dict[Any, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise PydanticCustomError("grading_part", N_("must map names to numbers"), {"part": part})
    return {key(k): number(v, f"{part}.{k}") for k, v in value.items()}


@dataclass(frozen=True)
class GraphBatch:
    """Problems with one expression and gate mode: ``values`` (B, V) in the order of
    ``graph.variables``, ``upstream`` (B,)."""

    graph: Graph
    values: torch.Tensor
    upstream: torch.Tensor


def shapes(problem: GraphProblem) -> dict[str, tuple[int, ...]]:
    """The expected shape of every part."""
    if problem.is_vector:
        return vector_grading.shapes(problem)
    graph = problem.graph
    return {
        "output": (),
        **{f"gradients.{name}": () for name in graph.variables},
        "nodes": (len(graph.gates),),
    }


def values(
    problem: GraphProblem, submission: GraphSubmission
) -> tuple[dict[str, Any], list[PartError]]:
    """The submitted parts by name (nodes as a vector, NaN for the nodes not given), and
    the unknown gradient names and node ids."""
    if problem.is_vector:
        return vector_grading.values(problem, submission)
    graph = problem.graph
    unknown = [
        (f"gradients.{name}", _unknown(N_("{name} is not a variable of the function"), name), v)
        for name, v in submission.gradients.items()
        if name not in graph.variables
    ]
    nodes = submission.nodes
    n = len(graph.gates)
    if nodes:
        unknown += [
            (
                f"nodes.{i}",
                _unknown(N_("there is no node {name}: ids go from 0 to {last}"), i, n),
                v,
            )
            for i, v in nodes.items()
            if not 0 <= i < n
        ]
        unknown += [
            (f"nodes.{i}", shape_error(f"nodes.{i}", (), nested_shape(v)), v)
            for i, v in nodes.items()
            if not isinstance(v, float)
        ]
        nodes = {i: v for i, v in nodes.items() if isinstance(v, float)}
    return {
        "output": submission.output,
        **{f"gradients.{name}": submission.gradients.get(name) for name in graph.variables},
        "nodes": [nodes.get(i, math.nan) for i in range(n)] if nodes else None,
    }, unknown


def _unknown(template: str, name: Any, count: int = 0) -> PydanticCustomError:
    return PydanticCustomError("grading_unknown", template, {"name": name, "last": count - 1})


def group_key(problem: GraphProblem) -> Hashable:
    """Problems with one expression (as read) and gate mode stack together."""
    if problem.is_vector:
        return vector_grading.group_key(problem)
    return problem.graph


def batch(problems: Sequence[GraphProblem], device: Any) -> GraphBatch | vector_grading.VectorBatch:
    """Stack problems of one group."""
    if problems[0].is_vector:
        return vector_grading.batch(problems, device)
    graph = problems[0].graph
    return GraphBatch(
        graph=graph,
        values=torch.tensor(
            [[p.values[v] for v in graph.variables] for p in problems], dtype=F64, device=device
        ).reshape(len(problems), len(graph.variables)),
        upstream=torch.tensor([p.upstream for p in problems], dtype=F64, device=device),
    )


def _op(*ops: str) -> Callable[[Graph, int], bool]:
    """Touches the gates of these ops."""
    return lambda graph, i: graph.gates[i].op in ops


def _sign_lost(graph: Graph, i: int) -> bool:
    """A − gate, or a ·c gate of a negative c."""
    gate = graph.gates[i]
    return gate.op == "-" or (gate.op == "·c" and gate.param < 0)


OVERRIDES: dict[str, Override] = {
    "sign_lost": Override(  # the local gradient −1 of − or a negative c of ·c taken as |·|
        _sign_lost, lambda xs, y, g, down: (*down[:-1], -down[-1])
    ),
    "exp_local_one": Override(_op("exp"), lambda xs, y, g, down: (g,)),
    "reciprocal_local": Override(
        _op("1/x"),
        lambda xs, y, g, down: (y * g,),  # 1/x's local gradient taken as its own value
    ),
    "max_both": Override(_op("max", "min"), lambda xs, y, g, down: (g, g)),
}
"""The misconceptions that take a wrong local gradient at a gate, as overrides of the one
backward pass (:func:`solvers.tasks.graph.compute.backward`)."""


def plain_symbol(tex: str) -> str:
    """A node's LaTeX symbol as text: ``n_{5}`` → ``n₅``, ``w_{0}`` → ``w₀``."""
    head, _, low = tex.partition("_{")
    low = low.rstrip("}")
    head = head.replace("\\", "").replace("\\", "")
    if low.isdigit():
        return subscript(head + low)
    return f"{head}_{low}" if low else head


def gate_overrides(graph: Graph) -> list[tuple[str, Override, dict[str, Any]]]:
    """The mistakes at one gate, each an override of the backward pass with the params that
    say where: the sign lost on one input of any gate (``sign_lost_at_gate``), and the local
    gradients of a product swapped (``mul_swapped``). Inputs that are constants, whose
    gradient no answer asks for, are left out."""
    gates = graph.gates
    syms = [plain_symbol(t) for t in node_symbols(gates, NumberFormat())]
    found: list[tuple[str, Override, dict[str, Any]]] = []
    for i, gate in enumerate(gates):
        if not gate.inputs:
            continue
        label = (RULES[gate.op].label(gate.param, NumberFormat()) or gate.op).replace("*", "·")
        for k, j in enumerate(gate.inputs):
            if gates[j].op == "const":
                continue
            found.append(
                (
                    "sign_lost_at_gate",
                    Override(partial(_at, i), partial(_negate, k)),
                    {"node": syms[i], "gate": label, "input": syms[j]},
                )
            )
        if gate.op == "*":
            first, second = (syms[j] for j in gate.inputs)
            found.append(
                (
                    "mul_swapped",
                    Override(partial(_at, i), _own_inputs),
                    {"node": syms[i], "first": first, "second": second},
                )
            )
    return found


def _at(node: int, graph: Graph, i: int) -> bool:
    """Whether the gate is node ``node``."""
    return i == node


def _negate(k: int, xs: Sequence[Any], y: Any, g: Any, down: tuple[Any, ...]) -> tuple[Any, ...]:
    """The downstream gradients with the ``k``-th one's sign lost."""
    return tuple(-d if n == k else d for n, d in enumerate(down))


def _own_inputs(xs: Sequence[Any], y: Any, g: Any, down: tuple[Any, ...]) -> tuple[Any, ...]:
    """A product's local gradients taken as its own inputs (x for ∂(x·y)/∂x)."""
    return tuple(x * g for x in xs)


def specs(
    b: GraphBatch | vector_grading.VectorBatch, given: dict[str, torch.Tensor]
) -> list[PartSpec]:
    """Expected, misconception and carried-forward answers of every part."""
    if isinstance(b, vector_grading.VectorBatch):
        return vector_grading.specs(b, given, GRADER.index)
    graph = b.graph
    fwd = forward(graph, leaves(graph, b.values))
    right = backward(graph, fwd, b.upstream)
    vals, grads = fwd.computed, right.grads
    # the mistakes of the backward pass, looked for in the student's own forward pass; each
    # override reuses the right backward pass of that forward pass up to the gate it touches
    gave = not (given["nodes"].isnan().all() and given["output"].isnan().all())
    own = _own_forward(b, given) if gave else fwd
    own_right = backward(graph, own, b.upstream) if gave else right
    candidates: list[tuple[int, list[torch.Tensor], dict[str, Any] | None]] = []
    for m, override in OVERRIDES.items():
        if override.applies(graph):
            wrong = backward(graph, own, b.upstream, override, right=own_right)
            candidates.append((GRADER.index(m), wrong.grads, None))
    consumers = [j for g in graph.gates for j in g.inputs]
    if len(consumers) != len(set(consumers)):
        for keep in ("first", "last"):
            candidates.append(
                (
                    GRADER.index("branch_not_summed"),
                    backward(graph, own, b.upstream, keep=keep).grads,
                    {"keep": keep},
                )
            )
    for m, override, params in gate_overrides(graph):
        grads_m = backward(graph, own, b.upstream, override).grads
        candidates.append((GRADER.index(m), grads_m, params))
    forward_from = _carried_parts(graph, own, own_right)  # :func:`carried`, reused
    return [
        PartSpec(
            "output",
            "graph.forward",
            vals[-1],
            given["output"],
            carried=forward_from["output"],
            carried_from="nodes",
        ),
        *(
            PartSpec(
                f"gradients.{name}",
                "graph.backward",
                grads[k],
                given[f"gradients.{name}"],
                [(m, cand[k]) for m, cand, _ in candidates],
                carried=forward_from[f"gradients.{name}"],
                carried_from="nodes",
                params=[params for _, _, params in candidates],
            )
            for k, name in enumerate(graph.variables)
        ),
        PartSpec(
            "nodes",
            "graph.forward",
            torch.stack(vals, 1),
            given["nodes"],
            carried=forward_from["nodes"],
            carried_from="nodes",
            sparse=True,
        ),
    ]


def _own_forward(
    b: GraphBatch, given: dict[str, torch.Tensor], rounder: Rounder | None = None
) -> Forward:
    """The forward pass from the student's own node values and output (NaN: computed)."""
    overrides = given["nodes"].clone()
    overrides[:, -1] = torch.where(torch.isnan(given["output"]), overrides[:, -1], given["output"])
    return forward(b.graph, leaves(b.graph, b.values), overrides, rounder)


def carried(
    b: GraphBatch | vector_grading.VectorBatch,
    given: dict[str, torch.Tensor],
    rounder: Rounder | None = None,
) -> dict[str, torch.Tensor]:
    """Both passes carried forward from the student's own node values and output (worked by
    hand with ``rounder``). Vector problems carry nothing forward."""
    if isinstance(b, vector_grading.VectorBatch):
        return {}
    fwd = _own_forward(b, given, rounder)
    return _carried_parts(b.graph, fwd, backward(b.graph, fwd, b.upstream, rounder=rounder))


def _carried_parts(graph: Graph, fwd: Forward, bwd: Backward) -> dict[str, torch.Tensor]:
    """The parts of both passes carried forward (:func:`carried`)."""
    return {
        "output": fwd.computed[-1],
        **{f"gradients.{name}": bwd.grads[k] for k, name in enumerate(graph.variables)},
        "nodes": torch.stack(fwd.computed, 1),
    }


def hand(b: GraphBatch | vector_grading.VectorBatch, rounder: Rounder) -> dict[str, torch.Tensor]:
    """Every part worked by hand: both passes with ``rounder`` after every value, local
    gradient, product and sum of branches."""
    if isinstance(b, vector_grading.VectorBatch):
        return vector_grading.hand(b, rounder)
    graph = b.graph
    p = passes(graph, b.values, b.upstream, rounder=rounder)
    gradients = p.gradients(graph)
    return {
        "output": p.output(),
        **{f"gradients.{name}": gradients[:, k] for k, name in enumerate(graph.variables)},
        "nodes": torch.stack(p.fwd.computed, 1),
    }


def part_label(name: str) -> str:
    """Parts as the lecture writes them: f, ∂f/∂w₀ (and the node values)."""
    if name == "output":
        return "f"
    if name.startswith("gradients."):
        return f"∂f/∂{subscript(name.split('.', 1)[1])}"
    return N_("node values") if name == "nodes" else name


GRADER = TaskGrader(
    task="graph",
    submission_model=GraphSubmission,
    misconceptions=MISCONCEPTIONS,
    shapes=shapes,
    values=values,
    group_key=group_key,
    batch=batch,
    specs=specs,
    hand=hand,
    carried=carried,
    label=part_label,
)


# ---- the answer's parts, as keys list them and students write them -----------------------

PART_LABELS = {
    "nodes": N_("the value of every node (optional)"),
    "output": N_("the value f"),
    "gradients": N_("the gradients, e.g. w0 = 0.2, x0 = -0.39"),
}
"""The parts a student answers on the try page, labelled."""


def _cells(column: str, label: str, value: Any) -> list[AnswerCell]:
    """A number as one cell; a vector's or matrix's elements as ``column[i]`` or
    ``column[i,j]`` (counted from 1, as conv's maps)."""
    if not isinstance(value, list):
        return [AnswerCell(column, label, value)]
    array = np.asarray(value, dtype=float)
    element = f"\\left({label}\\right)" if "/" in label else label
    return [
        AnswerCell(f"{column}[{where}]", f"{element}_{{{where}}}", float(array[index]))
        for index in np.ndindex(*array.shape)
        for where in [",".join(str(i + 1) for i in index)]
    ]


def answer_cells(answer: Any) -> list[AnswerCell]:
    """f and every ∂f/∂x (a vector or matrix one element by element)."""
    cells = _cells("f", "f", answer.output)
    for name, value in answer.gradients.items():
        cells += _cells(f"df/d{name}", f"\\partial f/\\partial {name_latex(name)}", value)
    return cells


_ELEMENT = re.compile(r"(.+)\[([1-9][0-9]{0,2}(?:,[1-9][0-9]{0,2})?)\]")


def answer_from_cells(cells: dict[str, str]) -> dict[str, Any]:
    """A submission from the columns ``f`` and ``df/d<name>``, a vector's or matrix's
    elements as ``df/d<name>[i]`` or ``df/d<name>[i,j]`` (counted from 1)."""
    parts: dict[str, Any] = {}
    elements: dict[str, dict[tuple[int, ...], str]] = {}
    for column, text in cells.items():
        element = _ELEMENT.fullmatch(column.replace(" ", ""))
        if element:
            index = tuple(int(i) for i in element[2].split(","))
            elements.setdefault(element[1], {})[index] = text
        else:
            parts[column] = text
    parts.update({column: nest(values) for column, values in elements.items()})
    answer: dict[str, Any] = {}
    if "f" in parts:
        answer["output"] = parts["f"]
    gradients = {k[4:]: v for k, v in parts.items() if k.startswith("df/d")}
    if gradients:
        answer["gradients"] = gradients
    return answer


def try_parts(problem: GraphProblem) -> list[str]:
    """Every graph problem asks for f and the gradients (node values are the try page's
    extra fields, one per node)."""
    return ["output", "gradients"]
