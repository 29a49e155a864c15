"""CSV uploads for batch grading (app/uploads.py): the dialects a spreadsheet writes, rows
named by their line in the file, refusals that name the place."""

from __future__ import annotations

import pytest

from app.uploads import UploadError, read_answer_table


@pytest.mark.parametrize(
    "data",
    [
        b"student,variant,L1\ns1,1,0.5\ns2,2,-1\n",
        b"\xef\xbb\xbfstudent;variant;L1\r\ns1;1;0,5\r\ns2;2;-1\r\n",
        b"student\tvariant\tL1\ns1\t1\t0.5\ns2\t2\t-1\n",
        b'"student","variant","L1"\n"s1","1","0.5"\n"s2","2","-1"\n',
    ],
)
def test_commas_semicolons_tabs_and_a_bom(data: bytes) -> None:
    table = read_answer_table(data, required="variant", limit=10)
    assert table.columns == ["student", "variant", "L1"]
    assert [row["student"] for row in table.rows] == ["s1", "s2"]
    assert table.rows[0]["L1"] in ("0.5", "0,5")
    assert table.lines == [2, 3]


def test_blank_lines_are_skipped_and_lines_counted_in_the_file() -> None:
    table = read_answer_table(b"\nvariant,L1\n\n1,2\n", required="variant", limit=10)
    assert table.rows == [{"variant": "1", "L1": "2"}]
    assert table.lines == [4]


@pytest.mark.parametrize(
    ("data", "start", "context"),
    [
        (b"  \n", "the CSV file is empty", {}),
        (b"variant\n\xff1\n", "the CSV file must be UTF-8", {"position": 9}),
        (b"variant\n1\n\x002\n", "the CSV file holds binary data", {"line": 3}),
        (b"student,L1\ns1,2\n", "the CSV header (line 1) needs a column", {"column": "variant"}),
        (b"variant,L1,L1\n1,2,3\n", "line {line}, column {number}", {"number": 3, "line": 1}),
        (b"variant\n", "the CSV file needs 1 to {limit} rows", {"limit": 2}),
        (b"variant\n1\n2\n3\n", "the CSV file needs 1 to {limit} rows", {"limit": 2}),
        (b'variant,L1\n1,"2\n', "the CSV file cannot be read on line {line}", {"line": 2}),
    ],
)
def test_refusals_name_the_place(data: bytes, start: str, context: dict) -> None:
    with pytest.raises(UploadError) as caught:
        read_answer_table(data, required="variant", limit=2)
    assert caught.value.template.startswith(start)
    assert context.items() <= caught.value.context.items()
    assert caught.value.where == "file"
