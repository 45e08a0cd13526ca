"""Backend benchmark: hot reads, orders, ingest through NATS, WebSocket fan-out. One JSON line.

Starts embedded PostgreSQL, NATS, the orderbook and `em backend` as subprocesses (the way it
runs in production), plus a trivial FastAPI endpoint served by uvicorn the same way as the
baseline. The load generator is a minimal keep-alive HTTP/1.1 client (32 connections) so the
client, not the server, is not what gets measured.

The orderbook is the real one (`em orderbook`: journal on JetStream, outputs follower in a
child process), started the way `make up` starts it. Orders are measured three ways, each
request with its own client_order_id:
- `orders_post`: resting limit buys, closed loop (one trader per connection, 32 of them,
  each sending its next order when the last is answered): the most the order path can do.
  Reservation row and ledger legs, gRPC PlaceOrder, the answer recorded.
- `orders_crossing_post`: the same with half the connections buying and half selling at
  one price, so most orders trade and are settled inside the request.
- `orders_post_at_target_rate`: resting buys offered at the target rate (800/s) in an
  open loop, latency counted from when each request was due: what a trader sees when
  that many orders arrive. (A closed loop at saturation only measures its own queue:
  32 connections at 800/s mean 40 ms by Little's law, whatever the server does.)
The closed loops report the CPU each process spent per order (backend, orderbook with its
outputs follower, PostgreSQL, NATS, this client), figures that do not depend on how busy
the machine is (`load_avg`).
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
for sub in ("services/common", "services/backend", "services/cli", "."):
    sys.path.insert(0, str(ROOT / sub))

import httpx  # noqa: E402

from em_cli.devstack import nats_server, ports, postgres  # noqa: E402
from em_common import contracts, messaging, migrating, signing  # noqa: E402

CONNECTIONS = 32
DURATION_S = 5.0
WARMUP_S = 1.0
ORDERS_DURATION_S = 5.0
ORDERS_TARGET_RPS = 800.0
RATE_TRADERS = 64
PASSWORD = "bench password 123"
INGEST_EVENTS = 2000
WS_CLIENTS = 1000
WS_ROUNDS = 20
SECRET = "bench-reality-secret-0123456789"
ADMIN_KEY = "bench-admin-key-0123456789"
TRIVIAL_APP = """
from fastapi import FastAPI
app = FastAPI()
@app.get("/ping")
async def ping() -> dict[str, str]:
    return {"status": "ok"}
