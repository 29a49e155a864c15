"""The conv page in a real browser: the maps, the window under the pointer, a new image."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


def test_maps_window_highlight_and_resubmit(page) -> None:
    page.goto(f"{page.base}/conv")
    for stage in ("conv", "activation", "pool"):
        assert page.locator(f'table[data-stage="{stage}"]').count() == 1
    assert page.locator('table[data-stage="pool"] td').inner_text() == "3"

    # conv cell (2, 1) reads rows 3–5, columns 1–3 of the input (stride 2)
    page.hover('table[data-stage="conv"] td[data-row="1"][data-col="0"]')
    window = page.locator('table[data-stage="input"] td.window')
    assert window.count() == 9
    cells = {
        (int(td.get_attribute("data-row")), int(td.get_attribute("data-col")))
        for td in window.all()
    }
    assert cells == {(r, c) for r in range(2, 5) for c in range(0, 3)}
    assert page.locator("#cell-explain").inner_text().endswith("= 3")

    # the pool cell's window is the whole 2×2 ReLU map
    page.click('table[data-stage="pool"] td')
    assert page.locator('table[data-stage="activation"] td.window').count() == 4

    # row 4 starts with 10 instead of 4: conv cell (2, 1) gains 6·1, so the max-pool gives 9
    page.fill("textarea[name=image]", "1 2 3 4 5\n2 2 1 1 1\n3 2 1 1 1\n10 1 1 1 1\n5 1 1 1 1")
    page.click("button[type=submit]")
    page.wait_for_load_state()
    assert "image=" in page.url
    assert (
        page.locator('table[data-stage="conv"] td[data-row="1"][data-col="0"]').inner_text() == "9"
    )
    assert page.locator('table[data-stage="pool"] td').inner_text() == "9"


def test_slide_the_window_step_by_step(page) -> None:
    page.goto(f"{page.base}/conv?lang=ru")
    explain = page.locator("#cell-explain")
    page.click('.window-steps [data-step="1"]')
    assert "(1, 1)" in explain.inner_text()
    assert page.locator('table[data-stage="input"] td.window').count() == 9
    page.click('.window-steps [data-step="1"]')
    # the second cell's products on the student's own numbers: 3·0 + 4·(−1) + … = −2
    assert "(1, 2)" in explain.inner_text() and "4·(−1)" in explain.inner_text()
    assert explain.inner_text().endswith("= −2")
    page.click('.window-steps [data-step="-1"]')
    assert "(1, 1)" in explain.inner_text()
    play = page.locator('.window-steps [data-step="play"]')
    play.click()
    assert play.get_attribute("aria-pressed") == "true"
    page.locator("#cell-explain", has_text="(2, 1)").wait_for(timeout=10_000)
    play.click()
    assert play.get_attribute("aria-pressed") == "false"
