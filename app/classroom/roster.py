"""A class roster from what instructors have: typed entries, or a spreadsheet's CSV export
(a BOM, ``;`` or ``,`` between fields, quoted fields, a header row or none)."""

from __future__ import annotations

import csv
import io

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_core import PydanticCustomError

from solvers.core import N_

MAX_ROSTER = 5_000
"""Most students an exam takes (in one request or in all)."""

ID_HEADERS = ("id", "student", "student_id", "student id", "id number", "login")
NAME_HEADERS = ("name", "full name", "student name")
EMAIL_HEADERS = ("email", "e-mail", "email address", "mail")


class RosterEntry(BaseModel):
    """One student: an id unique in the exam, a name, and optionally an email."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id: str = Field(min_length=1, max_length=200, description="The student's id.")
    name: str = Field(min_length=1, max_length=200, description="The student's name.")
    email: str | None = Field(None, max_length=320, description="The student's email.")

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        return value or None


def check_unique(
    entries: list[RosterEntry], taken: set[str] | None = None, first_row: int = 1
) -> None:
    """Reject an id given twice, or one the exam already has (rows counted from
    ``first_row``)."""
    seen = set(taken or ())
    for index, entry in enumerate(entries):
        if entry.id in seen:
            raise PydanticCustomError(
                "roster_duplicate",
                N_("roster row {row}: the student id {id} is given twice"),
                {"row": index + first_row, "id": entry.id, "field": f"roster.{index}.id"},
            )
        seen.add(entry.id)


def _column(header: list[str], names: tuple[str, ...]) -> int | None:
    lowered = [h.strip().lower() for h in header]
    return next((lowered.index(n) for n in names if n in lowered), None)


def parse_csv(data: bytes) -> list[RosterEntry]:
    """The roster of a CSV file: UTF-8 (a BOM allowed), ``;`` or ``,`` separated, a header
    row naming the id, name and email columns or none (then: id, name, email). An empty row,
    a row without id or name, or an id twice is an error naming the row."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise PydanticCustomError(
            "roster_csv", N_("the roster must be UTF-8 text"), {"field": "file"}
        ) from None
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    while rows and not any(cell.strip() for cell in rows[-1]):
        rows.pop()  # blank lines at the end of a file are no rows
    if not rows:
        raise PydanticCustomError("roster_csv", N_("the roster is empty"), {"field": "file"})
    columns = (_column(rows[0], ID_HEADERS), _column(rows[0], NAME_HEADERS),
               _column(rows[0], EMAIL_HEADERS))  # fmt: skip
    if columns[0] is not None and columns[1] is not None:
        start = 1
    else:
        columns, start = (0, 1, 2), 0
    if len(rows) - start > MAX_ROSTER:
        raise PydanticCustomError("roster_csv", N_("the roster has over {limit} students"),
                                  {"field": "file", "limit": MAX_ROSTER})  # fmt: skip
    entries = []
    for number, row in enumerate(rows[start:], start + 1):
        cells = [row[c].strip() if c is not None and c < len(row) else "" for c in columns]
        if not any(cell.strip() for cell in row):
            raise PydanticCustomError("roster_csv", N_("roster row {row} is empty"),
                                      {"field": "file", "row": number})  # fmt: skip
        try:
            entries.append(RosterEntry(id=cells[0], name=cells[1], email=cells[2] or None))
        except ValidationError as exc:
            field = str(exc.errors()[0]["loc"][0])
            raise PydanticCustomError(
                "roster_csv",
                N_("roster row {row}: the {column} is missing or too long"),
                {"field": "file", "row": number, "column": field},
            ) from None
    check_unique(entries, first_row=start + 1)
    return entries
