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


LECTURE_SVM = "/loss/try/hint?scores=3.2+1.3+2.2%0A5.1+4.9+2.5%0A-1.7+2.0+-3.1&labels=0+1+2&lang=en"
CONV = (
    "/conv/try/hint?image=1+2+3+4+5%0A2+2+1+1+1%0A3+2+1+1+1%0A4+1+1+1+1%0A5+1+1+1+1"
    "&filters=0+-1+0%0A1+1+1%0A0+-1+0&bias=0&stride=2&padding=0&mode=cross-correlation"
    "&activation=relu&pool_kind=max&pool_size=2&lang=en"
)


def _formulas(html: str) -> list[str]:
    return re.findall(r'<div class="formula"><span class="tex[^"]*" data-tex="([^"]*)"', html)


def test_the_loss_formula_takes_the_students_own_l_i(client: TestClient) -> None:
    mine = client.get(LECTURE_SVM + "&part=loss&level=2&a_per_example=3+1+2").text
    assert _formulas(mine) == [r"L = \frac{1}{3}(3 + 1 + 2)"]
    assert "your own numbers (L" in mine
    russian = client.get(
        LECTURE_SVM.replace("lang=en", "lang=ru") + "&part=loss&level=2&a_per_example=3,5%3B+0%3B+1"
    ).text
    assert _formulas(russian) == [r"L = \frac{1}{3}(3{,}5 + 0 + 1)"]  # no result, decimal commas


def test_without_earlier_parts_the_hint_says_it_uses_the_problems_numbers(
    client: TestClient,
) -> None:
    problem = client.get(LECTURE_SVM + "&part=loss&level=2").text
    assert _formulas(problem) == [r"L = \frac{1}{3}(2.9 + 0 + 12.9)"]
    assert "Not typed yet: L" in problem and "numbers of the problem itself" in problem
    # a malformed or misshapen earlier part is as good as none
    short = client.get(LECTURE_SVM + "&part=loss&level=2&a_per_example=3+1").text
    assert "Not typed yet" in short and "12.9" in short
    huge = client.get(LECTURE_SVM + "&part=loss&level=2&a_per_example=1e308+1e308+1")
    assert huge.status_code == 200 and "12.9" in huge.text  # their sum overflows: not used


def test_the_pool_cell_is_the_max_of_the_students_own_relu_window(client: TestClient) -> None:
    relu = client.get(CONV + "&part=pool&level=2&a_activation=1+2%0A3+9").text
    assert _formulas(relu) == [r"p_{1,1} = \max(1, 2, 3, 9)"] and "(ReLU)" in relu
    # from their conv map alone: the ReLU of it
    conv = client.get(CONV + "&part=pool&level=2&a_conv=1+-2%0A3+-4").text
    assert _formulas(conv) == [r"p_{1,1} = \max(1, 0, 3, 0)"] and "(conv)" in conv
    activation = client.get(CONV + "&part=activation&level=2&a_conv=1+-2%0A3+-4").text
    assert _formulas(activation) == [r"a_{1,2} = \max(0, -2)"]
    assert "Not typed yet: ReLU, conv" in client.get(CONV + "&part=pool&level=2").text


def test_the_chain_rule_takes_the_students_own_node_values(client: TestClient) -> None:
    hint = NEURON.replace("/try?", "/try/hint?") + "&lang=en"
    # n₈ = 2 instead of 1: n₉ = −2, so n₁₁ = 1 + e⁻² and the sigmoid's gradients follow
    forward = client.get(hint + "&part=output&level=2&a_nodes.8=2").text
    assert _formulas(forward)[:2] == [
        r"f = \frac{1}{n_{11}} = \frac{1}{1.1353}",
        r"n_{9} = n_{8} \cdot (-1) = 2 \cdot (-1)",
    ]
    assert "(node values)" in forward
    backward = client.get(hint + "&part=gradients&level=2&a_nodes.8=2").text
    upstream = (
        r"\frac{\partial f}{\partial n_{11}} = -\frac{1}{n_{11}^{2}} \cdot 1 = (-0.7758) \cdot 1"
    )
    assert _formulas(backward)[0] == upstream  # −1/1.1353², not the lecture's −0.5344
    assert "-0.5344" in client.get(hint + "&part=gradients&level=2").text
    # the hint links of a checked try page carry the typed answers
    page = client.get(NEURON + "&a_nodes.8=2&a_output=0.5").text
    (second,) = [h for h in _hint_links(page) if "part=output" in h and "level=2" in h]
    assert "a_nodes.8=2" in second and "a_output=0.5" in second
