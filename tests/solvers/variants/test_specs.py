"""What every variant spec shares (solvers/variants/specs.py): the error type of a spec
that cannot be met and the empty-range check, as a spec model reports them."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from pydantic_core import PydanticCustomError

from solvers.tasks.graph.variants import GraphSpec
from solvers.variants.specs import check_range, spec_error


def test_spec_error_carries_its_template_and_context() -> None:
    error = spec_error("no {what}", what="variant")
    assert isinstance(error, PydanticCustomError)
    assert error.type == "variant_spec" and error.message() == "no variant"
    assert error.context == {"what": "variant"}


@pytest.mark.parametrize(("low", "high"), [(1, 1), (-2, 3), (0.5, 0.75)])
def test_a_range_with_a_value_passes(low: float, high: float) -> None:
    check_range(low, high, "score")


def test_an_empty_range_names_its_bounds() -> None:
    with pytest.raises(PydanticCustomError) as caught:
        check_range(3, -2, "score")
    assert caught.value.type == "variant_spec"
    assert caught.value.message() == (
        "the score range is empty: the lowest value 3 is above the highest -2"
    )


def test_a_task_spec_reports_it_as_a_validation_error() -> None:
    with pytest.raises(ValidationError) as caught:
        GraphSpec.model_validate({"low": 5, "high": -5})
    assert caught.value.errors()[0]["type"] == "variant_spec"
