"""Backend benchmark: hot reads and durable orders against a trivial endpoint, in one run.

Run `python bench/backend.py`; it prints ONE JSON line. It starts embedded PostgreSQL, a
JetStream nats-server, the orderbook (the protocol stand-in from
tests/support/orderbook_standin.py until the real one lands on this branch), the backend as
`em backend` runs it (uvicorn, one process) and, served the same way, a trivial FastAPI app
answering `GET /ping`. A small keep-alive HTTP/1.1 load generator holds N connections open
and sends the next request as soon as the answer arrives; each figure comes after a warm-up.

- `final`: GET /api/v1/stocks/{s}/final (answered from memory).
- `orders`: POST /api/v1/orders, resting limit buys (reservation row + ledger legs + gRPC
  PlaceOrder + the answer recorded), each with its own client_order_id, one trader per
  connection.
- `orders_crossing`: half the connections buy and half sell at one price, so most orders
  trade and are settled in the request (positions, collateral, ledger).
Ratios are figure / trivial (throughput) and figure / trivial (p99 latency). The load
generator shares the machine's cores with everything it measures; `load_avg` says how busy
the machine was when the run started.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
for source in ("services/common", "services/backend", "services/cli", "."):
    sys.path.insert(0, str(ROOT / source))

from em_cli.devstack import nats_server, ports, postgres  # noqa: E402
from em_common import migrating  # noqa: E402

CONNECTIONS = 32
WARMUP_S = 1.0
ADMIN_KEY = "bench-admin-key-0123456789abcdef0123456789"
PASSWORD = "bench password 123"

Request = Callable[[int, int], bytes]
BACKEND_PID = [0]
# `em backend`, optionally under cProfile counting CPU time (BENCH_PROFILE=out.prof).
LAUNCHER = """
import cProfile, os, sys, time
from em_backend.main import run
out = os.environ.get("BENCH_PROFILE")
if out:
    profiler = cProfile.Profile(time.process_time)
    profiler.enable()
try:
    run(sys.argv[1:])
finally:
    if out:
        profiler.disable()
        profiler.dump_stats(out)
"""


# --- the trivial baseline, served like the backend ----------------------------------------


def serve_trivial(port: int) -> None:
    import uvicorn
    from fastapi import FastAPI

    app = FastAPI()

    @app.get("/ping")
    async def ping() -> dict[str, bool]:
        return {"ok": True}

    uvicorn.run(
        app,
        host="127.0.0.1",
        port=port,
        log_config=None,
        access_log=False,
        proxy_headers=True,
        lifespan="on",
        ws="websockets-sansio",
    )


# --- load generation ---------------------------------------------------------------------


async def _response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    if length:
        await reader.readexactly(length)
    return status


async def load(port: int, request: Request, duration: float, connections: int) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    start = loop.time()
    measure_from = start + WARMUP_S
    stop_at = measure_from + duration

    async def worker(index: int) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        n = 0
        try:
            while True:
                sent = time.perf_counter()
                writer.write(request(index, n))
                status = await _response(reader)
                done = loop.time()
                n += 1
                if done >= measure_from:
                    latencies.append(time.perf_counter() - sent)
                    statuses[status] += 1
                if done >= stop_at:
                    return
        finally:
            writer.close()

    await asyncio.gather(*(worker(i) for i in range(connections)))
    latencies.sort()

    def pct(p: float) -> float:
        return round(latencies[min(len(latencies) - 1, int(len(latencies) * p))] * 1000, 2)

    return {
        "requests": len(latencies),
        "rps": round(len(latencies) / duration, 1),
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
    }


async def server_buckets(base: str, route: str, method: str) -> dict[float, float]:
    """The backend's own latency histogram for one route (cumulative bucket counts)."""
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        text = (await client.get("/metrics")).text
    buckets: dict[float, float] = {}
    for line in text.splitlines():
        if line.startswith("em_backend_request_seconds_bucket{") and f'route="{route}"' in line:
            if f'method="{method}"' not in line:
                continue
            le = line.split('le="')[1].split('"')[0]
            buckets[float("inf") if le == "+Inf" else float(le)] = float(line.rsplit(" ", 1)[1])
    return buckets


