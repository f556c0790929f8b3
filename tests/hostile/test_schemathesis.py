"""Property-based fuzzing of the collector's OpenAPI document with schemathesis, in process
(ASGI): every operation, with valid and schema-violating data, under four Authorization variants
(none, malformed, a token of the wrong scope, a valid admin token), must never answer 5xx.
Bounded: a few examples per operation, mode and variant (tens of seconds in all)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable

# A dev dependency (pyproject [dev]: schemathesis>=4.30); skipped where it is not installed yet.
schemathesis = pytest.importorskip("schemathesis")
from schemathesis import GenerationMode  # noqa: E402

from tests.collector.conftest import Collector

EXAMPLES = {GenerationMode.POSITIVE: 4, GenerationMode.NEGATIVE: 4}
VARIANTS = ["none", "malformed", "wrong_scope", "valid"]


def auth_headers(variant: str, collector: Collector) -> dict[str, str]:
    return {
        "none": {},
        "malformed": {"Authorization": "Bearer"},
        # read scope: wrong for ingest and admin operations, right for the read ones
        "wrong_scope": collector.auth("read"),
        "valid": collector.auth("admin"),
    }[variant]


def fuzz_operation(operation: Any, mode: Any, headers: dict[str, str], failures: list[str]) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES[mode], deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def run(case: Any) -> None:
        sent = {k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"}
        response = case.call(headers={**sent, **headers})
        if response.status_code >= 500:
            failures.append(f"{case.method} {case.formatted_path} ({mode.value}): {response.status_code} "
                            f"{response.text[:200]}\n  {case.as_curl_command()[:500]}")
        elif not headers and operation.path.startswith("/v1/") and response.status_code != 401:
            failures.append(f"{case.method} {case.formatted_path} without a token: {response.status_code}")

    try:
        run()
    except Unsatisfiable:
        # Negative mode for an operation with nothing to violate (no parameters, no body).
        if mode is not GenerationMode.NEGATIVE:
            raise


@pytest.mark.parametrize("variant", VARIANTS)
def test_no_operation_answers_5xx(hostile_collector: Collector, variant: str) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", hostile_collector.client.app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 17
    headers = auth_headers(variant, hostile_collector)
    failures: list[str] = []
    for operation in operations:
        for mode in EXAMPLES:
            fuzz_operation(operation, mode, headers, failures)
    assert not failures, "\n".join(failures[:20])
