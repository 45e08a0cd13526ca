"""Signed reality events from external publishers (same checks as the JetStream path)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Request

from em_backend import errors
from em_backend.api.deps import RuntimeDep
from em_backend.ingest import checks
from em_backend.models import reality as models

router = APIRouter(prefix="/api/v1/reality", tags=["reality"])

STATUS_BY_REASON = {
    checks.BAD_SIGNATURE: 401,
    checks.STALE_TIMESTAMP: 400,
    checks.INVALID_PAYLOAD: 422,
    checks.UNKNOWN_SYMBOL: 422,
}


@router.post(
    "/ingest",
    response_model=models.IngestPublic,
    responses={
        400: {"description": "Timestamp more than 10 minutes off"},
        401: {"description": "Missing or wrong X-SIGNATURE"},
        413: {"description": "Body too large"},
        422: {"description": "Invalid payload or unknown symbol"},
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"type": "object"}}},
        }
    },
)
async def ingest(
    request: Request,
    runtime: RuntimeDep,
    x_signature: Annotated[
        str | None, Header(alias="X-SIGNATURE", description="hex HMAC-SHA256 of the body")
    ] = None,
) -> models.IngestPublic:
    """Apply a signed reality event, hold it for review, or report it as a duplicate."""
    body = await request.body()
    if len(body) > checks.MAX_BODY_BYTES:
        raise _HttpRejected(413, "event body is too large")
    try:
        outcome = await runtime.ingestor.ingest(body, x_signature, via="http")
    except errors.IngestRejected as exc:
        raise _HttpRejected(STATUS_BY_REASON.get(exc.reason, 400), exc.detail) from exc
    return models.IngestPublic(
        event_id=outcome.event_id,
        status=outcome.status,
        changes=[
            models.ChangePublic(symbol=c.symbol, old_score=c.old, new_score=c.new, delta=c.delta)
            for c in outcome.changes
        ],
        held=[
            models.HeldPublic(symbol=h.symbol, reason=h.reason, delta=h.delta) for h in outcome.held
        ],
    )


class _HttpRejected(errors.BackendError):
    """An ingest refusal with the HTTP status its reason maps to."""

    def __init__(self, status_code: int, detail: str) -> None:
        super().__init__(detail)
        self.status_code = status_code
