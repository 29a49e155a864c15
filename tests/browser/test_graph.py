"""The graph page in a real browser: the SVG gates, a changed value, new gradients."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


def test_picture_and_new_gradients_after_a_change(page) -> None:
    page.goto(f"{page.base}/graph")
    svg = page.locator("#picture svg")
    assert svg.count() == 1
    labels = svg.locator("text.label").all_text_contents()
    assert {"*", "+", "exp", "+1", "1/x"} <= set(labels), labels
    assert page.locator('dd.gradient[data-name="x0"]').inner_text() == "0.3932"

    # w0 = 2 → 1: the gradient of x0 is w0 · σ(1 − σ) at the new point
    page.fill("input[name=values]", "w0 = 1, x0 = -1, w1 = -3, x1 = -2, w2 = -3")
    page.click("button[type=submit]")
    page.wait_for_load_state()
    assert "values=" in page.url
    assert page.locator('dd.gradient[data-name="x0"]').inner_text() == "0.105"
    assert page.locator("dd.output").inner_text() == "0.8808"


def test_pytorch_section_copies_its_code(page) -> None:
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.goto(f"{page.base}/graph")
    section = page.locator("details.pytorch")
    assert not section.locator("#pytorch-code").is_visible()  # collapsed until asked for
    section.locator("summary").click()
    code = page.locator("#pytorch-code").inner_text()
    output = page.locator("#pytorch-output").inner_text()  # what the server's run printed
    assert output.startswith("device: ") and "f: 0.7310585786300049" in output
    assert "w0 = torch.tensor(2.0, **f64, requires_grad=True)" in code and "out.backward()" in code
    page.click("button[data-copy]")
    page.wait_for_function("document.querySelector('button[data-copy]').textContent === 'Copied'")
    assert page.evaluate("navigator.clipboard.readText()") == code


def test_the_fetched_pytorch_code_scrolls_by_keyboard_on_a_phone(page) -> None:
    page.set_viewport_size({"width": 360, "height": 800})
    page.goto(f"{page.base}/conv?lang=ru")
    page.locator("details.pytorch summary").click()
    code = page.locator("pre.code:has(#pytorch-code)")
    code.wait_for()
    assert code.get_attribute("tabindex") == "0" and code.get_attribute("role") == "region"


def test_a_matrix_problem_on_the_page(page) -> None:
    page.goto(f"{page.base}/graph")
    page.fill("input[name=expression]", "||W x||^2")
    page.fill("input[name=values]", "W = [[0.1, 0.5], [-0.3, 0.8]]; x = 0,2 0,4")
    page.click("button[type=submit]")
    page.wait_for_load_state()
    assert page.locator('dd.gradient[data-name="x"] td').all_text_contents() == ["−0.112", "0.636"]
    assert "2×2" in page.locator("#picture svg text.fwd").all_text_contents()


def test_slide_names_and_pointing_at_a_node(page) -> None:
    page.goto(f"{page.base}/graph?expression=(x%2By)*z&values=x%3D-2,+y%3D5,+z%3D-4")
    texts = [el.get_attribute("data-tex") for el in page.locator("[data-tex]").all()]
    assert "q = x + y = (-2) + 5 = 3" in texts, "the lone intermediate node is q, as on the slide"
    assert "\\partial q / \\partial x = 1" in texts
    assert "\\partial f / \\partial q = {z} = -4" in texts
    page.hover('svg.graph g.node[data-node="3"]')
    assert "node-hl" in page.locator('table.nodes tr[data-node="3"]').get_attribute("class")
    assert page.locator('section.step.node-hl[data-node="3"]').count() == 2  # forward, backward
    page.hover('table.nodes tr[data-node="4"]')
    assert "node-hl" in page.locator('svg.graph g.node[data-node="4"]').get_attribute("class")
