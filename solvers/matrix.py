"""Numbers as people type them: matrices, vectors and small tensors from text or JSON lists.

Accepted text forms (what people paste from a quiz, a PDF or MATLAB): JSON-style
``[[1, 2], [3, 4]]``, ``1 2; 3 4``, MATLAB ``[1 2; 3 4]``, one row per line (spaces, commas
or tabs), PDF paste ``[1 2] [3 4]``, and decimal commas (``0,5 1,5``). A stack of matrices
(C×H×W) is written as blocks separated by a blank line, or as nested brackets. Every error
is a :class:`PydanticCustomError` whose message template names the row and column, so the
app can translate it.
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Any

from pydantic import Field
from pydantic_core import PydanticCustomError

from solvers.core import N_, NP_

MAX_TEXT_LENGTH = 100_000
MAX_NESTING = 4
"""Deepest brackets of a tensor in text: filters K×C×H×W."""

MATRIX_TEXT_PATTERN = r"^[-+\u2212\u2013\s0-9.,;eE\[\]]*[0-9][-+\u2212\u2013\s0-9.,;eE\[\]]*$"
"""What matrix text is made of: numbers (decimal point or comma, exponent, typographic
minus), separators and brackets. The JSON schema states it; the parser says what is wrong."""

MatrixText = Annotated[
    str, Field(min_length=1, max_length=MAX_TEXT_LENGTH, pattern=MATRIX_TEXT_PATTERN)
]
"""A matrix, vector or stack of matrices typed as text, as the JSON schema states it."""


def bounded(bound: float | None) -> Any:
    """A JSON number of at most ``bound`` in absolute value (any with None), for schemas."""
    return float if bound is None else Annotated[float, Field(ge=-bound, le=bound)]


def listed(item: Any, max_length: int) -> Any:
    """A non-empty JSON array of at most ``max_length`` items (for JSON schemas)."""
    return Annotated[list[item], Field(min_length=1, max_length=max_length)]


def matrix_input(max_rows: int, max_cols: int, bound: float | None = None) -> Any:
    """What a matrix field accepts, for its JSON schema: rows of numbers, one row, or text."""
    row = listed(bounded(bound), max_cols)
    return listed(row, max_rows) | row | MatrixText


DECIMAL_TEXT_PATTERN = r"^\s*[-+\u2212]?(\d+([.,]\d*)?|[.,]\d+)([eE][-+]?\d+)?\s*$"
"""One number typed as text, with a decimal point or comma."""


def number_input(low: float | None = None, high: float | None = None) -> Any:
    """What a number field accepts, for its JSON schema: a number in [low, high] or text."""
    return (
        Annotated[float, Field(ge=low, le=high)]
        | Annotated[str, Field(max_length=64, pattern=DECIMAL_TEXT_PATTERN)]
    )


def tensor_input(max_depth: int, max_side: int, bound: float | None = None) -> Any:
    """What a stack of matrices accepts, for its JSON schema: a list of matrices, one matrix,
    one row, or text (blank lines between the matrices)."""
    return listed(matrix_input(max_side, max_side, bound), max_depth) | matrix_input(
        max_side, max_side, bound
    )


def vector_input(max_length: int, bound: float | None = None) -> Any:
    """What a vector field accepts, for its JSON schema: a list of numbers or text."""
    return listed(bounded(bound), max_length) | MatrixText


_NUMBER_PATTERN = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
_NUMBER = re.compile(f"^{_NUMBER_PATTERN}$")
_NUMBERS = re.compile(f"{_NUMBER_PATTERN}(?: {_NUMBER_PATTERN})*")
"""Cells apart by one space, each a number :data:`_NUMBER` accepts."""
_DECIMAL_COMMA = re.compile(r"^[+-]?\d+,\d+$")
_CELLS_APART = {False: re.compile(r"[\s,]+"), True: re.compile(r"[\s;]+")}
"""Between a row's cells, by whether commas are decimal marks."""
_JSON_MATRIX = re.compile(r"^\s*\[\s*\[")
_JSON_TENSOR = re.compile(r"^\s*\[\s*\[\s*\[")
_BLANK_LINES = re.compile(r"\n\s*\n")
_MINUS_SIGNS = str.maketrans({"\u2212": "-", "\u2013": "-", "\u00a0": " ", "\t": " "})


