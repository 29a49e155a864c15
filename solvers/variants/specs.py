"""What every task's variant spec shares: the error of a spec that cannot be met, range checks."""

from __future__ import annotations

from typing import Any

from pydantic_core import PydanticCustomError

from solvers.core import N_


def spec_error(template: str, **context: Any) -> PydanticCustomError:
    """A spec that cannot be met (type ``"variant_spec"``)."""
    return PydanticCustomError("variant_spec", template, context)


def check_range(low: float, high: float, what: str) -> None:
    """Raise a spec error when the range ``low … high`` of ``what`` is empty."""
    if low > high:
        raise spec_error(
            N_("the {what} range is empty: the lowest value {low} is above the highest {high}"),
            what=what,
            low=low,
            high=high,
        )
