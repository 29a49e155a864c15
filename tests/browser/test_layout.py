"""Everything visible at 360 and 1280 px, in both languages: on the task pages and the try
pages, with the lecture's problems and a large one of each task, no box is narrower than its
content unless it visibly scrolls and the keyboard reaches it; a formula's result stays on
screen; the graph's texts are at least 11 px; the graphs' labels lie off their edges."""

from __future__ import annotations

import pytest

from tests.browser.layout import (
    LABELS_ON_LINES,
    OVERFLOWS,
    RESULTS_HIDDEN,
    SMALL_LABELS,
    paths,
)
from tests.conftest import CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def with_scrollbars(browser):
    """Chromium as a desktop draws it: headless hides scrollbars unless told not to."""
    instance = browser.browser_type.launch(
        executable_path=CHROMIUM, args=CHROMIUM_ARGS, ignore_default_args=["--hide-scrollbars"]
    )
    yield instance
    instance.close()


@pytest.mark.parametrize("lang", ["en", "ru"])
@pytest.mark.parametrize("width", [360, 1280])
def test_every_box_shows_its_content(with_scrollbars, live_server, width: int, lang: str) -> None:
    context = with_scrollbars.new_context(viewport={"width": width, "height": 800})
    page = context.new_page()
    problems = []
    for path in paths(lang):
        answer = page.goto(live_server + path)
        assert answer is not None and answer.status == 200, path
        page.wait_for_load_state("networkidle")
        found = page.evaluate(OVERFLOWS) + page.evaluate(RESULTS_HIDDEN)
        found += page.evaluate(SMALL_LABELS)
        if path.startswith("/graph?"):  # the lecture's graph and the large one
            found += page.evaluate(LABELS_ON_LINES)
        problems += [f"{path[:50]}: {line}" for line in found]
    context.close()
    assert not problems, "\n".join(problems)


def test_a_wide_box_scrolls_visibly_and_takes_the_focus(with_scrollbars, live_server) -> None:
    context = with_scrollbars.new_context(viewport={"width": 360, "height": 800})
    page = context.new_page()
    page.goto(f"{live_server}/graph?lang=ru")
    picture = page.locator("figure.picture")
    assert picture.get_attribute("role") == "region"
    assert "прокручивается вбок" in picture.get_attribute("aria-label")
    picture.focus()
    page.keyboard.press("ArrowRight")
    for _ in range(50):  # the CSP forbids wait_for_function's eval: poll
        if page.evaluate("() => document.querySelector('figure.picture').scrollLeft") > 0:
            break
        page.wait_for_timeout(100)
    else:
        raise AssertionError("the arrow key did not scroll the picture")
    context.close()
