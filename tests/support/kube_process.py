"""Process plumbing for the test control plane: spawn, probe, stop, prove nothing is left.

Each server runs in its own session (so a signal reaches its whole process group) and
with PR_SET_PDEATHSIG, so even a test runner killed with SIGKILL leaves no orphan behind.
"""

from __future__ import annotations

import contextlib
import http.client
import logging
import os
import signal
import socket
import ssl
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from em_cli.devstack import processes

logger = logging.getLogger(__name__)

_STOP_GRACE = 15.0
_TOOL_TIMEOUT = 180.0
_used_ports: set[int] = set()


class ToolError(RuntimeError):
    """A command-line tool (kubectl, helm) exited non-zero where success was required."""

    def __init__(self, result: subprocess.CompletedProcess[str]) -> None:
        super().__init__(
            f"{' '.join(result.args)} exited {result.returncode}:\n{result.stderr}{result.stdout}"
        )
        self.result = result


_die_with_parent = processes.die_with_parent(signal.SIGKILL)


def free_port() -> int:
    """A loopback port that was free a moment ago and not handed out before in this run."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if port not in _used_ports:
            _used_ports.add(port)
            return port


@dataclass
class ManagedProcess:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    @classmethod
    def spawn(cls, name: str, argv: Sequence[str], log: Path) -> ManagedProcess:
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("wb") as out:
            popen = subprocess.Popen(
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )
        logger.debug("started %s pid %d", name, popen.pid)
        return cls(name, popen, log)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def terminate(self) -> None:
        """SIGTERM the process group, SIGKILL it after a grace period, reap the leader."""
        for sig, wait in ((signal.SIGTERM, _STOP_GRACE), (signal.SIGKILL, _STOP_GRACE)):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, sig)
            try:
                self.popen.wait(timeout=wait)
                break
            except subprocess.TimeoutExpired:
                logger.warning("%s (pid %d) ignored %s", self.name, self.pid, sig.name)
        with contextlib.suppress(ProcessLookupError):  # the group outliving its leader
            os.killpg(self.pid, signal.SIGKILL)


def leftover_processes(pids: Sequence[int], workdir: Path) -> list[str]:
    """Processes that still exist: the given pids, or any naming the workdir on its cmdline."""
    found: list[str] = []
    marker = str(workdir).encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state == "Z":
            continue
        if int(entry.name) in pids or marker in cmdline:
            shown = cmdline.replace(b"\0", b" ")[:120].decode(errors="replace")
            found.append(f"{entry.name} {shown}")
    return found


def https_ok(url: str, ca: Path, cert: Path, key: Path) -> bool:
    """GET url with a client certificate; True on HTTP 200, False on any failure."""
    parts = urlsplit(url)
    ctx = ssl.create_default_context(cafile=str(ca))
    ctx.load_cert_chain(str(cert), str(key))
    conn = http.client.HTTPSConnection(parts.hostname or "", parts.port, context=ctx, timeout=2)
    try:
        conn.request("GET", parts.path)
        return conn.getresponse().status == 200
    except (OSError, http.client.HTTPException):
        return False
    finally:
        conn.close()


def run_tool(
    argv: Sequence[str], env: dict[str, str], *, check: bool, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        list(argv),
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=_TOOL_TIMEOUT,
        check=False,
    )
    if check and result.returncode != 0:
        raise ToolError(result)
    return result
