"""Running the outputs follower as a supervised child process of `em orderbook`.

A separate process gives event publishing and the database projection their own core, so
they never delay matching. The child is restarted if it dies, told to drain on shutdown, and
asks the kernel for a SIGTERM should the matcher itself die without a word (set up in the
child, `die_with_parent`, since a pre-exec hook is unsafe in a process with gRPC threads).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys

from em_common import children

logger = logging.getLogger(__name__)

PARENT_ENV = "EM_ORDERBOOK_PARENT_PID"


def die_with_parent() -> bool:
    """In the child: SIGTERM when the matcher dies (False when not started by one)."""
    return children.die_with_parent(PARENT_ENV)


class OutputsChild:
    def __init__(self, drain_seconds: float) -> None:
        self.drain_seconds = drain_seconds
        self._proc: asyncio.subprocess.Process | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self.restarts = 0

    async def start(self) -> None:
        self._task = asyncio.create_task(self._supervise(), name="outputs-child")

    async def _spawn(self) -> asyncio.subprocess.Process:
        return await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "em_orderbook.main",
            "--role",
            "outputs",
            stdin=asyncio.subprocess.DEVNULL,
            env=os.environ | {PARENT_ENV: str(os.getpid())},
        )

    async def _supervise(self) -> None:
        delay = 0.5
        while not self.stopping():
            self._proc = await self._spawn()
            code = await self._proc.wait()
            if self.stopping() or code == 0:
                return  # 0: it drained after a SIGTERM (sent to the whole process group)
            self.restarts += 1
            logger.error("outputs follower exited; restarting", extra={"exit_code": code})
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10.0)

    def stopping(self) -> bool:
        return self._stopping

    async def stop(self) -> None:
        self._stopping = True
        proc = self._proc
        if proc is not None and proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), self.drain_seconds + 10)
            except TimeoutError:
                logger.warning("outputs follower did not drain in time; killing it")
                proc.kill()
                await proc.wait()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
