"""axe-core (vendored in tests/browser/vendor/axe-core, MPL-2.0) on every page of the app in
both languages, at a desktop and a phone width: no serious or critical violation."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.layout import LARGE, paths

pytestmark = pytest.mark.browser

AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
PAGES = [
    "/",
    "/instructor",
    "/instructor?count=2&seed=7",
    "/instructor/sheets?count=2&seed=7",
    "/instructor/key?count=2&seed=7",
    "/no-such-page",
    "/loss?scores=1+2%0A3+x",  # a form with an error beside its field
    "/loss/try?seed=3&a_per_example=1+2+3&a_loss=4",  # a graded try page
    "/graph/pytorch",  # a PyTorch view (the task pages fetch it into their section)
]


def _violations(page, url: str) -> list[str]:
    page.goto(url)
    page.wait_for_load_state("networkidle")
    page.add_script_tag(path=str(AXE))
    found = page.evaluate(
        """async () => (await axe.run(document, {resultTypes: ["violations"]})).violations
             .filter((v) => v.impact === "serious" || v.impact === "critical")
             .map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3)
               .map((n) => n.target.join(" ")).join(" | ")}`)"""
    )
    return [f"{url}: {line}" for line in found]


@pytest.mark.parametrize("lang", ["en", "ru"])
@pytest.mark.parametrize("width", [360, 1280])
def test_no_serious_violation(browser, live_server, width: int, lang: str) -> None:
    # the app's CSP admits no inline script: axe is injected past it
    context = browser.new_context(viewport={"width": width, "height": 800}, bypass_csp=True)
    page = context.new_page()
    urls = [f"{path}{'&' if '?' in path else '?'}lang={lang}" for path in PAGES]
    # the phone has the scrolling boxes; the desktop the lecture's pages
    urls += paths(lang) if width == 360 else [f"/{task}?lang={lang}" for task in LARGE]
    found = [line for url in urls for line in _violations(page, live_server + url)]
    context.close()
    assert not found, "\n".join(found)
