"""The graph picture names its gates as the graph page does."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from app.main import create_app


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
