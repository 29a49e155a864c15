"""HTML pieces built in Python where a Jinja macro would cost too much per cell."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from functools import lru_cache
from itertools import chain
from numbers import Number
from typing import Any

from jinja2.tests import test_sequence
from markupsafe import Markup, escape

from app.i18n import current_language, gettext, translate
from solvers.core import NumberFormat, Solution, Step


def _is_padding(r: int, c: int, rows: int, cols: int, pad: Sequence[int] | None) -> bool:
    return bool(pad) and (
        r < pad[0] or r >= rows - pad[0] or c < pad[1] or c >= cols - pad[1]  # type: ignore[index]
    )


def _table(
    values: Sequence[Sequence[float]],
    fmt: NumberFormat,
    highlight: Collection[tuple[int, int]] = (),
    row_labels: Sequence[Any] | None = None,
    col_labels: Sequence[Any] | None = None,
    caption: str | None = None,
    cls: str = "",
    stage: str | None = None,
    index: Any = None,
    pad: Sequence[int] | None = None,
) -> str:
    """A matrix as an HTML table: every cell carries ``data-row``/``data-col`` (0-based).

    ``highlight`` marks cells (class ``hl``); ``pad`` = (rows, cols) of zero padding marks the
    border cells (class ``pad``); ``stage`` and ``index`` name the table for scripts and make
    its cells focusable.

    The table's markup depends only on its shape and these options: it is built once per
    kind of table (:func:`_layout`), and each table fills in its caption and numbers.
    """
    shape = tuple(map(len, values))
    if highlight or row_labels or col_labels or stage or pad:
        layout = _layout(
            shape,
            frozenset(highlight),
            None if row_labels is None else tuple(str(escape(label)) for label in row_labels),
            None if col_labels is None else tuple(str(escape(label)) for label in col_labels),
            bool(caption),
            cls,
            stage,
            str(escape(index)) if stage else None,
            None if pad is None else tuple(pad),
        )
    else:
        layout = _plain_layout(shape, bool(caption), cls)
    return _fill(layout, values, fmt, str(escape(caption)) if caption else None)


def fill(pieces: tuple[str, ...], texts: Sequence[str]) -> str:
    """Markup made of ``pieces`` with ``texts`` between them, in order (one fewer): a tenth
    of ``str.format``'s cost on long markup (which it reads character by character)."""
    out = [""] * (2 * len(pieces) - 1)
    out[::2] = pieces
    out[1::2] = texts
    return "".join(out)


def _fill(
    layout: tuple[str, ...],
    values: Sequence[Sequence[float]],
    fmt: NumberFormat,
    caption: str | None,
) -> str:
    """A table's ``layout`` with its escaped ``caption`` (if it has one) and numbers."""
    cells = fmt.nums(chain.from_iterable(values))
    if caption is not None:
        cells.insert(0, caption)
    return fill(layout, cells)


@lru_cache(maxsize=1024)
def _plain_layout(shape: tuple[int, ...], captioned: bool, cls: str) -> tuple[str, ...]:
    """:func:`_layout` of a table without marks, labels or stage (most of them)."""
    return _layout(shape, frozenset(), None, None, captioned, cls, None, None, None)


_TEXT = object()
"""Where a text goes in :func:`_layout`'s markup."""


@lru_cache(maxsize=1024)
def _layout(
    shape: tuple[int, ...],
    highlight: frozenset[tuple[int, int]],
    row_labels: tuple[str, ...] | None,
    col_labels: tuple[str, ...] | None,
    captioned: bool,
    cls: str,
    stage: str | None,
    index: str | None,
    pad: tuple[int, ...] | None,
) -> tuple[str, ...]:
    """The markup of :func:`_table` for a table of ``shape`` (each row's length) as the
    pieces around its texts (for :func:`fill`): the caption's (when ``captioned``), then each
    cell's. Labels and ``index`` come escaped."""
    rows = len(shape)
    attributes = f' data-stage="{escape(stage)}" data-map="{index}"' if stage else ""
    focus = ' tabindex="0"' if stage else ""
    out: list[str | object] = [
        f'<div class="matrix-wrap"><table class="matrix {escape(cls)}"{attributes}>'
    ]
    if captioned:
        out += ["<caption>", _TEXT, "</caption>"]
    if col_labels:
        corner = "<th></th>" if row_labels else ""
        heads = "".join(f'<th scope="col">{label}</th>' for label in col_labels)
        out.append(f"<thead><tr>{corner}{heads}</tr></thead>")
    out.append("<tbody>")
    marks = bool(highlight) or bool(pad)
    for r, cols in enumerate(shape):
        out.append("<tr>")
        if row_labels:
            out.append(f'<th scope="row">{row_labels[r]}</th>')
        for c in range(cols):
            marked = ""
            if marks:
                classes = " ".join(
                    name
                    for name, on in (
                        ("hl", (r, c) in highlight),
                        ("pad", _is_padding(r, c, rows, cols, pad)),
                    )
                    if on
                )
                marked = f' class="{classes}"' if classes else ""
            out += [f'<td data-row="{r}" data-col="{c}"{marked}{focus}>', _TEXT, "</td>"]
        out.append("</tr>")
    out.append("</tbody></table></div>")
    pieces: list[str] = []
    start = 0
    for end, part in enumerate(out):
        if part is _TEXT:
            pieces.append("".join(out[start:end]))  # type: ignore[arg-type]
            start = end + 1
    pieces.append("".join(out[start:]))  # type: ignore[arg-type]
    return tuple(pieces)


