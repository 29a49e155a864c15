"""Fixtures of the app's tests."""

from __future__ import annotations

from typing import Any

import pytest

from solvers.variants.sets import quiz_spec, regenerate_many


@pytest.fixture(scope="module")
def softmax_quiz() -> tuple[str, list[Any]]:
    """A softmax spec (as the upload form sends it) and its variants 1 … 40 of seed 5."""
    spec = '{"loss": {"loss": "softmax"}}'
    problems = regenerate_many("loss", quiz_spec().model_validate_json(spec).loss, 5, range(1, 41))
    return spec, problems
