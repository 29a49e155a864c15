"""The graph task's view: its form adapter, its page's SVG picture and ``POST /api/v1/graph/svg``.

The picture of a ``graph`` solution is drawn in pure Python.

Layout as in the CS231n slides: inputs on the left, the output on the right, one node per
gate; above each edge the forward value (green), below it the gradient (red). Layers are
longest paths from the inputs, ordered by barycenter sweeps; within a layer a gate sits at
the mean height of its inputs, pushed apart where gates would overlap. Constants feeding a
gate (``max(x, 0)``) are leaves on the left like the variables. The picture scales with its
container (``viewBox``, ``width="100%"``) but keeps a minimum width so that labels stay
readable on a phone: wrap it in a horizontally scrollable block.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import numpy as np
from fastapi import APIRouter, Response
from markupsafe import Markup
from markupsafe import escape as html_escape
from pydantic import BaseModel

from app.deps import DIGITS, LANG, ApiFormat, query_docs
from app.errors import ERROR_RESPONSES, CheckedJsonRoute
from app.forms import FormAdapter
from app.i18n import gettext
from app.render import tex
from app.tasks import KeyItem, TaskView
from solvers.core import N_, AnswerCell, NumberFormat
from solvers.registry import get_task
from solvers.tasks.graph.parser import name_latex
from solvers.tasks.graph.problem import GraphProblem, GraphSolution, VectorSolution
from solvers.tasks.graph.rules import ALL_RULES as RULES
from solvers.tasks.graph.steps import layout, node_symbols

COLUMN = 115.0  # horizontal distance between layers (room for a label each side of an edge)
ROW = 64.0  # minimum vertical distance between nodes of a layer
MARGIN = 34.0
NODE_HEIGHT = 30.0
OUTPUT_STUB = 74.0
FORWARD_COLOR = "#1b7f3b"
GRADIENT_COLOR = "#c62828"
EDGE_COLOR = "#555555"
LABEL_AT = 0.35  # where along the first column gap the labels of an edge sit
LABEL_HALF_WIDTH = 24.0  # half the width of a 7-character label at 12 px
LABEL_HALF_HEIGHT = 6.0
MIN_SCALE = 0.92  # never drawn smaller than this: 12-unit labels stay ≥ 11 px on screen
GRID_SIDE = 3  # vectors and matrices up to 3×3 are drawn as grids under their nodes
GRID_CELL = 44.0  # the width of a grid's cell (a 6-character number at 11 px)
GRID_LINE = 15.0  # the height of a grid's row


@dataclass
class _Box:
    x: float
    y: float
    width: float


def _node_width(label: str) -> float:
    return max(NODE_HEIGHT + 6, 12 + 7.5 * len(label))


def _layers(nodes: list[_Shape]) -> list[list[int]]:
    """Node ids by layer: leaves (variables and constants, in order of first use) first, then
    each gate one layer after its latest input, ordered to keep edges from crossing."""
    depth = [0] * len(nodes)
    leaves: dict[int, None] = {n.id: None for n in nodes if n.op == "input"}
    for node in nodes:
        if node.inputs:
            depth[node.id] = 1 + max(depth[j] for j in node.inputs)
            leaves.update((j, None) for j in node.inputs if not nodes[j].inputs)
    if not nodes[-1].inputs:
        leaves[nodes[-1].id] = None  # the expression is a lone variable or constant
    layers = [list(leaves)] + [[] for _ in range(max(depth))]
    for node in nodes:
        if node.inputs:
            layers[depth[node.id]].append(node.id)
    consumers: dict[int, list[int]] = {n.id: [] for n in nodes}
    for node in nodes:
        for j in node.inputs:
            consumers[j].append(node.id)
    position = {i: k for layer in layers for k, i in enumerate(layer)}

    def reorder(layer: list[int], neighbours: dict[int, list[int]]) -> None:
        def key(i: int) -> float:
            near = neighbours[i]
            return sum(position[j] for j in near) / len(near) if near else position[i]

        layer.sort(key=key)
        position.update((i, k) for k, i in enumerate(layer))

    inputs = {n.id: list(n.inputs) for n in nodes}
    for _ in range(3):  # barycenter sweeps; the leaves keep the order they were typed in
        for layer in layers[1:]:
            reorder(layer, inputs)
        for layer in reversed(layers[1:-1]):
            reorder(layer, consumers)
    return layers


def _place(
    nodes: list[_Shape],
    layers: list[list[int]],
    row: float = ROW,
    column: float = COLUMN,
    left: float = MARGIN + 20,
) -> dict[int, _Box]:
    """Coordinates: a gate at the mean height of its inputs, pushed apart within a layer
    (``row`` apart at least; layers ``column`` apart, the first at ``left``)."""
    top = MARGIN + 12
    boxes = {
        i: _Box(left, top + k * row, _node_width(nodes[i].label)) for k, i in enumerate(layers[0])
    }
    for depth, layer in enumerate(layers[1:], start=1):
        wanted = [sum(boxes[j].y for j in nodes[i].inputs) / len(nodes[i].inputs) for i in layer]
        placed: list[float] = []
        for y in wanted:
            placed.append(max(y, placed[-1] + row) if placed else y)
        # shift back up so the layer is centred on what its members wanted
        shift = sum(p - w for p, w in zip(placed, wanted, strict=True)) / len(placed)
        shift = min(shift, placed[0] - top)
        for i, y in zip(layer, placed, strict=True):
            boxes[i] = _Box(left + depth * column, y - shift, _node_width(nodes[i].label))
    return boxes


def _text(x: float, y: float, text: str, cls: str, fill: str, size: float, anchor: str) -> str:
    return (
        f'<text class="{cls}" x="{x:.1f}" y="{y:.1f}" fill="{fill}" font-size="{size:g}" '
        f'text-anchor="{anchor}">{escape(text)}</text>'
    )


def _edge_shape(
    start: tuple[float, float], end: tuple[float, float], bend: float, label_at: float = LABEL_AT
) -> tuple[str, str, str]:
    """A straight (or, for a repeated pair, bent) edge: its opening SVG and the starts of its
    two labels' ``<text>`` (the value and the gradient follow)."""
    (x1, y1), (x2, y2) = start, end
    mx, my = (x1 + x2) / 2, (y1 + y2) / 2 + bend
    path = f"M{x1:.1f},{y1:.1f} Q{mx:.1f},{my:.1f} {x2:.1f},{y2:.1f}"
    # the labels sit near the start, where neighbouring edges are still apart
    t = min(0.8, label_at * (COLUMN - 40) / max(x2 - x1, 1.0))
    lx = (1 - t) ** 2 * x1 + 2 * (1 - t) * t * mx + t**2 * x2
    ly = (1 - t) ** 2 * y1 + 2 * (1 - t) * t * my + t**2 * y2
    # the labels sit on either side of the edge, far enough along its normal that a label
    # of LABEL_CHARS characters clears a sloping line
    tx = 2 * (1 - t) * (mx - x1) + 2 * t * (x2 - mx)
    ty = 2 * (1 - t) * (my - y1) + 2 * t * (y2 - my)
    norm = max((tx * tx + ty * ty) ** 0.5, 1e-9)
    nx, ny = ty / norm, -tx / norm  # the normal on the upper side
    off = LABEL_HALF_WIDTH * abs(nx) + LABEL_HALF_HEIGHT * abs(ny) + 3
    opening = (
        '<g class="edge">'
        f'<path d="{path}" fill="none" stroke="{EDGE_COLOR}" stroke-width="1.3" '
        'marker-end="url(#arrow)"/>'
    )
    return (
        opening,
        _text_start(lx + nx * off, ly + ny * off + 4, "fwd", FORWARD_COLOR),
        _text_start(lx - nx * off, ly - ny * off + 4, "grad", GRADIENT_COLOR),
    )


