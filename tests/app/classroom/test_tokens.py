"""Students' exam links (app/classroom/tokens.py): signed with the server's secret, read back
to (exam, student); altered, foreign or expired links are a 403."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from fastapi import HTTPException
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from app.classroom.tokens import SALT, make_token, read_token
from app.settings import get_settings


@pytest.fixture
def linked(monkeypatch: pytest.MonkeyPatch, secret: str) -> Iterator[None]:
    """Links signed with ``STEPGRAD_SECRET`` (no database), valid for one day."""
    monkeypatch.setenv("STEPGRAD_LINK_MAX_AGE_DAYS", "1")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_a_token_reads_back_to_its_exam_and_student(linked: None) -> None:
    token = make_token(7, "s-12")
    assert read_token(token) == (7, "s-12")
    assert make_token(7, "s-13") != token


@pytest.mark.parametrize("change", ["altered", "foreign", "not a dict"])
def test_altered_or_foreign_tokens_are_refused(linked: None, change: str) -> None:
    token = make_token(7, "s-12")
    if change == "altered":
        token = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    elif change == "foreign":
        token = URLSafeTimedSerializer("another secret", salt=SALT).dumps({"e": 7, "s": "s-12"})
    else:
        token = URLSafeTimedSerializer(get_settings().secret, salt=SALT).dumps([7, "s-12"])
    with pytest.raises(HTTPException) as caught:
        read_token(token)
    assert caught.value.status_code == 403
    assert "not valid" in caught.value.detail


def test_an_expired_token_says_so(linked: None, monkeypatch: pytest.MonkeyPatch) -> None:
    token = make_token(7, "s-12")
    two_days_later = int(time.time()) + 2 * 86_400
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda _self: two_days_later)
    with pytest.raises(HTTPException) as caught:
        read_token(token)
    assert caught.value.status_code == 403
    assert "expired" in caught.value.detail
