"""Vector problems on the graph's try page: variants of a vector family, a field per
intermediate node graded cell by cell with a mark per node, the classic slips named."""

from __future__ import annotations

import io
import re
from csv import reader
from urllib.parse import parse_qs, urlsplit

from fastapi.testclient import TestClient

VECTOR = {"expression": "||W x||^2", "values": "W = [[0.1, 0.5], [-0.3, 0.8]]; x = 0.2 0.4"}


def test_a_vector_family_is_drawn_and_kept_by_another_problem(client: TestClient) -> None:
    first = client.get("/graph/try?family=matrix_norm", follow_redirects=False)
    assert first.status_code == 303
    query = parse_qs(urlsplit(first.headers["location"]).query)
    assert query["family"] == ["matrix_norm"] and query["seed"][0].isdigit()
    page = client.get(first.headers["location"])
    assert page.status_code == 200
    assert 'href="/graph/try?family=matrix_norm"' in page.text  # another one of the family
    assert 'name="a_nodes.2"' in page.text and 'data-tex="q = W\\,x"' in page.text
    again = client.get(first.headers["location"])
    assert re.findall(r"<td[^>]*>([^<]*)</td>", again.text) == re.findall(
        r"<td[^>]*>([^<]*)</td>", page.text
    )  # one seed, one problem


def test_a_bad_family_is_named_on_the_page(client: TestClient) -> None:
    page = client.get("/graph/try?family=nope&seed=3")
    assert page.status_code == 422 and 'class="error"' in page.text


def test_vector_nodes_and_gradients_are_graded_with_marks(client: TestClient) -> None:
    answers = {
        "a_nodes.2": "0,22 0,62",  # q = W x: one cell of two wrong
        "a_output": "0.116",
        "a_gradients": "W = [[0.088, 0.104], [0.176, 0.208]], x = -0.112 0.636",  # Wᵀ's grad
    }
    page = client.get("/graph/try", params={**VECTOR, **answers})
    assert page.status_code == 200
    text = page.text
    assert '<span class="verdict wrong" data-node="2">✗</span>' in text
    assert 'data-part="nodes"' in text and 'data-part="output"' in text
    assert 'data-misconception="transposed_gradient"' in text
    right = client.get("/graph/try", params={**VECTOR, "a_nodes.2": "0.22 0.26"})
    assert '<span class="verdict right" data-node="2">✓</span>' in right.text


def test_a_vector_node_of_a_wrong_shape_is_named(client: TestClient) -> None:
    page = client.get("/graph/try", params={**VECTOR, "a_nodes.2": "1 2 3"})
    assert page.status_code == 422
    assert 'data-field="nodes"' in page.text


def test_vector_variants_on_the_key_and_in_the_downloads(client: TestClient, secret: str) -> None:
    query = "tasks=graph&seed=3&count=2&graph_family=linear_svm"
    auth = {"Authorization": f"Bearer {secret}"}
    csv = client.get(f"/instructor/answers.csv?{query}", headers=auth)
    assert csv.status_code == 200
    header = next(reader(io.StringIO(csv.text)))
    assert "graph.df/dW[2,3]" in header and "graph.df/db[2]" in header
    assert not any("df/dy" in column for column in header)  # a label has no gradient
    key = client.get(f"/instructor/key?{query}", headers=auth)
    assert key.status_code == 200 and 'data-column="graph.df/dW[1,2]"' in key.text
    assert client.get(f"/instructor/moodle.xml?{query}", headers=auth).status_code == 200


def test_vector_answer_cells_read_back() -> None:
    from solvers.tasks.graph import GraphProblem, solve
    from solvers.tasks.graph.grading import answer_cells, answer_from_cells

    problem = GraphProblem(expression="||W x||^2", values={"W": [[1, 2], [3, 4]], "x": [1, 0]})
    answer = solve(problem).answer
    cells = {c.column: c.value for c in answer_cells(answer)}
    assert cells["df/dW[2,1]"] == answer.gradients["W"][1][0]
    assert answer_from_cells(cells) == {"output": answer.output,
                                        "gradients": answer.gradients}  # fmt: skip


def test_fields_of_several_numbers_take_text_on_a_phone(client: TestClient) -> None:
    """A vector node's field and a vector answer get a full keyboard (spaces, ``;``); a
    scalar graph's node fields a decimal one; the statement is valid HTML (no block in a
    paragraph)."""
    page = client.get("/graph/try", params={**VECTOR, "lang": "ru"}).text
    (node,) = re.findall(r'<input name="a_nodes\.2"[^>]*>', page)
    assert 'inputmode="text"' in node
    statement = page[page.index('id="problem"') : page.index("</section>")]
    assert not re.search(r"<p>(?:(?!</p>).)*<(?:div|table)", statement, re.S)
    scalar = client.get("/graph/try", params={"expression": "(x+y)*z", "values": "x=-2, y=5, z=-4"})
    assert re.findall(r'<input name="a_nodes\.\d+"[^>]*inputmode="(\w+)"', scalar.text) == [
        "decimal"
    ]
    assert 'name="a_gradients" value="" autocomplete="off" inputmode="text"' in scalar.text
    loss = client.get("/loss/try?seed=1").text
    assert re.search(r'name="a_per_example"[^>]*inputmode="text"', loss)
    assert re.search(r'name="a_loss"[^>]*inputmode="decimal"', loss)
