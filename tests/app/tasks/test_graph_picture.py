"""The graph picture names its gates as the graph page does, and its texts lie clear of its
lines, nodes and each other (geometry read back from the SVG: :mod:`.graph_geometry`)."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from tests.app.tasks.graph_geometry import overlaps, read


def _names(page: str) -> list[str]:
    return re.findall(r'<text class="node-id"[^>]*>([^<]*)</text>', page)


def test_gates_are_named_as_on_the_page() -> None:
    client = TestClient(create_app())
    slide = client.get("/graph", params={"expression": "(x+y)*z", "values": "x=-2, y=5, z=-4"})
    assert _names(slide.text) == ["q", "f"]  # as the slide and the page's table write them
    lecture = client.get("/graph").text
    assert _names(lecture) == ["n₅", "n₆", "n₇", "n₈", "n₉", "n₁₀", "n₁₁", "f"]
    assert 'data-tex="n_{9}"' in lecture  # the page's table names the same node n₉
    svg = client.post(
        "/api/v1/graph/svg", json={"expression": "(x+y)*z", "values": {"x": -2, "y": 5, "z": -4}}
    )
    assert svg.status_code == 200 and _names(svg.text) == ["q", "f"]


def test_a_graph_with_a_constant_leaf_is_drawn() -> None:
    """A constant leaf (max(x, 0)) has no ``param`` in the solution: named by its value."""
    page = TestClient(create_app()).get(
        "/graph", params={"expression": "max(x, 0)", "values": "x=1"}
    )
    assert page.status_code == 200
    assert _names(page.text) == ["f"]


LARGE = {
    "expression": "1/(1+e^-(w0x0+w1x1+w2x2+w3x3+w4))*max(x0, x1) + tanh(w0*w1 - x2)",
    "values": "w0 = 2, x0 = -1, w1 = -3, x1 = -2, w2 = 0.5, x2 = 1.25, w3 = -1.5, x3 = 3, w4 = -3",
}
MIXED = {
    "expression": "sigmoid(w0*x0 + w1*x1 + w2) * tanh(x0 - w1) + exp(w2*x1)",
    "values": "w0 = 2, x0 = -1, w1 = -3, x1 = -2, w2 = -3",
}

WIDE = {  # e^16 = 8886110.5205: labels wider than the room between two gates
    "expression": "1/(1+exp(-(w0*x0+w1*x1+w2)))",
    "values": "w0 = 3, x0 = -3, w1 = -2, x1 = 3, w2 = -1",
}


def _picture(client: TestClient, params: dict[str, str]) -> str:
    page = client.get("/graph", params=params).text
    return page[page.index("<svg") : page.index("</svg>") + 6]


@pytest.mark.parametrize("digits", ["2", "4"])
@pytest.mark.parametrize("lang", ["en", "ru"])
@pytest.mark.parametrize(
    "problem", [{}, LARGE, MIXED, WIDE], ids=["lecture", "large", "mixed", "wide"]
)
def test_no_label_lies_on_an_edge_an_arrowhead_a_node_or_another_label(
    problem: dict[str, str], lang: str, digits: str
) -> None:
    """Every edge's value and gradient and every gate's name is clear of every line (the
    edges, their arrowheads), every node and every other text, with a unit of air."""
    client = TestClient(create_app())
    picture = read(_picture(client, {**problem, "lang": lang, "digits": digits}))
    assert len(picture.labels) > 30
    assert not overlaps(picture)


def test_the_texts_stay_readable_on_a_phone_and_a_desktop() -> None:
    """At its smallest (its min-width) every text is at least 11 px; the labels are 12."""
    svg = _picture(TestClient(create_app()), LARGE)
    width = read(svg).width
    min_width = float(re.search(r"min-width:(\d+)px", svg)[1])  # type: ignore[index]
    scale = min_width / width
    assert min(size for _, size in read(svg).sizes) * scale >= 11


def test_new_numbers_for_one_expression_reuse_its_layout() -> None:
    from app.tasks import graph as view
    from solvers.core import NumberFormat
    from solvers.registry import TASKS

    task, fmt = TASKS["graph"], NumberFormat()
    expression = "1/(1+exp(-(w0*x0+w1*x1+w2)))"
    drawn = []
    for k in range(6):
        values = {"w0": 2 - k, "x0": -1, "w1": -3, "x1": -2 + k / 2, "w2": -3}
        problem = task.problem_model(expression=expression, values=values)
        before = view._labelled.cache_info().misses
        view.render_graph_svg(task.solve(problem, fmt), fmt)
        drawn.append(view._labelled.cache_info().misses - before)
    assert sum(drawn[1:]) == 0  # drawn once, then only the numbers are written


def test_wide_numbers_move_the_layers_apart_once_per_width() -> None:
    """Labels too wide for the room between two gates (e^x of a large x) move the layers
    apart; numbers as wide (rounded up to four digits) reuse that layout."""
    from app.tasks import graph as view
    from solvers.core import NumberFormat
    from solvers.registry import TASKS

    task, fmt = TASKS["graph"], NumberFormat()
    expression = "1/(1+exp(-(w0*x0+w1*x1+w2)))"
    drawn, widths = [], set()
    for w2 in (-2, -4, -5):  # e^7 = 1096.6332, e^9 = 8103.0839, e^10 = 22026.4658
        values = {"w0": 2, "x0": -2, "w1": -1, "x1": 1, "w2": w2}
        problem = task.problem_model(expression=expression, values=values)
        before = view._labelled.cache_info().misses
        svg = view.render_graph_svg(task.solve(problem, fmt), fmt)
        drawn.append(view._labelled.cache_info().misses - before)
        assert not overlaps(read(svg))
        widths.add(read(svg).width)
    assert sum(drawn[1:]) == 0 and len(widths) == 1
