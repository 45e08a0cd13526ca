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
