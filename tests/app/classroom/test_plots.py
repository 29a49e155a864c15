"""The class's results drawn as SVG (app/classroom/plots.py): bars proportional to the
counts, well-formed SVG with escaped labels, a message when no mistake is named."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from app.classroom.gradebook import Analytics, Bin, MisconceptionCount
from app.classroom.plots import COLOURS, WIDTH, histogram, misconceptions, parts

SVG = "{http://www.w3.org/2000/svg}"


def _stats(mistakes: list[MisconceptionCount] | None = None) -> Analytics:
    counts = [0, 2, 0, 0, 0, 0, 0, 0, 1, 4]
    return Analytics(
        students=8,
        submitted=7,
        score_histogram=[
            Bin.model_validate({"from": 10 * i, "to": 10 * (i + 1), "count": c})
            for i, c in enumerate(counts)
        ],
        parts={"loss.loss": {"right": 3, "consistent": 0, "wrong": 1, "blank": 0}},
        misconceptions=mistakes or [],
    )


def _rects(svg: str) -> list[ET.Element]:
    root = ET.fromstring(svg)
    assert root.get("viewBox", "").startswith(f"0 0 {WIDTH} ")
    return root.findall(f".//{SVG}rect")


def test_histogram_columns_are_proportional_to_the_counts() -> None:
    heights = [float(r.get("height", "")) for r in _rects(histogram(_stats()))]
    assert len(heights) == 10
    assert heights[9] == 160.0 and heights[1] == 80.0 and heights[8] == 40.0
    assert heights[0] == 0.0


def test_parts_are_stacked_bars_of_their_verdicts() -> None:
    bars = [r for r in _rects(parts(_stats())) if r.get("height") != "12"]  # not the legend
    widths = {r.get("fill"): float(r.get("width", "")) for r in bars}
    assert set(widths) == {COLOURS["right"], COLOURS["wrong"]}  # no bar for zero counts
    assert abs(widths[COLOURS["right"]] - 3 * widths[COLOURS["wrong"]]) < 0.2
    assert 'data-part="loss.loss"' in parts(_stats())


def test_misconceptions_are_ranked_bars_with_escaped_titles() -> None:
    mistakes = [
        MisconceptionCount(id="loss.log10", title="log <10>", count=4, students=["a"] * 4),
        MisconceptionCount(id="conv.flip", title="x" * 60, count=1, students=["b"]),
    ]
    svg = misconceptions(_stats(mistakes))
    widths = [float(r.get("width", "")) for r in _rects(svg)]
    assert widths[0] == 4 * widths[1]
    assert "log &lt;10&gt;" in svg and "x" * 42 + "…" in svg
    assert len(_rects(misconceptions(_stats(mistakes), limit=1))) == 1


def test_no_mistake_says_so() -> None:
    svg = misconceptions(_stats())
    assert not _rects(svg)
    assert "No named mistake so far." in svg