def _error(template: str, **context: Any) -> PydanticCustomError:
    return PydanticCustomError("matrix", template, context)


def _number(token: str, row: int, col: int) -> float:
    """One cell; ``row`` and ``col`` are 1-based for messages."""
    if _NUMBER.match(token):
        value = float(token)
        if not math.isfinite(value):
            raise _error(
                N_("row {row}, column {col}: {token} is too large"), row=row, col=col, token=token
            )
        return value
    if token.lower().lstrip("+-") in {"nan", "inf", "infinity"}:
        raise _error(
            N_("row {row}, column {col}: {token} is not a finite number"),
            row=row,
            col=col,
            token=token,
        )
    raise _error(
        N_('row {row}, column {col}: "{token}" is not a number'), row=row, col=col, token=token
    )


def _split_rows(text: str) -> list[str]:
    """Rows of a 2-D matrix written as text (brackets, semicolons or lines)."""
    body = text.strip()
    if ";" in body:
        body = body.strip("[]")
        return [r for r in re.split(r"[;\n]", body) if r.strip()]
    if "[" in body or "]" in body:
        if body.count("[") != body.count("]"):
            raise _error(
                N_("brackets do not match: {opened} [ and {closed} ]"),
                opened=body.count("["),
                closed=body.count("]"),
            )
        groups = re.findall(r"\[([^\[\]]*)\]", body)
        outside = re.sub(r"\[[^\[\]]*\]", "", body)
        if re.search(r"[^\s\[\],]", outside):
            bad = re.search(r"[^\s\[\],]", outside).group(0)  # type: ignore[union-attr]
            raise _error(N_('unexpected "{token}" outside the brackets'), token=bad)
        if not groups:
            return []
        return groups
    return [r for r in body.split("\n") if r.strip()]


def _split_cells(row: str, decimal_comma: bool) -> list[str]:
    if not decimal_comma and "," not in row:  # cells apart by whitespace only
        return row.split()
    return [c for c in _CELLS_APART[decimal_comma].split(row.strip().strip(",")) if c]


def _uses_decimal_comma(rows: list[str]) -> bool:
    """Commas are decimal marks when cells are separated by spaces and every comma sits
    between digits (``0,5 1,5``); otherwise commas separate cells (``1, 2`` or ``1,2,3``)."""
    if not any("," in r for r in rows):
        return False
    for row in rows:
        cells = [c for c in row.split() if c]
        if any(c.startswith(",") or c.endswith(",") for c in cells):
            return False
        if any("," in c and not _DECIMAL_COMMA.match(c) for c in cells):
            return False
    if any(len(row.split()) > 1 for row in rows):
        return True
    # one number per row (``2,9; 0; 12,9``): commas as separators would give rows of
    # different lengths, so they are decimal marks
    return len({len(_split_cells(row, False)) for row in rows}) > 1


def parse_matrix(text: str) -> list[list[float]]:
    """Parse a 2-D matrix from any of the accepted text forms."""
    if len(text) > MAX_TEXT_LENGTH:
        raise _error(N_("the text is too long: at most {limit} characters"), limit=MAX_TEXT_LENGTH)
    text = text.translate(_MINUS_SIGNS).replace("\r", "")
    if not text.strip():
        raise _error(N_("the matrix is empty"))
    if _JSON_MATRIX.match(text):
        # JSON style: [[1, 2], [3, 4]] (a comma after the closing bracket separates rows)
        text = re.sub(r"^\s*\[|\]\s*$", "", text.strip())
        if re.search(r"\[\s*\[", text):
            raise _error(N_("too many brackets: a matrix is written [[1, 2], [3, 4]]"))
    rows = _split_rows(text)
    if not rows:
        raise _error(N_("the matrix is empty"))
    decimal_comma = _uses_decimal_comma(rows)
    matrix: list[list[float]] = []
    for r, row in enumerate(rows, start=1):
        cells = _split_cells(row, decimal_comma)
        if not cells:
            raise _error(N_("row {row} is empty"), row=r)
        matrix.append(_numbers(cells, r, decimal_comma))
    check_rectangular(matrix)
    return matrix