def matrix(values: Sequence[Sequence[float]], fmt: NumberFormat, *args: Any, **kw: Any) -> Markup:
    """:func:`_table` (same arguments) as markup, for templates and views."""
    return Markup(_table(values, fmt, *args, **kw))


def tex(source: str, display: bool = False) -> Markup:
    """A formula for KaTeX to typeset; its LaTeX source stays readable without JavaScript."""
    return Markup(_tex_span(source, display))


def _tex_span(source: str, display: bool) -> str:
    kind = "tex tex-display" if display else "tex"
    text = escape_text(source)
    return f'<span class="{kind}" data-tex="{text}">{text}</span>'


def escape_text(text: Any) -> str:
    """``str(escape(text))``: for a plain ``str`` the same entities, without the ``Markup``
    that :func:`markupsafe.escape` builds (a third of its cost; formulas and step kinds, many
    a page); markup (kept as it is) and anything else through ``escape`` itself."""
    if type(text) is not str:
        return str(escape(text))
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("'", "&#39;")
        .replace('"', "&#34;")
    )


def moodle_tex(source: str, display: bool = False) -> Markup:
    """A formula for Moodle's MathJax filter: ``\\( … \\)`` or ``\\[ … \\]``."""
    return Markup(f"\\[{escape(source)}\\]" if display else f"\\({escape(source)}\\)")


_SUBSCRIPT = re.compile(r"(?<![\w\\])([A-Za-zΔλ])_(\{[\w,]+\}|[A-Za-z0-9]+)(?!\w)")


@lru_cache(maxsize=4096, typed=True)
def _prose(text: str) -> str:
    """Escaped text with its math names typeset (``s_j``, ``L_i``, ``y_i``): var and sub
    (remembered: step titles and texts repeat from one problem to the next)."""
    return _SUBSCRIPT.sub(
        lambda m: f"<var>{m[1]}</var><sub>{m[2].strip('{}')}</sub>", str(escape(text))
    )


def prose(text: str) -> Markup:
    """:func:`_prose` as markup, for templates (step texts, part labels, feedback)."""
    return Markup(_prose(text))


def read_as(value: Any, fmt: NumberFormat) -> str:
    """How an answer was read: a number, a list (``2,9; 0; 12,9``), rows apart by `` | ``."""
    if isinstance(value, Number):
        return fmt.num(value)  # type: ignore[arg-type]
    if test_sequence(value) and not isinstance(value, str):
        nested = any(test_sequence(v) and not isinstance(v, str) for v in value)
        return (" | " if nested else fmt.separator).join(read_as(v, fmt) for v in value)
    return str(value)


def _is_sequence(v: Any) -> bool:
    """Whether a step's value is a list (a vector, a matrix, a stack), not text."""
    if type(v) is list:
        return True
    if type(v) is float or type(v) is int or type(v) is str:  # most values: no len() to try
        return False
    return test_sequence(v) and not isinstance(v, str)


@lru_cache(maxsize=1024)
def _label(lang: str, name: str) -> str:
    """A value's name as its step shows it, in ``lang`` (the current language), escaped."""
    return str(escape(translate(name).replace("_", " ")))


def _captioned(values: Sequence[Sequence[float]], fmt: NumberFormat, caption: str) -> str:
    """A plain table (no marks) with its escaped ``caption``: :func:`_table`, in short."""
    return _fill(_plain_layout(tuple(map(len, values)), bool(caption), ""), values, fmt, caption)


