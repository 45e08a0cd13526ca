"""Restarts: books, idempotency and id counters come back; snapshots shorten the replay;
the operations port and the standard gRPC services answer."""

from __future__ import annotations

import grpc
import httpx
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from em_orderbook import recovering
from everything_market.v1 import orderbook_pb2 as pb
from tests.support import orderbook as ob


async def _trade_a_little(stub: object, sym: str, rounds: int) -> list[pb.PlaceOrderResponse]:
    answers = []
    for i in range(rounds):
        answers.append(
            await stub.PlaceOrder(ob.limit(sym, 1 + i % 3, "sell", 5000 + i % 7, 3, coid=f"s{i}"))  # type: ignore[attr-defined]
        )
        answers.append(
            await stub.PlaceOrder(ob.limit(sym, 4 + i % 2, "buy", 5003, 2, coid=f"b{i}"))  # type: ignore[attr-defined]
        )
    return answers


async def test_restart_restores_books_ids_and_idempotency(database_url: str, nats_url: str) -> None:
    config = ob.settings(database_url, nats_url, ob.unique("R"), snapshot_every=7)
    sym = ob.unique("R")
    async with ob.service(config) as (run, stub):
        answers = await _trade_a_little(stub, sym, 20)
        before = await run.service.describe()
        state_digest = run.service.market.state_digest()
    recomputed = await recovering.rebuild(config)
    assert recomputed.digest() == before["digest"]
    assert recomputed.state_digest() == state_digest
    trade_ids = {f.trade_id for a in answers for f in a.fills}
    async with ob.service(config) as (run, stub):
        after = await run.service.describe()
        assert (after["digest"], after["journal_seq"]) == (before["digest"], before["journal_seq"])
        assert run.service.market.state_digest() == state_digest
        retry = await stub.PlaceOrder(ob.limit(sym, 1, "sell", 5000, 3, coid="s0"))
        assert retry.duplicate and retry.order_id == answers[0].order_id
        more = await _trade_a_little(stub, sym, 3)  # new client order ids: s0.. are taken
        fresh = {f.trade_id for a in more for f in a.fills if not a.duplicate}
        assert all(a.duplicate for a in more)
        taker = await stub.PlaceOrder(ob.market(sym, 9, "buy", 50, coid="sweep"))
        fresh |= {f.trade_id for f in taker.fills}
        assert fresh and not fresh & trade_ids


async def test_snapshot_then_journal_tail(database_url: str, nats_url: str) -> None:
    config = ob.settings(database_url, nats_url, ob.unique("N"), snapshot_every=5)
    sym = ob.unique("N")
    async with ob.service(config) as (run, stub):
        await _trade_a_little(stub, sym, 15)
        snapshotter = run.service.snapshotter
        assert snapshotter is not None
        digest = run.service.market.digest()
    assert snapshotter.last_seq == run.service.market.seq  # the final snapshot on shutdown
    rebuilt = await recovering.rebuild(config)
    assert rebuilt.digest() == digest


async def test_operations_port_and_grpc_services(database_url: str, nats_url: str) -> None:
    config = ob.settings(database_url, nats_url, ob.unique("H"))
    sym = ob.unique("H")
    async with ob.service(config) as (run, stub):
        await stub.PlaceOrder(ob.limit(sym, 1, "buy", 100, 1))
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{run.http_port}") as http:
            health_page = await http.get("/")
            text = (await http.get("/metrics")).text
            state = (await http.get("/state")).json()
        assert health_page.status_code == 200
        assert health_page.json() == {"service": "everything-market-orderbook", "status": "healthy"}
        for name in (
            "em_orderbook_orders_total",
            "em_orderbook_matching_latency_seconds_bucket",
            "em_orderbook_fills_total",
            "em_orderbook_journal_lag",
            f'em_orderbook_book_depth{{side="buy",symbol="{sym}",unit="quantity"}} 1.0',
        ):
            assert name in text
        assert state["journal_seq"] == 1 and state["symbols"] == [sym]

        async with grpc.aio.insecure_channel(run.target) as channel:
            health = health_pb2_grpc.HealthStub(channel)
            for service in ("", "everything_market.v1.Orderbook"):
                answer = await health.Check(health_pb2.HealthCheckRequest(service=service))
                assert answer.status == health_pb2.HealthCheckResponse.SERVING
            reflect = reflection_pb2_grpc.ServerReflectionStub(channel)
            request = reflection_pb2.ServerReflectionRequest(list_services="")
            async for reply in reflect.ServerReflectionInfo(iter([request])):
                names = {s.name for s in reply.list_services_response.service}
                assert "everything_market.v1.Orderbook" in names
                break
