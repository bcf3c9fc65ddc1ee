"""Every API request is logged: method, path template (never the ids), status, user, duration."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient

from tests.entrypoints.api.conftest import OWN, auth, name, token


def test_each_request_is_one_record_with_its_fields(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="safetynet.api")
    clerk = token("intake_clerk", OWN)
    client.get("/tracks/987654321", headers=auth(clerk))
    client.get("/tracks/1")
    client.get("/no/such/path", headers=auth("not-a-token"))
    found, anonymous, unrouted = [r for r in caplog.records if r.name == "safetynet.api"]
    assert found.__dict__["event"] == "request"
    assert found.__dict__["method"] == "GET"
    assert found.__dict__["path"] == "/tracks/{track_id}"
    assert found.__dict__["status"] == 404
    assert found.__dict__["user"] == name("intake_clerk", OWN)
    assert found.__dict__["duration_ms"] >= 0
    assert "987654321" not in found.getMessage()
    assert anonymous.__dict__["user"] is None
    assert anonymous.__dict__["status"] == 401
    assert unrouted.__dict__["path"] == "(no route)"
    assert unrouted.__dict__["user"] == "(unknown token)"
