"""The whole API fuzzed from its own OpenAPI schema (schemathesis, bounded examples): no
answer is a 5xx, every 4xx has the error shape, every status is one the schema documents,
and the generated requests are mostly accepted (the schema states what validation does)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)

from app.main import app
from app.settings import get_settings

TOKEN = "fuzz-instructor-token"
schema = schemathesis.openapi.from_asgi("/openapi.json", app)
STATUSES: Counter[tuple[str, int]] = Counter()
"""(operation, status // 100) → how many requests generated from the schema got it."""
REJECTED: defaultdict[str, list[str]] = defaultdict(list)
"""A few messages of the 422s of valid-looking requests, by operation (for the report)."""


CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]


@pytest.fixture(scope="module", autouse=True)
def classroom_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The classroom's operations fuzzed on a fresh SQLite file, as the instructor."""
    with pytest.MonkeyPatch.context() as env:
        path = tmp_path_factory.mktemp("fuzz") / "stepgrad.db"
        env.setenv("STEPGRAD_DATABASE_URL", f"sqlite:///{path}")
        env.setenv("STEPGRAD_INSTRUCTOR_TOKEN", TOKEN)
        env.delenv("STEPGRAD_SECRET", raising=False)
        get_settings.cache_clear()
        yield
    get_settings.cache_clear()


@schema.parametrize()
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_api_from_its_schema(case: schemathesis.Case) -> None:
    response = case.call(headers={"Authorization": f"Bearer {TOKEN}"})
    if not case.meta or not case.meta.generation.mode.is_negative:
        STATUSES[(case.operation.label, response.status_code // 100)] += 1
        if response.status_code == 422 and len(REJECTED[case.operation.label]) < 6:
            REJECTED[case.operation.label].append(response.json()["message"][:160])
    case.validate_response(
        response, checks=[not_a_server_error, status_code_conformance, response_schema_conformance]
    )
    if 400 <= response.status_code < 500:
        body = response.json()
        assert isinstance(body["message"], str) and body["message"]
        assert all({"field", "loc", "msg", "type"} <= set(d) for d in body["detail"])


OPERATIONS = sorted(result.ok().label for result in schema.get_all_operations())


MOSTLY_REJECTED = {"POST /api/v1/graph/solve", "POST /api/v1/graph/svg", "POST /api/v1/exams"}
"""Operations whose bodies tie fields together in ways JSON Schema cannot say, so that most
bodies generated from a valid one by changing one field break the tie: a graph's
``values`` must name exactly the variables of its ``expression`` (any key added, or any
other expression, is rejected) and its ``upstream`` has the output's shape; an exam closes
after it opens (two date-times). Every other operation's schema states its ties: examples
that agree with each other, bounds, one source (problem or variant) as ``oneOf``, batch
items whose ``task`` decides the form of their problem and answer."""


ADDRESSED = {op for op in OPERATIONS if "{exam_id}" in op or "{token}" in op}
"""Operations on a stored exam or a student's signed link: a generated id or token names
none (404, 403), so these are fuzzed for 5xx and error shapes only."""


def test_generated_requests_are_mostly_accepted() -> None:
    """Run after the fuzz above (same module): every operation got requests, and no
    operation but :data:`MOSTLY_REJECTED` rejects most of what its schema allows
    (schemathesis' "mostly rejected" warning)."""
    ratios = {op: (STATUSES[(op, 2)], STATUSES[(op, 4)]) for op in OPERATIONS}

    assert all(accepted + rejected for accepted, rejected in ratios.values()), ratios
    rejected = {
        op: r for op, r in ratios.items() if r[1] > r[0] and op not in MOSTLY_REJECTED | ADDRESSED
    }
    assert not rejected, (rejected, {op: REJECTED[op] for op in rejected})
