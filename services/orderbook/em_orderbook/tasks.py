"""Background tasks kept referenced (asyncio holds only weak references) and cancelled as one."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

logger = logging.getLogger(__name__)


def spawn(
    group: set[asyncio.Task[None]], coro: Coroutine[Any, Any, None], name: str
) -> asyncio.Task[None]:
    task = asyncio.create_task(coro, name=name)
    group.add(task)
    task.add_done_callback(_finished(group))
    return task


def _finished(group: set[asyncio.Task[None]]) -> Any:
    def done(task: asyncio.Task[None]) -> None:
        group.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error(
                "background task crashed",
                extra={"task": task.get_name()},
                exc_info=task.exception(),
            )

    return done


async def cancel(group: set[asyncio.Task[None]]) -> None:
    pending = list(group)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
