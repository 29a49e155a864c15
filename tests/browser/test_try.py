"""Try it yourself in a real browser: a wrong answer names the mistake, a right one scores."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

CAT = "/loss/try?scores=3.2%0A5.1%0A-1.7&labels=0&loss=softmax"


def test_try_it_yourself_from_an_untouched_page_keeps_its_problem(page) -> None:
    page.goto(f"{page.base}/loss?lang=ru")
    page.click("text=Решите сами")
    page.wait_for_load_state()
    assert "scores=" in page.url and "seed=" not in page.url
    assert page.locator("#problem table.scores td.hl").first.inner_text() == "3,2"
    page.click("a.show-solution")
    page.wait_for_selector("#step-1")


def test_wrong_then_right(page) -> None:
    page.goto(page.base + CAT)
    assert page.locator("#step-1").count() == 0, "no solution before it is asked for"
    page.fill("input[name=a_per_example]", "0,89")
    page.fill("input[name=a_loss]", "0,89")
    page.click("button[type=submit]")
    page.wait_for_load_state()
    assert "log base 10" in page.locator(".misconception").first.inner_text()
    assert page.locator(".points").first.inner_text() == "(0 of 1 point)"
    page.click("a.reread >> nth=0")
    page.wait_for_selector("#step-1")
    assert page.locator(".katex").count() > 0, "the fetched steps are typeset"
    page.fill("input[name=a_per_example]", "2.04")
    page.fill("input[name=a_loss]", "2.04")
    page.click("button[type=submit]")
    page.wait_for_load_state()
    assert "2 / 2" in page.locator("#score").inner_text()