"""


async def _one_connection(
    port: int, path: str, stop_at: float, record_from: float, latencies: list[float]
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    request = f"GET {path} HTTP/1.1\r\nHost: bench\r\n\r\n".encode()
    try:
        while (now := time.perf_counter()) < stop_at:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            if not head.startswith(b"HTTP/1.1 200"):
                raise RuntimeError(f"{path}: {head[:40]!r}")
            await reader.readexactly(length)
            if now >= record_from:
                latencies.append(time.perf_counter() - now)
    finally:
        writer.close()


async def load(port: int, path: str) -> dict[str, float]:
    latencies: list[float] = []
    start = time.perf_counter()
    record_from, stop_at = start + WARMUP_S, start + WARMUP_S + DURATION_S
    await asyncio.gather(
        *(_one_connection(port, path, stop_at, record_from, latencies) for _ in range(CONNECTIONS))
    )
    latencies.sort()
    return {
        "rps": round(len(latencies) / DURATION_S, 1),
        "p50_ms": round(latencies[len(latencies) // 2] * 1000, 2),
        "p99_ms": round(latencies[int(len(latencies) * 0.99)] * 1000, 2),
    }


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(root: int) -> float:
    """CPU time of a process and all its descendants (PostgreSQL's backends, the orderbook's
    outputs follower); this process alone for itself (everything else is its descendant)."""
    if root == os.getpid():
        return cpu_seconds(root)
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    tree, grew = {root}, True
    while grew:
        more = {pid for pid, ppid in parents.items() if ppid in tree} - tree
        tree |= more
        grew = bool(more)
    total = 0.0
    for pid in tree:
        try:
            total += cpu_seconds(pid)
        except OSError:
            continue
    return total


async def quiet(roots: dict[str, int], deadline_s: float = 60.0) -> float:
    """Wait until the processes under test are idle (their work left over from the last
    phase, such as settling its trades, done), so each phase starts from the same place.
    Returns the seconds waited."""
    started = time.perf_counter()
    while time.perf_counter() - started < deadline_s:
        before = sum(tree_cpu_seconds(pid) for pid in roots.values())
        await asyncio.sleep(0.5)
        if sum(tree_cpu_seconds(pid) for pid in roots.values()) - before < 0.05:
            break
    return round(time.perf_counter() - started, 1)


async def _status(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    await reader.readexactly(length)
    return int(head[9:12])


async def order_load(
    port: int,
    tokens: list[str],
    body: Callable[[int, int], dict[str, Any]],
    roots: dict[str, int],
) -> dict[str, Any]:
    """POST /api/v1/orders from one connection per trader; CPU and statuses included."""
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    start = time.perf_counter()
    record_from, stop_at = start + WARMUP_S, start + WARMUP_S + ORDERS_DURATION_S
    cpu_before = {name: tree_cpu_seconds(pid) for name, pid in roots.items()}

    async def connection(index: int) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        n = 0
        try:
            while (now := time.perf_counter()) < stop_at:
                writer.write(_order_request(tokens[index], body(index, n)))
                n += 1
                status = await _status(reader)
                if now >= record_from:
                    latencies.append(time.perf_counter() - now)
                    statuses[status] += 1
        finally:
            writer.close()

    await asyncio.gather(*(connection(i) for i in range(len(tokens))))
    cpu = {name: tree_cpu_seconds(pid) - cpu_before[name] for name, pid in roots.items()}
    latencies.sort()
    sent = len(latencies)
    # the warm-up second's requests are not in `rps` but did spend CPU
    per_order = 1000 / max(1, sent * (WARMUP_S + ORDERS_DURATION_S) / ORDERS_DURATION_S)
    return {
        "rps": round(sent / ORDERS_DURATION_S, 1),
        "p50_ms": round(latencies[sent // 2] * 1000, 2),
        "p99_ms": round(latencies[int(sent * 0.99)] * 1000, 2),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "backend_cpu_ms_per_order": round(cpu["backend"] * per_order, 2),
        "cpu_ms_per_order": {name: round(used * per_order, 3) for name, used in cpu.items()},
    }


def _order_request(token: str, body: dict[str, Any]) -> bytes:
    payload = json.dumps(body).encode()
    return (
        b"POST /api/v1/orders HTTP/1.1\r\nHost: bench\r\n"
        b"Content-Type: application/json\r\n"
        + f"Authorization: Bearer {token}\r\n".encode()
        + f"Content-Length: {len(payload)}\r\n\r\n".encode()
        + payload
    )


async def order_rate(
    port: int,
    tokens: list[str],
    body: Callable[[int, int], dict[str, Any]],
    rate: float,
) -> dict[str, Any]:
    """POST /api/v1/orders at a fixed offered rate (open loop), the way traders arrive.

    Each request is due at start + i/rate and its latency counts from then, so time spent
    waiting for a free connection is charged to the server (no coordinated omission). One
    keep-alive connection per trader; a request waits for its trader's connection.
    """
    conns = [await asyncio.open_connection("127.0.0.1", port) for _ in tokens]
    free: asyncio.Queue[int] = asyncio.Queue()
    for index in range(len(tokens)):
        free.put_nowait(index)
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    counts = [0] * len(tokens)
    start = time.perf_counter()
    record_from = start + WARMUP_S
    total = int(rate * (WARMUP_S + ORDERS_DURATION_S))

    async def one(due: float) -> None:
        index = await free.get()
        reader, writer = conns[index]
        counts[index] += 1
        writer.write(_order_request(tokens[index], body(index, counts[index])))
        status = await _status(reader)
        free.put_nowait(index)
        if due >= record_from:
            latencies.append(time.perf_counter() - due)
            statuses[status] += 1

    pending: set[asyncio.Task[None]] = set()
    for i in range(total):
        due = start + i / rate
        if (ahead := due - time.perf_counter()) > 0:
            await asyncio.sleep(ahead)
        task = asyncio.create_task(one(due))
        pending.add(task)
        task.add_done_callback(pending.discard)
    await asyncio.gather(*pending)
    elapsed = time.perf_counter() - record_from
    for _, writer in conns:
        writer.close()
    latencies.sort()
    done = len(latencies)
    return {
        "offered_rps": rate,
        "rps": round(done / elapsed, 1),
        "p50_ms": round(latencies[done // 2] * 1000, 2),
        "p99_ms": round(latencies[int(done * 0.99)] * 1000, 2),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
    }


async def traders(base: str, count: int, prefix: str) -> list[str]:
    """Fresh traders (full cash each), one bearer token per connection."""
    async with httpx.AsyncClient(base_url=base, timeout=120) as client:

        async def one(i: int) -> str:
            body = {"username": f"{prefix}{i}_{uuid.uuid4().hex[:6]}", "password": PASSWORD}
            registered = await client.post("/api/v1/auth/register", json=body)
            registered.raise_for_status()
            logged_in = await client.post("/api/v1/auth/login", json=body)
            token: str = logged_in.json()["access_token"]
            return token

        return list(await asyncio.gather(*(one(i) for i in range(count))))


async def orders(base: str, port: int, roots: dict[str, int]) -> dict[str, dict[str, Any]]:
    def resting(i: int, k: int) -> dict[str, Any]:
        return {
            "symbol": "ELON", "side": "buy", "type": "limit", "price": "1.00",
            "quantity": 1, "client_order_id": f"r{i}-{k}",
        }  # fmt: skip

    def crossing(i: int, k: int) -> dict[str, Any]:
        return {
            "symbol": "ELON", "side": "buy" if i % 2 else "sell", "type": "limit",
            "price": "50.00", "quantity": 1, "client_order_id": f"x{i}-{k}",
        }  # fmt: skip

    tokens = await traders(base, RATE_TRADERS, "o")
    await quiet(roots)
    offered = await order_rate(port, tokens, resting, ORDERS_TARGET_RPS)
    tokens = await traders(base, CONNECTIONS, "r")
    await quiet(roots)
    rest = await order_load(port, tokens, resting, roots)
    tokens = await traders(base, CONNECTIONS, "x")
    await quiet(roots)
    cross = await order_load(port, tokens, crossing, roots)
    return {"resting": rest, "crossing": cross, "offered": offered}


def event(symbol: str, source: str, impact: str = "0.01") -> dict[str, Any]:
    return {
        "event_id": f"bench-{uuid.uuid4().hex}",
        "timestamp": datetime.now(UTC).isoformat(),
        "stocks": [symbol],
        "quick_score": 0.1,
        "impact_points": impact,
        "summary": "bench",
        "sources": [{"id": source, "url": f"https://{source}.example", "trust": 0.5}],
        "num_independent_sources": 1,
        "llm_mode": "skipped",
    }


async def ingest_rate(nats_url: str) -> float:
    """Events/s the backend applies from a backlog: publish while its consumers are paused
    (maintenance on), then time from maintenance off until the last event is acked."""
    nc = await messaging.connect(nats_url, name="bench")
    js = nc.jetstream()
    kv = await messaging.ensure_control_kv(js)
    await kv.put("maintenance", b'{"enabled": true, "message": "bench"}')
    await asyncio.sleep(1.0)  # every consumer has seen it (KV watch < 2 s)
    before = (await js.consumer_info("REALITY", "backend-reality")).ack_floor.stream_seq
    for i in range(INGEST_EVENTS):
        body = signing.canonical_json(event(f"SYM{i % 10}", f"wire-{i % 40}"))
        await js.publish(
            contracts.REALITY_SUBJECT, body, headers={"X-Signature": signing.sign(body, SECRET)}
        )
    target = before + INGEST_EVENTS
    started = time.perf_counter()
    await kv.put("maintenance", b'{"enabled": false, "message": ""}')
    while True:
        if (await js.consumer_info("REALITY", "backend-reality")).ack_floor.stream_seq >= target:
            break
        await asyncio.sleep(0.01)
    elapsed = time.perf_counter() - started
    await nc.drain()
    return round(INGEST_EVENTS / elapsed, 1)


class RawSocket:
    """A minimal WebSocket reader (handshake, unmasked server frames): the bench measures
    the server's fan-out, so the 1,000 clients must cost as little as possible here."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int, path: str) -> RawSocket:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write(
            f"GET {path} HTTP/1.1\r\nHost: bench\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n".encode()
        )
        head = await reader.readuntil(b"\r\n\r\n")
        if b" 101 " not in head.split(b"\r\n", 1)[0]:
            raise RuntimeError(f"websocket refused: {head[:60]!r}")
        return cls(reader, writer)

    async def frame(self) -> bytes:
        header = await self.reader.readexactly(2)
        size = header[1] & 0x7F
        if size == 126:
            size = int.from_bytes(await self.reader.readexactly(2), "big")
        elif size == 127:
            size = int.from_bytes(await self.reader.readexactly(8), "big")
        return await self.reader.readexactly(size)


