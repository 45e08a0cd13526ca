"""The whole market as processes, for driving the web UI from a real browser.

`running_market(database_url, nats_url, logs)` seeds the demo symbols, empties the JetStream
streams and control keys left by earlier tests, starts `em orderbook` (the real service, with
a journal of its own, and its outputs follower as a child process, as `make up` runs it) and
`em backend` as subprocesses on free loopback ports, and yields a `Market` with what a test
needs to act as the outside world: signed reality events, operator switches in the
`em-control` KV, and admin/trader calls over HTTP.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from nats.js import errors as js_errors

from em_cli.devstack import demo, ports
from em_common import messaging, signing
from tests.support import orderbook as orderbook_support

REPO = Path(__file__).resolve().parents[2]
ADMIN_KEY = "ui-test-admin-key-0123456789abcdef"
REALITY_SECRET = "ui-test-reality-secret-0123456789abcdef"
JWT_SECRET = "ui-test-jwt-secret-0123456789abcdef0123"
CONTROL_KEYS = ("maintenance", "announcement", "admin_access")
START_TIMEOUT_S = 45.0


def reality_event(
    stocks: list[str], impact: str, summary: str, *, source: str = "wire-demo"
) -> dict[str, Any]:
    return {
        "event_id": f"evt-{uuid.uuid4().hex[:16]}",
        "timestamp": datetime.now(UTC).isoformat(),
        "stocks": stocks,
        "quick_score": 0.5,
        "impact_points": impact,
        "summary": summary,
        "sources": [{"id": source, "url": f"https://{source}.example/story", "trust": 0.8}],
        "num_independent_sources": 1,
        "llm_mode": "skipped",
        "llm_calls": [],
    }


def _run(coro: Coroutine[Any, Any, None]) -> None:
    """Run a coroutine to completion on a thread of its own: Playwright's sync API keeps an
    event loop running on the main thread, where asyncio.run() is refused."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, coro).result(timeout=60)


async def _forget_journal(nats_url: str, journal: str) -> None:
    nc = await messaging.connect(nats_url, name="pytest-ui-reset")
    try:
        await orderbook_support.forget_journal(nc, journal)
    finally:
        await nc.drain()


async def _reset_nats(nats_url: str) -> None:
    """No trades, events or switches from an earlier test reach this one."""
    nc = await messaging.connect(nats_url, name="pytest-ui-reset")
    try:
        js = nc.jetstream()
        for name in ("MARKET", "REALITY"):
            with contextlib.suppress(js_errors.NotFoundError):
                await js.delete_stream(name)
        kv = await messaging.ensure_topology(js)
        for key in CONTROL_KEYS:
            with contextlib.suppress(js_errors.KeyNotFoundError):
                await kv.purge(key)
    finally:
        await nc.drain()


async def _put_control(nats_url: str, key: str, value: dict[str, Any] | None) -> None:
    nc = await messaging.connect(nats_url, name="pytest-ui-operator")
    try:
        kv = await messaging.ensure_control_kv(nc.jetstream())
        if value is None:
            await kv.purge(key)
        else:
            await kv.put(key, json.dumps(value).encode())
    finally:
        await nc.drain()


@dataclass
class Market:
    base_url: str
    database_url: str
    nats_url: str

    def http(self) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, timeout=15.0)

    def ingest(self, event: dict[str, Any]) -> dict[str, Any]:
        """Publish a reality event the way an external publisher does (HMAC-signed)."""
        body = signing.canonical_json(event)
        with self.http() as client:
            resp = client.post(
                "/api/v1/reality/ingest",
                content=body,
                headers={
                    "Content-Type": "application/json",
                    "X-SIGNATURE": signing.sign(body, REALITY_SECRET),
                },
            )
        resp.raise_for_status()
        result: dict[str, Any] = resp.json()
        return result

    def control(self, key: str, value: dict[str, Any] | None) -> None:
        """Write an `em-control` switch as the operator does (None clears it)."""
        _run(_put_control(self.nats_url, key, value))

    def order(self, token: str, **body: Any) -> dict[str, Any]:
        """Place an order as another trader would, over the API."""
        body.setdefault("client_order_id", uuid.uuid4().hex)
        with self.http() as client:
            resp = client.post(
                "/api/v1/orders", json=body, headers={"Authorization": f"Bearer {token}"}
            )
        resp.raise_for_status()
        result: dict[str, Any] = resp.json()
        return result

    def register(self, username: str, password: str) -> str:
        """A trader made over the API (for tests whose subject is not sign-up)."""
        with self.http() as client:
            resp = client.post(
                "/api/v1/auth/register", json={"username": username, "password": password}
            )
            resp.raise_for_status()
            resp = client.post(
                "/api/v1/auth/login", json={"username": username, "password": password}
            )
            resp.raise_for_status()
            token: str = resp.json()["access_token"]
            return token