def _value(name: str, v: Any, fmt: NumberFormat) -> str:
    """One named value of a step: a matrix (a caption per block of a stack), a vector as a
    one-row matrix, a number, or text (the whitespace is the former Jinja macro's)."""
    label = _label(current_language.get(), name)
    if type(v) is float or type(v) is int:  # most values (a number's text has nothing to escape)
        return f'  <p class="value"><span class="name">{label}</span> = {fmt.num(v)}</p>\n'
    if _is_sequence(v):
        if v and _is_sequence(v[0]):
            if v[0] and _is_sequence(v[0][0]):
                return "".join(
                    _captioned(block, fmt, f"{label} [{i}]") for i, block in enumerate(v, 1)
                )
            return f"      {_captioned(v, fmt, label)}\n"
        return f"    {_captioned([v], fmt, label)}\n"
    if type(v) is float or isinstance(v, Number):  # a number's text has nothing to escape
        return f'  <p class="value"><span class="name">{label}</span> = {fmt.num(v)}</p>\n'  # type: ignore[arg-type]
    return f'  <p class="value"><span class="name">{label}</span>: {escape(v)}</p>\n'


def _node(s: Step) -> str:
    """``data-node`` of a step about one node of a graph (the page links it to the picture)."""
    node = s.params.get("node")
    return f' data-node="{node}"' if isinstance(node, int) else ""


def _step(
    s: Step, fmt: NumberFormat, number: int, show_values: bool, drawn: dict[tuple[int, str], str]
) -> str:
    """One worked step: its title, explanation, formulas and (``show_values``) its values;
    ``drawn``: the values drawn so far, by their list's identity and name (a kernel, a map
    shown again in a later step is drawn once)."""
    out = [
        f'<section class="step" data-kind="{escape_text(s.kind)}" id="step-{number}"{_node(s)}>\n'
        f'  <h3><span class="step-number">{number}.</span> {_prose(s.title)}</h3>\n'
    ]
    if s.text:
        out.append(f"<p>{_prose(s.text)}</p>")
    out.extend(f'<div class="formula">{_tex_span(f, True)}</div>' for f in s.formulas)
    if show_values:
        for name, v in s.values.items():
            if type(v) is list:
                key = (id(v), name)
                html = drawn.get(key)
                if html is None:
                    html = drawn[key] = _value(name, v, fmt)
                out.append(html)
            else:
                out.append(_value(name, v, fmt))
    out.append("</section>")
    return "".join(out)


def steps_html(solution: Solution, fmt: NumberFormat, show_values: bool = True) -> Markup:
    """The worked solution's steps, numbered from 1, under the "Step by step" heading."""
    drawn: dict[tuple[int, str], str] = {}  # the solution holds every list: ids stay theirs
    body = "".join(
        _step(s, fmt, number, show_values, drawn) for number, s in enumerate(solution.steps, 1)
    )
    heading = gettext("Step by step")
    return Markup(f'<section class="steps" id="steps">\n  <h2>{heading}</h2>\n{body}</section>')


def error_summary(errors: Mapping[str, list[str]]) -> Markup:
    """The form's summary of errors (nothing without any), its general messages listed."""
    if not errors:
        return Markup("")
    messages = "".join(f'<p class="error">{escape(m)}</p>' for m in errors.get("", []))
    return Markup(
        f'<div class="error-summary" role="alert">\n'
        f"  <strong>{gettext('Please fix the marked fields.')}</strong>\n{messages}</div>\n"
    )


def _field_errors(errors: Mapping[str, list[str]], name: str) -> str:
    return "".join(
        f'<p class="error" role="alert" data-field="{escape(name)}">{escape(message)}</p>'
        for message in errors.get(name, [])
    )


def _field_end(name: str, small: str, errors: Mapping[str, list[str]]) -> str:
    """A field's hint (``small``, made), its errors and the label's end."""
    return f"{small}  {_field_errors(errors, name) if errors else ''}\n</label>"


@lru_cache(maxsize=256, typed=True)
def _field_parts(
    kind: str, name: str, label: Any, hint: Any, attribute: Any, wide: bool
) -> tuple[str, str, str]:
    """A form field's fixed markup (per kind, name, label, hint, ``attribute`` and width),
    built once: before its value, after its value (up to ``aria-invalid``), its hint."""
    small = f"<small>{escape(hint)}</small>" if hint else ""
    if kind == "input":
        return (
            f'<label class="field{" field-wide" if wide else ""}">\n  <span>{escape(label)}'
            f'</span>\n  <input name="{escape(name)}" value="',
            f'" inputmode="{escape(attribute)}" autocomplete="off"',
            small,
        )
    return (
        f'<label class="field{" field-wide" if wide else " field-half"}">\n'
        f"  <span>{escape(label)}</span>\n"
        f'  <textarea name="{escape(name)}" rows="{escape(attribute)}" spellcheck="false"',
        "",
        small,
    )


