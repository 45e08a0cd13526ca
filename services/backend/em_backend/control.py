"""Live runtime switches from the `em-control` KV bucket (written by the operator).

Every replica watches the bucket and swaps an immutable snapshot on each change, so request
paths read one attribute and never wait on NATS. `MAINTENANCE_MODE` in the environment
forces maintenance on for deployments without the operator.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

import pydantic
from nats.js.kv import KeyValue

from em_common import contracts

logger = logging.getLogger(__name__)

MAINTENANCE = "maintenance"
ANNOUNCEMENT = "announcement"
ADMIN_ACCESS = "admin_access"

Listener = Callable[["ControlState", "ControlState"], Awaitable[None]]


@dataclass(frozen=True)
class ControlState:
    maintenance: contracts.MaintenanceState = field(default_factory=contracts.MaintenanceState)
    announcement: contracts.Announcement | None = None
    admin_access: contracts.AdminAccess = field(default_factory=contracts.AdminAccess)
    forced_maintenance: bool = False
    forced_message: str = ""

    @property
    def maintenance_on(self) -> bool:
        return self.forced_maintenance or self.maintenance.enabled

    @property
    def maintenance_message(self) -> str:
        if self.maintenance.enabled and self.maintenance.message:
            return self.maintenance.message
        return self.forced_message or self.maintenance.message

    def retry_after(self, default_seconds: int, now: datetime | None = None) -> int:
        """Seconds until the announced end of maintenance, else the configured default."""
        until = self.maintenance.until
        if until is None:
            return default_seconds
        left = (until - (now or datetime.now(UTC))).total_seconds()
        return max(1, int(left) + 1) if left > 0 else default_seconds


def apply_entry(state: ControlState, key: str, value: bytes | None) -> ControlState:
    """The state after one KV entry; a deleted key or an invalid value means the default."""
    try:
        if key == MAINTENANCE:
            parsed = contracts.MaintenanceState.model_validate_json(value) if value else None
            return replace(state, maintenance=parsed or contracts.MaintenanceState())
        if key == ANNOUNCEMENT:
            ann = contracts.Announcement.model_validate_json(value) if value else None
            return replace(state, announcement=ann)
        if key == ADMIN_ACCESS:
            access = contracts.AdminAccess.model_validate_json(value) if value else None
            return replace(state, admin_access=access or contracts.AdminAccess())
    except pydantic.ValidationError:
        logger.warning("ignoring invalid control value", extra={"key": key})
    return state


class Control:
    """Holds the current ControlState and keeps it in step with the KV bucket."""

    def __init__(self, *, forced_maintenance: bool = False, forced_message: str = "") -> None:
        self.state = ControlState(
            forced_maintenance=forced_maintenance, forced_message=forced_message
        )
        self._listeners: list[Listener] = []
        self._task: asyncio.Task[None] | None = None

    def on_change(self, listener: Listener) -> None:
        self._listeners.append(listener)

    async def set_entry(self, key: str, value: bytes | None) -> None:
        before = self.state
        self.state = apply_entry(before, key, value)
        if self.state != before:
            logger.info(
                "control changed",
                extra={"key": key, "maintenance": self.state.maintenance_on},
            )
            for listener in self._listeners:
                try:
                    await listener(before, self.state)
                except Exception:
                    logger.exception("control listener failed")

    def start(self, kv: KeyValue) -> None:
        self._task = asyncio.create_task(self._watch_forever(kv), name="control-watch")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _watch_forever(self, kv: KeyValue) -> None:
        while True:
            watcher = None
            try:
                watcher = await kv.watchall()
                async for entry in watcher:
                    if entry is None:
                        continue
                    deleted = entry.operation in ("DEL", "PURGE")
                    await self.set_entry(entry.key, None if deleted else entry.value)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.warning("control watch failed; restarting", exc_info=True)
            finally:
                if watcher is not None:
                    with contextlib.suppress(Exception):
                        await watcher.stop()  # type: ignore[no-untyped-call]
            await asyncio.sleep(1.0)
