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

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from fastapi import APIRouter, Response
from markupsafe import Markup
from markupsafe import escape as html_escape
from pydantic import BaseModel

from app.deps import DIGITS, LANG, ApiFormat, query_docs
from app.errors import ERROR_RESPONSES, CheckedJsonRoute
from app.forms import FormAdapter
from app.i18n import gettext
from app.render import tex
from app.tasks import TaskView
from solvers.core import N_, NumberFormat
from solvers.registry import get_task
from solvers.tasks.graph.problem import GraphProblem, GraphSolution, VectorSolution
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


def _place(nodes: list[_Shape], layers: list[list[int]]) -> dict[int, _Box]:
    """Coordinates: a gate at the mean height of its inputs, pushed apart within a layer."""
    top = MARGIN + 12
    boxes = {
        i: _Box(MARGIN + 20, top + k * ROW, _node_width(nodes[i].label))
        for k, i in enumerate(layers[0])
    }
    for depth, layer in enumerate(layers[1:], start=1):
        wanted = [sum(boxes[j].y for j in nodes[i].inputs) / len(nodes[i].inputs) for i in layer]
        placed: list[float] = []
        for y in wanted:
            placed.append(max(y, placed[-1] + ROW) if placed else y)
        # shift back up so the layer is centred on what its members wanted
        shift = sum(p - w for p, w in zip(placed, wanted, strict=True)) / len(placed)
        shift = min(shift, placed[0] - top)
        for i, y in zip(layer, placed, strict=True):
            boxes[i] = _Box(MARGIN + 20 + depth * COLUMN, y - shift, _node_width(nodes[i].label))
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


@dataclass(frozen=True)
class _Sketch:
    """The value-independent part of a picture: its opening tag, its edges (source node,
    target node, input slot, opening SVG and label starts; the output stub last, with
    source and target the output) and the nodes' SVG."""

    opening: str
    edges: tuple[tuple[int, int, int, str, str, str], ...]
    nodes: str


@lru_cache(maxsize=512)
def _sketch(shapes: tuple[_Shape, ...]) -> _Sketch:
    """The picture of a graph without its numbers (cached per graph and its labels)."""
    nodes = list(shapes)
    boxes = _place(nodes, _layers(nodes))
    output = nodes[-1]
    out_box = boxes[output.id]
    width = out_box.x + out_box.width / 2 + OUTPUT_STUB + MARGIN
    height = max(b.y for b in boxes.values()) + NODE_HEIGHT / 2 + MARGIN + 10
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
                label_at=stagger[node.id, k],
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
    return _Sketch(opening, tuple(edges), "".join(parts))


_SUBSCRIPTS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def _plain_symbol(tex: str) -> str:
    """A gate's symbol as the picture writes it: ``n_{9}`` → ``n₉``; ``q`` and ``f`` as
    they are."""
    return re.sub(r"_\{(\d+)\}", lambda m: m[1].translate(_SUBSCRIPTS), tex)


def _shape(shape: list[int]) -> str:
    """``2×3`` on a vector graph's edge."""
    return "×".join(str(n) for n in shape)


def render_graph_svg(
    solution: GraphSolution | VectorSolution, fmt: NumberFormat, title: str | None = None
) -> str:
    """The SVG of the solution's graph; ``title`` defaults to the expression as read. The
    layout is drawn once per graph (:func:`_sketch`); a solve only writes its numbers."""
    nodes = solution.nodes
    names = (
        [str(n.id) for n in nodes]  # a vector graph's steps number its nodes
        if isinstance(solution, VectorSolution)
        else [_plain_symbol(sym) for sym in node_symbols(nodes, fmt)]
    )
    sketch = _sketch(
        tuple(
            _Shape(n.id, n.op, n.label, tuple(n.inputs), name)
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
    parts += [sketch.nodes, "</svg>"]
    return "".join(parts)


def graph_picture(solution: GraphSolution | VectorSolution, fmt: NumberFormat) -> str:
    """The SVG of a graph solution, titled in the current language."""
    title = gettext("Computational graph") + ": " + solution.expression_read
    return render_graph_svg(solution, fmt, title=title)


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
        """The graph's SVG; for a scalar graph, each node's symbol and its local gradients
        written with the gate's own inputs (∂q/∂x = 1)."""
        context: dict[str, Any] = {"svg": Markup(graph_picture(solution, fmt))}
        if not isinstance(solution, VectorSolution):  # a vector graph's nodes are in its steps
            context["nodes_table"] = Markup(nodes_table(solution, fmt))
        return context

    def try_fields(self, problem: Any, fmt: NumberFormat) -> dict[str, list[tuple[str, str]]]:
        """A scalar graph's intermediate nodes, one field each, labelled with the node's
        forward formula in the page's symbols (``q = x + y``, ``n_{5} = w_{0} \\cdot x_{0}``)."""
        if problem.is_vector:
            return {}
        graph = problem.graph
        forward = layout(graph, fmt, "f").forward
        return {
            "nodes": [
                (str(i), forward[i]) for i, gate in enumerate(graph.gates[:-1]) if gate.inputs
            ]
        }

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
