"""Schemathesis against the served OpenAPI, in process, on each backend: no input makes the API
answer 5xx, and every answer (a 422 included) matches the schema the API declares.

Each operation is called as a user whose role may take its action, in the region of a lodged
application, so the generated requests reach the handlers and the database rather than stopping
at 403. Examples and time are bounded: the test is a guard in the suite, not a long campaign
(``SAFETYNET_FUZZ_EXAMPLES`` raises the count for a longer run).
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.core.failures import FailureGroup
from schemathesis.core.result import Ok
from schemathesis.generation import GenerationMode

from safetynet.db.engine import Database
from safetynet.entrypoints.api import POLICY, Action, InMemoryUserDirectory, Role, User, create_app
from tests.entrypoints.api.conftest import OWN, _clock, token
from tests.entrypoints.api.flows import submit_dibao

EXAMPLES = int(os.environ.get("SAFETYNET_FUZZ_EXAMPLES", "12"))
# Per operation, per backend; the operations share the sum, so one slow operation cannot starve
# the rest for long, and the budget grows with the API instead of being outgrown by it.
SECONDS_PER_OPERATION = float(os.environ.get("SAFETYNET_FUZZ_SECONDS_PER_OPERATION", "1.5"))
# Read at import, like the bounds above: the test session clears SAFETYNET_* settings before
# each test (tests/conftest.py), so reading it in the test never saw it.
REPORT = os.environ.get("SAFETYNET_FUZZ_REPORT")


def _users() -> dict[str, User]:
    return {token(role, OWN): User(f"{role}_fuzz", role, OWN) for role in Role}


def _token_for(action: Action) -> str:
    role = next(role for role in Role if action in POLICY[role])
    return token(role, OWN)


@dataclass
class Findings:
    """What the run saw: answers by status, and the problems (5xx or a schema mismatch)."""

    statuses: Counter[int] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)
    operations: int = 0


@pytest.fixture
def app(database: Database) -> Iterator[FastAPI]:
    from fastapi.testclient import TestClient

    application = create_app(database, users=InMemoryUserDirectory(_users()), clock=_clock)
    with TestClient(application) as client:
        # A lodged application, so small ids name real rows and the handlers run.
        submit_dibao(client, database, "HFUZZ1", clerk=token(Role.INTAKE_CLERK, OWN))
        yield application


def fuzz(application: FastAPI, examples: int, per_operation: float) -> Findings:
    schema = schemathesis.openapi.from_asgi("/openapi.json", application)
    findings = Findings()
    operations = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result  # the served schema is valid OpenAPI
        operations.append(result.ok())
    deadline = time.monotonic() + per_operation * len(operations)
    for operation in operations:
        if time.monotonic() > deadline:
            findings.problems.append(f"time budget spent before {operation.label}")
            break
        findings.operations += 1
        action = Action(operation.definition.raw["x-action"])
        headers = {"Authorization": f"Bearer {_token_for(action)}"}
        _fuzz_operation(operation, headers, findings, examples, per_operation)
    return findings


def _fuzz_operation(
    operation: Any, headers: dict[str, str], findings: Findings, examples: int, seconds: float
) -> None:
    label = operation.label
    strategy = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    )
    stop_at = time.monotonic() + seconds

    @given(case=strategy)
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        if time.monotonic() > stop_at:
            return
        case.headers = {**(case.headers or {}), **headers}
        try:
            response = case.call()
        except Exception as exc:  # an exception the app let escape: a 500 in production
            findings.statuses[500] += 1
            findings.problems.append(f"{label}: 500 ({exc!r:.300}) for {case.as_curl_command()}")
            return
        findings.statuses[response.status_code] += 1
        if response.status_code >= 500:
            findings.problems.append(
                f"{label}: {response.status_code} for {case.as_curl_command()}"
            )
            return
        try:
            case.validate_response(
                response,
                checks=_checks(),
            )
        except FailureGroup as exc:  # failed checks: keep them and go on to see them all
            findings.problems.append(f"{label}: {str(exc)[:600]}")

    run()


def _checks() -> list[Any]:
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    return [
        not_a_server_error,
        status_code_conformance,
        content_type_conformance,
        response_schema_conformance,
    ]


def test_no_input_makes_the_api_answer_5xx_or_break_its_schema(app: FastAPI) -> None:
    findings = fuzz(app, EXAMPLES, SECONDS_PER_OPERATION)
    assert findings.operations >= 32
    assert sum(findings.statuses.values()) >= findings.operations
    if REPORT:  # for measuring: every problem, and the answers by status
        with open(REPORT, "a", encoding="utf-8") as out:
            out.write(f"statuses {dict(findings.statuses)}\n")
            out.writelines(f"{p}\n" for p in findings.problems)
    assert findings.problems == [], (dict(findings.statuses), findings.problems[:20])
