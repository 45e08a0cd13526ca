"""The gRPC part of bench/orderbook.py: durable PlaceOrder against a bare grpc.aio echo.

Both servers run as their own processes on this machine, next to a real nats-server
(JetStream, file storage) and a real PostgreSQL, and are driven by the same client in this
process: 16 concurrent callers, each sending its next order as soon as the previous one is
answered. The orderbook acknowledges an order only once its journal batch is stored in
JetStream; events and PostgreSQL rows follow asynchronously, and the time they need to catch
up after the batch run is reported too. Rounds alternate echo / orderbook and the best round
of each is kept, because other work on a shared machine only ever makes a round slower.
"""

from __future__ import annotations

import asyncio
import os
import random
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ["services/common", "services/orderbook", "services/cli"]
for _source in SOURCES:
    sys.path.insert(0, str(ROOT / _source))

import grpc  # noqa: E402
import httpx  # noqa: E402

from em_cli.devstack import nats_server, ports, postgres, processes  # noqa: E402
from em_common import migrating  # noqa: E402
from everything_market.v1 import orderbook_pb2 as pb  # noqa: E402
from everything_market.v1 import orderbook_pb2_grpc as pb_grpc  # noqa: E402

CALLERS = 16
UNARY_ORDERS = 6_000
ROUNDS = 5
BATCH_ORDERS = 120_000
BATCH_SIZE = 1_000
BATCH_CALLERS = 4
SYMBOLS = [f"BENCH{i}" for i in range(10)]


def make_orders(n: int, tag: str, seed: int) -> list[pb.PlaceOrderRequest]:
    """~60 % passive limits near a random-walk mid, ~15 % crossing limits, ~10 % market
    orders, the remaining ~15 % passive too (cancels are a different RPC); qty 1..100."""
    rng = random.Random(seed)
    mids = dict.fromkeys(SYMBOLS, 5000)
    out = []
    for i in range(n):
        symbol = rng.choice(SYMBOLS)
        if rng.random() < 0.1:
            mids[symbol] = min(max(mids[symbol] + rng.choice((-1, 1)), 2000), 8000)
        mid = mids[symbol]
        buy = rng.random() < 0.5
        sign = 1 if buy else -1
        roll = rng.random()
        request = pb.PlaceOrderRequest(
            symbol=symbol,
            account_id=str(rng.randint(1, 200)),
            client_order_id=f"{tag}-{i}",
            side=pb.SIDE_BUY if buy else pb.SIDE_SELL,
            type=pb.ORDER_TYPE_LIMIT,
            quantity=rng.randint(1, 100),
        )
        if roll < 0.10:
            request.type = pb.ORDER_TYPE_MARKET
        elif roll < 0.25:
            request.price_cents = mid + sign * rng.randint(0, 3)
        else:
            request.price_cents = mid - sign * rng.randint(1, 20)
        out.append(request)
    return out


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


def _tree_cpu_s(pid: int) -> float:
    """CPU of a process and its children (the orderbook's outputs follower)."""
    return _cpu_s(pid) + sum(_cpu_s(c) for c in _children(pid))


