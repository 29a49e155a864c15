"""app.render's fast paths give what markupsafe's ``escape`` gives."""

from __future__ import annotations

import pytest
from markupsafe import Markup, escape

from app.render import escape_text, tex


@pytest.mark.parametrize(
    "text",
    ["plain", "a < b & c > d", "\"quoted\" and 'single'", "&amp; already", "", "−0.5 ∂f",
     Markup("<b>kept</b>"), 3, 2.5, None],
)  # fmt: skip
def test_escape_text_is_escape(text: object) -> None:
    assert escape_text(text) == str(escape(text))


def test_tex_escapes_its_source_once() -> None:
    assert tex("x < y") == Markup('<span class="tex" data-tex="x &lt; y">x &lt; y</span>')
    assert tex(Markup("<i>x</i>"), display=True) == Markup(
        '<span class="tex tex-display" data-tex="<i>x</i>"><i>x</i></span>'
    )
