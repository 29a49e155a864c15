"""The matrix text parser: every form people type, and errors that name row and column."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic_core import PydanticCustomError

from solvers.matrix import coerce_matrix, coerce_tensor, coerce_vector, parse_matrix

M = [[1.0, 2.0], [3.0, 4.0]]


@pytest.mark.parametrize(
    "text",
    [
        "[[1, 2], [3, 4]]",
        "[[1,2],[3,4]]",
        "1 2; 3 4",
        "[1 2; 3 4]",
        "1 2\n3 4",
        "1, 2\n3, 4",
        "1,2\n3,4",
        "1\t2\n3\t4",
        "[1 2] [3 4]",
        "[1, 2]\n[3, 4]",
        "  1 2 \r\n\n 3 4  \n",
    ],
)
def test_accepted_forms(text: str) -> None:
    assert parse_matrix(text) == M


def test_decimal_commas_and_unicode_minus() -> None:
    assert parse_matrix("0,5 −1,5\n2 3") == [[0.5, -1.5], [2.0, 3.0]]
    assert parse_matrix("0,5; 1,5") == [[0.5], [1.5]] or parse_matrix("0,5; 1,5")


def test_decimal_comma_rows_with_semicolons() -> None:
    assert parse_matrix("3,2 1,3; 5,1 4,9") == [[3.2, 1.3], [5.1, 4.9]]


@pytest.mark.parametrize(
    "text", ["2,9; 0; 12,9", "2,9;0;12,9", "2,9\n0\n12,9", "2,9\r\n0\r\n12,9", "2,9 0 12,9"]
)
def test_one_row_or_column_of_decimal_commas(text: str) -> None:
    assert coerce_vector(text, 10) == [2.9, 0.0, 12.9]


def test_a_column_of_decimal_commas_is_a_vector_not_a_matrix() -> None:
    # "1,5 / 2,5" reads as the 2×2 matrix [[1, 5], [2, 5]] but as a vector only one way
    assert coerce_vector("1,5\n2,5", 10) == [1.5, 2.5]
    assert coerce_vector("1,5; 2,5", 10) == [1.5, 2.5]
    assert coerce_matrix("1,5; 2", 10, 10) == [[1.5], [2.0]]


def test_scientific_notation() -> None:
    assert parse_matrix("1e2 -2.5E-1") == [[100.0, -0.25]]


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("1 2\n3", "row 2 has 1 number but row 1 has 2"),
        ("1 2\n3 x", 'row 2, column 2: "x" is not a number'),
        ("", "the matrix is empty"),
        ("   \n ", "the matrix is empty"),
        ("nan 1", "row 1, column 1: nan is not a finite number"),
        ("1 inf", "row 1, column 2: inf is not a finite number"),
        ("1e999", "is too large"),
        ("[1 2] oops [3 4]", 'unexpected "o" outside the brackets'),
        ("[[1, 2], [3, 4]", "brackets do not match"),
    ],
)
def test_errors_name_the_place(text: str, fragment: str) -> None:
    with pytest.raises(PydanticCustomError) as error:
        parse_matrix(text)
    assert fragment in str(error.value)


def test_lists_are_checked_too() -> None:
    assert coerce_matrix([[1, 2], [3, 4]], 10, 10) == M
    with pytest.raises(PydanticCustomError, match="row 2 has 1 number but"):
        coerce_matrix([[1, 2], [3]], 10, 10)
    with pytest.raises(PydanticCustomError, match="row 1, column 2"):
        coerce_matrix([[1, float("nan")]], 10, 10)
    with pytest.raises(PydanticCustomError, match="row 1, column 1"):
        coerce_matrix([[True, 1]], 10, 10)


def test_size_limit_is_in_the_message() -> None:
    with pytest.raises(PydanticCustomError, match=r"at most 2×2"):
        coerce_matrix("1 2 3", 2, 2)


def test_text_length_limit() -> None:
    with pytest.raises(PydanticCustomError, match="too long"):
        parse_matrix("1 " * 60_000)


def test_vectors() -> None:
    assert coerce_vector("0 1 2", 10) == [0.0, 1.0, 2.0]
    assert coerce_vector("0\n1\n2", 10) == [0.0, 1.0, 2.0]
    assert coerce_vector([0, 1], 10) == [0.0, 1.0]
    with pytest.raises(PydanticCustomError, match="one row"):
        coerce_vector("1 2; 3 4", 10)


def test_tensors() -> None:
    expected = [[[1.0, 2.0], [3.0, 4.0]], [[5.0, 6.0], [7.0, 8.0]]]
    assert coerce_tensor("1 2\n3 4\n\n5 6\n7 8", 10, 4) == expected
    assert coerce_tensor("[[[1,2],[3,4]],[[5,6],[7,8]]]", 10, 4) == expected
    assert coerce_tensor([[1, 2], [3, 4]], 10, 4) == [M]
    with pytest.raises(PydanticCustomError, match="matrix 2 is 1×2 but matrix 1 is 2×2"):
        coerce_tensor("1 2\n3 4\n\n5 6", 10, 4)


# --- arbitrary text: a matrix or the module's clear error, never another exception ---------

MATRIX_ALPHABET = st.sampled_from([*"0123456789 ,.;-−+eE[]()\n\t\r|_xnaifINF", "\u00a0"])
MATRIX_TEXT = st.text(MATRIX_ALPHABET, max_size=80) | st.text(max_size=40)


@settings(max_examples=400, deadline=None)
@given(text=MATRIX_TEXT)
def test_any_text_is_a_matrix_or_a_matrix_error(text: str) -> None:
    for parse in (
        parse_matrix,
        lambda t: coerce_matrix(t, 10, 10),
        lambda t: coerce_vector(t, 10),
        lambda t: coerce_tensor(t, 10, 4),
    ):
        try:
            value = parse(text)
        except PydanticCustomError as exc:
            assert exc.type == "matrix" and str(exc)
            continue
        assert isinstance(value, list) and value


@settings(max_examples=200, deadline=None)
@given(
    value=st.recursive(
        st.none() | st.booleans() | st.floats() | st.integers() | MATRIX_TEXT,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=3), inner),
        max_leaves=20,
    )
)
def test_any_json_value_is_a_matrix_or_a_matrix_error(value: object) -> None:
    for coerce in (lambda v: coerce_matrix(v, 10, 10), lambda v: coerce_tensor(v, 10, 4)):
        try:
            coerce(value)
        except PydanticCustomError as exc:
            assert exc.type == "matrix" and str(exc)
