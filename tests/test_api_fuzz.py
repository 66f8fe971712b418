"""Schemathesis against /openapi.json: no generated input may produce a 5xx."""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from hashpivot.api.app import create_app

TOKEN = "fuzz-token"
_DIR = Path(__import__("tempfile").mkdtemp(prefix="hashpivot-fuzz-"))
# schemathesis calls the app as host "testserver": allow it here (the server allows loopback).
app = create_app(
    _DIR / "fuzz.duckdb", TOKEN, out=_DIR / "out", allowed_hosts=["testserver", "localhost"]
)
schema = schemathesis.openapi.from_asgi("/openapi.json", app)


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors(case: schemathesis.Case) -> None:
    # With the token, so that write routes are exercised past authentication too.
    response = case.call(headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code < 500, (case.method, case.path, response.text[:500])
    content_type = response.headers["content-type"]
    content_type = content_type[0] if isinstance(content_type, list) else content_type
    assert content_type.startswith(("application/json", "text/html")), content_type


@pytest.fixture(scope="module", autouse=True)
def _stop_worker():
    yield
    app.state.worker.shutdown(wait=True, cancel_futures=True)