def _text_start(x: float, y: float, cls: str, fill: str) -> str:
    """The opening tag of an edge label (12px, centred)."""
    return (
        f'<text class="{cls}" x="{x:.1f}" y="{y:.1f}" fill="{fill}" font-size="12" '
        'text-anchor="middle">'
    )


@dataclass(frozen=True)
class _Shape:
    """What a node of the picture needs before any value is known."""

    id: int
    op: str
    label: str
    inputs: tuple[int, ...]
    name: str
    """What is written above a gate: its symbol on the page (q, f, n₉)."""
    grid: tuple[int, int] = (0, 0)
    """Rows and columns of the grid of its value drawn under it (a small vector, as a
    column, or matrix); (0, 0): none."""


@dataclass(frozen=True)
class _Sketch:
    """The value-independent part of a picture: its opening tag, its edges (source node,
    target node, input slot, opening SVG and label starts; the output stub last, with
    source and target the output) and the nodes' SVG."""

    opening: str
    edges: tuple[tuple[int, int, int, str, str, str], ...]
    nodes: str
    grids: tuple[tuple[int, str, tuple[str, ...]], ...] = ()
    """Per node drawn with a grid: its id, the grid's frame and the openings of its cells'
    texts (row by row)."""


@lru_cache(maxsize=512)
def _sketch(shapes: tuple[_Shape, ...]) -> _Sketch:
    """The picture of a graph without its numbers (cached per graph and its labels)."""
    nodes = list(shapes)
    rows = max(n.grid[0] for n in nodes)
    grid_width = max(n.grid[1] for n in nodes) * GRID_CELL
    boxes = _place(
        nodes,
        _layers(nodes),
        row=ROW + rows * GRID_LINE,
        column=max(COLUMN, grid_width + 60),
        left=MARGIN + max(20.0, grid_width / 2),
    )
    output = nodes[-1]
    out_box = boxes[output.id]
    width = out_box.x + max(out_box.width, grid_width) / 2 + OUTPUT_STUB + MARGIN
    height = max(b.y for b in boxes.values()) + NODE_HEIGHT / 2 + rows * GRID_LINE + MARGIN + 10
    opening = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="graph" viewBox="0 0 {width:.0f} '
        f'{height:.0f}" width="100%" style="min-width:{width * MIN_SCALE:.0f}px;'
        f'max-width:{width * 1.5:.0f}px" role="img" font-family="sans-serif">'
    )
    # edges leaving the same node put their labels at staggered distances
    outgoing: dict[int, list[tuple[float, int, int]]] = {}
    for node in nodes:
        for k, j in enumerate(node.inputs):
            outgoing.setdefault(j, []).append((boxes[node.id].y, node.id, k))
    stagger = {
        (dst, k): LABEL_AT + 0.45 * rank
        for edges in outgoing.values()
        for rank, (_, dst, k) in enumerate(sorted(edges))
    }
    edges = []
    for node in nodes:
        end = boxes[node.id]
        seen: dict[int, int] = {}
        for k, j in enumerate(node.inputs):
            start = boxes[j]
            repeat = seen.get(j, 0)
            seen[j] = repeat + 1
            shape = _edge_shape(
                (start.x + start.width / 2, start.y),
                (end.x - end.width / 2, end.y),
                bend=28.0 * repeat * (1 if repeat % 2 else -1),
                label_at=max(stagger[node.id, k], _clear_of_grid(nodes[j], start)),
            )
            edges.append((j, node.id, k, *shape))
    stub_start = (out_box.x + out_box.width / 2, out_box.y)
    stub_end = (stub_start[0] + OUTPUT_STUB, out_box.y)
    edges.append((output.id, output.id, -1, *_edge_shape(stub_start, stub_end, 0.0)))
    parts = []
    for node in nodes:
        box = boxes[node.id]
        cls = {"input": "input", "const": "const"}.get(node.op, "gate")
        radius = NODE_HEIGHT / 2 if cls == "gate" else 5
        fill = "#ffffff" if cls == "gate" else "#f3f3f3"
        parts += [
            f'<g class="node {cls}" data-node="{node.id}" data-op={quoteattr(node.op)}>',
            f'<rect x="{box.x - box.width / 2:.1f}" y="{box.y - NODE_HEIGHT / 2:.1f}" '
            f'width="{box.width:.1f}" height="{NODE_HEIGHT:g}" rx="{radius:g}" fill="{fill}" '
            'stroke="#333333" stroke-width="1.3"/>',
            _text(box.x, box.y + 5, node.label, "label", "#111111", 14, "middle"),
        ]
        if cls == "gate":
            parts.append(
                _text(box.x, box.y - NODE_HEIGHT / 2 - 4, node.name, "node-id", "#6b6b6b",
                      12, "middle")
            )  # fmt: skip
        parts.append("</g>")
    grids = tuple((node.id, *_grid(boxes[node.id], *node.grid)) for node in nodes if node.grid[0])
    return _Sketch(opening, tuple(edges), "".join(parts), grids)


