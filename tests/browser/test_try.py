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


def test_the_hint_ladder_fetches_each_rung_when_asked(page) -> None:
    """A hint, then the step's formula with the problem's numbers, then the full solution;
    none of them is in the page before it is asked for."""
    page.goto(page.base + CAT)
    html = page.content()
    assert "Subtract max" not in html and 'id="hint"' not in html and "step-1" not in html
    ladder = page.locator('.hints[data-part="per_example"]')
    ladder.locator("a.hint-next[data-level='1']").click()
    ladder.locator(".hint[data-level='1']").wait_for()
    assert ladder.locator(".hint-body .hint").count() == 1
    assert page.locator("#step-1").count() == 0, "a hint is not the solution"
    ladder.locator("a.hint-next[data-level='2']").click()
    formula = ladder.locator(".hint[data-level='2'] .katex").first
    formula.wait_for()
    assert "5.1" in ladder.locator(".hint[data-level='2']").inner_text()
    assert "2.04" not in ladder.locator(".hint-body").inner_text(), "the result is left out"
    ladder.locator("a.hint-solution").click()
    page.wait_for_selector("#step-1")


def test_the_middle_rung_takes_what_the_student_typed(page) -> None:
    """The formula for L is written with the Lᵢ in the field now, checked or not."""
    scores = "scores=3.2+1.3+2.2%0A5.1+4.9+2.5%0A-1.7+2.0+-3.1&labels=0+1+2"
    page.goto(f"{page.base}/loss/try?{scores}&loss=softmax&lang=ru")
    page.fill("input[name=a_per_example]", "1,5; 2; 0,5")
    ladder = page.locator('.hints[data-part="loss"]')
    ladder.locator("a.hint-next[data-level='1']").click()
    ladder.locator("a.hint-next[data-level='2']").click()
    hint = ladder.locator(".hint[data-level='2']")
    hint.locator(".katex").first.wait_for()
    assert "вашими собственными числами" in hint.inner_text()
    assert "1,5" in hint.locator(".formula").inner_text()


def test_one_message_per_mistake_naming_its_parts(page) -> None:
    page.goto(page.base + CAT + "&a_per_example=0,89&a_loss=0,89")
    mistakes = page.locator("#mistakes .mistake")
    assert mistakes.count() == 1
    assert "L" in mistakes.first.inner_text() and "log base 10" in mistakes.first.inner_text()
    assert page.locator('.verdict[data-part="loss"]').inner_text().startswith("≈")