def _wait_healthy(
    url: str, proc: subprocess.Popen[bytes], log: Path, name: str, path: str = "/health"
) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    with httpx.Client(timeout=2.0) as client:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited early:\n{log.read_text()[-4000:]}")
            with contextlib.suppress(httpx.TransportError):
                if client.get(f"{url}{path}").status_code == 200:
                    return
            if time.monotonic() > deadline:
                raise TimeoutError(f"{name} not healthy:\n{log.read_text()[-4000:]}")
            time.sleep(0.05)


def _stop(*procs: subprocess.Popen[bytes] | None) -> None:
    """SIGTERM to all at once (each drains on its own), then wait for each."""
    running = [p for p in procs if p is not None and p.poll() is None]
    for proc in running:
        proc.terminate()
    for proc in running:
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextlib.contextmanager
def running_market(database_url: str, nats_url: str, logs: Path) -> Iterator[Market]:
    demo.seed(database_url)
    _run(_reset_nats(nats_url))
    logs.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "EM_ENV": "test",
        "DATABASE_URL": database_url,
        "NATS_URL": nats_url,
        "REALITY_API_SECRET": REALITY_SECRET,
        "ADMIN_API_KEY": ADMIN_KEY,
        "JWT_SECRET": JWT_SECRET,
        "CACHE_REFRESH_SECONDS": "30",
        "AUTH_RATE_PER_MINUTE": "600",
        "AUTH_BURST": "100",
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]).rstrip(
            os.pathsep
        ),
    }
    ob_port, ob_http_port = ports.free_port(), ports.free_port()
    journal = orderbook_support.unique("UI")
    ob_log = logs / "orderbook.log"
    with ob_log.open("wb") as ob_out:
        orderbook = subprocess.Popen(
            [sys.executable, "-m", "em_cli.main", "orderbook"],
            cwd=REPO,
            env={
                **env,
                "ORDERBOOK_BIND": "127.0.0.1",
                "ORDERBOOK_GRPC_PORT": str(ob_port),
                "ORDERBOOK_HTTP_PORT": str(ob_http_port),
                "ORDERBOOK_JOURNAL": journal,
                "ORDERBOOK_DRAIN_SECONDS": "5",
            },
            stdout=ob_out,
            stderr=subprocess.STDOUT,
        )
    backend: subprocess.Popen[bytes] | None = None
    try:
        # Both start at once: the backend dials the orderbook lazily, on the first call.
        port = ports.free_port()
        be_log = logs / "backend.log"
        with be_log.open("wb") as be_out:
            backend = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "em_cli.main",
                    "backend",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                ],
                cwd=REPO,
                env={**env, "ORDERBOOK_ADDR": f"127.0.0.1:{ob_port}"},
                stdout=be_out,
                stderr=subprocess.STDOUT,
            )
        # The orderbook is healthy once recovered and serving gRPC.
        _wait_healthy(f"http://127.0.0.1:{ob_http_port}", orderbook, ob_log, "orderbook", "/")
        url = f"http://127.0.0.1:{port}"
        _wait_healthy(url, backend, be_log, "backend")
        yield Market(base_url=url, database_url=database_url, nats_url=nats_url)
    finally:
        _stop(backend, orderbook)
        _run(_forget_journal(nats_url, journal))


__all__ = ["ADMIN_KEY", "CONTROL_KEYS", "Market", "reality_event", "running_market"]