async def ws_fanout(base: str, port: int) -> dict[str, float]:
    sockets = [await RawSocket.open(port, "/ws/updates?symbols=WSB") for _ in range(WS_CLIENTS)]
    delays: list[float] = []
    delivery: list[float] = []
    current: dict[str, Any] = {}

    async def listen(sock: RawSocket) -> None:
        while True:
            payload = await sock.frame()
            marker = current.get("marker")
            if marker is not None and marker in payload:
                delays.append(time.perf_counter() - current["sent"])
                at = payload.find(b'"ts":"') + 6
                published = datetime.fromisoformat(payload[at : payload.find(b'"', at)].decode())
                delivery.append(time.time() - published.timestamp())
                current["left"] -= 1
                if current["left"] == 0:
                    current["done"].set()

    listeners = [asyncio.create_task(listen(sock)) for sock in sockets]
    async with httpx.AsyncClient(base_url=base) as http:
        for round_ in range(WS_ROUNDS):
            payload = event("WSB", f"ws-{round_}", impact="0.01")
            body = signing.canonical_json(payload)
            done = asyncio.Event()
            # reality_update is the only message carrying the event id
            current.update(left=WS_CLIENTS, done=done, sent=time.perf_counter())
            current["marker"] = payload["event_id"].encode()
            await http.post(
                "/api/v1/reality/ingest",
                content=body,
                headers={"X-SIGNATURE": signing.sign(body, SECRET)},
            )
            await asyncio.wait_for(done.wait(), 30)
            current.clear()
    for task in listeners:
        task.cancel()
    for sock in sockets:
        sock.writer.close()
    delays.sort()
    delivery.sort()
    return {
        "clients": WS_CLIENTS,
        # from the server creating the message to the client reading it
        "p50_ms": round(statistics.median(delivery) * 1000, 1),
        "p99_ms": round(delivery[int(len(delivery) * 0.99)] * 1000, 1),
        # from the ingest request leaving the client (includes the ingest transaction)
        "end_to_end_p50_ms": round(statistics.median(delays) * 1000, 1),
        "end_to_end_p99_ms": round(delays[int(len(delays) * 0.99)] * 1000, 1),
    }