def _clear_of_grid(node: _Shape, box: _Box) -> float:
    """Where along an edge leaving ``node`` its labels clear the grid under it."""
    overhang = max(0.0, (node.grid[1] * GRID_CELL - box.width) / 2)
    return (overhang + LABEL_HALF_WIDTH + 8) / (COLUMN - 40) if overhang else 0.0


def _grid(box: _Box, rows: int, columns: int) -> tuple[str, tuple[str, ...]]:
    """The frame of a value's grid under the node at ``box`` and its cells' text openings."""
    x0 = box.x - columns * GRID_CELL / 2
    y0 = box.y + NODE_HEIGHT / 2 + 3
    frame = (
        f'<rect x="{x0:.1f}" y="{y0:.1f}" width="{columns * GRID_CELL:.1f}" '
        f'height="{rows * GRID_LINE + 2:.1f}" fill="#f7fbf8" stroke="{FORWARD_COLOR}" '
        'stroke-width="0.8"/>'
    )
    cells = tuple(
        f'<text class="cell" x="{x0 + (c + 0.5) * GRID_CELL:.1f}" '
        f'y="{y0 + (r + 1) * GRID_LINE - 3:.1f}" fill="{FORWARD_COLOR}" font-size="11" '
        'text-anchor="middle">'
        for r in range(rows)
        for c in range(columns)
    )
    return frame, cells


