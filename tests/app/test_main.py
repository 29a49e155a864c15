"""The app of create_app() (app/main.py): security headers on every answer, HEAD as GET,
the docs served from this server."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from app.main import SECURITY_HEADERS
from solvers.registry import TASKS

PAGES = ["/", *(f"/{t}" for t in TASKS), *(f"/{t}/try?seed=1" for t in TASKS), "/instructor",
         "/docs", "/openapi.json", "/api/v1/tasks", "/healthz", "/static/css/app.css"]  # fmt: skip


@pytest.mark.parametrize("url", PAGES)
def test_security_headers_and_head(client: TestClient, url: str) -> None:
    got = client.get(url)
    assert got.status_code == 200
    for name, value in SECURITY_HEADERS:
        assert got.headers[name.decode()] == value.decode()
    csp = got.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
    head = client.head(url)
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-type"] == got.headers["content-type"]
    assert head.headers["x-content-type-options"] == "nosniff"


def test_errors_carry_the_headers_too(client: TestClient) -> None:
    for response in (client.get("/nowhere"), client.post("/api/v1/loss/solve", json={})):
        assert response.headers["x-frame-options"] == "DENY"
        assert "content-security-policy" in response.headers


def test_docs_are_served_from_this_server(client: TestClient) -> None:
    html = client.get("/docs").text
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in html
    assert "http" not in html.replace('href="/"', "")  # no CDN, no absolute URL
    assert 'href="/"' in html  # the way back to the app
    assert client.get("/static/vendor/swagger-ui/swagger-ui-bundle.js").status_code == 200
    assert client.get("/redoc", follow_redirects=False).headers["location"] == "/docs"
