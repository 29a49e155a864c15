"""What an instructor downloads: answer cells, CSV, Moodle XML, and PDF through Chromium."""

from __future__ import annotations

import csv
import io
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from solvers.core import AnswerCell
from solvers.registry import TASKS

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")


def answer_cells(task: str, answer: Any) -> list[AnswerCell]:
    """The numbers of one task's answer that a key lists and a student writes down; CSV
    columns are prefixed with the task id (``loss.L1``)."""
    return [replace(c, column=f"{task}.{c.column}") for c in TASKS[task].answer_cells(answer)]


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?|[+-]?(inf|nan)")


def csv_cell(value: object) -> str:
    """A cell a spreadsheet shows as text, never runs as a formula: text that starts with
    ``= + - @``, a tab or a carriage return gets a leading ``'`` (OWASP's advice on CSV
    injection), except plain numbers such as ``-0.39``."""
    text = "" if value is None else str(value)
    if text.startswith(_FORMULA_START) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def write_csv(fieldnames: list[str], rows: Iterable[Mapping[str, object]]) -> str:
    """CSV text with a header: the only way the app writes CSV, every cell through
    :func:`csv_cell` (missing cells empty)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([csv_cell(name) for name in fieldnames])
    writer.writerows([csv_cell(row.get(name, "")) for name in fieldnames] for row in rows)
    return out.getvalue()


def variants_csv(variant_set: Any) -> str:
    """One row per variant, one column per answer number (full precision)."""
    rows = []
    columns: dict[str, None] = {}
    for variant in variant_set.variants:
        row = {"variant": str(variant.number)}
        for task in variant_set.tasks:
            for cell in answer_cells(task, variant.answers[task]):
                columns.setdefault(cell.column)
                row[cell.column] = repr(float(cell.value))
        rows.append(row)
    return write_csv(["variant", *columns], rows)


def moodle_number(value: float) -> str:
    """A number as Moodle's cloze NUMERICAL answer expects: a point, at most 6 decimals."""
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def find_chromium() -> str | None:
    """The path of a Chromium (or Chrome) binary, if one is installed."""
    for candidate in CHROMIUM_CANDIDATES:
        if Path(candidate).exists():
            return candidate
    return shutil.which("chromium")


def html_to_pdf(html: str, timeout: float = 120) -> bytes | None:
    """Print ``html`` (whose assets are ``file://`` URLs) to PDF with headless Chromium.

    ``None`` when no Chromium is installed, or printing fails or takes over ``timeout`` s.
    """
    chromium = find_chromium()
    if chromium is None:
        return None
    with tempfile.TemporaryDirectory(prefix="stepgrad-pdf-") as folder:
        page, pdf = Path(folder) / "page.html", Path(folder) / "page.pdf"
        page.write_text(html, encoding="utf-8")
        command = [
            chromium, "--headless", "--no-sandbox", "--disable-gpu",
            "--disable-background-networking", "--no-first-run", "--disable-component-update",
            "--disable-sync", f"--user-data-dir={folder}/profile", "--no-pdf-header-footer",
            "--virtual-time-budget=2000", "--run-all-compositor-stages-before-draw",
            f"--print-to-pdf={pdf}", page.as_uri(),
        ]  # fmt: skip
        try:
            subprocess.run(
                command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                timeout=timeout, check=False,
            )  # fmt: skip
        except subprocess.TimeoutExpired:
            return None
        return pdf.read_bytes() if pdf.exists() and pdf.stat().st_size else None


def moodle_xml(variant_set: Any, statements: dict[tuple[int, str], str], tolerance: float) -> str:
    """A Moodle question category with one cloze question per variant.

    Each answer number is a NUMERICAL blank with an absolute ``tolerance``; ``statements``
    maps (variant number, task) to the problem's HTML (formulas as ``\\( … \\)``).
    """
    import xml.etree.ElementTree as ET

    quiz = ET.Element("quiz")
    category = ET.SubElement(quiz, "question", type="category")
    ET.SubElement(
        ET.SubElement(category, "category"), "text"
    ).text = f"$course$/stepgrad/{'-'.join(variant_set.tasks)} seed {variant_set.seed}"
    for variant in variant_set.variants:
        parts = []
        for number, task in enumerate(variant_set.tasks, start=1):
            blanks = "".join(
                f"<p>\\({cell.label}\\) = "
                f"{{1:NUMERICAL:={moodle_number(cell.value)}:{moodle_number(tolerance)}}}</p>"
                for cell in answer_cells(task, variant.answers[task])
            )
            parts.append(f"<h4>{number}.</h4>{statements[(variant.number, task)]}{blanks}")
        question = ET.SubElement(quiz, "question", type="cloze")
        ET.SubElement(ET.SubElement(question, "name"), "text").text = f"Variant {variant.number}"
        text = ET.SubElement(ET.SubElement(question, "questiontext", format="html"), "text")
        text.text = "".join(parts)
        ET.SubElement(ET.SubElement(question, "generalfeedback", format="html"), "text").text = ""
        ET.SubElement(question, "penalty").text = "0"
        ET.SubElement(question, "hidden").text = "0"
    ET.indent(quiz)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(quiz, encoding="unicode")
