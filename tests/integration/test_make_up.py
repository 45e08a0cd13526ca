"""`make up` as a developer uses it: start from nothing, healthy, data kept, Ctrl-C leaves
nothing behind. Runs `em dev up` (what `make up` calls after preparing .venv) on free ports."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from em_cli.devstack import ports, processes, up

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
PORT_VARS = (
    "NATS_PORT",
    "BACKEND_PORT",
    "ORDERBOOK_GRPC_PORT",
    "ORDERBOOK_HTTP_PORT",
    "REALITY_PORT",
    "NEWSROOM_PORT",
)


class Up:
    def __init__(self, state: Path) -> None:
        self.state = state
        self.env = {k: v for k, v in os.environ.items() if k not in PORT_VARS}
        for key in ("DATABASE_URL", "NATS_URL", "REALITY_API_SECRET", "ADMIN_API_KEY"):
            self.env.pop(key, None)
        self.env.update({name: str(ports.free_port()) for name in PORT_VARS})
        self.out = state.parent / f"{state.name}-up.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Up:
        self.state.mkdir(parents=True, exist_ok=True)
        with open(self.out, "wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "em_cli.main", "dev", "up", "--state-dir", str(self.state)],
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        processes.wait_until(lambda: "is up." in self.text() or self.proc_done(), 90, "make up")
        assert "is up." in self.text(), self.text()
        return self

    def text(self) -> str:
        return self.out.read_text(errors="replace") if self.out.exists() else ""

    def proc_done(self) -> bool:
        return self.proc is not None and self.proc.poll() is not None

    def pids(self) -> dict[str, int]:
        return dict(json.loads((self.state / "run.json").read_text())["pids"])

    def database_url(self) -> str:
        match = re.search(r"^\s+PostgreSQL\s+(\S+)", self.text(), re.MULTILINE)
        assert match, self.text()
        return match.group(1)

    def interrupt(self) -> int:
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGINT)
        return self.proc.wait(60)

    def kill(self) -> None:
        """Clean-up after a failure: the stack and every child it recorded."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        run = self.state / "run.json"
        if run.exists():
            for pid in json.loads(run.read_text())["pids"].values():
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(pid, signal.SIGKILL)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/status")
    return not (status.exists() and "State:\tZ" in status.read_text())


def _any_score_moved(backend: str) -> bool:
    try:
        with urllib.request.urlopen(f"{backend}/api/v1/stocks", timeout=2) as resp:
            listing = json.loads(resp.read())
    except (OSError, ValueError):
        return False
    return any(item["reality_score"] != item["initial_score"] for item in listing["data"])


@pytest.fixture
def state() -> Iterator[Path]:
    # Not under pytest's tmp_path: pytest keeps that tree private (0700), and PostgreSQL runs
    # as an unprivileged user when the tests run as root.
    base = Path(tempfile.mkdtemp(prefix="em-up-"))
    yield base / "state"
    shutil.rmtree(base, ignore_errors=True)


def test_make_up_starts_keeps_data_and_stops_cleanly(state: Path) -> None:
    first = Up(state)
    try:
        started = time.monotonic()
        first.start()
        assert time.monotonic() - started < 60
        pids = first.pids()
        assert {"postgres", "nats"} <= set(pids)
        assert all(_alive(pid) for pid in pids.values())
        health = {service.name: service.health_path for service in up.SERVICES}
        for line in first.text().splitlines():
            match = re.match(r"\s+(\w+)\s+http://localhost:(\d+)$", line)
            if match:
                path = health[match.group(1)]
                assert processes.http_ok(f"http://127.0.0.1:{match.group(2)}{path}"), line
        assert re.search(r"^\s+backend\s+http://localhost:\d+$", first.text(), re.MULTILINE)
        # The demo newsroom publishes, the Reality Engine scores and signs, the backend applies:
        # a reality score moves off its initial 50 without anyone touching anything.
        backend = f"http://127.0.0.1:{first.env['BACKEND_PORT']}"
        processes.wait_until(
            lambda: _any_score_moved(backend), 120, "a reality event to move a demo symbol"
        )
        secrets = (state / "secrets.env").read_text()
        assert "JWT_SECRET=" in secrets
        assert secrets.split("JWT_SECRET=")[1].strip() not in first.text()
        with psycopg.connect(first.database_url(), autocommit=True) as conn:
            symbols = {r[0] for r in conn.execute("select symbol from stocks")}
            assert {"ELON", "TECH", "AI_INDEX"} <= symbols
            conn.execute(
                "insert into stocks (symbol, name) values ('SURVIVOR', 'Kept across restarts')"
            )
        assert first.interrupt() == 0
        processes.wait_until(
            lambda: not any(_alive(pid) for pid in pids.values()), 30, "no process left"
        )
    finally:
        first.kill()

    second = Up(state)
    try:
        second.start()
        assert "(0 new)" in second.text()
        assert (state / "secrets.env").read_text() == secrets
        with psycopg.connect(second.database_url(), autocommit=True) as conn:
            assert conn.execute("select name from stocks where symbol = 'SURVIVOR'").fetchone()
        assert second.interrupt() == 0
    finally:
        second.kill()
