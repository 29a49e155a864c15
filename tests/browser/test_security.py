"""Under the Content-Security-Policy, offline: /docs renders the API's operations from the
vendored Swagger UI, and the pages typeset with the vendored KaTeX (no console error, no
request leaves the server)."""

from __future__ import annotations

import pytest

from solvers.registry import TASKS

pytestmark = pytest.mark.browser


def offline(page) -> list[str]:
    """Abort every request to another host; the list of those asked for."""
    away: list[str] = []

    def route(request_route) -> None:
        if request_route.request.url.startswith(page.base):
            request_route.continue_()
        else:
            away.append(request_route.request.url)
            request_route.abort()

    page.route("**/*", route)
    return away


def test_docs_render_the_operations_offline(page) -> None:
    away = offline(page)
    response = page.goto(page.base + "/docs")
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    page.wait_for_selector(".opblock", timeout=15000)
    summaries = page.locator(".opblock-summary-path").all_inner_texts()
    for task in TASKS:
        assert any(f"/api/v1/{task}/solve" in s.replace("\u200b", "") for s in summaries)
    page.click(".opblock-summary >> nth=0")  # an operation opens
    page.wait_for_selector(".opblock-body")
    page.click(".docs-back a")
    page.wait_for_load_state()
    assert page.url.rstrip("/") == page.base
    assert not away


@pytest.mark.parametrize("url", ["/", *(f"/{t}" for t in TASKS), "/instructor/key?count=1"])
def test_pages_typeset_under_the_policy(page, url: str) -> None:
    away = offline(page)
    page.goto(page.base + url)
    page.wait_for_load_state("networkidle")
    if url != "/":
        page.wait_for_selector(".katex, math", timeout=10000)
    assert not away
