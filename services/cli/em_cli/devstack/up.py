"""`em dev up` (behind `make up`): the whole system on this machine.

Embedded PostgreSQL and a JetStream nats-server keep their data under the state folder
(`.state/` by default, git-ignored), so a second `make up` finds yesterday's market. Every
setting the environment provides wins; development secrets are generated once and kept in
`.state/secrets.env`. Services that are not built yet are reported, not faked. Ctrl-C (or
SIGTERM) stops everything in reverse order; children run in their own process groups and are
killed with them.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from em_cli.devstack import demo, ports, postgres, processes
from em_cli.devstack.nats_server import NatsServer

SECRET_NAMES = ("REALITY_API_SECRET", "ADMIN_API_KEY", "JWT_SECRET")
DB_NAME = "everything_market"


@dataclass(frozen=True)
class Service:
    name: str
    module: str  # importable when the service exists
    argv: tuple[str, ...]
    health_path: str
    port_env: str
    default_port: int


SERVICES = (
    Service("orderbook", "em_orderbook.main", ("orderbook",), "/", "ORDERBOOK_HTTP_PORT", 8001),
    Service("backend", "em_backend.main", ("backend",), "/health", "BACKEND_PORT", 8000),
    Service("newsroom", "em_reality.newsroom", ("reality", "newsroom"), "/", "NEWSROOM_PORT", 8003),
    Service("reality", "em_reality.main", ("reality",), "/health", "REALITY_PORT", 8002),
)


@dataclass
class Stack:
    state: Path
    env: dict[str, str]
    children: list[processes.Managed] = field(default_factory=list)
    pg: postgres.EmbeddedPostgres | None = None
    nats: NatsServer | None = None

    def record(self) -> None:
        """Write what runs where, for humans and for the test that checks for leftovers."""
        pids = {c.name: c.pid for c in self.children}
        if self.pg is not None:
            pids["postgres"] = self.pg.process.pid
        if self.nats is not None and self.nats.proc is not None:
            pids["nats"] = self.nats.proc.pid
        (self.state / "run.json").write_text(json.dumps({"pids": pids}, indent=2))

    def stop(self) -> None:
        for child in reversed(self.children):
            child.stop()
        if self.nats is not None:
            self.nats.stop()
        if self.pg is not None:
            self.pg.stop()


def _module_exists(name: str) -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False


def load_secrets(state: Path, environ: Mapping[str, str]) -> dict[str, str]:
    """Environment values win; otherwise the ones generated on the first run."""
    from em_cli import secrets as secret_gen

    path = state / "secrets.env"
    stored: dict[str, str] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            key, sep, value = line.partition("=")
            if sep:
                stored[key.strip()] = value.strip()
    else:
        stored = secret_gen.generate()
        path.touch(mode=0o600)
        path.write_text("".join(f"{k}={v}\n" for k, v in stored.items()))
    return {name: environ.get(name) or stored[name] for name in SECRET_NAMES}


def _port(environ: Mapping[str, str], name: str, default: int) -> int:
    port = int(environ.get(name) or default)
    if ports.is_listening(port):
        raise SystemExit(f"em dev up: port {port} ({name}) is already in use; set {name}=...")
    return port


def start(state: Path, environ: Mapping[str, str]) -> Stack:
    state.mkdir(parents=True, exist_ok=True)
    (state / "logs").mkdir(exist_ok=True)
    env = dict(environ)
    env.update(load_secrets(state, environ))
    env.setdefault("EM_ENV", "development")
    stack = Stack(state=state, env=env)
    try:
        if not env.get("DATABASE_URL"):
            print("starting PostgreSQL (embedded) ...", flush=True)
            stack.pg = postgres.start(state / "postgres", durable=True)
            env["DATABASE_URL"] = stack.pg.ensure_database(DB_NAME)
        if not env.get("NATS_URL"):
            port = _port(env, "NATS_PORT", 4222)
            print(f"starting NATS JetStream on {port} ...", flush=True)
            stack.nats = NatsServer(
                state / "nats", port, state / "logs" / "nats.log", die_with_parent=True
            ).start()
            env["NATS_URL"] = stack.nats.url
        stack.record()
        print("migrating the database ...", flush=True)
        from em_common import migrating

        migrating.upgrade(env["DATABASE_URL"])
        added = demo.seed(env["DATABASE_URL"])
        print(f"demo symbols: {', '.join(demo.SYMBOLS)} ({added} new)", flush=True)
        _start_services(stack)
        stack.record()
        return stack
    except BaseException:
        stack.stop()
        raise


def _start_services(stack: Stack) -> None:
    env = stack.env
    grpc_port = int(env.get("ORDERBOOK_GRPC_PORT") or 50051)
    env.setdefault("ORDERBOOK_GRPC_PORT", str(grpc_port))
    env.setdefault("ORDERBOOK_ADDR", f"127.0.0.1:{grpc_port}")
    backend_port = int(env.get("BACKEND_PORT") or 8000)
    env.setdefault("BACKEND_URL", f"http://127.0.0.1:{backend_port}")
    newsroom_port = int(env.get("NEWSROOM_PORT") or 8003)
    env.setdefault("NEWSROOM_URL", f"http://127.0.0.1:{newsroom_port}")
    env.setdefault("SOURCES_FILE", str(demo.DEMO_SOURCES))
    env.setdefault("POLL_INTERVAL", "10")
    for service in SERVICES:
        if not _module_exists(service.module):
            print(f"  {service.name:<10} not built yet in this version", flush=True)
            continue
        port = _port(env, service.port_env, service.default_port)
        env[service.port_env] = str(port)
        child = processes.Managed(
            service.name,
            [sys.executable, "-m", "em_cli.main", *service.argv],
            env=env,
            log_path=stack.state / "logs" / f"{service.name}.log",
            die_with_parent=True,
        ).start()
        stack.children.append(child)
        stack.record()
        processes.wait_http(child, f"http://127.0.0.1:{port}{service.health_path}", 60)
        print(f"  {service.name:<10} http://localhost:{port}", flush=True)


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="em dev")
    parser.add_argument("action", choices=["up"])
    parser.add_argument("--state-dir", default=os.environ.get("EM_STATE_DIR", ".state"))
    args = parser.parse_args(argv)
    state = Path(args.state_dir).resolve()

    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stack = start(state, os.environ)
    try:
        print(
            "\nEverything Market is up.\n"
            f"  web UI + API   http://localhost:{stack.env.get('BACKEND_PORT', '8000')}\n"
            f"  orderbook gRPC {stack.env['ORDERBOOK_ADDR']}\n"
            f"  NATS           {stack.env['NATS_URL']}\n"
            f"  PostgreSQL     {_redact(stack.env['DATABASE_URL'])}\n"
            f"  secrets        {state / 'secrets.env'}\n"
            f"  logs           {state / 'logs'}\n"
            "Ctrl-C stops everything.",
            flush=True,
        )
        while not stop.wait(1.0):
            for child in stack.children:
                if not child.alive():
                    print(f"{child.name} exited; last lines:\n{child.log_tail(20)}", flush=True)
                    stop.set()
    finally:
        print("stopping ...", flush=True)
        stack.stop()
        (state / "run.json").unlink(missing_ok=True)
        print("stopped.", flush=True)
    return 0


def _redact(url: str) -> str:
    head, at, tail = url.rpartition("@")
    if not at or ":" not in head.split("//", 1)[-1]:
        return url
    scheme, _, creds = head.partition("//")
    user = creds.split(":", 1)[0]
    return f"{scheme}//{user}:***@{tail}"
