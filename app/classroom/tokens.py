"""Students' exam links: an ``itsdangerous`` signed token carrying the exam and the
student, keyed by the server's secret; it opens that student's variant of that exam only."""

from __future__ import annotations

from functools import lru_cache

from fastapi import HTTPException
from itsdangerous import BadData, SignatureExpired, URLSafeTimedSerializer

from app.classroom.db import signing_secret
from app.i18n import gettext
from app.settings import get_settings
from solvers.core import N_

SALT = "stepgrad.exam-link"
"""Keeps these signatures apart from any other use of the secret."""

LINK_EXPIRED = N_("this exam link has expired; ask your instructor for a new one")
LINK_INVALID = N_("this exam link is not valid (altered, or from another server)")


@lru_cache(maxsize=4)
def _serializer_for(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=SALT)


def _serializer() -> URLSafeTimedSerializer:
    """The serializer of the current secret (built once per secret: a page of 1 000 links
    signs 1 000 times)."""
    return _serializer_for(signing_secret())


def make_token(exam: int, student: str) -> str:
    """The signed token of ``student``'s link to ``exam``."""
    return _serializer().dumps({"e": exam, "s": student})


def read_token(token: str) -> tuple[int, str]:
    """The exam and the student of a token; 403 when it is altered, foreign or expired."""
    max_age = get_settings().link_max_age_days * 86_400
    try:
        data = _serializer().loads(token, max_age=max_age)
    except SignatureExpired:
        raise HTTPException(403, gettext(LINK_EXPIRED)) from None
    except BadData:
        raise HTTPException(403, gettext(LINK_INVALID)) from None
    if not (isinstance(data, dict) and isinstance(data.get("e"), int)
            and isinstance(data.get("s"), str)):  # fmt: skip
        raise HTTPException(403, gettext(LINK_INVALID))
    return data["e"], data["s"]
