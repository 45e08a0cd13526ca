"""The hub's routing and bounded queues (no sockets: queues are what it manages)."""

from __future__ import annotations

import json

from em_backend.live.hub import Hub
from em_backend.metrics import Metrics


async def test_routing_by_symbol_and_account() -> None:
    hub = Hub(queue_size=10, metrics=Metrics())
    elon = hub.connect()
    elon.symbols.add("ELON")
    every = hub.connect()
    every.symbols.add("*")
    trader = hub.connect(account_id=7)
    assert hub.deliver({"type": "final_update", "symbol": "ELON"}) == 2
    assert hub.deliver({"type": "final_update", "symbol": "TSLA"}) == 1
    assert hub.deliver({"type": "maintenance", "enabled": True}) == 3
    assert hub.deliver({"type": "order_update", "account_id": 7}) == 1
    assert hub.deliver({"type": "order_update", "account_id": 8}) == 0
    assert json.loads(trader.queue.get_nowait())["type"] == "maintenance"
    assert json.loads(trader.queue.get_nowait())["account_id"] == 7


async def test_full_queue_drops_only_that_client() -> None:
    metrics = Metrics()
    hub = Hub(queue_size=2, metrics=metrics)
    slow = hub.connect()
    fast = hub.connect()
    for i in range(3):
        hub.deliver({"type": "heartbeat", "i": i})
        if i < 2:
            fast.queue.get_nowait()
    assert slow.dropped.is_set()
    assert not fast.dropped.is_set()
    assert hub.count == 1
    assert b"em_backend_ws_dropped_total 1.0" in metrics.render()