def nats_pid(server: nats_server.NatsServer) -> int:
    assert server.proc is not None and server.proc.proc is not None
    return server.proc.proc.pid


def spawn(
    args: list[str], env: dict[str, str], log: Path, cwd: Path | None = None
) -> subprocess.Popen[bytes]:
    return subprocess.Popen(args, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT, cwd=cwd)


PARTS = ("reads", "orders", "ingest", "ws")


async def main(parts: tuple[str, ...] = PARTS) -> dict[str, Any]:
    load_avg = os.getloadavg()[0]
    work = Path(tempfile.mkdtemp(prefix="em-bench-backend-"))
    pg = postgres.start(work / "pg", durable=True)  # fsync on, as in make up
    nats = nats_server.NatsServer(work / "nats", log_path=work / "nats.log").start()
    procs: list[subprocess.Popen[bytes]] = []
    try:
        url = pg.create_database("bench")
        migrating.upgrade(url, "head")
        port, trivial_port, grpc_port = ports.free_port(), ports.free_port(), ports.free_port()
        ob_http = ports.free_port()
        procs.append(
            spawn(
                [sys.executable, "-m", "em_cli.main", "orderbook"],
                {
                    **os.environ,
                    "EM_ENV": "production",
                    "DATABASE_URL": url,
                    "NATS_URL": nats.url,
                    "ORDERBOOK_BIND": "127.0.0.1",
                    "ORDERBOOK_GRPC_PORT": str(grpc_port),
                    "ORDERBOOK_HTTP_PORT": str(ob_http),
                    "LOG_LEVEL": "WARNING",
                },
                work / "orderbook.log",
            )
        )
        ports.wait_listening(grpc_port, 60)
        env = {
            **os.environ,
            "EM_ENV": "production",
            "DATABASE_URL": url,
            "NATS_URL": nats.url,
            "ORDERBOOK_ADDR": f"127.0.0.1:{grpc_port}",
            "REALITY_API_SECRET": SECRET,
            "ADMIN_API_KEY": ADMIN_KEY,
            "JWT_SECRET": "bench-jwt-secret-0123456789abcdef",
            "LOG_LEVEL": "WARNING",
            "WS_QUEUE_SIZE": "1024",
            # the bench measures the order path, not the limits in front of it
            "AUTH_BURST": "1000",
            "AUTH_RATE_PER_MINUTE": "100000",
            "ORDER_BURST": "100000",
            "ORDER_RATE_PER_SECOND": "100000",
            "WEB_CONCURRENCY": os.environ.get("WEB_CONCURRENCY", "1"),
        }
        procs.append(
            spawn(
                [sys.executable, "-m", "em_cli.main", "backend", "--port", str(port)],
                env,
                work / "backend.log",
            )
        )
        (work / "trivial.py").write_text(TRIVIAL_APP)
        procs.append(
            spawn(
                [
                    sys.executable,
                    "-m",
                    "uvicorn",
                    "trivial:app",
                    "--port",
                    str(trivial_port),
                    "--log-level",
                    "warning",
                    "--no-access-log",
                    "--app-dir",
                    str(work),
                ],
                env,
                work / "trivial.log",
            )
        )
        ports.wait_listening(port, 60)
        ports.wait_listening(trivial_port, 60)
        base = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(base_url=base, headers={"X-ADMIN-KEY": ADMIN_KEY}) as admin:
            for symbol in ["ELON", "WSB", *(f"SYM{i}" for i in range(10))]:
                created = await admin.post(
                    "/api/v1/admin/stocks", json={"symbol": symbol, "name": symbol}
                )
                created.raise_for_status()
        roots = {
            "backend": procs[1].pid,
            "orderbook": procs[0].pid,
            "postgres": pg.process.pid,
            "nats": nats_pid(nats),
            "bench_client": os.getpid(),
        }
        trivial = await load(trivial_port, "/ping")
        figures: dict[str, Any] = {}
        if "reads" in parts:
            reads = await load(port, "/api/v1/stocks/ELON/final")
            reads["ratio_to_trivial"] = round(reads["rps"] / trivial["rps"], 3)
            figures["final_get"] = reads
        if "orders" in parts:
            placed = await orders(base, port, roots)
            for figure in placed.values():
                figure["ratio_to_trivial"] = round(figure["rps"] / trivial["rps"], 3)
                figure["p99_ratio_to_trivial"] = round(figure["p99_ms"] / trivial["p99_ms"], 1)
            figures["orders_post"] = placed["resting"]
            figures["orders_crossing_post"] = placed["crossing"]
            figures["orders_post_at_target_rate"] = placed["offered"]
        if "ingest" in parts:
            figures["ingest_events_per_s"] = await ingest_rate(nats.url)
        if "ws" in parts:
            await quiet(roots)
            figures["ws_fanout"] = await ws_fanout(base, port)
        return {
            "bench": "backend",
            "cpus": os.cpu_count(),
            "trivial_get": trivial,
            **figures,
            "orderbook": "em orderbook (journaled on JetStream, outputs follower process)",
            "load_avg": round(load_avg, 2),
            "targets": {
                "final_get_rps": 2000,
                "final_get_p99_ms": 20,
                "ingest_events_per_s": 1000,
                "orders_post_rps": 800,
                "orders_post_p99_ms": 30,
                "ws_p99_ms": 100,
            },
        }
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=30)
        nats.stop()
        pg.stop()


if __name__ == "__main__":
    chosen = tuple(sys.argv[1:]) or PARTS
    if unknown := set(chosen) - set(PARTS):
        sys.exit(f"unknown part(s) {sorted(unknown)}; choose from {list(PARTS)}")
    print(json.dumps(asyncio.run(main(chosen))))
