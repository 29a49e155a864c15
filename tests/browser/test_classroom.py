"""The classroom's whole loop in a real browser: the instructor creates an exam for three
students; each opens their link in a fresh context and submits (one right, one with the
log-base mistake, one partly right); the instructor closes the exam and reads the gradebook
and the misconception chart, opens one student's submissions, sorts by a part and grades
again with a wider tolerance. At 1280 px and on a 360 px phone."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.app.classroom.helpers import log10_loss, right
from tests.conftest import start_server, stop_server

pytestmark = pytest.mark.browser

TOKEN = "browser-teacher"


@pytest.fixture(scope="module")
def classroom_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server with its own SQLite classroom."""
    folder: Path = tmp_path_factory.mktemp("classroom")
    env = {
        "STEPGRAD_DATABASE_URL": f"sqlite:///{folder / 'stepgrad.db'}",
        "STEPGRAD_INSTRUCTOR_TOKEN": TOKEN,
    }
    process, base = start_server(env)
    yield base
    stop_server(process)


def _problem(base: str, url: str) -> dict:
    token = url.rsplit("/", 1)[1]
    with urllib.request.urlopen(f"{base}/api/v1/take/{token}") as answer:
        return json.loads(answer.read())["problems"]["loss"]


def _fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_whole_loop(browser, classroom_server: str) -> None:
    base = classroom_server
    teacher = browser.new_context(viewport={"width": 1280, "height": 900})
    page = teacher.new_page()
    page.goto(f"{base}/instructor/exams?token={TOKEN}")
    assert page.url.endswith("/instructor/exams")
    page.fill("input[name=title]", "Lecture 5 quiz")
    for task in ("graph", "conv"):
        page.uncheck(f"input[name=tasks][value={task}]")
    page.fill("textarea[name=roster]", "id;name\nann;Ann Lee\nbob;Bob Roe\ncid;Cid Poe\n")
    page.click("#new-exam details.spec summary")  # the variant spec: Softmax losses
    page.select_option("#new-exam select[name=loss_loss]", "softmax")
    page.click("#new-exam button[type=submit]")
    page.wait_for_load_state()
    exam_url = page.url
    links = page.locator("a.take-link")
    urls = [links.nth(i).get_attribute("href") for i in range(links.count())]
    assert len(urls) == 3

    for i, url in enumerate(urls):
        problem = _problem(base, url)
        good = right("loss", problem)
        if i == 0:
            answers = good
        elif i == 1:
            answers = log10_loss(problem)
        else:
            answers = {"per_example": good["per_example"], "loss": good["loss"] + 1}
        width = 360 if i == 1 else 1280
        student = browser.new_context(viewport={"width": width, "height": 800})
        take = student.new_page()
        take.goto(url)
        assert _fits(take)
        take.fill(
            "textarea[name='a_loss.per_example']", " ".join(str(v) for v in answers["per_example"])
        )
        take.fill("textarea[name='a_loss.loss']", str(answers["loss"]))
        take.click("#submit")
        take.wait_for_load_state()
        score = take.locator("#score").inner_text()
        assert score == ["2 / 2", "0.5 / 2", "1 / 2"][i]
        if i == 1:
            assert "log" in take.locator(".misconception").first.inner_text()
        student.close()

    page.goto(exam_url)
    page.click("#close")
    page.wait_for_load_state()
    assert page.locator("#state").get_attribute("data-state") == "closed"
    rows = page.locator("#gradebook-table tbody tr")
    assert rows.count() == 3
    scores = [rows.nth(i).locator("td").nth(3).inner_text() for i in range(3)]
    assert scores == ["2 / 2", "0.5 / 2", "1 / 2"]
    bar = page.locator("svg.plot rect[data-misconception='loss.log10']")
    assert bar.count() == 1
    assert page.locator("#misconception-table a[href='#student-bob']").count() == 1
    # one student's submissions: the mistake named beside the part, and the way back
    page.click("#student-bob a.student-link")
    page.wait_for_load_state()
    assert page.url.endswith("/students/bob")
    attempt = page.locator("section.submission")
    assert attempt.count() == 1 and attempt.locator(".score").inner_text() == "0.5 / 2"
    wrong = attempt.locator("tr[data-verdict='wrong']")
    assert wrong.count() >= 1 and "log" in wrong.first.locator(".misconception").inner_text()
    page.click(f"a[href='{exam_url.removeprefix(base)}#gradebook']")
    page.wait_for_load_state()
    assert page.url.startswith(exam_url)
    page.click("#gradebook-table th a:has-text('Score')")
    page.wait_for_load_state()
    assert page.locator("#gradebook-table tbody tr").first.get_attribute("data-student") in (
        "ann",
        "bob",
    )
    # sorted by a part's score; graded again with a wider tolerance: cid's loss, 1 off, right
    page.click("#gradebook-table th.part[data-part='loss.loss'] a")
    page.wait_for_load_state()
    assert page.locator("#gradebook-table th a[aria-sort]").inner_text() == "L"  # the loss
    first = page.locator("#gradebook-table tbody tr").first
    assert first.get_attribute("data-student") == "ann"  # highest first
    page.click("#regrade-tolerance summary")  # folded while the exam has no tolerance
    page.fill("#regrade-form input[name='tolerance.absolute']", "1.5")
    page.click("#regrade")
    page.wait_for_load_state()
    assert page.locator("#student-cid td").nth(3).inner_text() == "2 / 2"
    assert page.locator("#regrade-form input[name='tolerance.absolute']").input_value() == "1.5"
    phone = browser.new_context(viewport={"width": 360, "height": 800})
    small = phone.new_page()
    small.context.add_cookies([{"name": "stepgrad_instructor", "value": TOKEN, "url": base}])
    small.goto(exam_url + "?lang=ru")
    assert "Журнал оценок" in small.content()
    header = small.locator("#gradebook-table th.part[data-part='loss.per_example']")
    assert header.inner_text() == "Lᵢ"  # the part as the lecture writes it, not its id
    assert _fits(small)
    label = small.locator("#misconceptions svg text").first.bounding_box()
    assert label and label["height"] >= 11  # the plots' labels stay readable on a phone
    phone.close()
    teacher.close()
