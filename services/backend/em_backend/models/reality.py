"""Ingest and review payloads as the API sees them."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from em_backend.models.text import Text


class ChangePublic(BaseModel):
    symbol: str
    old_score: Decimal
    new_score: Decimal
    delta: Decimal


class HeldPublic(BaseModel):
    symbol: str
    reason: str
    delta: Decimal


class IngestPublic(BaseModel):
    event_id: str
    status: Literal["applied", "pending_review", "duplicate"]
    changes: list[ChangePublic]
    held: list[HeldPublic]


class ReviewDecision(BaseModel):
    model_config = ConfigDict(extra="forbid")

    event_id: Text = Field(min_length=1, max_length=128)
    approve: bool
    admin_id: Text = Field(min_length=1, max_length=100)
    note: Text | None = Field(default=None, max_length=2000)


class DecisionPublic(BaseModel):
    event_id: str
    status: Literal["applied", "rejected"]
    decided_at: datetime
    changes: list[ChangePublic]


class PendingPublic(BaseModel):
    event_id: str
    source: str
    received_at: datetime
    reason: str | None
    summary: str
    impact_points: Decimal
    stocks: list[str]
    held: list[HeldPublic]
    payload: dict[str, Any]


class PendingListPublic(BaseModel):
    data: list[PendingPublic]
    count: int


class AuditDecisionPublic(BaseModel):
    id: int
    event_id: str
    symbol: str
    reason: str
    delta: Decimal
    decision: Literal["approve", "reject"] | None
    approved_by: str | None
    approved_at: datetime | None
    note: str | None
    created_at: datetime


class ScoreChangePublic(BaseModel):
    id: int
    symbol: str
    event_id: str | None
    old_score: Decimal
    new_score: Decimal
    delta: Decimal
    source: str
    created_at: datetime


class AuditPublic(BaseModel):
    decisions: list[AuditDecisionPublic]
    score_changes: list[ScoreChangePublic]


class FeedSourcePublic(BaseModel):
    id: str = Field(description="the source's id as the Reality Engine named it")
    url: str = Field(description="the article or feed the event was read from, as published")
    trust: float | None = Field(default=None, description="the source's trust, 0-1")


class RealityEventPublic(BaseModel):
    """An applied reality event: why Reality Scores moved, and by how much."""

    event_id: str
    status: Literal["applied"]
    reviewed: bool = Field(description="held by anti-manipulation, then approved by an admin")
    timestamp: datetime = Field(description="when the publisher scored the event")
    applied_at: datetime = Field(description="when the event moved the scores")
    summary: str
    impact_points: Decimal = Field(description="the event's impact as published (points)")
    stocks: list[str] = Field(description="the symbols the event names")
    sources: list[FeedSourcePublic]
    changes: list[ChangePublic] = Field(
        description="every Reality Score it moved (indexes too): before, after, delta applied"
    )
    cursor: str = Field(description="pass as `before` to list the events after this one")


class RealityEventsPublic(BaseModel):
    data: list[RealityEventPublic]
    count: int
    next_cursor: str | None = Field(
        description="`before` for the next (older) page; null when this is the last page"
    )
