"""`em backend` with WEB_CONCURRENCY > 1: one listening socket, several worker processes.

A single event loop tops out at one core; the order path spends most of its time in Python,
so a pod with two cores serves nearly twice the orders with two workers. The parent binds
the socket and hands it to each worker (`--socket-fd`), so the kernel spreads connections
between them; every worker is a whole backend, exactly like a replica (its own pools,
stream consumers and WebSocket clients; live updates reach all of them through NATS).

A worker asks the kernel for SIGTERM should the parent die without a word (even by
SIGKILL), so no worker outlives its pod's main process (`die_with_supervisor`, called in
the worker: the orderbook's outputs child does the same).

The parent only supervises: SIGTERM or SIGINT is passed on and the parent exits once every
worker has drained (0 when they all stopped cleanly). A worker that dies is started again;
more than MAX_RESTARTS deaths in RESTART_WINDOW_S stop everything with exit code 1, so a
crash loop shows in Kubernetes instead of hiding inside one pod.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections import deque
from types import FrameType

from em_common import children

logger = logging.getLogger(__name__)

PARENT_ENV = "EM_BACKEND_SUPERVISOR_PID"
MAX_RESTARTS = 5
RESTART_WINDOW_S = 60.0
POLL_S = 0.2


def die_with_supervisor() -> None:
    """In a worker: SIGTERM when the supervisor dies; exit at once if it already has."""
    children.die_with_parent(PARENT_ENV)


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


class Supervisor:
    def __init__(self, sock: socket.socket, count: int, argv: list[str]) -> None:
        self.sock = sock
        self.count = count
        self.argv = argv
        self.workers: dict[int, subprocess.Popen[bytes]] = {}
        self.stopping = False
        self.deaths: deque[float] = deque()

    def _spawn(self, slot: int) -> None:
        cmd = [sys.executable, "-m", "em_cli.main", "backend", *self.argv]
        cmd += ["--socket-fd", str(self.sock.fileno())]
        env = {**os.environ, "WEB_CONCURRENCY": "1", PARENT_ENV: str(os.getpid())}
        self.workers[slot] = subprocess.Popen(cmd, env=env, pass_fds=(self.sock.fileno(),))
        logger.info("worker started", extra={"slot": slot, "pid": self.workers[slot].pid})

    def _stop(self, signum: int, _frame: FrameType | None) -> None:
        if self.stopping:
            return
        self.stopping = True
        logger.info("stopping workers", extra={"signal": signal.Signals(signum).name})
        for proc in self.workers.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)

    def run(self) -> int:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._stop)
        for slot in range(self.count):
            self._spawn(slot)
        failed = False
        while True:
            running = 0
            for slot, proc in list(self.workers.items()):
                code = proc.poll()
                if code is None:
                    running += 1
                    continue
                if self.stopping:
                    # -SIGTERM: one still starting, stopped before it installed its handler
                    failed |= code not in (0, -signal.SIGTERM)
                    continue
                logger.error("worker died", extra={"slot": slot, "exit_code": code})
                now = time.monotonic()
                self.deaths.append(now)
                while self.deaths and now - self.deaths[0] > RESTART_WINDOW_S:
                    self.deaths.popleft()
                if len(self.deaths) > MAX_RESTARTS:
                    logger.error("workers keep dying; giving up")
                    failed = True
                    self._stop(signal.SIGTERM, None)
                    continue
                self._spawn(slot)
                running += 1
            if self.stopping and running == 0:
                break
            time.sleep(POLL_S)
        self.sock.close()
        return 1 if failed else 0