def _numbers(cells: list[str], row: int, decimal_comma: bool) -> list[float]:
    """A row's cells as numbers (``row`` is 1-based, for messages); a row of plain finite
    numbers is read at once, any other cell by :func:`_number` (its message)."""
    if decimal_comma:
        cells = [c.replace(",", ".") for c in cells]
    if _NUMBERS.fullmatch(" ".join(cells)):
        values = list(map(float, cells))
        if all(map(math.isfinite, values)):
            return values
    return [_number(c, row, j) for j, c in enumerate(cells, start=1)]


def check_rectangular(matrix: list[list[float]]) -> None:
    """Raise when rows differ in length, naming the first row that differs."""
    width = len(matrix[0])
    for r, row in enumerate(matrix[1:], start=2):
        if len(row) != width:
            raise _error(
                NP_(
                    "row {row} has {got} number but row 1 has {expected}",
                    "row {row} has {got} numbers but row 1 has {expected}",
                    "got",
                    len(row),
                ),
                row=r,
                got=len(row),
                expected=width,
            )


def _cell(value: Any, row: int, col: int) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise _error(
            N_('row {row}, column {col}: "{token}" is not a number'),
            row=row,
            col=col,
            token=str(value)[:20],
        )
    if isinstance(value, str):
        return _number(value.strip().translate(_MINUS_SIGNS).replace(",", "."), row, col)
    if not math.isfinite(value):
        raise _error(
            N_("row {row}, column {col}: {token} is not a finite number"),
            row=row,
            col=col,
            token=str(value),
        )
    return float(value)


_PLAIN = {int, float}


def _cells(row: list[Any], r: int) -> list[float]:
    """A row given as a list (``r`` is 1-based, for messages): a row of finite ints and
    floats is read at once, any other by :func:`_cell` (its message)."""
    if set(map(type, row)) <= _PLAIN:
        try:
            values = list(map(float, row))
        except OverflowError:  # an int too large for a float: _cell's message
            pass
        else:
            if all(map(math.isfinite, values)):
                return values
    return [_cell(v, r, j) for j, v in enumerate(row, start=1)]


def coerce_matrix(value: Any, max_rows: int, max_cols: int) -> list[list[float]]:
    """A matrix from text or nested lists, finite, rectangular and within the size limits."""
    if isinstance(value, str):
        matrix = parse_matrix(value)
    elif isinstance(value, list):
        if not value:
            raise _error(N_("the matrix is empty"))
        if all(not isinstance(v, list) for v in value):
            value = [value]  # a single row
        matrix = []
        for r, row in enumerate(value, start=1):
            if not isinstance(row, list) or not row:
                raise _error(N_("row {row} is not a list of numbers"), row=r)
            matrix.append(_cells(row, r))
        check_rectangular(matrix)
    else:
        raise _error(N_("expected a matrix: a list of rows or text such as 1 2; 3 4"))
    rows, cols = len(matrix), len(matrix[0])
    if rows > max_rows or cols > max_cols:
        raise _error(
            N_("the matrix is {rows}×{cols}; at most {max_rows}×{max_cols} is allowed"),
            rows=rows,
            cols=cols,
            max_rows=max_rows,
            max_cols=max_cols,
        )
    return matrix


_DECIMAL_COLUMN = re.compile(r"^[+-]?\d+,\d+(\s*[;\n]\s*[+-]?\d+(,\d+)?)+$")


