"""kill -9 under load: nothing acknowledged is lost, the books come back identical, no trade
id is issued twice, and the events and rows match the journal.

The orderbook runs as a real subprocess (`em orderbook`); eight clients send a steady mix
of resting, crossing and market orders and cancels, and the process is killed once a few
hundred orders are acknowledged, with requests still in flight.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import sys
import time
from pathlib import Path
from typing import Any

import grpc
import httpx
import psycopg
import pytest
from nats.aio.client import Client
from nats.js import api

from em_cli.devstack import ports, processes
from em_orderbook import recovering
from everything_market.v1 import orderbook_pb2 as pb
from everything_market.v1 import orderbook_pb2_grpc as pb_grpc
from tests.support import orderbook as ob

ROOT = Path(__file__).resolve().parents[3]
SOURCES = ["services/common", "services/orderbook", "services/cli"]
KILL_AFTER = 400


class Orderbook:
    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env = env
        self.log = log
        self.http = f"http://127.0.0.1:{env['ORDERBOOK_HTTP_PORT']}"
        self.target = f"127.0.0.1:{env['ORDERBOOK_GRPC_PORT']}"
        self.proc: processes.Managed | None = None

    async def start(self) -> None:
        argv = [sys.executable, "-m", "em_cli.main", "orderbook"]
        self.proc = processes.Managed("orderbook", argv, env=self.env, log_path=self.log).start()
        deadline = time.monotonic() + 60
        async with httpx.AsyncClient(base_url=self.http) as http:
            while True:
                assert self.proc.alive(), self.proc.log_tail()
                try:
                    if (await http.get("/", timeout=1)).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline, self.proc.log_tail()
                await asyncio.sleep(0.05)

    async def state(self) -> dict[str, Any]:
        async with httpx.AsyncClient(base_url=self.http) as http:
            return dict((await http.get("/state?digest=1", timeout=5)).json())


def _env(database_url: str, nats_url: str, journal: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "PYTHONPATH": os.pathsep.join(str(ROOT / s) for s in SOURCES),
            "DATABASE_URL": database_url,
            "NATS_URL": nats_url,
            "ORDERBOOK_BIND": "127.0.0.1",
            "ORDERBOOK_GRPC_PORT": str(ports.free_port()),
            "ORDERBOOK_HTTP_PORT": str(ports.free_port()),
            "ORDERBOOK_JOURNAL": journal,
            "SNAPSHOT_EVERY": "150",
            "EM_ENV": "test",
            "LOG_LEVEL": "INFO",
        }
    )
    return env


class Load:
    """Eight clients; remembers every acknowledged answer, and nothing else."""

    def __init__(self, symbols: list[str]) -> None:
        self.symbols = symbols
        self.places: list[tuple[pb.PlaceOrderRequest, pb.PlaceOrderResponse]] = []
        self.cancels: list[tuple[pb.CancelOrderRequest, pb.CancelOrderResponse]] = []
        self.resting: list[tuple[str, str, str]] = []
        self.enough = asyncio.Event()
        self.stop = False

    async def client(self, stub: pb_grpc.OrderbookStub, n: int) -> None:
        rng = random.Random(n)
        i = 0
        while not self.stop:
            i += 1
            sym = rng.choice(self.symbols)
            account = rng.randint(1, 12)
            roll = rng.random()
            try:
                if roll < 0.12 and self.resting:
                    sym, order_id, owner = self.resting.pop(rng.randrange(len(self.resting)))
                    cancel = pb.CancelOrderRequest(symbol=sym, order_id=order_id, account_id=owner)
                    try:
                        self.cancels.append((cancel, await stub.CancelOrder(cancel, timeout=10)))
                    except grpc.aio.AioRpcError as exc:
                        if exc.code() != grpc.StatusCode.FAILED_PRECONDITION:
                            raise
                    continue
                side = rng.choice(("buy", "sell"))
                coid = f"k{n}-{i}"
                if roll < 0.22:
                    request = ob.market(sym, account, side, rng.randint(1, 20), coid=coid)
                else:
                    offset = rng.randint(-3, 8) * (1 if side == "sell" else -1)
                    request = ob.limit(
                        sym, account, side, 5000 + offset, rng.randint(1, 20), coid=coid
                    )
                answer = await stub.PlaceOrder(request, timeout=10)
            except grpc.aio.AioRpcError:
                return  # the server is gone: this request's fate is unknown, not acknowledged
            self.places.append((request, answer))
            if answer.resting_quantity:
                self.resting.append((sym, answer.order_id, request.account_id))
            if len(self.places) >= KILL_AFTER:
                self.enough.set()


async def _market_events(nc: Client, symbols: list[str]) -> dict[str, list[dict[str, Any]]]:
    js = nc.jetstream()
    out: dict[str, list[dict[str, Any]]] = {}
    for sym in symbols:
        info = await js.stream_info("MARKET", subjects_filter=f"market.{sym}.*")
        expected = sum((info.state.subjects or {}).values())
        sub = await js.subscribe(
            f"market.{sym}.*", ordered_consumer=True, deliver_policy=api.DeliverPolicy.ALL
        )
        events: list[dict[str, Any]] = []
        try:
            while len(events) < expected:
                msg = await sub.next_msg(timeout=10)
                body = json.loads(msg.data)
                body["_msg_id"] = (msg.headers or {}).get("Nats-Msg-Id")
                events.append(body)
        finally:
            await sub.unsubscribe()
        out[sym] = events
    return out


@pytest.mark.slow
async def test_kill_9_under_load_loses_nothing(
    database_url: str, nats_url: str, nc: Client, tmp_path: Path
) -> None:
    journal = ob.unique("K")
    env = _env(database_url, nats_url, journal)
    symbols = [ob.unique("K") for _ in range(3)]
    book = Orderbook(env, tmp_path / "orderbook.log")
    await book.start()
    load = Load(symbols)
    async with grpc.aio.insecure_channel(book.target) as channel:
        stub = pb_grpc.OrderbookStub(channel)
        clients = [asyncio.create_task(load.client(stub, n)) for n in range(8)]
        await asyncio.wait_for(load.enough.wait(), 120)
        deadline = time.monotonic() + 60
        while True:  # and the follower has snapshotted, so the restart replays only a tail
            outputs = (await book.state()).get("outputs") or {}
            if outputs.get("snapshot_seq", 0) > 0:
                break
            assert time.monotonic() < deadline, "the outputs follower never snapshotted"
            await asyncio.sleep(0.05)
        assert book.proc is not None
        book.proc.kill9()  # requests are in flight right now
        load.stop = True
        await asyncio.gather(*clients)
    assert len(load.places) >= KILL_AFTER

    # What the journal says the books were at the moment of the crash.
    config = ob.settings(database_url, nats_url, journal)
    crashed = await recovering.rebuild(config)
    for request, answer in load.places:
        record = crashed.by_key.get((request.account_id, request.client_order_id))
        assert record is not None, f"acknowledged order {answer.order_id} is not in the journal"
    trade_ids = [f.trade_id for _, a in load.places for f in a.fills]
    assert len(trade_ids) == len(set(trade_ids))

    await book.start()
    try:
        state = await book.state()
        assert state["digest"] == crashed.digest()
        assert state["journal_seq"] >= crashed.seq  # plus perhaps a tick announcing the book
        async with grpc.aio.insecure_channel(book.target) as channel:
            stub = pb_grpc.OrderbookStub(channel)
            for request, answer in load.places:
                again = await stub.PlaceOrder(request)
                assert again.duplicate, answer.order_id
                again.duplicate = False
                assert again == answer
            for cancel, _ in load.cancels:
                order = await stub.GetOrder(
                    pb.GetOrderRequest(symbol=cancel.symbol, order_id=cancel.order_id)
                )
                assert order.status == pb.ORDER_STATUS_CANCELLED
            sweep = await stub.PlaceOrder(ob.market(symbols[0], 99, "buy", 500, coid="after"))
        fresh = {f.trade_id for f in sweep.fills}
        assert not fresh & set(trade_ids)

        deadline = time.monotonic() + 30
        while True:  # outputs caught up with the journal
            state = await book.state()
            if state["published_through"] == state["projected_through"] == state["journal_seq"]:
                break
            assert time.monotonic() < deadline, state
            await asyncio.sleep(0.05)
        events = await _market_events(nc, symbols)
        for sym, stream in events.items():
            assert [e["seq"] for e in stream] == list(range(1, len(stream) + 1)), sym
            trade_msgs = [e for e in stream if "trade_id" in e]
            assert all(e["_msg_id"] == e["trade_id"] for e in trade_msgs)
            assert len({e["trade_id"] for e in trade_msgs}) == len(trade_msgs)
        published = {e["trade_id"] for stream in events.values() for e in stream if "trade_id" in e}
        assert set(trade_ids) | fresh <= published
        async with await psycopg.AsyncConnection.connect(database_url) as conn:
            cur = await conn.execute("SELECT trade_id FROM trades")
            stored = {row[0] for row in await cur.fetchall()}
        assert stored == published
    finally:
        assert book.proc is not None
        os.killpg(book.proc.pid, signal.SIGTERM)
        code = book.proc.proc.wait(30) if book.proc.proc else None
    assert code == 0, book.proc.log_tail()
