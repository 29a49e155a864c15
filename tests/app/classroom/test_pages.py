"""The classroom's pages: login, exams, the exam's gradebook and plots, the student's exam."""

from __future__ import annotations

import html
import re

from fastapi.testclient import TestClient

from tests.app.classroom.conftest import TOKEN
from tests.app.classroom.helpers import exam_body, log10_loss, right, students

HTML = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


def sign_in(client: TestClient) -> None:
    answer = client.get(f"/instructor/exams?token={TOKEN}", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/instructor/exams"


def test_login(classroom: TestClient) -> None:
    assert classroom.get("/instructor/exams").status_code == 401
    classroom.cookies.set("stepgrad_instructor", "wrong")
    assert classroom.get("/instructor/exams").status_code == 401
    sign_in(classroom)
    assert classroom.get("/instructor/exams").status_code == 200


def test_whole_loop(classroom: TestClient, teacher: dict[str, str]) -> None:
    sign_in(classroom)
    created = classroom.post(
        "/instructor/exams",
        data={
            "title": "Quiz",
            "tasks": ["loss"],
            "loss_loss": "softmax",
            "attempts": "2",
            "roster": "id;name\nk1;Kim\nk2;Lee\n",
        },
        follow_redirects=False,
    )
    assert created.status_code == 303
    page = classroom.get(created.headers["location"]).text
    links = re.findall(r'class="take-link" href="http://testserver(/take/[^"]+)"', page)
    assert len(links) == 2
    take = classroom.get(links[0])
    assert take.status_code == 200
    assert re.findall(r'name="(a_[^"]+)"', take.text) == ["a_loss.per_example", "a_loss.loss"]
    token = links[0].rsplit("/", 1)[1]
    problem = classroom.get(f"/api/v1/take/{token}").json()["problems"]["loss"]
    mistake = log10_loss(problem)
    fields = {
        "a_loss.per_example": " ".join(map(str, mistake["per_example"])),
        "a_loss.loss": str(mistake["loss"]),
    }
    saved = classroom.post(links[0], data={**fields, "action": "save"})
    assert saved.status_code == 200 and "saved" in saved.text
    assert (
        classroom.get(f"/api/v1/take/{token}").json()["draft"]["loss"]["loss"]
        == fields["a_loss.loss"]
    )
    submitted = classroom.post(links[0], data={**fields, "action": "submit"})
    assert submitted.status_code == 200 and 'class="misconception"' in submitted.text
    bad = classroom.post(links[0], data={"a_loss.loss": "x", "action": "submit"})
    assert bad.status_code == 422 and "answers.loss.loss" in bad.text
    exam = classroom.get(created.headers["location"] + "?sort=score&order=desc&lang=ru")
    assert exam.status_code == 200 and exam.text.count("<svg") == 3
    assert 'data-misconception="loss.log10"' in exam.text
    assert "В чём ошибался класс" in exam.text and "Журнал оценок" in exam.text
    filtered = classroom.get(created.headers["location"] + "?q=lee").text
    assert 'data-student="k2"' in filtered and 'id="student-k1"' not in filtered
    closed = classroom.post(created.headers["location"] + "/close", follow_redirects=False)
    assert closed.status_code == 303
    assert classroom.post(links[1], data={"action": "submit"}).status_code == 422


def test_bad_forms(classroom: TestClient) -> None:
    sign_in(classroom)
    answer = classroom.post("/instructor/exams", data={"title": "", "tasks": ["loss"]})
    assert answer.status_code == 422 and "error" in answer.text
    twice = classroom.post(
        "/instructor/exams", data={"title": "Q", "tasks": ["loss"], "roster": "a,A\na,B\n"}
    )
    assert twice.status_code == 422 and "twice" in twice.text
    assert classroom.get("/take/nonsense").status_code == 403


def test_a_bad_or_expired_link_says_why_on_its_page(classroom, teacher, monkeypatch) -> None:
    """A student's tampered or expired link opened in the browser: the 403 page says why, in
    the student's language."""
    exam = classroom.post("/api/v1/exams", json=exam_body(students(1)), headers=teacher).json()
    token = exam["students"][0]["token"]
    tampered = token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb")
    for lang, words in (("en", "is not valid"), ("ru", "ссылка на экзамен недействительна")):
        answer = classroom.get(f"/take/{tampered}?lang={lang}", headers=HTML)
        assert answer.status_code == 403 and answer.headers["content-type"].startswith("text/html")
        assert words in answer.text and 'class="error"' in answer.text
    import itsdangerous.timed

    later = itsdangerous.timed.time.time() + 400 * 86400
    monkeypatch.setattr(itsdangerous.timed.time, "time", lambda: later)
    expired = classroom.get(f"/take/{token}?lang=ru", headers=HTML)
    assert expired.status_code == 403 and "срок действия ссылки на экзамен истёк" in expired.text


def test_exam_form_takes_points_and_tolerance(classroom: TestClient) -> None:
    sign_in(classroom)
    form = classroom.get("/instructor/exams?lang=ru").text
    assert 'name="points.graph.gradients"' in form and 'name="tolerance.sigfigs"' in form
    assert 'name="loss_examples"' in form and 'name="conv_stride"' in form  # the variant spec
    assert "Баллы за части" in form and "Допуск" in form
    fields = {"title": "Q", "tasks": ["loss", "graph"], "points.loss.loss": "3",
              "tolerance.absolute": "0.05", "tolerance.intermediate_decimals": "exact",
              "roster": "a,A", "loss_examples": "4"}  # fmt: skip
    created = classroom.post("/instructor/exams", data=fields, follow_redirects=False)
    assert created.status_code == 303, created.text
    exam_id = created.headers["location"].rsplit("/", 1)[1]
    exam = classroom.get(f"/api/v1/exams/{exam_id}", headers={"Authorization": f"Bearer {TOKEN}"})
    assert exam.json()["points"] == {"loss.loss": 3.0}
    assert exam.json()["spec"]["loss"]["examples"] == 4
    assert exam.json()["tolerance"] == {"absolute": 0.05, "intermediate_decimals": None}
    moodle = classroom.get(f"{created.headers['location']}/moodle.xml?first=1&count=1")
    blanks = re.findall(r"\\\((L[^=]*?)\\\) = \{(\d+):NUMERICAL", moodle.text)
    weights = {label: int(weight) for label, weight in blanks}
    assert weights["L"] == 3 * sum(w for label, w in weights.items() if label != "L")
    bad = {**fields, "points.loss.loss": "-1", "tolerance.sigfigs": "many"}
    answer = classroom.post("/instructor/exams?lang=ru", data=bad)
    assert answer.status_code == 422
    for field in ("points.loss.loss", "tolerance.sigfigs"):
        # the error sits in the field's own label, after its input
        label = re.search(rf'<input name="{re.escape(field)}".*?</label>', answer.text, re.S)
        assert label and 'class="error"' in label[0], field
    assert 'value="many"' in answer.text and 'id="exam-tolerance" open' in answer.text


def test_exam_form_takes_tolerance_rules_per_part(classroom: TestClient) -> None:
    """Each part's own bounds (``Tolerance.parts``) from the form, translated; a bad one is
    shown beside its field, the form kept as typed."""
    sign_in(classroom)
    form = classroom.get("/instructor/exams?lang=ru").text
    assert 'name="tolerance.parts.gradients.relative"' in form
    assert 'name="tolerance.parts.pool.decimals"' in form and "свои границы" in form
    fields = {"title": "Q", "tasks": ["loss", "conv"], "tolerance.absolute": "0.05",
              "tolerance.parts.loss.relative": "0.1", "tolerance.parts.pool.decimals": "1",
              "tolerance.parts.conv.sigfigs": " "}  # fmt: skip
    created = classroom.post("/instructor/exams", data=fields, follow_redirects=False)
    assert created.status_code == 303, created.text
    exam_id = created.headers["location"].rsplit("/", 1)[1]
    exam = classroom.get(f"/api/v1/exams/{exam_id}", headers={"Authorization": f"Bearer {TOKEN}"})
    assert exam.json()["tolerance"] == {
        "absolute": 0.05,
        "parts": {"loss": {"relative": 0.1}, "pool": {"decimals": 1}},
    }
    bad = {**fields, "tolerance.parts.pool.decimals": "-2"}
    answer = classroom.post("/instructor/exams?lang=ru", data=bad)
    assert answer.status_code == 422
    field = "tolerance.parts.pool.decimals"
    label = re.search(rf'<input name="{re.escape(field)}".*?</label>', answer.text, re.S)
    assert label and 'class="error"' in label[0] and 'value="-2"' in label[0]
    assert 'id="exam-tolerance" open' in answer.text
    assert 'class="error-summary"' not in answer.text  # the error only beside its field


def test_sheets_and_key_of_the_exam(classroom: TestClient, teacher: dict[str, str]) -> None:
    """The exam page's sheets, key and downloads are exactly the variants its students have,
    for the instructor only; no public set or grade request reproduces them (they are keyed
    by the server's stored secret although STEPGRAD_SECRET is unset)."""
    body = {
        "title": "Q",
        "tasks": ["loss", "conv"],
        "seed": 9,
        "spec": {"conv": {"kernel_high": 2}, "loss": {"loss": "svm"}},
        "roster": [{"id": f"p{i}", "name": f"P {i}"} for i in range(3)],
    }
    exam = classroom.post("/api/v1/exams", json=body, headers=teacher).json()
    sign_in(classroom)
    page = classroom.get(f"/instructor/exams/{exam['id']}").text
    sheets = re.search(r'id="exam-sheets" href="([^"]+)"', page).group(1).replace("&amp;", "&")
    assert sheets == f"/instructor/exams/{exam['id']}/sheets?first=1&count=3"
    printed = classroom.get(sheets)
    assert printed.status_code == 200 and printed.text.count('<section class="sheet"') == 3
    key = classroom.get(sheets.replace("/sheets?", "/key?"))
    assert key.status_code == 200 and 'class="exam-key-pdf"' in page
    assigned = classroom.get(sheets.replace("/sheets?", "/variants.json?")).json()
    public = classroom.post(
        "/api/v1/variants", json={k: body[k] for k in ("tasks", "seed", "spec")} | {"count": 3}
    ).json()
    assert not public["keyed"] and assigned["keyed"]
    for student, variant, other in zip(
        exam["students"], assigned["variants"], public["variants"], strict=True
    ):
        view = classroom.get(f"/api/v1/take/{student['token']}").json()
        assert variant["number"] == student["variant"]
        assert view["problems"] == variant["problems"] != other["problems"]
    answers = classroom.get(sheets.replace("/sheets?", "/answers.csv?"))
    assert answers.status_code == 200 and answers.text.count("\n") == 4
    assert classroom.get(f"/instructor/exams/{exam['id']}/nothing.csv").status_code == 404
    classroom.cookies.clear()
    for name in ("sheets", "key", "answers.csv", "variants.json", "key.pdf"):
        locked = classroom.get(f"/instructor/exams/{exam['id']}/{name}?first=1&count=3")
        assert locked.status_code == 401 and "P 1" not in locked.text


def test_a_students_submissions_with_their_feedback(classroom: TestClient) -> None:
    sign_in(classroom)
    created = classroom.post(
        "/instructor/exams",
        data={"title": "Quiz", "tasks": ["loss"], "loss_loss": "softmax", "attempts": "2",
              "feedback": "after_close", "roster": "id;name\nk/1;Kim\nk2;Lee\n"},
        follow_redirects=False,
    )  # fmt: skip
    exam = created.headers["location"]
    page = classroom.get(exam).text
    assert f'class="student-link" href="{exam}/students/k/1"' in page
    token = re.findall(r'class="take-link" href="http://testserver/take/([^"]+)"', page)[0]
    problem = classroom.get(f"/api/v1/take/{token}").json()["problems"]["loss"]
    mistake = log10_loss(problem)
    for loss in ("", str(mistake["loss"])):  # the first attempt leaves the loss blank
        fields = {"a_loss.per_example": " ".join(map(str, mistake["per_example"])),
                  "a_loss.loss": loss, "action": "submit"}  # fmt: skip
        assert classroom.post(f"/take/{token}", data=fields).status_code == 200
    own = classroom.get(f"{exam}/students/k/1")
    assert own.status_code == 200
    attempts = re.findall(r'data-attempt="(\d)"', own.text)
    assert attempts == ["2", "1"]  # newest first, with the feedback the student waits for
    assert own.text.count('data-part="loss.loss"') == 2
    assert 'data-verdict="blank"' in own.text and 'data-verdict="wrong"' in own.text
    assert 'class="misconception"' in own.text and "Attempt 2" in own.text
    russian = classroom.get(f"{exam}/students/k/1?lang=ru").text
    assert "Попытка 2" in russian and "Правильный ответ" in russian
    assert 'id="no-submission"' in classroom.get(f"{exam}/students/k2").text
    assert classroom.get(f"{exam}/students/nobody").status_code == 404
    classroom.cookies.clear()
    assert classroom.get(f"{exam}/students/k2").status_code == 401


def test_an_exam_over_the_set_limit(classroom: TestClient, teacher: dict[str, str]) -> None:
    """600 students: the gradebook a page of 100 (sorted and filtered over all), the exam
    counted in the list, and sheets, key and Moodle XML in chunks of at most 250 variants,
    each the variants its students have."""
    body = {
        "title": "Big",
        "tasks": ["loss", "conv"],
        "seed": 5,
        "roster": [{"id": f"s{i}", "name": f"S {i}"} for i in range(1, 601)],
    }
    exam = classroom.post("/api/v1/exams", json=body, headers=teacher).json()
    listed = classroom.get("/api/v1/exams", headers=teacher).json()
    assert [e["students"] for e in listed] == [600]
    sign_in(classroom)
    assert "<td>600</td>" in classroom.get("/instructor/exams").text
    url = f"/instructor/exams/{exam['id']}"
    page = classroom.get(url).text
    assert page.count('<tr id="student-') == 100 and page.count('class="take-link"') == 100
    assert "page 1 of 6" in page and 'rel="next"' in page
    last = classroom.get(f"{url}?page=6").text
    assert 'id="student-s600"' in last and 'id="student-s500"' not in last
    by_id = classroom.get(f"{url}?sort=id&order=desc&page=1").text
    assert re.search(r'<tr id="student-([^"]+)"', by_id)[1] == "s99"
    found = classroom.get(f"{url}?q=s599").text
    assert found.count('<tr id="student-') == 1 and "page 1 of" not in found
    chunks = re.findall(r'class="exam-sheets"(?: id="exam-sheets")? href="([^"]+)"', page)
    assert len(chunks) == 3 and "variants 251–500" in page and "variants 501–600" in page
    last_set = chunks[2].replace("&amp;", "&")
    assert last_set == f"{url}/sheets?first=501&count=100"
    sheets = classroom.get(last_set)
    assert sheets.status_code == 200 and sheets.text.count('<section class="sheet"') == 100
    assert classroom.get(last_set.replace("/sheets?", "/key?")).status_code == 200
    moodle = classroom.get(last_set.replace("/sheets?", "/moodle.xml?"))
    assert moodle.status_code == 200 and moodle.text.count('type="cloze"') == 100
    assert "<text>Variant 501</text>" in moodle.text and "Variant 500<" not in moodle.text
    same = classroom.get(last_set.replace("/sheets?", "/variants.json?")).json()
    student = next(s for s in exam["students"] if s["variant"] == 550)
    view = classroom.get(f"/api/v1/take/{student['token']}").json()
    assert same["variants"][49]["number"] == 550
    assert view["problems"] == same["variants"][49]["problems"]


def _exam_of_two(classroom: TestClient, teacher: dict[str, str]) -> tuple[str, dict]:
    """An exam of the loss task (tolerance 0.001) whose s1 is right and s2 off by 0.2 in
    the loss: the page's URL and the exam."""
    body = exam_body(students(2), tasks=["loss"], tolerance={"absolute": 0.001})
    exam = classroom.post("/api/v1/exams", json=body, headers=teacher).json()
    for student, off in zip(exam["students"], (0, 0.2), strict=True):
        problem = classroom.get(f"/api/v1/take/{student['token']}").json()["problems"]["loss"]
        answer = right("loss", problem)
        answers = {"loss": {**answer, "loss": answer["loss"] + off}}
        submitted = classroom.post(
            f"/api/v1/take/{student['token']}/submissions", json={"answers": answers}
        )
        assert submitted.status_code == 201
    sign_in(classroom)
    return f"/instructor/exams/{exam['id']}", exam


def test_regrade_form(classroom: TestClient, teacher: dict[str, str]) -> None:
    """The exam page grades again with the tolerance of its form (the exam's, to begin
    with); a bad bound is shown beside its field, as typed, and changes nothing."""
    url, exam = _exam_of_two(classroom, teacher)
    page = classroom.get(url + "?lang=ru").text
    form = re.search(r'<form[^>]*id="regrade-form".*?</form>', page, re.S)[0]
    assert f'action="{url}/regrade"' in form and 'id="regrade-tolerance" open' in form
    assert re.search(r'name="tolerance.absolute"[^>]*value="0.001"', form)
    assert 'name="tolerance.parts.loss.decimals"' in form and "Оценить заново" in form
    assert 'name="tolerance.parts.pool.decimals"' not in form  # the exam's tasks' parts only
    second = 'id="student-s2"'
    assert 'class="num verdict-wrong"' in page.split(second)[1].split("</tr>")[0]
    bad = classroom.post(f"{url}/regrade?lang=ru", data={"tolerance.absolute": "-1"})
    assert bad.status_code == 422
    label = re.search(r'<input name="tolerance.absolute".*?</label>', bad.text, re.S)[0]
    assert 'class="error"' in label and 'value="-1"' in label
    api = f"/api/v1/exams/{exam['id']}"
    assert classroom.get(api, headers=teacher).json()["tolerance"] == {"absolute": 0.001}
    done = classroom.post(
        f"{url}/regrade",
        data={"tolerance.absolute": "0.5", "tolerance.intermediate_decimals": "exact",
              "tolerance.parts.loss.decimals": " "},
        follow_redirects=False,
    )  # fmt: skip
    assert done.status_code == 303 and done.headers["location"] == url
    got = classroom.get(api, headers=teacher).json()["tolerance"]
    assert got == {"absolute": 0.5, "intermediate_decimals": None}
    book = classroom.get(f"{api}/gradebook", headers=teacher).json()
    assert book["students"][1]["parts"]["loss.loss"]["verdict"] == "right"
    again = classroom.get(url).text
    assert re.search(r'<option value="exact" selected>', again)


def test_gradebook_sorts_by_a_part(classroom: TestClient, teacher: dict[str, str]) -> None:
    url, _ = _exam_of_two(classroom, teacher)
    ids = r'<tr id="student-([^"]+)"'
    assert re.findall(ids, classroom.get(f"{url}?sort=loss.loss&order=asc").text) == ["s2", "s1"]
    page = classroom.get(f"{url}?sort=loss.loss&order=desc").text
    assert re.findall(ids, page) == ["s1", "s2"]
    assert 'href="?sort=loss.loss&amp;order=asc&amp;q=#gradebook" aria-sort="descending"' in page
    assert 'href="?sort=loss.per_example&amp;order=desc' in page
    assert re.findall(ids, classroom.get(f"{url}?sort=nope&order=desc").text) == ["s2", "s1"]


def test_exam_page_refusals(classroom: TestClient, teacher: dict[str, str]) -> None:
    """Points of a task the exam does not have, beside their field; a paper upload's
    unknown column and a variant not the student's, said on the exam page."""
    sign_in(classroom)
    fields = {"title": "Q", "tasks": ["loss"], "points.conv.pool": "2"}
    answer = classroom.post("/instructor/exams", data=fields)
    assert answer.status_code == 422
    label = re.search(r'<input name="points.conv.pool".*?</label>', answer.text, re.S)[0]
    assert 'class="error"' in label and "conv.pool" in label
    assert 'id="exam-points" open' in answer.text
    url, _ = _exam_of_two(classroom, teacher)
    for text, message in (
        (b"student,loss.L,remark\ns1,1,x\n", 'column "remark" is not one this exam reads'),
        (b"student,variant,loss.L\ns1,2,1\n", "row 2: student s1 has variant 1, not 2"),
    ):
        refused = classroom.post(f"{url}/paper", files={"file": ("paper.csv", text)})
        assert refused.status_code == 422 and message in html.unescape(refused.text)


def test_a_draft_of_another_task_is_refused(classroom: TestClient, teacher: dict[str, str]) -> None:
    exam = classroom.post(
        "/api/v1/exams", json=exam_body(students(1), tasks=["loss"]), headers=teacher
    ).json()
    link = f"/take/{exam['students'][0]['token']}"
    refused = classroom.post(link, data={"a_conv.pool": "1", "action": "save"})
    assert refused.status_code == 422 and "task must be one of loss" in refused.text
    view = classroom.get(f"/api/v1/take/{exam['students'][0]['token']}").json()
    assert view["draft"] is None
    kept = classroom.post(link, data={"a_loss.loss": "1", "action": "save"})
    assert kept.status_code == 200 and "saved" in kept.text


def test_the_russian_pages_name_parts_and_times_as_people_read_them(classroom, teacher) -> None:
    """The take page, the gradebook, its plots and a student's page in Russian: each part as
    the lecture writes it (its id kept in ``data-part``/``title``), «Попытка», times as
    ``2030-06-01 12:30 UTC``, every plot text translated."""
    body = exam_body(students(1), attempts=2, closes_at="2030-06-01T12:30:00Z")
    exam = classroom.post("/api/v1/exams", json=body, headers=teacher).json()
    token = exam["students"][0]["token"]
    sign_in(classroom)
    url = f"/instructor/exams/{exam['id']}"
    empty = classroom.get(f"{url}?lang=ru").text
    assert "Типичных ошибок пока нет." in empty and "баллы, % от максимума" in empty
    problem = classroom.get(f"/api/v1/take/{token}").json()["problems"]["loss"]
    mistake = log10_loss(problem)
    fields = {"a_loss.per_example": " ".join(map(str, mistake["per_example"])),
              "a_loss.loss": str(mistake["loss"]), "action": "submit"}  # fmt: skip
    assert classroom.post(f"/take/{token}", data=fields).status_code == 200
    take = classroom.get(f"/take/{token}?lang=ru").text
    assert "<h2>Попытка 1</h2>" in take and "Ваша сдача" not in take
    assert 'data-part="loss.per_example">Lᵢ: ' in take and 'data-part="graph.output">f: ' in take
    assert "Закрывается: 2030-06-01 12:30 UTC" in take
    page = classroom.get(f"{url}?lang=ru").text
    assert re.search(r'data-part="loss.per_example" title="loss.per_example"><a [^>]*>Lᵢ</a>', page)
    assert re.search(r'title="graph.gradients.w0"><a [^>]*>∂f/∂w₀</a>', page)
    assert 'data-part="loss.loss">L</text>' in page  # the parts' plot
    assert ">Найти</button>" in page and "Закрывается: 2030-06-01 12:30 UTC" in page
    own = classroom.get(f"{url}/students/s1?lang=ru").text
    assert '<td title="loss.per_example">Lᵢ</td>' in own and " UTC · " in own
    assert 'class="verdict-name">неверно</strong><br>' in own


def test_exam_form_errors_name_the_fields_as_labelled(classroom: TestClient) -> None:
    """A bad date and a window that closes before it opens: translated messages after the
    fields' visible labels (the ids kept in ``data-field``), never pydantic's English."""
    sign_in(classroom)
    bad = {"title": "Q", "tasks": ["loss"], "opens_at": "2026-13-45", "closes_at": "soon"}
    answer = classroom.post("/instructor/exams?lang=ru", data=bad)
    assert answer.status_code == 422
    assert 'data-field="opens_at">Открывается (UTC): должно быть датой и временем' in answer.text
    assert 'data-field="closes_at">Закрывается (UTC): должно быть датой' in answer.text
    assert "month" not in answer.text and "opens_at:" not in answer.text
    window = {"title": "Q", "tasks": ["loss"], "opens_at": "2026-12-05T10:00",
              "closes_at": "2026-12-04T10:00"}  # fmt: skip
    answer = classroom.post("/instructor/exams?lang=ru", data=window)
    assert answer.status_code == 422
    assert "Закрывается (UTC): экзамен должен закрываться позже" in answer.text
    english = classroom.post("/instructor/exams?lang=en", data=bad).text
    assert "Opens (UTC): must be a date and time, such as 2026-12-03 14:00" in english


def test_a_scheduled_exam_says_when_it_opens_as_people_read_it(classroom, teacher) -> None:
    body = exam_body(students(1), opens_at="2030-01-01T10:00:00Z")
    token = classroom.post("/api/v1/exams", json=body, headers=teacher).json()["students"][0]
    refused = classroom.post(f"/take/{token['token']}?lang=ru", data={"action": "submit"})
    assert refused.status_code == 422
    assert "экзамен откроется 2030-01-01 10:00 UTC; до этого" in refused.text
    assert "Экзамен откроется 2030-01-01 10:00 UTC. Тогда" in refused.text
    api = classroom.post(f"/api/v1/take/{token['token']}/submissions?lang=en", json={"answers": {}})
    assert api.status_code == 403 and "opens at 2030-01-01 10:00 UTC;" in api.json()["message"]
