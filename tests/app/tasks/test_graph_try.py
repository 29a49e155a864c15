"""The graph try page: a field per intermediate node, graded through the ``nodes`` part."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

LECTURE = {
    "expression": "1/(1+exp(-(w0*x0+w1*x1+w2)))",
    "values": "w0 = 2, x0 = -1, w1 = -3, x1 = -2, w2 = -3",
}


def test_a_field_per_intermediate_node_named_as_the_page_names_it(client: TestClient) -> None:
    page = client.get("/graph/try", params={**LECTURE, "lang": "en"}).text
    fields = re.findall(r'<input name="a_nodes\.(\d+)"', page)
    assert fields == [str(i) for i in range(5, 12)]  # the gates but the output (f has its own)
    assert 'data-tex="n_{9} = n_{8} \\cdot (-1)"' in page
    lone = client.get("/graph/try", params={"expression": "(x+y)*z", "values": "x=-2,y=5,z=-4"})
    assert re.findall(r'<input name="a_nodes\.(\d+)"', lone.text) == ["3"]
    assert 'data-tex="q = x + y"' in lone.text


def test_typing_the_right_node_values_marks_them_right(client: TestClient) -> None:
    right = {"a_nodes.5": "-2", "a_nodes.6": "6", "a_nodes.7": "4", "a_nodes.8": "1",
             "a_nodes.9": "-1", "a_nodes.10": "0,37", "a_nodes.11": "1.37"}  # fmt: skip
    page = client.get("/graph/try", params={**LECTURE, **right}).text
    marks = {k: v for v, k in re.findall(r'<span class="verdict (\w+)" data-node="(\d+)"', page)}
    assert marks == {str(i): "right" for i in range(5, 12)}
    assert 'class="verdict right" data-part="nodes"' in page
    wrong = client.get("/graph/try", params={**LECTURE, **right, "a_nodes.6": "7"}).text
    marks = {k: v for v, k in re.findall(r'<span class="verdict (\w+)" data-node="(\d+)"', wrong)}
    assert marks["6"] == "wrong" and marks["5"] == "right"
    assert 'class="verdict wrong" data-part="nodes"' in wrong


def test_a_bad_node_value_is_shown_beside_the_nodes(client: TestClient) -> None:
    page = client.get("/graph/try", params={**LECTURE, "a_nodes.5": "lots"})
    assert page.status_code == 422
    assert 'data-field="nodes"' in page.text