_SUBSCRIPTS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def _plain_symbol(tex: str) -> str:
    """A gate's symbol as the picture writes it: ``n_{9}`` → ``n₉``; ``q`` and ``f`` as
    they are."""
    return re.sub(r"_\{(\d+)\}", lambda m: m[1].translate(_SUBSCRIPTS), tex)


def _shape(shape: list[int]) -> str:
    """``2×3`` on a vector graph's edge."""
    return "×".join(str(n) for n in shape)


def _grid_of(node: Any) -> tuple[int, int]:
    """A vector graph node's grid: a vector as a column, a matrix as it is, up to 3×3."""
    shape = tuple(getattr(node, "shape", ()))
    grid = (shape[0], 1) if len(shape) == 1 else shape
    return grid if len(grid) == 2 and max(grid) <= GRID_SIDE else (0, 0)  # type: ignore[return-value]


def render_graph_svg(
    solution: GraphSolution | VectorSolution, fmt: NumberFormat, title: str | None = None
) -> str:
    """The SVG of the solution's graph; ``title`` defaults to the expression as read. The
    layout is drawn once per graph (:func:`_sketch`); a solve only writes its numbers."""
    nodes = solution.nodes
    names = [_plain_symbol(sym) for sym in node_symbols(nodes, fmt)]
    sketch = _sketch(
        tuple(
            _Shape(n.id, n.op, n.label, tuple(n.inputs), name, _grid_of(n))
            for n, name in zip(nodes, names, strict=True)
        )
    )
    caption = title if title is not None else f"Computational graph: {solution.expression_read}"
    parts = [
        sketch.opening,
        f"<title>{escape(caption)}</title>",
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        f'markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="{EDGE_COLOR}"/>'
        "</marker></defs>",
    ]
    num = fmt.num
    for j, dst, k, opening, value_at, grad_at in sketch.edges:
        if isinstance(solution, VectorSolution):  # shapes on the edges, numbers of scalars
            value, grad = nodes[j].value, nodes[j].gradient
            value_text = num(value) if isinstance(value, float) else _shape(nodes[j].shape)
            grad_text = num(grad) if isinstance(grad, float) else "∂ " + _shape(nodes[j].shape)
        else:
            grad = nodes[dst].downstream[k] if k >= 0 else nodes[dst].upstream
            value_text, grad_text = num(nodes[j].value), num(grad)
        parts += [
            opening,
            value_at, escape(value_text), "</text>",
            grad_at, escape(grad_text), "</text></g>",
        ]  # fmt: skip
    parts.append(sketch.nodes)
    for i, frame, cells in sketch.grids:
        parts += [f'<g class="grid" data-node="{i}">', frame]
        for opening, value in zip(cells, np.ravel(nodes[i].value).tolist(), strict=True):
            parts += [opening, escape(num(value)), "</text>"]
        parts.append("</g>")
    parts.append("</svg>")
    return "".join(parts)


def graph_picture(solution: GraphSolution | VectorSolution, fmt: NumberFormat) -> str:
    """The SVG of a graph solution, titled in the current language."""
    title = gettext("Computational graph") + ": " + solution.expression_read
    return render_graph_svg(solution, fmt, title=title)


def vector_node_fields(problem: GraphProblem, fmt: NumberFormat) -> list[tuple[str, str]]:
    """The try page's fields of a vector graph: each intermediate node by id, labelled with
    its forward formula (``q = W\\,x``) in the steps' symbols."""
    graph, _ = problem.vector_passes()
    syms = node_symbols(graph.nodes, fmt)
    return [
        (
            str(i),
            f"{syms[i]} = "
            + RULES[node.op].forward_tex([syms[j] for j in node.inputs],
                                         fmt.tex(node.param, paren=True)),
        )
        for i, node in enumerate(graph.nodes[:-1])
        if node.inputs
    ]  # fmt: skip


