"""The try page's hint ladder and named mistakes: each rung fetched when asked for, never in
the page before; one message per mistake with the parts it explains."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

CAT = "/loss/try?scores=3.2%0A5.1%0A-1.7&labels=0&loss=softmax"
NEURON = (
    "/graph/try?expression=1%2F%281%2Bexp%28-%28w0*x0%2Bw1*x1%2Bw2%29%29%29"
    "&values=w0%3D2%2C+x0%3D-1%2C+w1%3D-3%2C+x1%3D-2%2C+w2%3D-3"
)


def _hint_links(html: str) -> list[str]:
    return [h.replace("&amp;", "&") for h in re.findall(r'href="(/\w+/try/hint\?[^"]+)"', html)]


def test_the_page_links_each_rung_and_holds_none(client: TestClient) -> None:
    page = client.get(CAT)
    assert 'id="hint"' not in page.text and "Subtract max" not in page.text
    links = _hint_links(page.text)
    assert {re.search(r"part=(\w+)", h).group(1) for h in links} == {"per_example", "loss"}
    assert {re.search(r"level=(\d)", h).group(1) for h in links} == {"1", "2"}


def test_each_rung_leaves_the_result_out(client: TestClient) -> None:
    first = client.get(CAT.replace("/try?", "/try/hint?") + "&part=per_example&level=1")
    assert first.status_code == 200 and 'id="hint"' in first.text
    assert "Subtract max" in first.text
    second = client.get(CAT.replace("/try?", "/try/hint?") + "&part=per_example&level=2")
    assert "5.1" in second.text and "2.04" not in second.text
    graph = client.get(NEURON.replace("/try?", "/try/hint?") + "&part=output&level=2")
    assert "w_{0} \\cdot x_{0} = 2 \\cdot (-1)" in graph.text
    assert "= -2<" not in graph.text and "0.7311" not in graph.text


def test_a_hint_for_no_part_is_a_404_page_in_russian(client: TestClient) -> None:
    answer = client.get(CAT.replace("/try?", "/try/hint?") + "&part=nope&level=1&lang=ru")
    assert answer.status_code == 404 and "нет такой части" in answer.text


def test_one_message_per_mistake_with_the_parts_it_explains(client: TestClient) -> None:
    answer = (
        "&a_output=0.73&a_gradients=w0%3D0.2%2C+x0%3D-0.39%2C+w1%3D-0.39%2C+x1%3D-0.59%2C+w2%3D0.2"
    )
    page = client.get(NEURON + answer).text
    (mistake,) = re.findall(r'<div class="mistake"[^>]*>(.*?)</div>', page, re.S)
    assert "sign lost at one gate" in mistake and "∂f/∂w₀, ∂f/∂x₀" in mistake
    assert page.count("This is what the backward pass gives") == 1  # not once per part
    assert "gradients.w0:" not in page and "∂f/∂w₀:" in page


def test_the_api_lists_the_mistakes_with_lecture_labels(client: TestClient) -> None:
    body = {
        "problem": {"scores": [[3.2], [5.1], [-1.7]], "labels": [0], "loss": "softmax"},
        "answer": {"per_example": "0,89", "loss": 0.89},
    }
    result = client.post("/api/v1/loss/grade?lang=ru", json=body).json()
    (mistake,) = result["mistakes"]
    assert mistake["parts"] == ["per_example", "loss"] and mistake["labels"] == ["Lᵢ", "L"]
    assert result["labels"] == {"per_example": "Lᵢ", "loss": "L"}
    assert "(Lᵢ)" in result["parts"][1]["feedback"]
