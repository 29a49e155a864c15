"""The loss page in a real browser: type, submit, read the new loss — in both languages."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(("lang", "expected"), [("en", "5.6"), ("ru", "5,6")])
def test_change_a_score_and_solve(page, lang: str, expected: str) -> None:
    page.goto(f"{page.base}/loss?lang={lang}")
    assert page.locator(".total-loss").inner_text() == ("5.2667" if lang == "en" else "5,2667")
    assert page.locator(".katex").count() > 0, "KaTeX typeset the formulas"
    # the cat score of image 1 goes from 3.2 to 2.2: L_1 rises from 2.9 to 3.9 … mean 5.6
    page.fill("textarea[name=scores]", "2.2 1.3 2.2\n5.1 4.9 2.5\n-1.7 2.0 -3.1")
    page.click("button[type=submit]")
    page.wait_for_load_state()
    assert page.locator(".total-loss").inner_text() == expected
    assert "scores=" in page.url, "the URL carries the problem"


def test_bad_input_shows_message_next_to_the_field(page) -> None:
    page.goto(f"{page.base}/loss?lang=ru")
    page.fill("textarea[name=scores]", "1 2\n3 четыре")
    page.fill("input[name=labels]", "0 1")
    page.click("button[type=submit]")
    error = page.locator('.error[data-field="scores"]')
    assert "строка 2, столбец 2" in error.inner_text()
    assert page.locator("textarea[name=scores]").input_value() == "1 2\n3 четыре"


def test_phone_width_has_no_horizontal_scroll(browser, live_server) -> None:
    context = browser.new_context(viewport={"width": 360, "height": 740}, device_scale_factor=2)
    phone = context.new_page()
    phone.goto(f"{live_server}/loss")
    width = phone.evaluate("document.documentElement.scrollWidth")
    context.close()
    assert width <= 360
