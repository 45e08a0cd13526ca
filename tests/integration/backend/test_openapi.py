"""The OpenAPI contract: every route documented; schemathesis finds no 5xx and no
undocumented status anywhere in the backend's API."""

from __future__ import annotations

import hypothesis
import schemathesis
from fastapi.routing import APIRoute
from schemathesis import checks

from em_backend import wiring
from em_backend.settings import Settings
from tests.integration.backend.helpers import ADMIN_KEY, REALITY_SECRET
from tests.support.backend_server import serve_in_thread


def test_every_route_has_a_one_line_description() -> None:
    for router in wiring.routers():
        for route in router.routes:
            if isinstance(route, APIRoute):
                doc = (route.endpoint.__doc__ or "").strip()
                assert doc, f"{route.path} has no docstring"
                assert "\n" not in doc, f"{route.path}: the OpenAPI text is one line"


# No 5xx, no undocumented status, responses match their schemas. Not "every schema-valid
# request is accepted": a Decimal field's JSON schema admits strings (like "") that are
# rightly refused with 422.
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
]


def test_api_contract(database_url: str, own_nats: str) -> None:
    """Every operation, many generated requests each, as an admin (so admin routes are
    exercised past the key check). The schemathesis pytest plugin does not load under
    pytest 9, so the operations are driven through hypothesis directly."""
    settings = Settings(
        em_env="test",
        database_url=database_url,
        nats_url=own_nats,
        reality_api_secret=REALITY_SECRET,
        admin_api_key=ADMIN_KEY,
        jwt_secret="test-jwt-secret-0123456789abcdef",
    )
    with serve_in_thread(settings) as base_url:
        schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
        operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
        assert len(operations) >= 10
        for operation in operations:

            @hypothesis.settings(
                max_examples=40,
                deadline=None,
                database=None,
                suppress_health_check=list(hypothesis.HealthCheck),
            )
            @hypothesis.given(case=operation.as_strategy())
            def check(case: schemathesis.Case) -> None:  # type: ignore[type-arg]
                case.call_and_validate(headers={"X-ADMIN-KEY": ADMIN_KEY}, checks=CHECKS)

            check()
