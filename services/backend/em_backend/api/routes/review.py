"""Admin review of held reality events and the audit trail (X-ADMIN-KEY)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Query

from em_backend.api.deps import AdminKey, RuntimeDep, SessionDep
from em_backend.api.routes.admin_stocks import ADMIN_ERRORS
from em_backend.models import reality as models
from em_backend.models.text import Text
from em_backend.store import events as event_store

router = APIRouter(prefix="/api/v1/admin", tags=["admin"])


@router.get("/pending", response_model=models.PendingListPublic, responses=ADMIN_ERRORS)
async def list_pending(
    session: SessionDep,
    _admin: AdminKey,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> models.PendingListPublic:
    """Events held by anti-manipulation, newest first, with why each symbol was held."""
    rows = await event_store.pending(session, limit)
    data = []
    for event, audits in rows:
        payload = event.payload
        data.append(
            models.PendingPublic(
                event_id=event.event_id,
                source=event.source,
                received_at=event.received_at,
                reason=event.reason,
                summary=str(payload.get("summary", "")),
                impact_points=Decimal(str(payload.get("impact_points", "0"))),
                stocks=[str(s) for s in payload.get("stocks", [])],
                held=[
                    models.HeldPublic(symbol=a.symbol, reason=a.reason, delta=a.delta)
                    for a in audits
                ],
                payload=payload,
            )
        )
    return models.PendingListPublic(data=data, count=len(data))


@router.post(
    "/approve",
    response_model=models.DecisionPublic,
    responses={
        **ADMIN_ERRORS,
        404: {"description": "Unknown event"},
        409: {"description": "Already decided"},
    },
)
async def decide(
    body: models.ReviewDecision, runtime: RuntimeDep, _admin: AdminKey
) -> models.DecisionPublic:
    """Approve (apply once) or reject a held event; a second decision answers 409."""
    decision = await runtime.reviewer.decide(
        body.event_id, approve=body.approve, admin_id=body.admin_id, note=body.note
    )
    return models.DecisionPublic(
        event_id=decision.event_id,
        status="applied" if decision.status == "applied" else "rejected",
        decided_at=decision.decided_at,
        changes=[
            models.ChangePublic(symbol=c.symbol, old_score=c.old, new_score=c.new, delta=c.delta)
            for c in decision.changes
        ],
    )


@router.get("/audit", response_model=models.AuditPublic, responses=ADMIN_ERRORS)
async def audit(
    session: SessionDep,
    _admin: AdminKey,
    symbol: Annotated[str | None, Query(pattern=r"^[A-Z][A-Z0-9_]{1,15}$")] = None,
    event_id: Annotated[Text | None, Query(max_length=128)] = None,
    source: Annotated[Text | None, Query(max_length=200)] = None,
    decision: Literal["approve", "reject", "pending"] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> models.AuditPublic:
    """Review decisions (llm_audit) and score changes, newest first, filtered."""
    f = event_store.AuditFilter(
        symbol=symbol,
        event_id=event_id,
        source=source,
        decision=decision,
        since=_utc(since),
        until=_utc(until),
        limit=limit,
    )
    decisions = await event_store.audit_decisions(session, f)
    changes = await event_store.audit_changes(session, f)
    return models.AuditPublic(
        decisions=[
            models.AuditDecisionPublic.model_validate(d, from_attributes=True) for d in decisions
        ],
        score_changes=[
            models.ScoreChangePublic.model_validate(c, from_attributes=True) for c in changes
        ],
    )


def _utc(value: datetime | None) -> datetime | None:
    """A query time without an offset means UTC (all stored timestamps are UTC)."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)
