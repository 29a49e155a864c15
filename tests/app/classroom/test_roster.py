"""Class rosters from CSV exports (app/classroom/roster.py): headers or none, ``;`` or ``,``,
a BOM; refusals that name the row."""

from __future__ import annotations

import pytest
from pydantic_core import PydanticCustomError

from app.classroom.roster import MAX_ROSTER, RosterEntry, check_unique, parse_csv


def test_a_header_names_the_columns_in_any_order() -> None:
    data = "\ufeffE-mail;Name;Student ID\nann@x.org;Ann Lee;s1\n;Bo Chen;s2\n\n".encode()
    assert parse_csv(data) == [
        RosterEntry(id="s1", name="Ann Lee", email="ann@x.org"),
        RosterEntry(id="s2", name="Bo Chen", email=None),
    ]


def test_without_a_header_the_columns_are_id_name_email() -> None:
    data = b's1,"Lee, Ann"\ns2, Bo Chen ,bo@x.org\n'
    assert parse_csv(data) == [
        RosterEntry(id="s1", name="Lee, Ann"),
        RosterEntry(id="s2", name="Bo Chen", email="bo@x.org"),
    ]


@pytest.mark.parametrize(
    ("data", "message", "row"),
    [
        (b"", "the roster is empty", None),
        (b"\xff\xfe", "the roster must be UTF-8 text", None),
        (b"id,name\ns1,Ann\n,\ns2,Bo\n", "roster row {row} is empty", 3),
        (b"id,name\ns1,Ann\ns2\n", "roster row {row}: the {column} is missing or too long", 3),
        (b"s1,Ann\ns1,Bo\n", "roster row {row}: the student id {id} is given twice", 2),
    ],
)
def test_refusals_name_the_row(data: bytes, message: str, row: int | None) -> None:
    with pytest.raises(PydanticCustomError) as caught:
        parse_csv(data)
    assert caught.value.message_template == message
    assert (caught.value.context or {}).get("row") == row


def test_a_roster_over_the_limit_is_refused() -> None:
    data = "".join(f"s{i},Student {i}\n" for i in range(MAX_ROSTER + 1)).encode()
    with pytest.raises(PydanticCustomError, match="over"):
        parse_csv(data)


def test_check_unique_counts_the_students_an_exam_already_has() -> None:
    entries = [RosterEntry(id="s3", name="C"), RosterEntry(id="s1", name="A")]
    check_unique(entries, taken={"s2"})
    with pytest.raises(PydanticCustomError) as caught:
        check_unique(entries, taken={"s1"}, first_row=10)
    assert caught.value.context == {"row": 11, "id": "s1", "field": "roster.1.id"}


def test_an_empty_email_is_none_and_fields_are_stripped() -> None:
    entry = RosterEntry(id=" s1 ", name=" Ann ", email="")
    assert (entry.id, entry.name, entry.email) == ("s1", "Ann", None)
