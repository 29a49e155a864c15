"""The instructor's side over HTTP and the CLI: sets, sheets, key, exports, the secret."""

from __future__ import annotations

import csv
import io
import re
import xml.etree.ElementTree as ET
from collections import Counter

import pytest
from fastapi.testclient import TestClient

from app.exports import answer_cells
from app.settings import get_settings
from solvers.variants.sets import VariantSet

QUERY = "count=4&seed=7&tasks=loss&tasks=graph&tasks=conv"


def test_api_set_with_answers_is_deterministic(client: TestClient) -> None:
    body = {"tasks": ["loss", "graph", "conv"], "count": 5, "seed": 2020}
    first = client.post("/api/v1/variants", json=body)
    assert first.status_code == 200, first.text
    assert client.post("/api/v1/variants", json=body).content == first.content
    payload = first.json()
    assert payload["answers_included"] and len(payload["variants"]) == 5
    assert set(payload["variants"][0]["answers"]) == {"loss", "graph", "conv"}
    other = client.post("/api/v1/variants", json={**body, "seed": 2021}).json()
    assert other["variants"][0]["problems"] != payload["variants"][0]["problems"]


def test_api_spec_errors_are_422(client: TestClient) -> None:
    bad = {"count": 0}
    assert client.post("/api/v1/variants", json=bad).status_code == 422
    response = client.post("/api/v1/variants", json={"spec": {"conv": {"size": 4}}})
    assert response.status_code == 422
    assert "not whole" in response.json()["message"]
    response = client.post("/api/v1/variants", json={"tasks": ["poetry"]})
    assert response.status_code == 422 and response.json()["detail"][0]["field"].startswith("tasks")


def test_secret_hides_answers_without_the_token(client: TestClient, secret: str) -> None:
    body = {"count": 2, "seed": 1}
    anonymous = client.post("/api/v1/variants", json=body).json()
    assert anonymous["keyed"] and not anonymous["answers_included"]
    assert anonymous["variants"][0]["answers"] is None
    headers = {"Authorization": f"Bearer {secret}"}
    instructor = client.post("/api/v1/variants", json=body, headers=headers).json()
    assert instructor["variants"][0]["answers"]["loss"]["loss"] > 0
    assert client.get(f"/instructor/key?{QUERY}").status_code == 401
    assert client.get(f"/instructor/answers.csv?{QUERY}").status_code == 401
    assert client.get(f"/instructor/key?{QUERY}", headers=headers).status_code == 200
    assert client.get(f"/instructor/sheets?{QUERY}").status_code == 200


def test_secret_changes_the_variants(client: TestClient, secret: str) -> None:
    keyed = client.post("/api/v1/variants", json={"count": 1, "seed": 1}).json()
    get_settings.cache_clear()
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("STEPGRAD_SECRET")
        plain = client.post("/api/v1/variants", json={"count": 1, "seed": 1}).json()
    assert keyed["variants"][0]["problems"] != plain["variants"][0]["problems"]


def test_token_cookie_unlocks_the_key(client: TestClient, secret: str) -> None:
    page = client.get(f"/instructor?{QUERY}")
    assert "/instructor/token" in page.text and "/instructor/key?" not in page.text
    client.post("/instructor/token", data={"token": secret}, follow_redirects=False)
    assert "/instructor/key?" in client.get(f"/instructor?{QUERY}").text


def test_sheets_and_key_pages(client: TestClient) -> None:
    sheets = client.get(f"/instructor/sheets?{QUERY}")
    assert sheets.status_code == 200
    assert sheets.text.count('class="sheet"') == 4
    key = client.get(f"/instructor/key?{QUERY}").text
    assert key.count('class="sheet key-sheet"') == 4
    assert key.count('<tr data-variant="') == 4
    assert 'data-kind="svm.example"' in key or 'data-kind="softmax.example"' in key


def _set(client: TestClient) -> VariantSet:
    return VariantSet.model_validate_json(client.get(f"/instructor/variants.json?{QUERY}").text)


def test_csv_has_one_row_per_variant_and_the_key_numbers(client: TestClient) -> None:
    variant_set = _set(client)
    rows = list(csv.DictReader(io.StringIO(client.get(f"/instructor/answers.csv?{QUERY}").text)))
    assert [row["variant"] for row in rows] == ["1", "2", "3", "4"]
    for row, variant in zip(rows, variant_set.variants, strict=True):
        for task in variant_set.tasks:
            for cell in answer_cells(task, variant.answers[task]):
                assert float(row[cell.column]) == pytest.approx(cell.value)