def bucket_quantile(before: dict[float, float], after: dict[float, float], q: float) -> float:
    """Upper bound (ms) of the histogram bucket holding quantile `q` of the new requests."""
    delta = {le: after[le] - before.get(le, 0.0) for le in sorted(after)}
    total = delta.get(float("inf"), 0.0)
    for le, count in delta.items():
        if total and count >= q * total:
            return round(le * 1000, 1)
    return float("nan")


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def measured(
    base: str, port: int, route: str, method: str, request: Request, duration: float, n: int
) -> dict[str, Any]:
    """Client-side figures plus the server's own view: its latency histogram (bucket
    bounds) and the CPU time the backend process spent per request (warm-up included)."""
    before = await server_buckets(base, route, method)
    cpu = cpu_seconds(BACKEND_PID[0])
    figure = await load(port, request, duration, n)
    spent = cpu_seconds(BACKEND_PID[0]) - cpu
    after = await server_buckets(base, route, method)
    served = after.get(float("inf"), 0.0) - before.get(float("inf"), 0.0)
    figure["server_p50_ms_le"] = bucket_quantile(before, after, 0.50)
    figure["server_p99_ms_le"] = bucket_quantile(before, after, 0.99)
    figure["backend_cpu_ms_per_request"] = round(spent * 1000 / max(1.0, served), 2)
    return figure


def get(path: str) -> Request:
    raw = f"GET {path} HTTP/1.1\r\nHost: bench\r\n\r\n".encode()
    return lambda _i, _n: raw


def post_order(tokens: list[str], body: Callable[[int, int], dict[str, Any]]) -> Request:
    def make(index: int, n: int) -> bytes:
        payload = json.dumps(body(index, n)).encode()
        head = (
            "POST /api/v1/orders HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
            f"Authorization: Bearer {tokens[index]}\r\nContent-Length: {len(payload)}\r\n\r\n"
        )
        return head.encode() + payload

    return make


# --- the stack ---------------------------------------------------------------------------


