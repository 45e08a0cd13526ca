"""`em smoke`: the runbook's "Verify Services" checks, as one command with an exit code.

Run by the operator's smoke Job after a rollout or a rollback, and by hand at 3 a.m.:
backend `/health` must say healthy with the database connected, the orderbook's `/` must
answer its service name, the public API must list symbols, and the orderbook's gRPC health
service must report SERVING. Each check prints one line; the summary goes to the
termination log so `kubectl describe` shows why a smoke Job failed.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

TERMINATION_LOG = Path(os.environ.get("EM_TERMINATION_LOG", "/dev/termination-log"))


class CheckFailed(Exception):
    pass


def _get_json(url: str, timeout: float) -> object:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310
            return json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        raise CheckFailed(f"{url} answered {exc.code}") from exc
    except (urllib.error.URLError, OSError) as exc:
        raise CheckFailed(f"{url} unreachable: {exc}") from exc
    except ValueError as exc:
        raise CheckFailed(f"{url} did not answer JSON") from exc


def check_backend(base: str, timeout: float) -> str:
    body = _get_json(f"{base}/health", timeout)
    if not isinstance(body, dict) or body.get("status") != "healthy":
        raise CheckFailed(f"backend /health: {body}")
    if body.get("database") != "connected":
        raise CheckFailed(f"backend database: {body.get('database')}")
    return f"backend healthy, database connected, {body.get('websocket_clients', 0)} ws clients"


def check_api(base: str, timeout: float) -> str:
    body = _get_json(f"{base}/api/v1/stocks", timeout)
    items = body.get("items", body) if isinstance(body, dict) else body
    if not isinstance(items, list):
        raise CheckFailed("GET /api/v1/stocks did not return a list")
    return f"API lists {len(items)} symbols"


def check_orderbook_http(base: str, timeout: float) -> str:
    body = _get_json(f"{base}/", timeout)
    if not isinstance(body, dict) or body.get("status") != "healthy":
        raise CheckFailed(f"orderbook /: {body}")
    return f"orderbook {body.get('service')} healthy"


def check_orderbook_grpc(addr: str, timeout: float) -> str:
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    with grpc.insecure_channel(addr) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        try:
            reply = stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=timeout)
        except grpc.RpcError as exc:
            raise CheckFailed(f"gRPC health at {addr}: {exc.code().name}") from exc
    if reply.status != health_pb2.HealthCheckResponse.SERVING:
        raise CheckFailed(f"gRPC health at {addr}: {reply.status}")
    return f"orderbook gRPC {addr} SERVING"


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="em smoke", description=__doc__)
    parser.add_argument("--backend", default=os.environ.get("BACKEND_URL", "http://127.0.0.1:8000"))
    parser.add_argument(
        "--orderbook-http", default=os.environ.get("ORDERBOOK_HTTP_URL", "http://127.0.0.1:8001")
    )
    parser.add_argument(
        "--orderbook-grpc", default=os.environ.get("ORDERBOOK_ADDR", "127.0.0.1:50051")
    )
    parser.add_argument("--timeout", type=float, default=5.0)
    args = parser.parse_args(argv)
    checks: list[tuple[str, Callable[[], str]]] = [
        ("backend", lambda: check_backend(args.backend.rstrip("/"), args.timeout)),
        ("api", lambda: check_api(args.backend.rstrip("/"), args.timeout)),
        ("orderbook", lambda: check_orderbook_http(args.orderbook_http.rstrip("/"), args.timeout)),
        ("orderbook-grpc", lambda: check_orderbook_grpc(args.orderbook_grpc, args.timeout)),
    ]
    failures = []
    for name, check in checks:
        try:
            print(f"ok   {name}: {check()}", flush=True)
        except CheckFailed as exc:
            failures.append(f"{name}: {exc}")
            print(f"FAIL {name}: {exc}", flush=True)
    summary = "smoke passed" if not failures else "smoke failed: " + "; ".join(failures)
    if TERMINATION_LOG.parent.is_dir() and os.access(TERMINATION_LOG.parent, os.W_OK):
        with contextlib.suppress(OSError):
            TERMINATION_LOG.write_text(summary[:4000])
    print(summary)
    return 0 if not failures else 1