def test_moodle_xml_is_valid_and_matches_the_key(client: TestClient) -> None:
    variant_set = _set(client)
    response = client.get(f"/instructor/moodle.xml?{QUERY}")
    root = ET.fromstring(response.content)
    assert root.tag == "quiz"
    assert root[0].get("type") == "category"
    questions = root.findall("question[@type='cloze']")
    assert len(questions) == 4
    for question, variant in zip(questions, variant_set.variants, strict=True):
        text = question.find("questiontext/text").text
        blanks = [float(v) for v in re.findall(r"\{\d+:NUMERICAL:=([-0-9.]+):0\.01\}", text)]
        expected = [c.value for t in variant_set.tasks for c in answer_cells(t, variant.answers[t])]
        assert blanks == pytest.approx(expected, abs=1e-6)


def test_csv_columns_are_grouped_by_task(client: TestClient) -> None:
    # graph variants of other functions have other inputs: their columns appear from a
    # later variant on, and still sit with the graph's
    text = client.get("/instructor/answers.csv?count=12&seed=3").text
    header = next(csv.reader(io.StringIO(text)))
    tasks = [column.split(".")[0] for column in header[1:]]
    assert tasks == sorted(tasks, key=["loss", "graph", "conv"].index)


def _moodle(client: TestClient, query: str) -> list[ET.Element]:
    response = client.get(f"/instructor/moodle.xml?{query}")
    assert response.status_code == 200, response.text
    return ET.fromstring(response.content).findall("question[@type='cloze']")


def test_moodle_highlights_inline_and_gives_the_worked_solution(client: TestClient) -> None:
    for question in _moodle(client, f"{QUERY}&loss_loss=softmax&lang=ru"):
        text = question.find("questiontext/text").text or ""
        assert 'class="hl" style="background:' in text and "<strong>" in text
        assert not re.search(r'class="tex|data-tex', text)
        feedback = question.find("generalfeedback/text").text or ""
        assert 'class="step"' in feedback and "\\[" in feedback
        assert "Функция потерь Softmax" in feedback
        words = re.findall(r"\\text\{([^}]*)\}", text + feedback)
        assert words and all(w == "ReLU" or not re.search("[A-Za-z]", w) for w in words), words


def test_moodle_blanks_weigh_the_parts_points(client: TestClient) -> None:
    query = "count=2&seed=7&tasks=loss&tasks=conv&points.loss.loss=3"
    query += "&points.conv.conv=2&points.conv.activation=2&points.conv.pool=2"
    for question in _moodle(client, query):
        text = question.find("questiontext/text").text or ""
        blanks = re.findall(r"\\\(([^=]*?)\\\) = \{(\d+):NUMERICAL", text)
        total: Counter[str] = Counter()
        for label, weight in blanks:
            group = "L_i" if label.startswith("L_") else label.split("}")[0]
            total[group] += int(weight)
        # L1…Ln together 1 point, L 3 points; each conv stage 2 points
        unit = total["L_i"]
        assert total["L"] == 3 * unit
        assert total["\\text{conv"] == total["\\text{pool"] == 2 * unit
        assert question.find("defaultgrade").text == "10"  # 1 + 3 + 3 × 2
    response = client.get("/instructor/moodle.xml?count=1&points.loss.loss=-1")
    assert response.status_code == 422 and "loss.loss" in response.text
    unknown = client.get("/instructor/moodle.xml?count=1&tasks=loss&points.conv.pool=2")
    assert unknown.status_code == 422
    assert "conv.pool is not a part of these tasks" in unknown.json()["message"]


def test_sheets_pdf(client: TestClient) -> None:
    response = client.get("/instructor/sheets.pdf?count=2&seed=3")
    assert response.status_code == 200
    assert response.content.startswith(b"%PDF")
    assert client.get("/instructor/key.pdf?count=51").status_code == 422


def test_key_pdf_is_compact(client: TestClient) -> None:
    # 30 variants made 153 pages and 16 MB: a page break before each variant, and a tagged
    # PDF's structure tree (an object per KaTeX span, 15 MB of the 16)
    response = client.get("/instructor/key.pdf?count=6&seed=2020")
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    pages = len(re.findall(rb"/Type\s*/Page[^s]", response.content))
    assert pages <= 2 * 6 and len(response.content) < 400_000, (pages, len(response.content))
    assert b"/StructElem" not in response.content