def input_field(
    name: str,
    label: Any,
    form: Mapping[str, str],
    errors: Mapping[str, list[str]],
    hint: Any = None,
    inputmode: str = "decimal",
    wide: bool = False,
) -> Markup:
    """A labelled one-line field of the problem form, its hint and its errors."""
    head, tail, small = _field_parts("input", name, label, hint, inputmode, wide)
    invalid = ' aria-invalid="true"' if errors.get(name) else ""
    value = escape(form.get(name, ""))
    return Markup(f"{head}{value}{tail}{invalid}>\n{_field_end(name, small, errors)}")


def textarea_field(
    name: str,
    label: Any,
    form: Mapping[str, str],
    errors: Mapping[str, list[str]],
    hint: Any = None,
    rows: int = 4,
    wide: bool = True,
) -> Markup:
    """A labelled text area of the problem form (full or half width), its hint and errors."""
    head, _, small = _field_parts("textarea", name, label, hint, rows, wide)
    invalid = ' aria-invalid="true"' if errors.get(name) else ""
    value = escape(form.get(name, ""))
    return Markup(f"{head}{invalid}>{value}</textarea>\n{_field_end(name, small, errors)}")


def select_field(
    name: str,
    label: Any,
    options: Sequence[tuple[str, Any]],
    form: Mapping[str, str],
    errors: Mapping[str, list[str]],
) -> Markup:
    """A labelled choice of the problem form, the form's value selected, and its errors."""
    typed = tuple((value, text, type(text)) for value, text in options)
    choice = _select(name, label, typed, form.get(name, ""))
    return Markup(f"{choice}  {_field_errors(errors, name) if errors else ''}\n</label>")


@lru_cache(maxsize=256, typed=True)
def _select(name: str, label: Any, options: tuple[tuple[str, Any, type], ...], chosen: str) -> str:
    """:func:`select_field`'s markup before its errors, built once per choice."""
    items = "".join(
        f'    <option value="{escape(value)}"{" selected" if chosen == value else ""}>'
        f"{escape(text)}</option>\n"
        for value, text, _ in options
    )
    return (
        f'<label class="field">\n  <span>{escape(label)}</span>\n  <select name="{escape(name)}">\n'
        f"{items}  </select>\n"
    )


def graded_cells(given: Any, cells: Any, fmt: NumberFormat) -> Markup:
    """The student's numbers with each cell marked right or wrong (vectors, matrices, maps)."""
    if not isinstance(given, list) or not isinstance(cells, list):
        return Markup("")
    if given and not isinstance(given[0], list):
        given, cells = [given], [cells]
    if given and isinstance(given[0][0], list):
        return Markup("").join(graded_cells(g, c, fmt) for g, c in zip(given, cells, strict=True))
    rows = []
    for values, marks in zip(given, cells, strict=True):
        tds = "".join(
            f'<td class="{"cell-right" if ok else "cell-wrong"}">{fmt.num(x)}'
            f'<span class="mark">{"✓" if ok else "✗"}</span></td>'
            for x, ok in zip(values, marks, strict=True)
        )
        rows.append(f"<tr>{tds}</tr>")
    return Markup(f'<table class="matrix graded">{"".join(rows)}</table>')


def value_html(value: Any, fmt: NumberFormat) -> Markup:
    """Any answer or problem value as HTML: numbers rounded, vectors and matrices as tables,
    stacks of matrices one after another, mappings as ``name = value`` lists."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return Markup(escape("" if value is None else str(value)))
    if isinstance(value, int | float):
        return Markup(escape(fmt.num(value)))
    if isinstance(value, dict):
        return Markup(", ").join(
            Markup(f"{escape(k)} = {value_html(v, fmt)}") for k, v in value.items()
        )
    if isinstance(value, list | tuple):
        if value and isinstance(value[0], list | tuple) and value[0]:
            if isinstance(value[0][0], list | tuple):
                return Markup("").join(value_html(block, fmt) for block in value)
            if isinstance(value[0][0], int | float) and not isinstance(value[0][0], bool):
                return matrix(value, fmt)  # type: ignore[arg-type]
        if all(isinstance(x, int | float) and not isinstance(x, bool) for x in value):
            return matrix([list(value)], fmt) if value else Markup("")
        return Markup(", ").join(value_html(x, fmt) for x in value)
    if hasattr(value, "model_dump"):
        return value_html(value.model_dump(), fmt)
    return Markup(escape(str(value)))


def answer_table(answer: Any, fmt: NumberFormat) -> Markup:
    """An answer model as a two-column table: each field's name and its value."""
    data = answer.model_dump() if hasattr(answer, "model_dump") else dict(answer)
    rows = "".join(
        f'<tr data-field="{escape(name)}"><th scope="row">{escape(name)}</th>'
        f"<td>{value_html(value, fmt)}</td></tr>"
        for name, value in data.items()
    )
    return Markup(f'<table class="answer-table">{rows}</table>')
