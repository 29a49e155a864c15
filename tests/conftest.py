"""Shared fixtures: an in-process client, a live server, and headless Chromium."""

from __future__ import annotations

import contextlib
import csv
import io
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import settings

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("STEPGRAD_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-quic",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
]

settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI", "").lower() == "true":
    # CI runs the same examples every time (a property test that finds a new failure on a
    # random draw is reported by a developer's run, not by a red CI on an unrelated change)
    settings.load_profile("ci")


@pytest.fixture
def client() -> Iterator[TestClient]:
    """The app in-process, fresh cookies each test; a server error is seen as a 500."""
    from app.main import app

    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def solved(client: TestClient) -> Callable[[str, dict[str, Any]], dict[str, Any]]:
    """``POST /api/v1/{task}/solve`` of ``body``: the response's JSON (a 200 of that task)."""

    def solve(task: str, body: dict[str, Any]) -> dict[str, Any]:
        response = client.post(f"/api/v1/{task}/solve", json=body)
        assert response.status_code == 200, response.text
        result = response.json()
        assert result["task"] == task
        return result

    return solve


@pytest.fixture
def grade_csv(client: TestClient) -> Callable[..., str]:
    """Upload ``rows`` (the header first) as a CSV file to ``POST /api/v1/grade/batch``, with
    the form fields ``task=loss``, ``seed=5`` unless ``form`` says otherwise; the graded CSV."""

    def upload(rows: Sequence[Sequence[Any]], **form: str) -> str:
        out = io.StringIO()
        csv.writer(out).writerows(rows)
        files = {"file": ("answers.csv", out.getvalue(), "text/csv")}
        data = {"task": "loss", "seed": "5", **form}
        response = client.post("/api/v1/grade/batch", data=data, files=files)
        assert response.status_code == 200, response.text
        return response.text

    return upload


@pytest.fixture
def secret(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A server with a secret and an instructor token (yielded)."""
    from app.settings import get_settings

    monkeypatch.setenv("STEPGRAD_SECRET", "correct horse")
    monkeypatch.setenv("STEPGRAD_INSTRUCTOR_TOKEN", "t0ken")
    get_settings.cache_clear()
    yield "t0ken"
    get_settings.cache_clear()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(env: dict[str, str] | None = None, *args: str) -> tuple[subprocess.Popen, str]:
    """``stepgrad serve`` (with ``args``) in a subprocess of its own process group, ``env``
    added to the environment, its log in a temporary file (a pipe nobody reads could fill
    and stall it); returns the process and its base URL once it answers."""
    port = _free_port()
    environment = {**os.environ, **(env or {})}
    if "STEPGRAD_DATABASE_URL" not in environment:  # never the working folder's stepgrad.db
        folder = tempfile.mkdtemp(prefix="stepgrad-test-")
        environment["STEPGRAD_DATABASE_URL"] = f"sqlite:///{folder}/stepgrad.db"
    with tempfile.TemporaryFile() as log:  # the server keeps its own descriptor
        process = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "serve", "--port", str(port), *args],
            cwd=ROOT,
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=log,
            start_new_session=True,
        )
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and process.poll() is None:
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=1) as answer:
                    if answer.status == 200:
                        return process, base
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.2)
        stop_server(process)
        log.seek(0)
        raise RuntimeError(f"server did not start: {log.read().decode()[-2000:]}")


def stop_server(process: subprocess.Popen) -> None:
    """Stop a server of :func:`start_server` and its workers (its whole process group)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


@pytest.fixture(scope="session")
def live_server() -> Iterator[str]:
    """A real uvicorn server in a subprocess; yields its base URL."""
    process, base = start_server()
    yield base
    stop_server(process)


@pytest.fixture(scope="session")
def browser():
    """Debian's chromium, headless, driven by Playwright (no downloaded browser build)."""
    playwright_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (make test does it)")
    with playwright_api.sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser, live_server):
    """A fresh browser page that fails the test on any console error."""
    context = browser.new_context(viewport={"width": 1000, "height": 900})
    page = context.new_page()
    console_errors: list[str] = []

    def on_console(message) -> None:
        # a form with bad input is answered 422 on purpose; Chromium logs that status
        if message.type == "error" and "status of 422" not in message.text:
            console_errors.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda e: console_errors.append(str(e)))
    page.base = live_server  # type: ignore[attr-defined]
    yield page
    context.close()
    assert not console_errors, f"console errors: {console_errors}"
