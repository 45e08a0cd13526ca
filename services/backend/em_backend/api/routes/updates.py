"""`WS /ws/updates`: live prices, reviews and platform notices for subscribed symbols.

Client → server: `{"action": "subscribe"|"unsubscribe", "symbols": ["ELON", ...]}` ("*" for
every symbol) and `{"action": "ping"}`. Server → client: `reality_update`, `market_update`,
`final_update`, `audit_event`, `maintenance`, `announcement`, `heartbeat` (after
WS_HEARTBEAT_SECONDS of silence), `subscribed`, `pong`, `error`. A client that falls
WS_QUEUE_SIZE messages behind is closed with code 1013.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from em_backend.api.deps import RuntimeDep
from em_backend.live import hub as hub_mod
from em_backend.live import messages

logger = logging.getLogger(__name__)

router = APIRouter(tags=["live"])

MAX_SYMBOLS = 500
SLOW_CLIENT_CLOSE = 1013


@router.websocket("/ws/updates")
async def updates(websocket: WebSocket, runtime: RuntimeDep) -> None:
    """Live updates for subscribed symbols (see module docstring for the protocol)."""
    account_id = await runtime.ws_account(websocket) if runtime.ws_account else None
    await websocket.accept()
    client = runtime.hub.connect(account_id=account_id)
    initial = websocket.query_params.get("symbols")
    if initial:
        client.symbols.update(s for s in initial.split(",")[:MAX_SYMBOLS] if s)
    ann = runtime.control.state.announcement
    if ann is not None:
        _offer(runtime.hub, client, messages.announcement(ann.message, ann.starts_at))
    sender = asyncio.create_task(_send(websocket, client, runtime.settings.ws_heartbeat_seconds))
    receiver = asyncio.create_task(_receive(websocket, client, runtime.hub))
    try:
        await asyncio.wait({sender, receiver}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        runtime.hub.disconnect(client)
        for task in (sender, receiver):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if client.dropped.is_set():
            with contextlib.suppress(Exception):
                await websocket.close(code=SLOW_CLIENT_CLOSE, reason="too slow")


async def _send(websocket: WebSocket, client: hub_mod.Client, heartbeat: float) -> None:
    beat = json.dumps(messages.heartbeat())
    while not client.dropped.is_set():
        if client.queue.empty():
            client.wakeup.clear()
            try:
                async with asyncio.timeout(heartbeat):
                    await client.wakeup.wait()
            except TimeoutError:
                await websocket.send_text(beat)
                beat = json.dumps(messages.heartbeat())
            continue
        await websocket.send_text(client.queue.get_nowait())


async def _receive(websocket: WebSocket, client: hub_mod.Client, hub: hub_mod.Hub) -> None:
    with contextlib.suppress(WebSocketDisconnect):
        while True:
            raw = await websocket.receive_text()
            _offer(hub, client, _command(client, raw))


def _command(client: hub_mod.Client, raw: str) -> dict[str, Any]:
    try:
        data = json.loads(raw)
    except ValueError:
        return {"type": "error", "detail": "messages must be JSON objects"}
    if not isinstance(data, dict):
        return {"type": "error", "detail": "messages must be JSON objects"}
    action = data.get("action") or data.get("type")
    if action == "ping":
        return {"type": "pong"}
    if action in ("subscribe", "unsubscribe"):
        symbols = data.get("symbols", [])
        if isinstance(symbols, str):
            symbols = [symbols]
        if not isinstance(symbols, list) or not all(isinstance(s, str) for s in symbols):
            return {"type": "error", "detail": "symbols must be a list of strings"}
        if action == "subscribe":
            if len(client.symbols | set(symbols)) > MAX_SYMBOLS:
                return {"type": "error", "detail": f"at most {MAX_SYMBOLS} subscriptions"}
            client.symbols.update(symbols)
        else:
            client.symbols.difference_update(symbols)
        return {"type": "subscribed", "symbols": sorted(client.symbols)}
    return {"type": "error", "detail": f"unknown action {action!r}"}


def _offer(hub: hub_mod.Hub, client: hub_mod.Client, message: dict[str, Any]) -> None:
    """Queue a reply for this client only (same bounded queue as broadcasts)."""
    if not client.offer(json.dumps(message, separators=(",", ":"))):
        hub.drop(client)