def parse_assignments(text: str) -> dict[str, str]:
    """``w0 = 2, x0 = −1,5; x1: 3`` → ``{"w0": "2", "x0": "−1,5", "x1": "3"}``.

    Pairs are separated by new lines, ``;``, or a comma followed by the next ``name =``, so a
    decimal comma stays inside its number. A piece without ``=`` keeps its text as the name
    with an empty value, which the model then reports.
    """
    pairs: dict[str, str] = {}
    for chunk in re.split(r"[;\n]", text):
        for piece in re.split(r",\s*(?=[^\s=:,;]+\s*[=:])", chunk):
            if not piece.strip():
                continue
            name, _, value = piece.partition("=" if "=" in piece else ":")
            pairs[name.strip()] = value.strip()
    return pairs


class GraphFormAdapter(FormAdapter):
    """Graph's values are one text field: ``w0 = 2, x0 = −1`` (or one per line, or ``;``)."""

    verbatim_fields = frozenset({"expression"})

    def to_data(self, form: Mapping[str, str], model: type[BaseModel]) -> dict[str, Any]:
        """The problem's data, with ``values`` read into a name → text mapping."""
        data = super().to_data(form, model)
        if "values" in data:
            data["values"] = parse_assignments(data["values"])
        return data


router = APIRouter(
    prefix="/api/v1", tags=["api"], route_class=CheckedJsonRoute, responses=ERROR_RESPONSES
)


@router.post(
    "/graph/svg",
    response_class=Response,
    responses={200: {"content": {"image/svg+xml": {}}, "description": "The graph as SVG."}},
    summary="The computational graph as an SVG picture",
    openapi_extra=query_docs(DIGITS, LANG),
)
async def graph_svg(problem: GraphProblem, fmt: ApiFormat) -> Response:
    """Forward values above the edges (green), gradients below them (red)."""
    solution = get_task("graph").solve(problem, fmt)
    return Response(graph_picture(solution, fmt), media_type="image/svg+xml")  # type: ignore[arg-type]


_GENERIC = re.compile(r"(?<![\\A-Za-z])([xy])(?![A-Za-z])")


def _with_inputs(formula: str, names: dict[str, str]) -> str:
    """A rule's formula in x and y with the gate's own inputs put in their place."""
    return _GENERIC.sub(lambda m: f"{{{names.get(m[1], m[1])}}}", formula)


def local_gradients_tex(solution: GraphSolution, fmt: NumberFormat) -> list[list[str]]:
    """Per node, ``∂q/∂x = formula = value`` for each input: the rules' formulas
    (written in a generic x and y) with the gate's real inputs put in."""
    symbols = node_symbols(solution.nodes, fmt)
    out = []
    for node in solution.nodes:
        names = {"x": symbols[node.inputs[0]] if node.inputs else "x"}
        if len(node.inputs) > 1:
            names["y"] = symbols[node.inputs[1]]
        rows = []
        for k, (formula, value) in enumerate(
            zip(node.local_formulas, node.local_gradients, strict=True)
        ):
            own = _with_inputs(formula, names)
            d = f"\\partial {symbols[node.id]} / \\partial {symbols[node.inputs[k]]}"
            shown = fmt.tex(value)
            rows.append(f"{d} = {own}" + ("" if own == shown else f" = {shown}"))
        out.append(rows)
    return out


def nodes_table(solution: GraphSolution, fmt: NumberFormat) -> str:
    """A scalar graph's nodes with both passes, a row each: its symbol, gate, inputs, forward
    value, local gradients (:func:`local_gradients_tex`), upstream and downstream gradients
    (built here: a template loop cost more than the rest of the page)."""
    symbols = node_symbols(solution.nodes, fmt)
    local = local_gradients_tex(solution, fmt)
    num = fmt.num
    heads = "".join(
        f"<th>{gettext(h)}</th>"
        for h in (
            N_("node"), N_("gate"), N_("inputs"), N_("forward"), N_("local gradient"),
            N_("upstream"), N_("downstream"),
        )
    )  # fmt: skip
    rows = []
    for n in solution.nodes:
        shown = n.name if n.op == "input" else n.label
        rows.append(
            f'      <tr data-node="{n.id}" tabindex="0">\n'
            f'        <th scope="row">{n.id}</th>\n'
            f"        <td>{tex(symbols[n.id])}</td>\n"
            f"        <td>{html_escape(shown)}</td>\n"
            f"        <td>{', '.join(tex(symbols[j]) for j in n.inputs)}</td>\n"
            f"        <td>{num(n.value)}</td>\n"
            f'        <td class="local">{"<br>".join(tex(f) for f in local[n.id])}</td>\n'
            f"        <td>{num(n.upstream)}</td>\n"
            f"        <td>{'; '.join(num(d) for d in n.downstream)}</td>\n"
            "      </tr>\n"
        )
    return (
        '<div class="matrix-wrap">\n  <table class="matrix nodes">\n'
        f"    <caption>{gettext('Every node: both passes')}</caption>\n"
        f"    <thead><tr><th>#</th>{heads}</tr></thead>\n    <tbody>\n"
        + "".join(rows)
        + "    </tbody>\n  </table>\n  </div>"
    )


