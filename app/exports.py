"""What an instructor downloads: answer cells, CSV, Moodle XML, and PDF through Chromium."""

from __future__ import annotations

import csv
import io
import re
import shutil
import subprocess
import tempfile
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import replace
from fractions import Fraction
from functools import lru_cache
from math import lcm
from pathlib import Path
from typing import Any

from app.i18n import gettext
from solvers.core import N_, AnswerCell
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
    """One row per variant, one column per answer number (full precision), the columns
    grouped by task in the set's order (a column only some variants have stays in its
    task's group)."""
    rows = []
    columns: dict[str, dict[str, None]] = {task: {} for task in variant_set.tasks}
    for variant in variant_set.variants:
        row = {"variant": str(variant.number)}
        for task in variant_set.tasks:
            for cell in answer_cells(task, variant.answers[task]):
                columns[task].setdefault(cell.column)
                row[cell.column] = repr(float(cell.value))
        rows.append(row)
    return write_csv(["variant", *(c for task in columns.values() for c in task)], rows)


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
            "--disable-pdf-tagging",
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


DEFAULT_PART_POINTS = 1.0
"""A part's points when none are given (the grader's full marks of a part)."""


def part_points(
    points: Mapping[str, float], task: str, name: str, default: float = DEFAULT_PART_POINTS
) -> float:
    """A part's full marks: ``points["<task>.<part>"]``, else those of its group
    (``graph.gradients`` for ``graph.gradients.w0``), else ``default``."""
    key = f"{task}.{name}"
    if key in points:
        return points[key]
    return points.get(f"{task}.{name.split('.')[0]}", default)


@lru_cache(maxsize=4096)
def cell_part(task: str, column: str) -> str:
    """The graded part an answer cell belongs to (``L1`` → ``per_example``, ``df/dw0`` →
    ``gradients.w0``), read from the task's own mapping of cells to a submission."""
    answer = TASKS[task].answer_from_cells({column: "0"})
    head = next(iter(answer))
    value = answer[head]
    return f"{head}.{next(iter(value))}" if isinstance(value, dict) else head


def blank_weights(parts: list[str], points: Mapping[str, float]) -> list[int]:
    """Whole weights of a cloze question's blanks, one per cell of ``parts`` (``<task>.<part>``
    per blank): each part's points shared by its blanks, scaled to whole numbers."""
    counts = Counter(parts)
    shares = [
        Fraction(part_points(points, *p.split(".", 1))).limit_denominator(100) / counts[p]
        for p in parts
    ]
    scale = lcm(*(share.denominator for share in shares))
    return [int(share * scale) for share in shares]


HIGHLIGHT_STYLE = "background:#fff1b8;font-weight:bold;outline:2px solid #000"
_TEX_SPAN = re.compile(r'<span class="tex( tex-display)?" data-tex="([^"]*)">[^<]*</span>')
_HIGHLIGHTED = re.compile(r'(<td [^>]*class="[^"]*\bhl\b[^"]*")>([^<]*)</td>')
_TEX_TEXT = re.compile(r"\\text\{([A-Za-z ]+)\}")
N_("margin")  # a word of the steps' formulas (\text{margin}) the exports translate


def tex_words(source: str) -> str:
    """LaTeX with the words of its ``\\text{…}`` in the current language."""
    return _TEX_TEXT.sub(lambda m: f"\\text{{{gettext(m[1])}}}", source)


def for_moodle(html: str) -> str:
    """The app's HTML as Moodle keeps it: formulas for its MathJax filter (``\\( … \\)``,
    ``\\[ … \\]``), highlighted cells with an inline style and in bold (Moodle strips
    classes), and the words of formulas translated."""
    html = _TEX_SPAN.sub(lambda m: f"\\[{m[2]}\\]" if m[1] else f"\\({m[2]}\\)", html)
    html = _HIGHLIGHTED.sub(rf'\1 style="{HIGHLIGHT_STYLE}"><strong>\2</strong></td>', html)
    return tex_words(html)


def moodle_xml(
    variant_set: Any,
    statements: Mapping[tuple[int, str], str],
    tolerance: float,
    feedback: Mapping[tuple[int, str], str] | None = None,
    points: Mapping[str, float] | None = None,
) -> str:
    """A Moodle question category with one cloze question per variant.

    Each answer number is a NUMERICAL blank with an absolute ``tolerance``, weighted by its
    part's ``points`` (``"<task>.<part>"``; 1 a part by default) shared by the part's blanks;
    the question's default mark is the sum of its parts' points. ``statements`` and
    ``feedback`` map (variant number, task) to the problem's HTML and its worked solution
    (the question's general feedback), both as :func:`for_moodle` writes them.
    """
    import xml.etree.ElementTree as ET

    points = points or {}
    quiz = ET.Element("quiz")
    category = ET.SubElement(quiz, "question", type="category")
    ET.SubElement(
        ET.SubElement(category, "category"), "text"
    ).text = f"$course$/stepgrad/{'-'.join(variant_set.tasks)} seed {variant_set.seed}"
    for variant in variant_set.variants:
        cells = {t: TASKS[t].answer_cells(variant.answers[t]) for t in variant_set.tasks}
        parts = [f"{t}.{cell_part(t, c.column)}" for t in variant_set.tasks for c in cells[t]]
        weights = iter(blank_weights(parts, points))
        texts, solutions = [], []
        for number, task in enumerate(variant_set.tasks, start=1):
            blanks = "".join(
                f"<p>\\({tex_words(cell.label)}\\) = {{{next(weights)}:NUMERICAL:="
                f"{moodle_number(cell.value)}:{moodle_number(tolerance)}}}</p>"
                for cell in cells[task]
            )
            texts.append(f"<h4>{number}.</h4>{statements[(variant.number, task)]}{blanks}")
            if feedback:
                solutions.append(f"<h4>{number}.</h4>{feedback[(variant.number, task)]}")
        question = ET.SubElement(quiz, "question", type="cloze")
        ET.SubElement(ET.SubElement(question, "name"), "text").text = f"Variant {variant.number}"
        text = ET.SubElement(ET.SubElement(question, "questiontext", format="html"), "text")
        text.text = "".join(texts)
        general = ET.SubElement(question, "generalfeedback", format="html")
        ET.SubElement(general, "text").text = "".join(solutions)
        total = sum(part_points(points, *p.split(".", 1)) for p in dict.fromkeys(parts))
        ET.SubElement(question, "defaultgrade").text = moodle_number(total)
        ET.SubElement(question, "penalty").text = "0"
        ET.SubElement(question, "hidden").text = "0"
    ET.indent(quiz)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(quiz, encoding="unicode")
