"""Live updates for traders: `order_update` to the owner's sockets only, `trade` and `book`
to every subscriber of the symbol."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

from tests.support.trading_stack import Stack


class Socket:
    """Collects every message of one connection in the background."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.messages: list[dict[str, Any]] = []
        self._task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        with contextlib.suppress(Exception):
            async for raw in self.ws:
                self.messages.append(json.loads(raw))

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [m for m in self.messages if m["type"] == kind]

    async def wait_for(self, kind: str, count: int = 1, within: float = 10.0) -> None:
        async with asyncio.timeout(within):
            while len(self.of(kind)) < count:  # noqa: ASYNC110 - filled by the reader task
                await asyncio.sleep(0.02)

    async def close(self) -> None:
        await self.ws.close()
        self._task.cancel()


async def test_order_updates_reach_the_owner_only(stack: Stack) -> None:
    await stack.list_symbol("ELON")
    alice, bob = await stack.trader(), await stack.trader()
    ws_url = stack.base_url.replace("http", "ws") + "/ws/updates?symbols=ELON"
    async with (
        connect(f"{ws_url}&token={alice.token}") as a,
        connect(ws_url, additional_headers=bob.headers) as b,
        connect(ws_url) as anon,
        connect(f"{ws_url}&token=forged.token.value") as bad,
    ):
        sockets = [Socket(ws) for ws in (a, b, anon, bad)]
        alice_ws, bob_ws, anon_ws, bad_ws = sockets
        await stack.trader()  # a round trip, so all four sockets are registered

        placed = await alice.order(symbol="ELON", side="sell", price="61.00", quantity=2)
        order_id = placed.json()["order_id"]
        await alice_ws.wait_for("order_update")
        update = alice_ws.of("order_update")[0]
        assert update["order"]["order_id"] == order_id
        assert update["order"]["status"] == "open"

        await bob.order(symbol="ELON", side="buy", price="61.00", quantity=2)
        await alice_ws.wait_for("order_update", 2)
        await bob_ws.wait_for("order_update")
        assert alice_ws.of("order_update")[-1]["order"]["status"] == "filled"
        assert bob_ws.of("order_update")[-1]["order"]["status"] == "filled"
        assert all(m["order"]["order_id"] != order_id for m in bob_ws.of("order_update"))

        for ws in sockets:
            await ws.wait_for("trade")
            await ws.wait_for("book")
        trade = anon_ws.of("trade")[0]
        assert (trade["symbol"], trade["price"], trade["quantity"]) == ("ELON", "61.00", 2)
        assert "buy_account_id" not in trade and "sell_account_id" not in trade
        assert anon_ws.of("order_update") == [] and bad_ws.of("order_update") == []
        for ws in sockets:
            await ws.close()
