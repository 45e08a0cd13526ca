"""Platform status for the UI banner: maintenance and the current announcement."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel

from em_backend.api.deps import RuntimeDep

router = APIRouter(prefix="/api/v1", tags=["status"])


class AnnouncementPublic(BaseModel):
    message: str
    starts_at: datetime


class StatusPublic(BaseModel):
    maintenance: bool
    maintenance_message: str | None
    announcement: AnnouncementPublic | None
    admin_access: bool


@router.get("/status", response_model=StatusPublic)
async def status(runtime: RuntimeDep) -> StatusPublic:
    """Maintenance state and the operator's announcement (message and start time)."""
    state = runtime.control.state
    ann = state.announcement
    return StatusPublic(
        maintenance=state.maintenance_on,
        maintenance_message=state.maintenance_message if state.maintenance_on else None,
        announcement=AnnouncementPublic(message=ann.message, starts_at=ann.starts_at)
        if ann
        else None,
        admin_access=state.admin_access.enabled,
    )
