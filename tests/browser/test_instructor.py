"""The instructor page in a real browser: five full-quiz variants, their sheets and key."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


def test_generate_five_variants(page) -> None:
    page.goto(f"{page.base}/instructor")
    page.fill("input[name=count]", "5")
    page.fill("input[name=seed]", "2020")
    for task in ("loss", "graph", "conv"):
        assert page.locator(f"input[name=tasks][value={task}]").is_checked()
    page.click("button[type=submit]")
    page.wait_for_load_state()
    page.click("#link-sheets")
    page.wait_for_load_state()
    assert page.locator("section.sheet").count() == 5
    assert page.locator(".katex").count() > 0
    page.go_back()
    page.click("#link-key")
    page.wait_for_load_state()
    assert page.locator("section.key-sheet").count() == 5
    assert page.locator("table.key-table tbody tr").count() == 5
