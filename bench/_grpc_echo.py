"""A bare grpc.aio server speaking the Orderbook service's message shapes: the baseline.

It answers PlaceOrder with a PlaceOrderResponse of the same size and shape the real service
returns for a resting order, and does nothing else, so the benchmark's ratio isolates what
durability and matching cost over gRPC itself. Run as `python bench/_grpc_echo.py PORT`.
"""

from __future__ import annotations

import asyncio
import gc
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "services" / "common"))

import grpc  # noqa: E402

from everything_market.v1 import orderbook_pb2 as pb  # noqa: E402
from everything_market.v1 import orderbook_pb2_grpc as pb_grpc  # noqa: E402


class Echo(pb_grpc.OrderbookServicer):
    def __init__(self) -> None:
        self.n = 0

    async def PlaceOrder(
        self, request: pb.PlaceOrderRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.PlaceOrderResponse:
        self.n += 1
        return pb.PlaceOrderResponse(
            order_id=f"O0-abcdef-{self.n}",
            status=pb.ORDER_STATUS_OPEN,
            resting_quantity=request.quantity,
            client_order_id=request.client_order_id,
        )

    async def PlaceOrders(
        self, request: pb.PlaceOrdersRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.PlaceOrdersResponse:
        out = pb.PlaceOrdersResponse()
        for order in request.orders:
            self.n += 1
            out.results.add().response.CopyFrom(
                pb.PlaceOrderResponse(
                    order_id=f"O0-abcdef-{self.n}",
                    status=pb.ORDER_STATUS_OPEN,
                    resting_quantity=order.quantity,
                    client_order_id=order.client_order_id,
                )
            )
        return out

    async def _unimplemented(self, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
        await context.abort(grpc.StatusCode.UNIMPLEMENTED, "the echo only places orders")

    async def CancelOrder(
        self, request: pb.CancelOrderRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.CancelOrderResponse:
        return await self._unimplemented(context)  # type: ignore[no-any-return]

    async def GetOrder(
        self, request: pb.GetOrderRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.OrderState:
        return await self._unimplemented(context)  # type: ignore[no-any-return]

    async def GetSnapshot(
        self, request: pb.GetSnapshotRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.GetSnapshotResponse:
        return await self._unimplemented(context)  # type: ignore[no-any-return]

    async def GetPressure(
        self, request: pb.GetPressureRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.GetPressureResponse:
        return await self._unimplemented(context)  # type: ignore[no-any-return]


async def main(port: int) -> None:
    server = grpc.aio.server()
    pb_grpc.add_OrderbookServicer_to_server(Echo(), server)
    server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    gc.collect()
    gc.freeze()
    await server.wait_for_termination()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
