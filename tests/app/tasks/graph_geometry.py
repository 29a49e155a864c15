"""The graph picture's geometry, read back from its SVG: edges (quadratic Béziers), their
arrowheads, the nodes' boxes and every text's box, and what overlaps what.

Text boxes are estimated from the characters' widths in DejaVu Sans (the widest of the usual
sans-serif fonts, the one Debian's chromium draws with), so a picture that passes here has
room to spare with narrower fonts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from xml.etree import ElementTree

SVG = "{http://www.w3.org/2000/svg}"
WIDTHS = {  # advance widths in em (DejaVu Sans)
    **dict.fromkeys("0123456789", 0.637),
    **dict.fromkeys(".,:;", 0.318),
    "-": 0.361,
    "−": 0.838,
    " ": 0.318,
    "∂": 0.517,
    "×": 0.838,
    "·": 0.318,
    "/": 0.337,
    "+": 0.838,
    "*": 0.5,
}
WIDE = 0.7  # a letter (or a character not listed), em
ASCENT, DESCENT = 0.76, 0.24  # of the font size, above and below the baseline
ARROW = 7 * 1.3  # the arrowhead's side: markerWidth 7 in units of the 1.3 stroke


@dataclass(frozen=True)
class Box:
    """An axis-aligned box and what it holds."""

    left: float
    top: float
    right: float
    bottom: float
    what: str

    def grown(self, by: float) -> Box:
        return Box(self.left - by, self.top - by, self.right + by, self.bottom + by, self.what)

    def holds(self, x: float, y: float) -> bool:
        return self.left < x < self.right and self.top < y < self.bottom

    def meets(self, other: Box) -> bool:
        return (
            self.left < other.right
            and other.left < self.right
            and self.top < other.bottom
            and other.top < self.bottom
        )


@dataclass(frozen=True)
class Picture:
    """What the checks need of one SVG."""

    width: float
    edges: list[list[tuple[float, float]]]  # points along each edge, 0.5 units apart or less
    arrows: list[list[tuple[float, float]]]  # points filling each arrowhead
    nodes: list[Box]
    labels: list[Box]  # edge labels and the gates' names
    sizes: list[tuple[str, float]]  # every text and its font size


def text_box(x: float, y: float, text: str, size: float, anchor: str, what: str) -> Box:
    """The box of a ``<text>`` at (x, y) with its anchor."""
    width = sum(WIDTHS.get(c, WIDE) for c in text) * size
    left = {"middle": x - width / 2, "end": x - width}.get(anchor, x)
    return Box(left, y - ASCENT * size, left + width, y + DESCENT * size, what)


def _bezier(path: str) -> list[tuple[float, float]]:
    numbers = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", path)]
    x1, y1, mx, my, x2, y2 = numbers
    steps = max(8, int(((x2 - x1) ** 2 + (y2 - y1) ** 2) ** 0.5 * 2))
    return [
        (
            (1 - t) ** 2 * x1 + 2 * (1 - t) * t * mx + t**2 * x2,
            (1 - t) ** 2 * y1 + 2 * (1 - t) * t * my + t**2 * y2,
        )
        for t in (k / steps for k in range(steps + 1))
    ]


def _arrow(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Points filling the arrowhead at the end of an edge (its tip at the end, along the
    edge's last direction)."""
    (xa, ya), (xb, yb) = points[-2], points[-1]
    length = max(((xb - xa) ** 2 + (yb - ya) ** 2) ** 0.5, 1e-9)
    ux, uy = (xb - xa) / length, (yb - ya) / length
    out = []
    for i in range(11):
        back = ARROW * i / 10
        half = ARROW / 2 * i / 10
        for j in range(-5, 6):
            side = half * j / 5
            out.append((xb - ux * back - uy * side, yb - uy * back + ux * side))
    return out


def read(svg: str) -> Picture:
    """The geometry of the picture ``svg``."""
    root = ElementTree.fromstring(svg)
    width = float(root.get("viewBox", "0 0 0 0").split()[2])
    edges, arrows, nodes, labels, sizes = [], [], [], [], []
    for group in root.iter(f"{SVG}g"):
        kind = group.get("class", "")
        if kind == "edge":
            points = _bezier(group.find(f"{SVG}path").get("d"))  # type: ignore[union-attr]
            edges.append(points)
            arrows.append(_arrow(points))
        elif kind.startswith("node"):
            rect = group.find(f"{SVG}rect")
            assert rect is not None
            x, y = float(rect.get("x", 0)), float(rect.get("y", 0))
            w, h = float(rect.get("width", 0)), float(rect.get("height", 0))
            nodes.append(Box(x, y, x + w, y + h, f"node {group.get('data-node')}"))
    for group in root.iter(f"{SVG}g"):
        kind = group.get("class", "")
        for text in group.findall(f"{SVG}text"):
            size = float(text.get("font-size", 12))
            content = text.text or ""
            sizes.append((content, size))
            if kind == "edge" or text.get("class") == "node-id":
                labels.append(
                    text_box(
                        float(text.get("x", 0)), float(text.get("y", 0)), content, size,
                        text.get("text-anchor", "start"), f"{text.get('class')} {content!r}",
                    )
                )  # fmt: skip
    return Picture(width, edges, arrows, nodes, labels, sizes)


def overlaps(picture: Picture, clearance: float = 1.0) -> list[str]:
    """Every label over an edge, an arrowhead, a node or another label (``clearance``
    units of air around each label)."""
    found = []
    for k, label in enumerate(picture.labels):
        box = label.grown(clearance)
        for n, points in enumerate(picture.edges):
            if any(box.holds(x, y) for x, y in points):
                found.append(f"{label.what} on edge {n}")
        for n, points in enumerate(picture.arrows):
            if any(box.holds(x, y) for x, y in points):
                found.append(f"{label.what} on arrowhead {n}")
        found += [f"{label.what} on {node.what}" for node in picture.nodes if box.meets(node)]
        found += [
            f"{label.what} on {other.what}"
            for other in picture.labels[k + 1 :]
            if label.meets(other)
        ]
    return found