def spawn(argv: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    out = log.open("wb")
    return subprocess.Popen(argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)


def wait_http(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{url} exited:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{url} not up:\n{log.read_text()[-3000:]}")


async def list_symbol(base: str) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        resp = await client.post(
            "/api/v1/admin/stocks",
            json={"symbol": "BENCH", "name": "Bench"},
            headers={"X-ADMIN-KEY": ADMIN_KEY},
        )
        assert resp.status_code in (200, 201), resp.text


async def traders(base: str, count: int, prefix: str) -> list[str]:
    """Fresh traders (full cash each), one bearer token per connection."""
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:

        async def one(i: int) -> str:
            body = {"username": f"{prefix}{i}_{uuid.uuid4().hex[:6]}", "password": PASSWORD}
            r = await client.post("/api/v1/auth/register", json=body)
            assert r.status_code == 201, r.text
            r = await client.post("/api/v1/auth/login", json=body)
            token: str = r.json()["access_token"]
            return token

        return list(await asyncio.gather(*(one(i) for i in range(count))))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=CONNECTIONS)
    parser.add_argument(
        "--only", choices=["final", "orders", "orders_crossing"], help="run one figure only"
    )
    parser.add_argument("--serve-trivial", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_trivial:
        serve_trivial(args.serve_trivial)
        return

    load_avg = os.getloadavg()[0]
    work = Path(tempfile.mkdtemp(prefix="em-bench-"))
    procs: list[subprocess.Popen[bytes]] = []
    pg = postgres.start(work / "pg")
    nats = nats_server.NatsServer(work / "nats", log_path=work / "nats.log").start()
    try:
        url = pg.create_database("bench")
        migrating.upgrade(url, "head")
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            str(ROOT / p) for p in (".", "services/common", "services/backend", "services/cli")
        )
        grpc_port, backend_port, trivial_port = (ports.free_port() for _ in range(3))
        procs.append(
            spawn(
                [sys.executable, "-m", "tests.support.orderbook_standin", "--nats", nats.url,
                 "--port", str(grpc_port)],
                env,
                work / "orderbook.log",
            )
        )  # fmt: skip
        ports.wait_listening(grpc_port, 30)
        backend_env = env | {
            "EM_ENV": "development",
            "DATABASE_URL": url,
            "NATS_URL": nats.url,
            "ORDERBOOK_ADDR": f"127.0.0.1:{grpc_port}",
            "ADMIN_API_KEY": ADMIN_KEY,
            "JWT_SECRET": "bench-jwt-secret-0123456789abcdef0123456789abcdef",
            "REALITY_API_SECRET": "bench-reality-secret-0123456789abcdef01234",
            "LOG_LEVEL": "WARNING",
            "AUTH_BURST": "1000",
            "AUTH_RATE_PER_MINUTE": "100000",
            "ORDER_BURST": "100000",
            "ORDER_RATE_PER_SECOND": "100000",
        }
        launcher = work / "backend_main.py"
        launcher.write_text("import sys\nfrom em_backend.main import run\nrun(sys.argv[1:])\n")
        profile = (
            ["-m", "cProfile", "-o", os.environ["BENCH_PROFILE"]]
            if os.environ.get("BENCH_PROFILE")
            else []
        )
        procs.append(
            spawn(
                [sys.executable, *profile, str(launcher), "--host", "127.0.0.1",
                 "--port", str(backend_port)],
                backend_env,
                work / "backend.log",
            )
        )  # fmt: skip
        procs.append(
            spawn(
                [sys.executable, str(Path(__file__)), "--serve-trivial", str(trivial_port)],
                env,
                work / "trivial.log",
            )
        )
        base = f"http://127.0.0.1:{backend_port}"
        BACKEND_PID[0] = procs[1].pid
        wait_http(f"{base}/health", procs[1], work / "backend.log")
        wait_http(f"http://127.0.0.1:{trivial_port}/ping", procs[2], work / "trivial.log")
        results = asyncio.run(_measure(base, backend_port, trivial_port, args))
        results["load_avg"] = round(load_avg, 2)
        print(json.dumps(results, separators=(",", ":")))
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
        nats.stop()
        pg.stop()


async def _measure(base: str, port: int, trivial_port: int, args: Any) -> dict[str, Any]:
    n, duration = args.connections, args.duration
    await list_symbol(base)
    tokens = await traders(base, n, "rest")
    trivial = await load(trivial_port, get("/ping"), duration, n)
    wanted = [args.only] if args.only else ["final", "orders", "orders_crossing"]
    figures: dict[str, dict[str, Any]] = {}
    if "final" in wanted:
        figures["final"] = await measured(
            base, port, "/api/v1/stocks/{symbol}/final", "GET",
            get("/api/v1/stocks/BENCH/final"), duration, n,
        )  # fmt: skip

    def resting(i: int, k: int) -> dict[str, Any]:
        return {
            "symbol": "BENCH", "side": "buy", "type": "limit", "price": "1.00",
            "quantity": 1, "client_order_id": f"r{i}-{k}",
        }  # fmt: skip

    def crossing(i: int, k: int) -> dict[str, Any]:
        return {
            "symbol": "BENCH", "side": "buy" if i % 2 else "sell", "type": "limit",
            "price": "50.00", "quantity": 1, "client_order_id": f"x{i}-{k}",
        }  # fmt: skip

    if "orders" in wanted:
        figures["orders"] = await measured(
            base, port, "/api/v1/orders", "POST", post_order(tokens, resting), duration, n
        )
    if "orders_crossing" in wanted:
        crossing_tokens = await traders(base, n, "cross")
        figures["orders_crossing"] = await measured(
            base, port, "/api/v1/orders", "POST", post_order(crossing_tokens, crossing),
            duration, n,
        )  # fmt: skip

    def ratios(figure: dict[str, Any]) -> dict[str, Any]:
        return figure | {
            "rps_ratio": round(figure["rps"] / trivial["rps"], 3),
            "p99_ratio": round(figure["p99_ms"] / trivial["p99_ms"], 2),
        }

    return {
        "bench": "backend",
        "orderbook": "stand-in (tests/support/orderbook_standin.py): real orderbook not on branch",
        "connections": n,
        "duration_s": duration,
        "trivial": trivial,
        **{name: ratios(figure) for name, figure in figures.items()},
        "cpus": os.cpu_count(),
    }


if __name__ == "__main__":
    main()
