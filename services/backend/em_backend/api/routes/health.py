"""Probes and scrapes: the runbook's /health shape and Prometheus /metrics."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from em_backend.api.deps import RuntimeDep

router = APIRouter(tags=["operations"])


class HealthPublic(BaseModel):
    status: str
    database: str
    websocket_clients: int


@router.get(
    "/health",
    response_model=HealthPublic,
    responses={503: {"model": HealthPublic, "description": "PostgreSQL is unreachable"}},
)
async def health(runtime: RuntimeDep) -> JSONResponse:
    """Liveness/readiness: database reachability and this replica's WebSocket clients."""
    ok = await runtime.database_ok()
    body = HealthPublic(
        status="healthy" if ok else "unhealthy",
        database="connected" if ok else "disconnected",
        websocket_clients=runtime.hub.count,
    )
    return JSONResponse(body.model_dump(), status_code=200 if ok else 503)


@router.get("/metrics", response_class=Response, responses={200: {"content": {"text/plain": {}}}})
async def metrics(runtime: RuntimeDep) -> Response:
    """Prometheus metrics of this replica."""
    return Response(runtime.metrics.render(), media_type="text/plain; version=0.0.4")