def test_instructor_page_previews_variant_one(client: TestClient) -> None:
    page = client.get(f"/instructor?{QUERY}&lang=ru").text
    preview = page[page.index('id="preview"') : page.index('class="downloads"')]
    assert 'data-variant="1"' in preview
    assert [t for t in ("loss", "graph", "conv") if f'data-task="{t}"' in preview] == [
        "loss",
        "graph",
        "conv",
    ]
    sheet = client.get(f"/instructor/sheets?{QUERY}").text
    first = sheet[sheet.index('data-variant="1"') : sheet.index('data-variant="2"')]
    scores = re.findall(r'<td data-row="\d+" data-col="\d+"[^>]*>([^<]*)</td>', first)
    assert (
        scores
        and scores[:4]
        == re.findall(r'<td data-row="\d+" data-col="\d+"[^>]*>([^<]*)</td>', preview)[:4]
    )
    assert 'id="preview"' not in client.get("/instructor").text


def test_instructor_page_validation(client: TestClient) -> None:
    page = client.get("/instructor?count=5&seed=1&tasks=conv&conv_size=4")
    assert page.status_code == 422
    assert "not whole" in page.text


CONV_SPECS = [
    "conv_bias_low=-2&conv_bias_high=2",
    "conv_padding=1&conv_stride=1&conv_size=6&conv_channels=2&conv_filters=2",
    "conv_pool_kind=avg",
    "conv_size=6&conv_allow_uneven=true",
    "conv_pool_kind=none",
]


@pytest.mark.parametrize("spec", CONV_SPECS)
def test_exports_render_for_every_conv_spec(client: TestClient, spec: str) -> None:
    """Sheets, key, Moodle XML, JSON and CSV render for the specs the form accepts (a
    non-zero bias used to answer 500)."""
    query = f"tasks=conv&count=3&seed=5&{spec}"
    for path in ("sheets", "key", "moodle.xml", "variants.json", "answers.csv"):
        response = client.get(f"/instructor/{path}?{query}")
        assert response.status_code == 200, (path, spec, response.text[:300])
    key = client.get(f"/instructor/key?{query}").text
    if "bias_low=-2" in spec:
        assert "Bias" in key


def test_key_summary_lists_every_part_label_beside_value_one_rounding(
    client: TestClient,
) -> None:
    key = client.get(f"/instructor/key?{QUERY}").text
    table = key[key.index("<tbody>") : key.index("</tbody>")]
    for variant in _set(client).variants:
        for task in variant.answers:
            for cell in answer_cells(task, variant.answers[task]):
                assert f'data-column="{cell.column}"' in table
    # every map of the conv task (the conv and ReLU maps too), as grids
    assert table.count(r'data-tex="\text{conv}"') == 4 and table.count(r'data-tex="\text{ReLU}"')
    assert 'data-column="conv.conv[1,1]"' in table
    # a label and its value are held together; "=" never starts a line
    pairs = re.findall(r'<span class="key-pair"[^>]*>(.*?)</span>(?:</span>|\s|<)', table)
    assert pairs and all("&nbsp;=" in p for p in pairs)
    # one rounding: every number has the key's 4 decimals, or is a whole number
    numbers = re.findall(r'(?:&nbsp;|<span role="cell"[^>]*>|by hand: )(−?\d+(?:\.\d+)?)', table)
    assert numbers and all(re.fullmatch(r"−?\d+(\.\d{4})?", n) for n in numbers)
    assert any("." in n for n in numbers)


@pytest.mark.parametrize(
    "referer",
    [
        "https://evil.example/phish",
        "http://evil.example/instructor",
        "//evil.example/x",
        "javascript:alert(1)",
        "http://testserver.evil.example/",
        "http://testserver@evil.example/",
        "http://testserver//evil.example/",
        "http://testserver/\\evil.example",
        "/instructor?x=1",  # not a URL of this host: only a full same-host URL counts
        "",
    ],
)
def test_token_never_redirects_away(client: TestClient, referer: str) -> None:
    headers = {"referer": referer} if referer else {}
    response = client.post(
        "/instructor/token", data={"token": "t"}, headers=headers, follow_redirects=False
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/instructor"


def test_token_goes_back_to_the_page_it_came_from(client: TestClient) -> None:
    referer = "http://testserver/instructor/key?tasks=loss&count=3"
    response = client.post(
        "/instructor/token", data={"token": "t"}, headers={"referer": referer},
        follow_redirects=False,
    )  # fmt: skip
    assert response.headers["location"] == "/instructor/key?tasks=loss&count=3"
