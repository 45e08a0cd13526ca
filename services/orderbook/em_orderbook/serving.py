"""The gRPC server around an OrderbookService, as one `async with` lifecycle.

Used by `main` and by the tests alike, so what the tests exercise is what runs.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

import grpc
from grpc_health.v1 import health_pb2
from grpc_health.v1._async import HealthServicer
from grpc_health.v1.health_pb2_grpc import add_HealthServicer_to_server
from grpc_reflection.v1alpha import reflection

from em_orderbook import following, outputs_child
from em_orderbook.service import OrderbookService
from em_orderbook.servicer import OrderbookServicer
from em_orderbook.settings import OrderbookSettings
from everything_market.v1 import orderbook_pb2 as pb
from everything_market.v1 import orderbook_pb2_grpc as pb_grpc

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["Orderbook"].full_name
_SERVING = health_pb2.HealthCheckResponse.SERVING


@dataclass
class Running:
    service: OrderbookService
    grpc_port: int
    http_port: int

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.grpc_port}"


@contextlib.asynccontextmanager
async def running(settings: OrderbookSettings) -> AsyncIterator[Running]:
    """Recover, serve, and on exit drain: in-flight orders finish durably before the end;
    then the outputs follower catches up with the journal and stops too."""
    service = OrderbookService(settings)
    server = grpc.aio.server(options=[("grpc.so_reuseport", 0)])
    health = HealthServicer()
    async with _outputs(settings, service), _serving(settings, service, server, health) as run:
        yield run


@contextlib.asynccontextmanager
async def _outputs(settings: OrderbookSettings, service: OrderbookService) -> AsyncIterator[None]:
    """The outputs follower in the configured place; stopped after the matcher has drained."""
    mode = settings.orderbook_outputs
    if mode == "external":
        yield
        return
    if mode == "process":
        child = outputs_child.OutputsChild(settings.orderbook_drain_seconds)
        await child.start()
        try:
            yield
        finally:
            await child.stop()
        return
    follower = following.OutputsFollower(settings, service.shard.index)
    try:
        await follower.start()
        yield
        await follower.drain(settings.orderbook_drain_seconds)
    finally:
        await follower.close()


@contextlib.asynccontextmanager
async def _serving(
    settings: OrderbookSettings,
    service: OrderbookService,
    server: grpc.aio.Server,
    health: HealthServicer,
) -> AsyncIterator[Running]:
    try:
        http_port = await service.start_ops()
        pb_grpc.add_OrderbookServicer_to_server(OrderbookServicer(service), server)
        add_HealthServicer_to_server(health, server)
        reflection.enable_server_reflection(
            (SERVICE_NAME, "grpc.health.v1.Health", reflection.SERVICE_NAME), server
        )
        grpc_port = server.add_insecure_port(
            f"{settings.orderbook_bind}:{settings.orderbook_grpc_port}"
        )
        await service.start()
        await server.start()
        await health.set("", _SERVING)
        await health.set(SERVICE_NAME, _SERVING)
        service.serving()
        yield Running(service, grpc_port, http_port)
    finally:
        await health.enter_graceful_shutdown()
        stopping = asyncio.create_task(server.stop(settings.orderbook_drain_seconds))
        try:
            await service.drain()
            await stopping
        finally:
            await service.close()
