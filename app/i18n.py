"""Translations: Babel catalogs in ``locales/``, chosen per request.

Language order: ``?lang=``, the ``lang`` cookie, then Accept-Language, then the default.
The catalogs are compiled in memory at start-up, so no ``.mo`` build step is needed.
"""

from __future__ import annotations

import contextvars
import io
from functools import lru_cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from starlette.requests import Request

from solvers.core import PLURALS, SINGULARS

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
LANGUAGES = {"en": "English", "ru": "Русский"}
LANG_COOKIE = "lang"

current_language: contextvars.ContextVar[str] = contextvars.ContextVar("lang", default="en")


@lru_cache
def translations(lang: str) -> NullTranslations:
    """The compiled catalog for ``lang`` (English is the message ids themselves)."""
    po_path = LOCALES_DIR / lang / "LC_MESSAGES" / "messages.po"
    if lang == "en" or not po_path.exists():
        return NullTranslations()
    with po_path.open("rb") as po_file:
        catalog = read_po(po_file, locale=lang)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer)


def gettext(message: str) -> str:
    """Translate ``message`` into the current request's language."""
    return _gettext(current_language.get(), message)


@lru_cache(maxsize=8192, typed=True)
def _gettext(lang: str, message: str) -> str:
    """``message`` in ``lang``, remembered (the catalogs are read once, at start; typed: a
    markup message is not a text's)."""
    return translations(lang).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """Plural-aware translation into the current request's language."""
    return _ngettext(current_language.get(), singular, plural, n)


@lru_cache(maxsize=8192)
def _ngettext(lang: str, singular: str, plural: str, n: int) -> str:
    """The form of ``singular``/``plural`` for ``n`` in ``lang``, remembered (a catalog's
    plural rule is Python code run for every call)."""
    return translations(lang).ngettext(singular, plural, n)


def translate(message: str, params: dict | None = None) -> str:
    """Translate a message id and fill its ``{placeholders}`` (unknown ones left as they are;
    a text without braces is returned as it is, as formatting would)."""
    if not message:  # a step without an explanation
        return ""
    singular = SINGULARS.get(message, message)
    plural = PLURALS.get(singular)
    if plural and params and isinstance(count := params.get(plural[1]), int):
        text = _ngettext(current_language.get(), singular, plural[0], count)
    else:
        text = _gettext(current_language.get(), message)
    if not params or ("{" not in text and "}" not in text):
        return text
    try:
        return text.format_map(params)
    except (KeyError, IndexError, ValueError):
        return text


def _from_accept_language(header: str) -> str | None:
    ranked = []
    for part in header.split(","):
        piece = part.strip().split(";q=")
        tag = piece[0].strip().lower()[:2]
        try:
            quality = float(piece[1]) if len(piece) > 1 else 1.0
        except ValueError:
            quality = 0.0
        if tag in LANGUAGES:
            ranked.append((quality, tag))
    return max(ranked)[1] if ranked else None


def pick_language(request: Request, default: str) -> str:
    """The request's language: ``?lang=``, then the cookie, then Accept-Language."""
    for candidate in (request.query_params.get("lang"), request.cookies.get(LANG_COOKIE)):
        if candidate in LANGUAGES:
            return candidate
    return _from_accept_language(request.headers.get("accept-language", "")) or default


def use_language(request: Request, default: str) -> str:
    """Pick the request's language and make it current for gettext in this task."""
    lang = pick_language(request, default)
    current_language.set(lang)
    return lang
