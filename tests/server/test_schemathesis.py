"""Schemathesis against the OpenAPI description: no generated request (valid or not) gets a 500."""

from __future__ import annotations

import tempfile
from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, settings  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402

from mirage.server import create_app  # noqa: E402
from tests.server.conftest import AUTH, TOKEN, table_bytes  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def api_schema() -> Any:
    from fastapi.testclient import TestClient

    app = create_app(tempfile.mkdtemp(prefix="mirage-schemathesis-"), TOKEN)
    with TestClient(app) as client:  # one real dataset, so that some generated ids can find it
        client.post("/api/datasets", files={"file": ("adult.csv", table_bytes(60))}, headers=AUTH)
    return schemathesis.openapi.from_asgi("/openapi.json", app, headers=AUTH)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_generated_request_gets_a_500(case: Any) -> None:
    if case.path.endswith("/events"):
        case.path_parameters = {"job_id": "0" * 16}  # an unknown job: a stream never ends otherwise
    case.call_and_validate(headers=AUTH, checks=[not_a_server_error])
