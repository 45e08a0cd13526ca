"""WS /ws/updates: subscriptions, heartbeats, slow clients dropped, fan-out across replicas."""

from __future__ import annotations

import asyncio
import json
import socket
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from em_backend.settings import Settings
from tests.integration.backend.helpers import ADMIN_KEY, event, eventually, list_symbol, signed
from tests.support.backend_server import RunningBackend, serve


async def next_of(ws: ClientConnection, kind: str) -> dict[str, Any]:
    while True:
        message: dict[str, Any] = json.loads(await ws.recv())
        if message["type"] == kind:
            return message


async def test_subscriptions_filter_and_health_counts_sockets(
    backend: RunningBackend, http: httpx.AsyncClient, admin: httpx.AsyncClient
) -> None:
    await list_symbol(admin, "AAA")
    await list_symbol(admin, "BBB")
    async with (
        connect(f"{backend.ws_url}/ws/updates") as only_b,
        connect(f"{backend.ws_url}/ws/updates") as every,
    ):
        await only_b.send(json.dumps({"action": "subscribe", "symbols": ["AAA", "BBB"]}))
        await only_b.send(json.dumps({"action": "unsubscribe", "symbols": ["AAA"]}))
        await every.send(json.dumps({"action": "subscribe", "symbols": ["*"]}))
        assert (await next_of(only_b, "subscribed"))["symbols"] == ["AAA", "BBB"]
        assert (await next_of(only_b, "subscribed"))["symbols"] == ["BBB"]
        await next_of(every, "subscribed")
        health = (await http.get("/health")).json()
        assert health["websocket_clients"] == 2
        for symbol in ("AAA", "BBB"):
            body, sig = signed(event([symbol], "1"))
            await http.post("/api/v1/reality/ingest", content=body, headers={"X-SIGNATURE": sig})
        assert (await next_of(only_b, "reality_update"))["symbol"] == "BBB"
        assert (await next_of(every, "reality_update"))["symbol"] == "AAA"
        assert (await next_of(every, "reality_update"))["symbol"] == "BBB"
        await only_b.send("not json")
        assert (await next_of(only_b, "error"))["detail"] == "messages must be JSON objects"
        await only_b.send(json.dumps({"action": "ping"}))
        await next_of(only_b, "pong")
    await eventually(lambda: http.get("/health"), lambda r: r.json()["websocket_clients"] == 0)


async def test_heartbeat_when_idle(backend_settings: Settings) -> None:
    settings = backend_settings.model_copy(update={"ws_heartbeat_seconds": 0.2})
    async with serve(settings) as backend, connect(f"{backend.ws_url}/ws/updates") as ws:
        message = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert message["type"] == "heartbeat"


def small_socket(backend: RunningBackend) -> socket.socket:
    """A client socket with a fixed small receive buffer (no autotuning to 32 MB), so a
    client that stops reading pushes back on the server after a few megabytes at most."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    host, port = backend.base_url.removeprefix("http://").split(":")
    sock.connect((host, int(port)))
    return sock


async def test_slow_client_is_dropped_without_holding_others(backend_settings: Settings) -> None:
    settings = backend_settings.model_copy(update={"ws_queue_size": 32})
    async with (
        serve(settings) as backend,
        connect(
            f"{backend.ws_url}/ws/updates?symbols=ELON",
            max_queue=4,
            sock=small_socket(backend),
            compression=None,  # padding must cost bytes on the wire, not deflate to nothing
        ) as slow,
        connect(f"{backend.ws_url}/ws/updates?symbols=ELON") as fast,
    ):
        hub = backend.runtime.hub
        await eventually(lambda: asyncio.sleep(0, hub.count), lambda n: n == 2)
        received = 0

        async def read_fast() -> None:
            nonlocal received
            while True:
                message = json.loads(await fast.recv())
                if message["type"] == "final_update":
                    received += 1

        async def caught_up(sent: int) -> None:
            await eventually(lambda: asyncio.sleep(0, received), lambda n: n == sent, interval=0)

        reader = asyncio.create_task(read_fast())
        filler = "x" * 8192
        total = 1600
        for i in range(total):
            hub.deliver({"type": "final_update", "symbol": "ELON", "seq": i, "pad": filler})
            if i % 8 == 7:  # the fast reader keeps up; the slow one never reads
                await caught_up(i + 1)
        reader.cancel()
        assert hub.count == 1
        try:
            while True:
                await asyncio.wait_for(slow.recv(), 5)
        except ConnectionClosed as closed:
            assert closed.rcvd is not None
            assert closed.rcvd.code == 1013
        metrics = backend.runtime.metrics.render().decode()
        assert "em_backend_ws_dropped_total 1.0" in metrics


async def test_fan_out_reaches_sockets_and_quotes_of_another_replica(
    backend_settings: Settings,
) -> None:
    async with (
        serve(backend_settings) as one,
        serve(backend_settings) as two,
        httpx.AsyncClient(base_url=one.base_url, headers={"X-ADMIN-KEY": ADMIN_KEY}) as http_one,
        httpx.AsyncClient(base_url=two.base_url) as http_two,
    ):
        await list_symbol(http_one, "ELON")
        async with connect(f"{two.ws_url}/ws/updates?symbols=ELON") as ws:
            await eventually(lambda: asyncio.sleep(0, two.runtime.hub.count), lambda n: n == 1)
            body, sig = signed(event(["ELON"], "4"))
            response = await http_one.post(
                "/api/v1/reality/ingest", content=body, headers={"X-SIGNATURE": sig}
            )
            assert response.json()["status"] == "applied"
            assert (await next_of(ws, "reality_update"))["reality_score"] == "54.00"
            assert (await next_of(ws, "final_update"))["final_price"] == "54.00"
        quote = two.runtime.quotes.get("ELON")
        assert quote is not None
        assert str(quote.reality) == "54.00"
        final = (await http_two.get("/api/v1/stocks/ELON/final")).json()
        assert final["reality_score"] == "54.00"
