"""The journal under faults: NATS restarting mid-stream, and two writers on one shard."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from em_cli.devstack import nats_server
from em_orderbook import recovering
from everything_market.v1 import orderbook_pb2 as pb
from tests.support import orderbook as ob
from tests.support import prereq


@pytest.fixture
def own_nats(tmp_path: Path) -> Iterator[nats_server.NatsServer]:
    """A NATS server this test may kill and restart (same port, same data)."""
    try:
        nats_server.binary()
    except FileNotFoundError as exc:
        prereq.missing(str(exc))
    server = nats_server.NatsServer(tmp_path / "nats", log_path=tmp_path / "nats.log").start()
    yield server
    server.stop()


async def test_orders_survive_a_nats_restart(
    database_url: str, own_nats: nats_server.NatsServer
) -> None:
    config = ob.settings(database_url, own_nats.url, ob.unique("J"), orderbook_ack_timeout=0.5)
    sym = ob.unique("J")
    acked: list[tuple[pb.PlaceOrderRequest, pb.PlaceOrderResponse]] = []
    async with ob.service(config) as (run, stub):

        async def place(n: int) -> None:
            request = ob.limit(sym, 1 + n % 5, "buy" if n % 2 else "sell", 5000, 1, coid=f"r{n}")
            for _ in range(100):  # retry like a client would, same client order id
                try:
                    acked.append((request, await stub.PlaceOrder(request, timeout=5)))
                    return
                except grpc.aio.AioRpcError:
                    await asyncio.sleep(0.1)
            raise AssertionError(f"order r{n} never acknowledged")

        await asyncio.gather(*(place(n) for n in range(20)))
        own_nats.kill9()
        during = [asyncio.create_task(place(n)) for n in range(20, 40)]
        journal = run.service.journal
        assert journal is not None
        deadline = time.monotonic() + 20
        while not journal.repairing:  # acks overdue: the journal re-sends in order
            assert time.monotonic() < deadline
            await asyncio.sleep(0.02)
        own_nats.start()
        await asyncio.gather(*during)
        await asyncio.gather(*(place(n) for n in range(40, 60)))
        digest = run.service.market.digest()
        assert run.service.status == "healthy"
        deadline = time.monotonic() + 30
        while True:  # the follower publishes and stores what was produced meanwhile
            state = await run.service.describe(digest=False)
            seq = state["journal_seq"]
            if state["published_through"] == seq and state["projected_through"] == seq:
                break
            assert time.monotonic() < deadline, state
            await asyncio.sleep(0.05)
    assert len({a.order_id for _, a in acked}) == 60
    rebuilt = await recovering.rebuild(config)
    assert rebuilt.digest() == digest
    for request, answer in acked:
        record = rebuilt.by_key[(request.account_id, request.client_order_id)]
        assert run.service.ids.order(record.order_id) == answer.order_id


async def test_a_second_writer_on_the_same_shard_is_fenced(
    database_url: str, nats_url: str
) -> None:
    config = ob.settings(database_url, nats_url, ob.unique("G"))
    sym = ob.unique("G")
    async with ob.service(config) as (first, stub_a):
        await stub_a.PlaceOrder(ob.limit(sym, 1, "buy", 100, 1))
        async with ob.service(config) as (second, stub_b):
            await stub_a.PlaceOrder(ob.limit(sym, 1, "buy", 101, 1))  # moves the journal on
            with pytest.raises(grpc.aio.AioRpcError) as err:
                await stub_b.PlaceOrder(ob.limit(sym, 2, "buy", 102, 1), timeout=10)
            assert err.value.code() == grpc.StatusCode.UNAVAILABLE
            assert second.service.status == "failed"
            assert await second.service.wait() == 70
        answer = await stub_a.PlaceOrder(ob.limit(sym, 1, "buy", 103, 1))
        assert answer.status == pb.ORDER_STATUS_OPEN and first.service.status == "healthy"
    rebuilt = await recovering.rebuild(config)
    assert [p for p, _, _ in rebuilt.engine.depth(sym, 10)[0]] == [103, 101, 100]
