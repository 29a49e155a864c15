"""The graph task's view: its form adapter, its page's SVG picture and ``POST /api/v1/graph/svg``.

The picture of a ``graph`` solution is drawn in pure Python.

Layout as in the CS231n slides: inputs on the left, the output on the right, one node per
gate; above each edge the forward value (green), below it the gradient (red). Layers are
longest paths from the inputs, ordered by barycenter sweeps; within a layer a gate sits at
the mean height of its inputs, pushed apart where gates would overlap. Constants feeding a
gate (``max(x, 0)``) are leaves on the left like the variables.

Every text is placed clear of every edge, arrowhead, node and other text: an edge's labels
at the first position along it (from near its start) where both fit, else each on its own;
a gate's name above it, else below or at a corner. Where the edges of inputs used several
times fan out and leave no room, the first gates move further from the inputs
(:data:`SPREADS`); where labels are wider than the room between two gates (e^x of a large x),
the layers move apart. Text widths are estimated generously (:data:`CHAR_WIDTHS`), and the
layout is cached per graph and label widths.

The picture scales with its container (``viewBox``, ``width="100%"``) but keeps a minimum
width so that labels stay readable on a phone: wrap it in a horizontally scrollable block.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise
from typing import Any, NamedTuple
from xml.sax.saxutils import escape, quoteattr

import numpy as np
from fastapi import APIRouter, Response
from markupsafe import Markup
from markupsafe import escape as html_escape
from pydantic import BaseModel

from app.deps import DIGITS, LANG, ApiFormat, query_docs
from app.errors import ERROR_RESPONSES, CheckedJsonRoute
from app.forms import FormAdapter
from app.i18n import current_language, gettext
from app.render import fill, tex
from app.tasks import KeyItem, TaskView
from app.work import off_loop
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
LABEL_AT = 0.35  # where along the first column gap the labels of an edge sit at best
LABEL_SIZE = 12.0  # the font size of an edge's labels (≥ 11 px on screen at MIN_SCALE)
LABEL_CLEARANCE = 2.0  # air between a label and any line, node or other label
LABEL_STEPS = 48  # positions tried along an edge for its labels
ARROW = 7 * 1.3  # an arrowhead's length and width: markerWidth 7 in units of the 1.3 stroke
CHAR_WIDTHS = {  # advance widths in em of DejaVu Sans, the widest usual sans-serif font
    **dict.fromkeys("0123456789", 0.64),
    **dict.fromkeys("+−×", 0.84),
    **dict.fromkeys(".,:;· ", 0.32),
    "-": 0.37,
    "∂": 0.52,
}
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
    first: float = COLUMN,
) -> dict[int, _Box]:
    """Coordinates: a gate at the mean height of its inputs, pushed apart within a layer
    (``row`` apart at least; layers ``column`` apart, the first at ``left``, the first
    gates ``first`` after it)."""
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
            x = left + first + (depth - 1) * column
            boxes[i] = _Box(x, y - shift, _node_width(nodes[i].label))
    return boxes


def _text(x: float, y: float, text: str, cls: str, fill: str, size: float, anchor: str) -> str:
    return (
        f'<text class="{cls}" x="{x:.1f}" y="{y:.1f}" fill="{fill}" font-size="{size:g}" '
        f'text-anchor="{anchor}">{escape(text)}</text>'
    )


Curve = tuple[float, float, float, float, float, float]
"""An edge as a quadratic Bézier: start, control point, end."""
Rect = tuple[float, float, float, float]
"""left, top, right, bottom"""


def _curve(start: tuple[float, float], end: tuple[float, float], bend: float) -> Curve:
    """A straight (or, for a repeated pair, bent) edge."""
    (x1, y1), (x2, y2) = start, end
    return (x1, y1, (x1 + x2) / 2, (y1 + y2) / 2 + bend, x2, y2)


def _point(c: Curve, t: float) -> tuple[float, float]:
    x1, y1, mx, my, x2, y2 = c
    return (
        (1 - t) ** 2 * x1 + 2 * (1 - t) * t * mx + t**2 * x2,
        (1 - t) ** 2 * y1 + 2 * (1 - t) * t * my + t**2 * y2,
    )


def _polyline(c: Curve) -> list[tuple[float, float, float, float]]:
    """The edge as segments (one for a straight edge)."""
    x1, y1, mx, my, x2, y2 = c
    if abs((mx - x1) * (y2 - y1) - (my - y1) * (x2 - x1)) < 1e-6:
        return [(x1, y1, x2, y2)]
    points = [_point(c, k / 16) for k in range(17)]
    return [(*a, *b) for a, b in pairwise(points)]


def _arrowhead(c: Curve) -> list[tuple[float, float, float, float]]:
    """The sides of the arrowhead at the end of an edge."""
    *_, mx, my, x2, y2 = c
    dx, dy = x2 - mx, y2 - my
    norm = max(math.hypot(dx, dy), 1e-9)
    ux, uy = dx / norm, dy / norm
    bx, by = x2 - ux * ARROW, y2 - uy * ARROW
    a = (bx - uy * ARROW / 2, by + ux * ARROW / 2)
    b = (bx + uy * ARROW / 2, by - ux * ARROW / 2)
    return [(x2, y2, *a), (*a, *b), (*b, x2, y2)]


def _crosses(segment: tuple[float, float, float, float], r: Rect) -> bool:
    """Whether a segment meets the rectangle ``r`` (Liang–Barsky clipping)."""
    x1, y1, x2, y2 = segment
    left, top, right, bottom = r
    dx, dy = x2 - x1, y2 - y1
    t0, t1 = 0.0, 1.0
    for p, q in ((-dx, x1 - left), (dx, right - x1), (-dy, y1 - top), (dy, bottom - y1)):
        if p == 0:
            if q < 0:
                return False
        elif p < 0:
            t0 = max(t0, q / p)
        else:
            t1 = min(t1, q / p)
        if t0 > t1:
            return False
    return True


def _meets(a: Rect, b: Rect) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def text_width(text: str, size: float = LABEL_SIZE) -> float:
    """The width of a label in the picture's units (letters counted as wide as ``m``)."""
    return sum(CHAR_WIDTHS.get(c, 0.9) for c in text) * size


