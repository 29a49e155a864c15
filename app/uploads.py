"""The CSV file of a batch grading upload, read with the csv module's dialects: comma,
semicolon (decimal-comma spreadsheets) or tab, a UTF-8 byte order mark or not. Anything
else is an :class:`UploadError` naming the row (the file's line) and the column."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

from solvers.core import N_

DELIMITERS = ",;\t"
"""The separators a CSV upload may use."""

SNIFF_BYTES = 8192
"""How much of the file the csv Sniffer reads to guess the dialect."""


class UploadError(Exception):
    """A CSV upload that cannot be graded: a message id, its parameters, the form field."""

    def __init__(self, template: str, where: str = "file", **context: Any) -> None:
        super().__init__(template)
        self.template = template
        self.where = where
        self.context = context


@dataclass
class AnswerTable:
    """The rows of an upload by column name, and each row's line in the file (1-based; the
    header is line 1 unless blank lines come first)."""

    columns: list[str]
    rows: list[dict[str, str]] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)


def _dialects(sample: str) -> list[type[csv.Dialect] | csv.Dialect]:
    """The sniffed dialect first, then the plain ones: the Sniffer may take the comma of a
    decimal (``0,5``) for the separator; the header decides among them."""
    plain: list[type[csv.Dialect] | csv.Dialect] = [csv.excel, csv.excel_tab, _Semicolon]
    try:
        return [csv.Sniffer().sniff(sample, delimiters=DELIMITERS), *plain]
    except csv.Error:
        return plain


class _Semicolon(csv.excel):
    """A spreadsheet's CSV where the comma is the decimal mark."""

    delimiter = ";"


def _header(text: str, dialect: type[csv.Dialect] | csv.Dialect, required: str) -> bool:
    try:
        head = next((row for row in csv.reader(io.StringIO(text), dialect) if row), [])
    except csv.Error:
        return False
    return required in (cell.strip() for cell in head)


def read_answer_table(data: bytes, *, required: str, limit: int) -> AnswerTable:
    """The table of a CSV upload whose header names ``required`` (``variant``), at most
    ``limit`` rows; :class:`UploadError` otherwise."""
    if not data.strip():
        raise UploadError(N_("the CSV file is empty"))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UploadError(
            N_("the CSV file must be UTF-8 text (byte {position} is not)"), position=exc.start + 1
        ) from None
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise UploadError(N_("the CSV file holds binary data (a NUL byte on line {line})"),
                          line=line)  # fmt: skip
    sample = text[:SNIFF_BYTES]
    dialect = next((d for d in _dialects(sample) if _header(sample, d, required)), None)
    if dialect is None:
        raise UploadError(
            N_("the CSV header (line 1) needs a column {column}; columns are separated by "
               "commas, semicolons or tabs"), column=required,
        )  # fmt: skip
    reader = csv.reader(io.StringIO(text), dialect, strict=True)
    table: AnswerTable | None = None
    try:
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            if table is None:
                table = _start(row, reader.line_num)
                continue
            if len(table.rows) == limit:
                raise UploadError(N_("the CSV file needs 1 to {limit} rows"), limit=limit)
            table.rows.append(_cells(table.columns, row, reader.line_num))
            table.lines.append(reader.line_num)
    except csv.Error as exc:
        raise UploadError(
            N_("the CSV file cannot be read on line {line}: {error}"),
            line=reader.line_num, error=str(exc),
        ) from None  # fmt: skip
    if table is None or not table.rows:
        raise UploadError(N_("the CSV file needs 1 to {limit} rows"), limit=limit)
    return table


def _start(head: list[str], line: int) -> AnswerTable:
    columns = [cell.strip() for cell in head]
    while columns and not columns[-1]:
        columns.pop()
    seen: set[str] = set()
    for number, column in enumerate(columns, start=1):
        if column in seen or not column:
            raise UploadError(
                N_('line {line}, column {number}: the header "{column}" is empty or repeated'),
                line=line, number=number, column=column,
            )  # fmt: skip
        seen.add(column)
    return AnswerTable(columns=columns)


def _cells(columns: list[str], row: list[str], line: int) -> dict[str, str]:
    if len(row) > len(columns) and not any(cell.strip() for cell in row[len(columns) :]):
        row = row[: len(columns)]  # a spreadsheet's trailing empty cells
    if len(row) != len(columns):
        raise UploadError(
            N_("line {line} has {count} cells, but the header has {columns} columns"),
            line=line, count=len(row), columns=len(columns),
        )  # fmt: skip
    return dict(zip(columns, row, strict=True))
