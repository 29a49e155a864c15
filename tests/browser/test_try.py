"""Try it yourself in a real browser: a wrong answer names the mistake, a right one scores."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

CAT = "/loss/try?scores=3.2%0A5.1%0A-1.7&labels=0&loss=softmax"


def test_wrong_then_right(page) -> None:
    page.goto(page.base + CAT)
    assert not page.locator("details.solution").get_attribute("open")
    page.fill("input[name=a_per_example]", "0,89")
    page.fill("input[name=a_loss]", "0,89")
    page.click("button[type=submit]")
    page.wait_for_load_state()
    assert "log base 10" in page.locator(".misconception").first.inner_text()
    page.click("a.reread >> nth=0")
    assert page.locator("details.solution").get_attribute("open") is not None
    page.fill("input[name=a_per_example]", "2.04")
    page.fill("input[name=a_loss]", "2.04")
    page.click("button[type=submit]")
    page.wait_for_load_state()
    assert "2 / 2" in page.locator("#score").inner_text()