class _Room:
    """What the labels of a picture must keep clear of: its edges, arrowheads, nodes (with
    their names and grids) and the labels placed so far, within its frame; indexed by the
    cells of a grid, so that a label is checked against what lies near it only."""

    CELL = 48.0

    def __init__(self, frame: Rect, lines: list[tuple[float, float, float, float]],
                 boxes: list[Rect]) -> None:  # fmt: skip
        self.frame = frame
        self.things: list[tuple[Rect, tuple[float, float, float, float] | None]] = []
        self.cells: dict[tuple[int, int], list[int]] = {}
        for x1, y1, x2, y2 in lines:
            self._add((min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2)), (x1, y1, x2, y2))
        for box in boxes:
            self.add(box)

    def _keys(self, r: Rect) -> list[tuple[int, int]]:
        size = self.CELL
        return [
            (i, j)
            for i in range(int(r[0] // size), int(r[2] // size) + 1)
            for j in range(int(r[1] // size), int(r[3] // size) + 1)
        ]

    def _add(self, bounds: Rect, segment: tuple[float, float, float, float] | None) -> None:
        self.things.append((bounds, segment))
        for key in self._keys(bounds):
            self.cells.setdefault(key, []).append(len(self.things) - 1)

    def add(self, box: Rect) -> None:
        """A box the next labels keep clear of (a node, a label placed)."""
        self._add(box, None)

    def clashes(self, r: Rect) -> int:
        """How many things the rectangle ``r`` (with air around it) meets; 1 more if it
        leaves the frame."""
        c = LABEL_CLEARANCE
        grown = (r[0] - c, r[1] - c, r[2] + c, r[3] + c)
        f = self.frame
        count = int(r[0] < f[0] or r[1] < f[1] or r[2] > f[2] or r[3] > f[3])
        near = {k for key in self._keys(grown) for k in self.cells.get(key, ())}
        for k in near:
            bounds, segment = self.things[k]
            if segment is None:
                count += _meets(grown, bounds)
            elif _touches(grown, bounds):
                count += _crosses(segment, grown)
        return count


def _touches(a: Rect, b: Rect) -> bool:
    """Whether two boxes meet or touch (a horizontal or vertical line's box is flat)."""
    return a[0] <= b[2] and b[0] <= a[2] and a[1] <= b[3] and b[1] <= a[3]


def _label_rect(x: float, y: float, width: float) -> Rect:
    """A label centred at (x, y)."""
    half = LABEL_SIZE / 2
    return (x - width / 2, y - half, x + width / 2, y + half)


def _beside(c: Curve, t: float, width: float, side: int, away: float = 0.0) -> Rect:
    """A label of ``width`` beside the edge at ``t``: above it (``side`` 1) or below (−1),
    far enough along the normal that its corner clears a sloping line, and ``away`` more."""
    x1, y1, mx, my, x2, y2 = c
    x, y = _point(c, t)
    tx = 2 * (1 - t) * (mx - x1) + 2 * t * (x2 - mx)
    ty = 2 * (1 - t) * (my - y1) + 2 * t * (y2 - my)
    norm = max(math.hypot(tx, ty), 1e-9)
    nx, ny = ty / norm * side, -tx / norm * side
    off = width / 2 * abs(nx) + LABEL_SIZE / 2 * abs(ny) + LABEL_CLEARANCE + 1 + away
    return _label_rect(x + nx * off, y + ny * off, width)


def _place_labels(c: Curve, widths: tuple[float, float], room: _Room) -> tuple[Rect, Rect]:
    """Where an edge's value (above it) and gradient (below it) go: the position nearest
    to the edge's start (where it is still apart from its neighbours, ``LABEL_AT`` of a
    column gap) with both clear, else each one on its own (on its side first, a little
    farther from the edge if need be), else where they meet least."""
    length = max(c[4] - c[0], 1.0)
    best = min(0.8, LABEL_AT * (COLUMN - 40) / length)
    ts = sorted((k / LABEL_STEPS for k in range(2, LABEL_STEPS - 1)), key=lambda t: abs(t - best))
    for t in ts:
        pair = (_beside(c, t, widths[0], 1), _beside(c, t, widths[1], -1))
        if not room.clashes(pair[0]) and not room.clashes(pair[1]):
            room.add(pair[0])
            room.add(pair[1])
            return pair
    placed = []
    for width, side in zip(widths, (1, -1), strict=True):
        spots = [
            _beside(c, t, width, s, away)
            for away in (0.0, LABEL_SIZE / 2, LABEL_SIZE)
            for s in (side, -side)
            for t in ts
        ]
        spot = next((r for r in spots if not room.clashes(r)), None)
        if spot is None:
            spot = min(spots, key=room.clashes)  # the first of the least crowded
        room.add(spot)
        placed.append(spot)
    return placed[0], placed[1]


def _text_start(r: Rect, cls: str, fill: str) -> str:
    """The opening tag of an edge label centred in the rectangle ``r``."""
    x, y = (r[0] + r[2]) / 2, (r[1] + r[3]) / 2 + 0.3 * LABEL_SIZE
    return (
        f'<text class="{cls}" x="{x:.1f}" y="{y:.1f}" fill="{fill}" '
        f'font-size="{LABEL_SIZE:g}" text-anchor="middle">'
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
    target node, input slot, curve and opening SVG; the output stub last, with source and
    target the output), its nodes (the SVG before a gate's name, the name and where it goes
    above the gate), and what the labels must keep clear of."""

    opening: str
    edges: tuple[tuple[int, int, int, Curve, str], ...]
    nodes: tuple[tuple[str, str, _Box], ...]
    grids: tuple[tuple[int, str, tuple[str, ...]], ...]
    """Per node drawn with a grid: its id, the grid's frame and the openings of its cells'
    texts (row by row)."""
    frame: Rect
    obstacles: tuple[Rect, ...]
    """The nodes and their grids."""


@lru_cache(maxsize=512)
def _sketch(shapes: tuple[_Shape, ...], spread: float = 1.0, column: float = COLUMN) -> _Sketch:
    """The picture of a graph without its numbers, its first gates ``spread`` times the usual
    distance after the inputs, its layers ``column`` apart at least and its output stub as
    much longer than usual (cached per graph and its labels)."""
    nodes = list(shapes)
    rows = max(n.grid[0] for n in nodes)
    grid_width = max(n.grid[1] for n in nodes) * GRID_CELL
    column = max(column, grid_width + 60)
    boxes = _place(
        nodes,
        _layers(nodes),
        row=ROW + rows * GRID_LINE,
        column=column,
        left=MARGIN + max(20.0, grid_width / 2),
        first=column * spread,
    )
    output = nodes[-1]
    out_box = boxes[output.id]
    stub = OUTPUT_STUB + column - max(COLUMN, grid_width + 60)
    width = out_box.x + max(out_box.width, grid_width) / 2 + stub + MARGIN
    height = max(b.y for b in boxes.values()) + NODE_HEIGHT / 2 + rows * GRID_LINE + MARGIN + 10
    opening = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="graph" viewBox="0 0 {width:.0f} '
        f'{height:.0f}" width="100%" style="min-width:{width * MIN_SCALE:.0f}px;'
        f'max-width:{width * 1.5:.0f}px" role="img" font-family="sans-serif">'
    )
    edges = []
    for node in nodes:
        end = boxes[node.id]
        seen: dict[int, int] = {}
        for k, j in enumerate(node.inputs):
            start = boxes[j]
            repeat = seen.get(j, 0)
            seen[j] = repeat + 1
            curve = _curve(
                (start.x + start.width / 2, start.y),
                (end.x - end.width / 2, end.y),
                bend=28.0 * repeat * (1 if repeat % 2 else -1),
            )
            edges.append((j, node.id, k, curve, _edge_opening(curve)))
    end = _curve((out_box.x + out_box.width / 2, out_box.y),
                 (out_box.x + out_box.width / 2 + stub, out_box.y), 0.0)  # fmt: skip
    edges.append((output.id, output.id, -1, end, _edge_opening(end)))
    parts = []
    obstacles: list[Rect] = []
    for node in nodes:
        box = boxes[node.id]
        cls = {"input": "input", "const": "const"}.get(node.op, "gate")
        radius = NODE_HEIGHT / 2 if cls == "gate" else 5
        fill = "#ffffff" if cls == "gate" else "#f3f3f3"
        left, top = box.x - box.width / 2, box.y - NODE_HEIGHT / 2
        obstacles.append((left, top, left + box.width, top + NODE_HEIGHT))
        head = (
            f'<g class="node {cls}" data-node="{node.id}" data-op={quoteattr(node.op)}>'
            f'<rect x="{left:.1f}" y="{top:.1f}" width="{box.width:.1f}" '
            f'height="{NODE_HEIGHT:g}" rx="{radius:g}" fill="{fill}" stroke="#333333" '
            'stroke-width="1.3"/>'
            + _text(box.x, box.y + 5, node.label, "label", "#111111", 14, "middle")
        )
        parts.append((head, node.name if cls == "gate" else "", box))
        if node.grid[0]:
            half = node.grid[1] * GRID_CELL / 2
            bottom = top + NODE_HEIGHT + 5 + node.grid[0] * GRID_LINE
            obstacles.append((box.x - half, top + NODE_HEIGHT, box.x + half, bottom))
    grids = tuple((node.id, *_grid(boxes[node.id], *node.grid)) for node in nodes if node.grid[0])
    return _Sketch(opening, tuple(edges), tuple(parts), grids, (0.0, 0.0, width, height),
                   tuple(obstacles))  # fmt: skip


def _edge_opening(c: Curve) -> str:
    """An edge's group and path (its two labels follow)."""
    x1, y1, mx, my, x2, y2 = c
    return (
        '<g class="edge">'
        f'<path d="M{x1:.1f},{y1:.1f} Q{mx:.1f},{my:.1f} {x2:.1f},{y2:.1f}" fill="none" '
        f'stroke="{EDGE_COLOR}" stroke-width="1.3" marker-end="url(#arrow)"/>'
    )


SPREADS = (1.0, 1.4, 1.8, 2.4, 3.0)
"""The distances between the inputs and the first gates tried (where the edges of inputs
used more than once fan out and cross), in units of the usual one, until every label has
a clear place."""


@dataclass(frozen=True)
class _Labelled:
    """A sketch with its texts placed: the nodes' SVG (with the gates' names) and the
    openings of every edge's value and gradient texts."""

    sketch: _Sketch
    nodes: str
    edges: tuple[tuple[str, str], ...]
    clashes: int
    """How many texts meet something (the last resort)."""


def _name_spots(box: _Box, name: str) -> list[Rect]:
    """Where a gate's name may go: above it, below it, then at its upper or lower corners."""
    half = text_width(name) / 2
    side = box.width / 2 + half
    above, below = box.y - NODE_HEIGHT / 2 - 9, box.y + NODE_HEIGHT / 2 + 9
    return [
        (box.x + dx - half, y - 6, box.x + dx + half, y + 6)
        for dx, y in ((0, above), (0, below), (-side, above), (side, above), (-side, below),
                      (side, below))
    ]  # fmt: skip


def _label(
    sketch: _Sketch, widths: tuple[tuple[float, float], ...], give_up: bool = False
) -> _Labelled | None:
    """Every text of a sketch placed clear of its lines, nodes and each other: a gate's name
    (:func:`_name_spots`), an edge's labels by :func:`_place_labels` (the longest edges,
    which cross the most, first); None at the first clash if ``give_up``."""
    lines = [seg for *_, c, _ in sketch.edges for seg in _polyline(c) + _arrowhead(c)]
    room = _Room(sketch.frame, lines, list(sketch.obstacles))
    clashes = 0
    nodes = []
    for head, name, box in sketch.nodes:
        if name:
            rects = _name_spots(box, name)
            spot = next((r for r in rects if not room.clashes(r)), None)
            if spot is None:
                if give_up:
                    return None
                spot = min(rects, key=room.clashes)
                clashes += room.clashes(spot)
            room.add(spot)
            x, y = (spot[0] + spot[2]) / 2, (spot[1] + spot[3]) / 2 + 0.3 * LABEL_SIZE
            head += _text(x, y, name, "node-id", "#6b6b6b", 12, "middle")
        nodes.append(head + "</g>")
    order = sorted(range(len(sketch.edges)),
                   key=lambda e: sketch.edges[e][3][0] - sketch.edges[e][3][4])  # fmt: skip
    spots: dict[int, tuple[Rect, Rect]] = {}
    for e in order:
        spots[e] = _place_labels(sketch.edges[e][3], widths[e], room)
        clashes += sum(room.clashes(r) - 1 for r in spots[e])  # each meets itself
        if clashes and give_up:
            return None
    edges = tuple(
        (_text_start(spots[e][0], "fwd", FORWARD_COLOR),
         _text_start(spots[e][1], "grad", GRADIENT_COLOR))
        for e in range(len(sketch.edges))
    )  # fmt: skip
    return _Labelled(sketch, "".join(nodes), edges, clashes)


def _wide_column(shapes: tuple[_Shape, ...], widths: tuple[tuple[float, float], ...]) -> float:
    """Layers far enough apart for the widest label between the two widest nodes, with air
    on each side."""
    widest_nodes = sorted(_node_width(n.label) for n in shapes)[-2:]
    return max(map(max, widths)) + sum(widest_nodes) / len(widest_nodes) + 6 * LABEL_CLEARANCE


@lru_cache(maxsize=512)
def _labelled(shapes: tuple[_Shape, ...], widths: tuple[tuple[float, float], ...]) -> _Labelled:
    """The picture of a graph with its texts placed (:func:`_label`), for labels of these
    ``widths`` (cached per graph and widths, rounded up to a digit): its first gates as
    close to the inputs as they can be with every text clear; else its layers further apart,
    as wide labels need (:func:`_wide_column`); else as far as they go."""
    column = _wide_column(shapes, widths)
    for stretch in (COLUMN, column) if column > COLUMN else (COLUMN,):
        for spread in SPREADS[:-1]:
            done = _label(_sketch(shapes, spread, stretch), widths, give_up=True)
            if done is not None:
                return done
    done = _label(_sketch(shapes, SPREADS[-1]), widths)
    assert done is not None
    return done


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


def _edge_ends(shapes: tuple[_Shape, ...]) -> list[tuple[int, int, int]]:
    """Every edge's source, target and input slot, in the sketch's order (the output stub
    last, as ``(output, output, -1)``)."""
    ends = [(j, node.id, k) for node in shapes for k, j in enumerate(node.inputs)]
    return [*ends, (shapes[-1].id, shapes[-1].id, -1)]


def _edge_texts(
    solution: GraphSolution | VectorSolution, j: int, dst: int, k: int, fmt: NumberFormat
) -> tuple[str, str]:
    """An edge's value and gradient as the picture writes them: numbers, or a vector
    graph's shapes."""
    nodes, num = solution.nodes, fmt.num
    if isinstance(solution, VectorSolution):  # shapes on the edges, numbers of scalars
        value, grad = nodes[j].value, nodes[j].gradient
        value_text = num(value) if isinstance(value, float) else _shape(nodes[j].shape)
        grad_text = num(grad) if isinstance(grad, float) else "∂ " + _shape(nodes[j].shape)
        return value_text, grad_text
    grad = nodes[dst].downstream[k] if k >= 0 else nodes[dst].upstream
    return num(nodes[j].value), num(grad)


def _rounded_up(x: float, step: float) -> float:
    return math.ceil(x / step - 1e-9) * step


def _own(text: str) -> float:
    """An edge label's own width, rounded up to four digits."""
    return _rounded_up(text_width(text), 4 * CHAR_WIDTHS["0"] * LABEL_SIZE)


@lru_cache(maxsize=4096)
def _kept(text: str, digits: int, decimal_comma: bool) -> float:
    """The width kept for an edge's label: that of ``−0.0000`` in the format's decimals, or,
    for a longer text, its width rounded up to four digits. The layout depends on these
    widths only, so a class's new numbers for one expression (most of them no longer than
    that) find it drawn (:func:`_labelled`)."""
    usual = text_width("−0" + ("," if decimal_comma else ".") + "0" * digits)
    width = text_width(text)
    return usual if width <= usual else _rounded_up(width, 4 * CHAR_WIDTHS["0"] * LABEL_SIZE)


class _Node(NamedTuple):
    """What the picture and the node table take of a solution's node before its numbers;
    a tuple of them (with the number format) is the key of what is drawn once per graph."""

    id: int
    op: str
    label: str
    name: str | None
    inputs: tuple[int, ...]
    param: float | None
    """A gate's constant (c of +c); a constant's value, which is its symbol."""
    shape: tuple[int, ...]
    """A vector graph's node's shape (``()`` in a scalar graph)."""
    local: tuple[str, ...]
    """A scalar graph's node's local gradients in x and y (:func:`nodes_table`)."""

    @property
    def value(self) -> float | None:
        """A constant's value, as :func:`node_symbols` reads it."""
        return self.param


def _structure(solution: GraphSolution | VectorSolution) -> tuple[_Node, ...]:
    """The solution's nodes without their numbers."""
    if isinstance(solution, VectorSolution):
        return tuple(
            _Node(n.id, n.op, n.label, n.name, tuple(n.inputs), n.param, tuple(n.shape), ())
            for n in solution.nodes
        )
    return tuple(
        _Node(n.id, n.op, n.label, n.name, tuple(n.inputs),
              n.value if n.op == "const" else n.param, (), tuple(n.local_formulas))
        for n in solution.nodes
    )  # fmt: skip


_SLOT = "\x00"
"""Where a number goes in markup made into a template (:func:`_template`): no text has it
and escaping keeps it."""


def _template(markup: str) -> tuple[str, ...]:
    """Markup with :data:`_SLOT` s as its pieces around them, for :func:`_fill` (which
    costs a tenth of ``str.format`` on LaTeX full of braces)."""
    return tuple(markup.split(_SLOT))


_DEFS = (
    '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
    f'markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="{EDGE_COLOR}"/>'
    "</marker></defs>"
)


def _picture(done: _Labelled) -> tuple[str, ...]:
    """A labelled sketch's SVG up to its nodes as a template (:func:`_template`): a slot for
    its title, then one for each edge's value and gradient, in order."""
    parts = [done.sketch.opening, f"<title>{_SLOT}</title>", _DEFS]
    for (*_, opening), (value_at, grad_at) in zip(done.sketch.edges, done.edges, strict=True):
        parts += [opening, value_at, _SLOT, "</text>", grad_at, _SLOT, "</text></g>"]
    parts.append(done.nodes)
    return _template("".join(parts))


@dataclass(frozen=True, eq=False)
class _Drawing:
    """A graph's picture before its numbers: its nodes' shapes and every edge's ends
    (:func:`_edge_ends`). Compared and hashed as itself: a key of its pictures (:func:`_drawn`)."""

    shapes: tuple[_Shape, ...]
    ends: tuple[tuple[int, int, int], ...]

    def picture(
        self, texts: list[tuple[str, str]], fmt: NumberFormat
    ) -> tuple[tuple[str, ...], _Sketch]:
        """The template and sketch of the picture with these labels: its layout for the
        widths kept for them (:func:`_kept`), else for their own (:func:`_own`)."""
        digits, comma = fmt.digits, fmt.decimal_comma
        found = _drawn(
            self, tuple((_kept(v, digits, comma), _kept(g, digits, comma)) for v, g in texts)
        )
        if found[0]:
            return found
        # no room for the widths kept: room for these texts' own (to four digits)
        return _drawn(self, tuple((_own(v), _own(g)) for v, g in texts), clashes=True)


@lru_cache(maxsize=256)
def _drawn(
    drawing: _Drawing, widths: tuple[tuple[float, float], ...], clashes: bool = False
) -> tuple[tuple[str, ...], _Sketch]:
    """A drawing's picture for labels of ``widths`` (:func:`_labelled`) as a template
    (:func:`_picture`), with its sketch; ``()`` where its texts clash, unless ``clashes``
    (the last resort) allows them."""
    done = _labelled(drawing.shapes, widths)
    return (() if done.clashes and not clashes else _picture(done)), done.sketch


@lru_cache(maxsize=128)
def _drawing(nodes: tuple[_Node, ...], fmt: NumberFormat) -> _Drawing:
    """The :class:`_Drawing` of a graph (cached per graph and number format)."""
    names = [_plain_symbol(sym) for sym in node_symbols(nodes, fmt)]
    shapes = tuple(
        _Shape(n.id, n.op, n.label, n.inputs, name, _grid_of(n))
        for n, name in zip(nodes, names, strict=True)
    )
    return _Drawing(shapes, tuple(_edge_ends(shapes)))


def render_graph_svg(
    solution: GraphSolution | VectorSolution, fmt: NumberFormat, title: str | None = None
) -> str:
    """The SVG of the solution's graph; ``title`` defaults to the expression as read. The
    layout is drawn once per graph and width of its labels (:func:`_labelled`); a solve
    then only writes its numbers."""
    return _svg(solution, _structure(solution), fmt, title)


def _svg(
    solution: GraphSolution | VectorSolution,
    structure: tuple[_Node, ...],
    fmt: NumberFormat,
    title: str | None,
) -> str:
    """:func:`render_graph_svg` of a solution whose :func:`_structure` is given."""
    drawing = _drawing(structure, fmt)
    texts = [_edge_texts(solution, j, dst, k, fmt) for j, dst, k in drawing.ends]
    template, sketch = drawing.picture(texts, fmt)
    caption = title if title is not None else f"Computational graph: {solution.expression_read}"
    labels = [text for pair in texts for text in pair]
    joined = "".join(labels)
    if "&" in joined or "<" in joined or ">" in joined:  # numbers and shapes never have them
        labels = [escape(text) for text in labels]
    svg = fill(template, [escape(caption), *labels])
    if not sketch.grids:
        return svg + "</svg>"
    parts = [svg]
    nodes = solution.nodes
    for i, frame, cells in sketch.grids:
        parts += [f'<g class="grid" data-node="{i}">', frame]
        for opening, value in zip(cells, np.ravel(nodes[i].value).tolist(), strict=True):
            parts += [opening, escape(fmt.num(value)), "</text>"]
        parts.append("</g>")
    parts.append("</svg>")
    return "".join(parts)


def graph_picture(solution: GraphSolution | VectorSolution, fmt: NumberFormat) -> str:
    """The SVG of a graph solution, titled in the current language."""
    return render_graph_svg(solution, fmt, title=_picture_title(solution))


def _picture_title(solution: GraphSolution | VectorSolution) -> str:
    return gettext("Computational graph") + ": " + solution.expression_read


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
    return Response(await off_loop(_picture_of, problem, fmt), media_type="image/svg+xml")


def _picture_of(problem: GraphProblem, fmt: NumberFormat) -> str:
    """:func:`graph_picture` of the problem's solution, solved without sympy (the picture
    shows no symbolic derivatives)."""
    solution = get_task("graph").solve(problem, fmt, symbolic=False)
    return graph_picture(solution, fmt)  # type: ignore[arg-type]


_GENERIC = re.compile(r"(?<![\\A-Za-z])([xy])(?![A-Za-z])")


def _with_inputs(formula: str, names: dict[str, str]) -> str:
    """A rule's formula in x and y with the gate's own inputs put in their place."""
    return _GENERIC.sub(lambda m: f"{{{names.get(m[1], m[1])}}}", formula)


def _local_gradients(nodes: Sequence[_Node], symbols: Sequence[str]) -> list[list[tuple[str, str]]]:
    """Per node and input, ``∂q/∂x`` and its formula: the rule's (written in a generic x
    and y) with the gate's real inputs put in."""
    out = []
    for node in nodes:
        names = {"x": symbols[node.inputs[0]] if node.inputs else "x"}
        if len(node.inputs) > 1:
            names["y"] = symbols[node.inputs[1]]
        out.append([
            (f"\\partial {symbols[node.id]} / \\partial {symbols[node.inputs[k]]}",
             _with_inputs(formula, names))
            for k, formula in enumerate(node.local)
        ])  # fmt: skip
    return out


@lru_cache(maxsize=128)
def _table(
    nodes: tuple[_Node, ...], fmt: NumberFormat, lang: str
) -> tuple[tuple[str, ...], tuple[tuple[str, ...], ...]]:
    """:func:`nodes_table` of a graph as a template (:func:`_template`; cached per graph,
    number format and language ``lang``, the current one): per node a slot for its value,
    two for each local gradient's value where it is not its formula (``∂q/∂x = 1``), then
    one for its upstream and one for its downstream gradients; and per node the formulas
    of its local gradients with its inputs put in."""
    symbols = node_symbols(nodes, fmt)
    local = _local_gradients(nodes, symbols)
    names = [
        html_escape(gettext(h))
        for h in (
            N_("node"), N_("gate"), N_("inputs"), N_("forward"), N_("local gradient"),
            N_("upstream"), N_("downstream"),
        )
    ]  # fmt: skip
    heads = "".join(f"<th>{h}</th>" for h in names)
    # each cell names its column too: on a phone the rows are shown as cards (app.css)
    local_class = ' class="local"'
    rows = []
    for n in nodes:
        shown = n.name if n.op == "input" else n.label
        cells = (
            tex(symbols[n.id]),
            html_escape(shown),
            ", ".join(tex(symbols[j]) for j in n.inputs),
            _SLOT,
            "<br>".join(tex(f"{d} = {own}{_SLOT}") for d, own in local[n.id]),
            _SLOT,
            _SLOT,
        )
        rows.append(
            f'      <tr data-node="{n.id}" tabindex="0">\n'
            f'        <th scope="row">{n.id}</th>\n'
            + "".join(
                f'        <td{local_class if k == 4 else ""} data-label="{names[k]}">'
                f"<span>{cell}</span></td>\n"
                for k, cell in enumerate(cells)
            )
            + "      </tr>\n"
        )
    html = (
        '<div class="matrix-wrap">\n  <table class="matrix nodes">\n'
        f"    <caption>{gettext('Every node: both passes')}</caption>\n"
        f"    <thead><tr><th>#</th>{heads}</tr></thead>\n    <tbody>\n"
        + "".join(rows)
        + "    </tbody>\n  </table>\n  </div>"
    )
    return _template(html), tuple(tuple(own for _, own in row) for row in local)


def nodes_table(
    solution: GraphSolution, fmt: NumberFormat, structure: tuple[_Node, ...] | None = None
) -> str:
    """A scalar graph's nodes with both passes, a row each: its symbol, gate, inputs, forward
    value, local gradients (``∂q/∂x = formula = value``, with the gate's own inputs;
    ``∂q/∂x = 1`` where the formula is the value), upstream and downstream gradients. Built
    here (a template loop cost more than the rest of the page), once per graph
    (:func:`_table`, given its ``structure`` or not): a solve only writes its numbers."""
    template, formulas = _table(
        _structure(solution) if structure is None else structure, fmt, current_language.get()
    )
    num, tex_number = fmt.num, fmt.tex
    numbers: list[str] = []
    for n, own in zip(solution.nodes, formulas, strict=True):
        numbers.append(num(n.value))
        for formula, value in zip(own, n.local_gradients, strict=True):
            shown = tex_number(value)
            more = "" if formula == shown else f" = {shown}"
            numbers += (more, more)
        numbers += (num(n.upstream), "; ".join(num(d) for d in n.downstream))
    return fill(template, numbers)


_PARTIAL_F = "\\partial f / \\partial "


@lru_cache(maxsize=128)
def _results(names: tuple[str, ...]) -> tuple[str, ...]:
    """The answer's list of f and ∂f/∂ each of ``names`` as a template (:func:`_template`):
    two slots for f (its value exact, then shown), then two for each gradient."""
    from app.pages import tex_name  # the pages import every view

    rows = [f'<dt>{tex("f")}</dt><dd class="output" data-value="{_SLOT}"><strong>{_SLOT}</strong>'
            "</dd>"]  # fmt: skip
    rows += [
        f'<dt>{tex(_PARTIAL_F + tex_name(name))}</dt><dd class="gradient" '
        f'data-name="{html_escape(name)}" data-value="{_SLOT}">{_SLOT}</dd>'
        for name in names
    ]
    return _template("\n    ".join(rows))


def results_html(solution: GraphSolution, fmt: NumberFormat) -> str:
    """f and ∂f/∂ each variable, as the page lists them (:func:`_results`): each number
    shown (``data-value`` holds it exact)."""
    answer, num = solution.answer, fmt.num
    numbers = [str(answer.output), num(answer.output)]
    for g in answer.gradients.values():
        numbers += (str(g), num(g))
    return fill(_results(tuple(answer.gradients)), numbers)


class GraphView(TaskView):
    """The graph page shows its picture; the try page reads gradients as ``w0 = 1, …``."""

    def page_context(self, solution: Any, problem: Any, fmt: NumberFormat) -> dict[str, Any]:
        """The graph's SVG; for a scalar graph, its node table (each node's symbol, its local
        gradients written with the gate's own inputs, ∂q/∂x = 1); for a vector graph, each
        node's symbol (q, f, n₉ as the steps name them) for the template's table."""
        structure = _structure(solution)
        title = _picture_title(solution)
        context: dict[str, Any] = {"svg": Markup(_svg(solution, structure, fmt, title))}
        if isinstance(solution, VectorSolution):
            context["symbols"] = node_symbols(solution.nodes, fmt)
        else:
            context["nodes_table"] = Markup(nodes_table(solution, fmt, structure))
            context["results"] = Markup(results_html(solution, fmt))
        return context

    def text_fields(self, problem: Any, shapes: Mapping[str, tuple[int, ...]]) -> set[str]:
        """A scalar graph's node fields take one number each; a vector graph's take vectors
        and matrices (``0.2 0.4``, ``1 2; 3 4``)."""
        fields = super().text_fields(problem, shapes) - {"nodes"}
        if problem.is_vector:
            fields |= {f"nodes.{key}" for key, _ in vector_node_fields(problem, NumberFormat())}
        return fields

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
