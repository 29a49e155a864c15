"""Between HTML forms (flat text fields in the query string) and the tasks' Problem models.

Forms use GET, so the URL carries the problem and is the share link. Each field is text;
a task whose model has nested fields gets its own adapter in its view (:mod:`app.tasks`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

_DECIMAL_POINT = re.compile(r"(\d)\.(\d)")

# Query parameters that steer the page rather than describe the problem.
PAGE_PARAMETERS = frozenset({"lang", "digits"})


def number_text(x: float) -> str:
    """A number as a person would type it back: ``3`` not ``3.0``, full precision otherwise."""
    return str(int(x)) if float(x).is_integer() and abs(x) < 1e15 else repr(float(x))


def value_text(value: Any) -> str:
    """Any problem value as form text: matrices one row per line, lists space-separated."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return number_text(value)
    if isinstance(value, list):
        if value and isinstance(value[0], list) and value[0] and isinstance(value[0][0], list):
            return "\n\n".join(value_text(block) for block in value)
        if value and isinstance(value[0], list):
            return "\n".join(" ".join(number_text(x) for x in row) for row in value)
        if value and isinstance(value[0], str):
            return ", ".join(value)
        return " ".join(number_text(x) for x in value)
    if isinstance(value, dict):
        return ", ".join(f"{k} = {value_text(v)}" for k, v in value.items())
    return str(value)


class FormAdapter:
    """Maps form fields one to one onto the model's fields; empty fields take defaults."""

    # Fields whose text is kept as it is when decimal points become commas.
    verbatim_fields: frozenset[str] = frozenset()

    def to_data(self, form: Mapping[str, str], model: type[BaseModel]) -> dict[str, Any]:
        """The problem's data from the submitted form."""
        return {
            name: value
            for name, value in form.items()
            if name in model.model_fields and value.strip() != ""
        }

    def form_field(self, field: str) -> str:
        """The form field to show an error of the model field path ``field`` beside."""
        return field.split(".")[0]

    def to_form(self, problem: BaseModel) -> dict[str, str]:
        """The form's field texts for a problem (to prefill the page)."""
        return {name: value_text(getattr(problem, name)) for name in type(problem).model_fields}

    def with_decimal_commas(self, form: dict[str, str]) -> dict[str, str]:
        """The prefilled form as a Russian student writes it: ``3,2`` for ``3.2``."""
        return {
            name: text if name in self.verbatim_fields else _DECIMAL_POINT.sub(r"\1,\2", text)
            for name, text in form.items()
        }


def has_problem(form: Mapping[str, str]) -> bool:
    """Whether the query string carries a problem (anything beyond page parameters)."""
    return any(key not in PAGE_PARAMETERS for key in form)