class GraphView(TaskView):
    """The graph page shows its picture; the try page reads gradients as ``w0 = 1, …``."""

    def page_context(self, solution: Any, problem: Any, fmt: NumberFormat) -> dict[str, Any]:
        """The graph's SVG; for a scalar graph, its node table (each node's symbol, its local
        gradients written with the gate's own inputs, ∂q/∂x = 1); for a vector graph, each
        node's symbol (q, f, n₉ as the steps name them) for the template's table."""
        context: dict[str, Any] = {"svg": Markup(graph_picture(solution, fmt))}
        if isinstance(solution, VectorSolution):
            context["symbols"] = node_symbols(solution.nodes, fmt)
        else:
            context["nodes_table"] = Markup(nodes_table(solution, fmt))
        return context

    def try_fields(self, problem: Any, fmt: NumberFormat) -> dict[str, list[tuple[str, str]]]:
        """A graph's intermediate nodes, one field each, labelled with the node's forward
        formula in the page's symbols (``q = x + y``, ``n_{5} = w_{0} \\cdot x_{0}``; a
        vector node's value typed as ``0.2 0.4`` or ``1 2; 3 4``)."""
        if problem.is_vector:
            return {"nodes": vector_node_fields(problem, fmt)}
        graph = problem.graph
        forward = layout(graph, fmt, "f").forward
        return {
            "nodes": [
                (str(i), forward[i]) for i, gate in enumerate(graph.gates[:-1]) if gate.inputs
            ]
        }

    def subfield_marks(self, problem: Any, part: str, cells: Any) -> dict[str, bool]:
        """A vector graph's node is right when every cell of it given is (its cells are
        the graded part's, numbered through all nodes in order)."""
        if not problem.is_vector or part != "nodes" or not isinstance(cells, dict):
            return super().subfield_marks(problem, part, cells)
        graph, _ = problem.vector_passes()
        marks, start = {}, 0
        for i, node in enumerate(graph.nodes):
            size = math.prod(node.shape)
            own = [cells[str(c)] for c in range(start, start + size) if str(c) in cells]
            if own:
                marks[str(i)] = all(own)
            start += size
        return marks

    def key_items(self, answer: Any, cells: list[AnswerCell]) -> list[KeyItem]:
        """f and every gradient, a vector's or matrix's as a grid of its cells (a vector as
        one row; ``answer_cells`` lists them in this order)."""
        remaining = iter(cells)
        items = []
        parts = [("f", answer.output)] + [
            (f"\\partial f/\\partial {name_latex(name)}", value)
            for name, value in answer.gradients.items()
        ]
        for label, value in parts:
            grid = np.atleast_2d(np.asarray(value, dtype=float))
            rows = [[next(remaining) for _ in row] for row in grid]
            items.append(KeyItem(rows[0][0].label if grid.size == 1 else label, rows))
        return items

    def try_answer(self, answer: dict[str, str]) -> dict[str, Any]:
        """``gradients`` typed as ``w0 = 0.2, x0 = −0.4``; node fields ``nodes.<id>`` as
        ``nodes`` by id."""
        data: dict[str, Any] = {k: v for k, v in answer.items() if not k.startswith("nodes.")}
        nodes = {k[len("nodes.") :]: v for k, v in answer.items() if k.startswith("nodes.")}
        if nodes:
            data["nodes"] = nodes
        if "gradients" in data:
            data["gradients"] = parse_assignments(data["gradients"])
        return data


VIEW = GraphView(adapter=GraphFormAdapter(), text_answers=frozenset({"gradients"}), router=router)