async def drive_unary(target: str, orders: list[pb.PlaceOrderRequest]) -> dict[str, Any]:
    latencies: list[float] = []
    next_index = 0
    async with grpc.aio.insecure_channel(target) as channel:
        stub = pb_grpc.OrderbookStub(channel)

        async def caller() -> None:
            nonlocal next_index
            clock = time.perf_counter
            while next_index < len(orders):
                request = orders[next_index]
                next_index += 1
                t0 = clock()
                await stub.PlaceOrder(request)
                latencies.append(clock() - t0)

        started = time.perf_counter()
        await asyncio.gather(*(caller() for _ in range(CALLERS)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    n = len(latencies)
    return {
        "orders_per_s": round(n / elapsed),
        "p50_ms": round(latencies[n // 2] * 1000, 2),
        "p99_ms": round(latencies[int(n * 0.99)] * 1000, 2),
    }


async def drive_batch(target: str, orders: list[pb.PlaceOrderRequest]) -> dict[str, Any]:
    chunks = [orders[i : i + BATCH_SIZE] for i in range(0, len(orders), BATCH_SIZE)]
    latencies: list[float] = []
    async with grpc.aio.insecure_channel(
        target, options=[("grpc.max_receive_message_length", 64 << 20)]
    ) as channel:
        stub = pb_grpc.OrderbookStub(channel)

        async def caller() -> None:
            while chunks:
                chunk = chunks.pop()
                t0 = time.perf_counter()
                reply = await stub.PlaceOrders(pb.PlaceOrdersRequest(orders=chunk))
                latencies.append(time.perf_counter() - t0)
                assert len(reply.results) == len(chunk)

        started = time.perf_counter()
        await asyncio.gather(*(caller() for _ in range(BATCH_CALLERS)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "orders_per_s": round(len(orders) / elapsed),
        "batch_size": BATCH_SIZE,
        "callers": BATCH_CALLERS,
        "call_p50_ms": round(latencies[len(latencies) // 2] * 1000, 1),
        "elapsed_s": round(elapsed, 2),
    }


async def wait_outputs(http: str) -> tuple[float, dict[str, Any]]:
    """Seconds until events and rows caught up with the journal, and the final /state."""
    started = time.perf_counter()
    async with httpx.AsyncClient(base_url=http) as client:
        while True:
            state = (await client.get("/state")).json()
            seq = state["journal_seq"]
            if state["published_through"] == state["projected_through"] == seq:
                return time.perf_counter() - started, state
            await asyncio.sleep(0.05)


async def journal_batch_mean(http: str) -> float:
    async with httpx.AsyncClient(base_url=http) as client:
        text = (await client.get("/metrics")).text
    values = {}
    for line in text.splitlines():
        for key in (
            "em_orderbook_journal_batch_commands_sum",
            "em_orderbook_journal_batch_commands_count",
        ):
            if line.startswith(key + " "):
                values[key] = float(line.split()[1])
    count = values.get("em_orderbook_journal_batch_commands_count", 0.0)
    return (
        round(values.get("em_orderbook_journal_batch_commands_sum", 0.0) / count, 1)
        if count
        else 0.0
    )


def grpc_targets(grpc_part: dict[str, Any]) -> dict[str, bool]:
    unary = grpc_part["unary"]
    return {
        "grpc_unary_ratio": unary["ratio_to_echo_median_pair"] >= 0.8,
        "grpc_unary_p99": unary["p99_ms"] <= 10,
        "grpc_batch": grpc_part["batch"]["orders_per_s"] >= 20_000,
    }


@contextmanager
def infrastructure(base: Path) -> Iterator[tuple[str, str]]:
    nats = nats_server.NatsServer(base / "nats", log_path=base / "nats.log").start()
    pg = postgres.start(base / "pg", durable=True)
    try:
        url = pg.create_database("bench")
        migrating.upgrade(url, "head")
        yield nats.url, url
    finally:
        pg.stop()
        nats.stop()


def _serve(name: str, argv: list[str], env: dict[str, str], base: Path) -> processes.Managed:
    return processes.Managed(name, argv, env=env, log_path=base / f"{name}.log").start()


def section_grpc() -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="em-bench-") as tmp:
        base = Path(tmp)
        with infrastructure(base) as (nats_url, database_url):
            env = dict(os.environ)
            env["PYTHONPATH"] = os.pathsep.join(str(ROOT / s) for s in SOURCES)
            grpc_port, http_port, echo_port = (ports.free_port() for _ in range(3))
            env |= {
                "DATABASE_URL": database_url,
                "NATS_URL": nats_url,
                "ORDERBOOK_BIND": "127.0.0.1",
                "ORDERBOOK_GRPC_PORT": str(grpc_port),
                "ORDERBOOK_HTTP_PORT": str(http_port),
                "EM_ENV": "development",
                "LOG_LEVEL": "WARNING",
            }
            echo = _serve(
                "echo",
                [sys.executable, str(ROOT / "bench" / "_grpc_echo.py"), str(echo_port)],
                env,
                base,
            )
            book = _serve("orderbook", [sys.executable, "-m", "em_orderbook.main"], env, base)
            http = f"http://127.0.0.1:{http_port}"
            try:
                processes.wait_http(book, http + "/", 60)
                ports.wait_listening(echo_port, 30)
                return asyncio.run(
                    _measure(
                        f"127.0.0.1:{echo_port}", f"127.0.0.1:{grpc_port}", http, book.pid, echo.pid
                    )
                )
            finally:
                book.stop(timeout=60)
                echo.stop()


async def _measure(echo: str, book: str, http: str, book_pid: int, echo_pid: int) -> dict[str, Any]:
    await drive_unary(echo, make_orders(1000, "warm-echo", 1))
    await drive_unary(book, make_orders(1000, "warm", 1))
    await wait_outputs(http)
    echo_runs, book_runs = [], []
    echo_cpu = book_cpu = tree_cpu = 0.0
    for r in range(ROUNDS):
        before = _cpu_s(echo_pid)
        echo_runs.append(await drive_unary(echo, make_orders(UNARY_ORDERS, f"e{r}", 10 + r)))
        echo_cpu += _cpu_s(echo_pid) - before
        before, before_tree = _cpu_s(book_pid), _tree_cpu_s(book_pid)
        book_runs.append(await drive_unary(book, make_orders(UNARY_ORDERS, f"u{r}", 10 + r)))
        book_cpu += _cpu_s(book_pid) - before
        await wait_outputs(http)
        tree_cpu += _tree_cpu_s(book_pid) - before_tree
    per_call = 1e6 / (ROUNDS * UNARY_ORDERS)
    pair_ratios = sorted(
        b["orders_per_s"] / e["orders_per_s"] for e, b in zip(echo_runs, book_runs, strict=True)
    )
    group = await journal_batch_mean(http)
    echo_best = max(echo_runs, key=lambda x: x["orders_per_s"])
    book_best = max(book_runs, key=lambda x: x["orders_per_s"])
    await wait_outputs(http)

    cpu_before, tree_before = _cpu_s(book_pid), _tree_cpu_s(book_pid)
    batch = await drive_batch(book, make_orders(BATCH_ORDERS, "b", 99))
    batch_cpu = _cpu_s(book_pid) - cpu_before
    catch_up_s, state = await wait_outputs(http)
    outputs_cpu = _tree_cpu_s(book_pid) - tree_before - (_cpu_s(book_pid) - cpu_before)
    batch["server_cpu_us_per_order"] = round(batch_cpu * 1e6 / BATCH_ORDERS, 1)
    batch["outputs_cpu_us_per_order"] = round(outputs_cpu * 1e6 / BATCH_ORDERS, 1)
    batch["outputs_caught_up_s"] = round(catch_up_s, 2)
    batch["sustained_orders_per_s"] = round(BATCH_ORDERS / (batch["elapsed_s"] + catch_up_s))
    return {
        "callers": CALLERS,
        "echo": echo_best
        | {
            "rounds": [x["orders_per_s"] for x in echo_runs],
            "server_cpu_us_per_call": round(echo_cpu * per_call, 1),
        },
        "unary": book_best
        | {
            "rounds": [x["orders_per_s"] for x in book_runs],
            "ratio_to_echo": round(book_best["orders_per_s"] / echo_best["orders_per_s"], 3),
            "ratio_to_echo_median_pair": round(pair_ratios[len(pair_ratios) // 2], 3),
            "journal_orders_per_append": group,
            "server_cpu_us_per_order": round(book_cpu * per_call, 1),
            "with_outputs_cpu_us_per_order": round(tree_cpu * per_call, 1),
        },
        "batch": batch,
        "open_orders_end": state["open_orders"],
    }


if __name__ == "__main__":
    import json

    print(json.dumps(section_grpc()))
