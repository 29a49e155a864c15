"""The Russian catalog is complete and keeps every placeholder; language choice works."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po
from fastapi.testclient import TestClient

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "locales" / "ru" / "LC_MESSAGES" / "messages.po"


def _extracted(tmp_path: Path) -> set[str]:
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [
            str(Path(sys.executable).parent / "pybabel"),
            "-q",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "N_",
            "-k",
            "NP_:1,2",
            "-o",
            str(pot),
            "--omit-header",
            ".",
        ],
        cwd=ROOT,
        check=True,
    )
    with pot.open("rb") as handle:
        return {m.id for m in read_po(handle) if m.id}


def test_every_message_has_a_russian_translation(tmp_path: Path) -> None:
    with PO.open("rb") as handle:
        translated = {m.id: m.string for m in read_po(handle, locale="ru") if m.id and m.string}
    missing = sorted(_extracted(tmp_path) - translated.keys())
    assert not missing, f"untranslated (run `make i18n`, then translate): {missing}"


def _forms(text: str | tuple[str, ...]) -> tuple[str, ...]:
    return text if isinstance(text, tuple) else (text,)


def test_translations_keep_placeholders() -> None:
    with PO.open("rb") as handle:
        for message in read_po(handle, locale="ru"):
            if message.id and message.string:
                names = {n for form in _forms(message.id) for n in re.findall(r"\{(\w+)\}", form)}
                for form in _forms(message.string):
                    assert names == set(re.findall(r"\{(\w+)\}", form)), message.id


def test_every_count_has_plural_forms(tmp_path: Path) -> None:
    """No "(s)" in a message: a count takes ngettext (or NP_) with all of Russian's forms."""
    fake = sorted(m for m in _extracted(tmp_path) for form in _forms(m) if "(s)" in form)
    assert not fake, f"use ngettext / NP_ instead of (s): {fake}"
    with PO.open("rb") as handle:
        catalog = read_po(handle, locale="ru")
    assert catalog.num_plurals == 3
    for message in catalog:
        if message.pluralizable:
            forms = _forms(message.string)
            assert len(forms) == 3 and all(forms), f"plural forms missing: {message.id}"


def test_plural_forms_follow_the_number(client: TestClient) -> None:
    page = client.get("/loss?lang=ru&scores=1+2+3&labels=0&examples=rows").text
    assert "Понято как 1 пример × 3 класса" in page
    assert (
        "Understood as 1 example × 3 classes"
        in client.get("/loss?lang=en&scores=1+2+3&labels=0&examples=rows").text
    )
    five = "/conv?lang=ru&image=" + "%0A".join(["1+2+3+4+5+6+7"] * 7) + "&filters=1&pool_kind=none"
    assert "На выходе 1 карта размером 7×7." in client.get(five).text


def test_language_order(client: TestClient) -> None:
    assert 'lang="ru"' in client.get("/", headers={"Accept-Language": "ru"}).text
    assert 'lang="en"' in client.get("/?lang=en", headers={"Accept-Language": "ru"}).text
    client.get("/?lang=ru")  # sets the cookie
    assert 'lang="ru"' in client.get("/", headers={"Accept-Language": "en"}).text
    client.cookies.set("lang", "de")
    assert 'lang="en"' in client.get("/?lang=xx", headers={"Accept-Language": "fr"}).text


def test_language_switch_keeps_the_problem(client: TestClient) -> None:
    page = client.get("/loss?scores=1+2%0A3+4&labels=0+1").text
    assert "/loss?scores=1+2%0A3+4&amp;labels=0+1&amp;lang=ru" in page


def test_an_error_with_a_count_takes_the_plural_form(client: TestClient) -> None:
    image = [[[1, 2], [3, 4]]] * 3
    problem = {"image": image, "filters": [[[[1]], [[1]]]], "pool": None}
    answer = client.post("/api/v1/conv/solve?lang=ru", json=problem)
    assert answer.status_code == 422
    assert "у изображения 3 канала, а у каждого фильтра — 2" in answer.json()["message"]
    answer = client.post("/api/v1/conv/solve?lang=en", json=problem)
    assert "the image has 3 channels but each filter has 2" in answer.json()["message"]


def _literal_messages() -> set[str]:
    """The text literals passed to ``gettext``, ``translate`` or ``N_`` anywhere in the app
    and the solvers, f-strings' expressions included (which extraction may miss)."""
    found = set()
    for folder in ("app", "solvers"):
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Name)
                    and node.func.id in ("gettext", "translate", "N_")
                    and node.args
                    and isinstance(node.args[0], ast.Constant)
                    and isinstance(node.args[0].value, str)
                    and node.args[0].value
                ):
                    found.add(node.args[0].value)
    return found


def test_every_literal_message_is_in_the_catalog(tmp_path: Path) -> None:
    """A message written inside an f-string's braces is extracted too (the plots' axis
    once was not, and stayed English on a Russian page)."""
    missing = sorted(_literal_messages() - _extracted(tmp_path))
    assert not missing, f"not extracted: move them out of the f-string: {missing}"