def coerce_vector(value: Any, max_length: int) -> list[float]:
    """A vector (one row or one column) from text or a list."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = [value]
    matrix = coerce_matrix(value, max_rows=max_length, max_cols=max_length)
    if len(matrix) == 1:
        return matrix[0]
    if all(len(row) == 1 for row in matrix):
        return [row[0] for row in matrix]
    if isinstance(value, str) and _DECIMAL_COLUMN.match(value.strip()):
        # a column of decimal-comma numbers, 1,5 / 2,5 (one per line or after ;)
        return [float(c.replace(",", ".")) for c in re.split(r"\s*[;\n]\s*", value.strip())]
    raise _error(
        N_("expected one row of numbers, got a {rows}×{cols} matrix"),
        rows=len(matrix),
        cols=len(matrix[0]),
    )


def _blocks(text: str) -> list[str]:
    return [b for b in _BLANK_LINES.split(text.replace("\r", "").strip()) if b.strip()]


def _parse_nested(text: str) -> Any:
    """Nested brackets of numbers, ``[[[1, 2], [3, 4]], [[5, 6], [7, 8]]]``, into lists."""
    stack: list[list[Any]] = [[]]
    for match in re.finditer(r"\[|\]|[^\[\],\s]+|[,\s]+", text):
        token = match.group(0)
        if token == "[":
            if len(stack) > MAX_NESTING:
                raise _error(
                    N_("brackets nested too deeply at character {position}: at most {limit}"),
                    position=match.start() + 1,
                    limit=MAX_NESTING,
                )
            stack.append([])
        elif token == "]":
            if len(stack) == 1:
                raise _error(
                    N_('unexpected "]" at character {position}'), position=match.start() + 1
                )
            done = stack.pop()
            stack[-1].append(done)
        elif token.strip(", \n"):
            stack[-1].append(token)
    if len(stack) != 1:
        raise _error(
            N_("brackets do not match: {opened} [ and {closed} ]"),
            opened=text.count("["),
            closed=text.count("]"),
        )
    result = stack[0]
    return result[0] if len(result) == 1 else result


def coerce_tensor(value: Any, max_side: int, max_depth: int) -> list[list[list[float]]]:
    """A stack of equally sized matrices (C×H×W) from text or nested lists.

    A single matrix is a stack of one. In text, matrices are separated by blank lines or
    written as nested brackets.
    """
    if isinstance(value, str):
        text = value.translate(_MINUS_SIGNS)
        if len(text) > MAX_TEXT_LENGTH:
            raise _error(
                N_("the text is too long: at most {limit} characters"), limit=MAX_TEXT_LENGTH
            )
        if _JSON_TENSOR.match(text):
            value = _parse_nested(text)
        else:  # blocks apart by blank lines, each read (and checked) as a matrix once
            value = [coerce_matrix(b, max_side, max_side) for b in _blocks(text)]
            if value and len(value) <= max_depth:
                return _same_shapes(value)
            value = value or [[]]
    if not isinstance(value, list) or not value:
        raise _error(N_("expected a matrix or a list of matrices"))
    if not any(isinstance(v, list) and v and isinstance(v[0], list) for v in value):
        value = [value]  # one matrix
    if len(value) > max_depth:
        raise _error(
            N_("{count} matrices given; at most {limit} are allowed"),
            count=len(value),
            limit=max_depth,
        )
    return _same_shapes([coerce_matrix(m, max_side, max_side) for m in value])


def _same_shapes(stack: list[list[list[float]]]) -> list[list[list[float]]]:
    """``stack`` when its matrices have one shape; else the error naming the first that
    differs."""
    shape = (len(stack[0]), len(stack[0][0]))
    for k, m in enumerate(stack[1:], start=2):
        if (len(m), len(m[0])) != shape:
            raise _error(
                N_("matrix {index} is {rows}×{cols} but matrix 1 is {rows0}×{cols0}"),
                index=k,
                rows=len(m),
                cols=len(m[0]),
                rows0=shape[0],
                cols0=shape[1],
            )
    return stack
