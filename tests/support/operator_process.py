"""`em operator` as a real process against the test control plane.

The operator runs exactly as in production (`python -m em_cli.main operator`), only
standalone (no peering) and restricted to the test's namespace, with its settings
from `EM_OPERATOR_*`. `kill()` is SIGKILL, to prove a restart resumes whatever was in
flight; the log (JSON lines) is kept for the failure report.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from types import TracebackType

from tests.support.kube_process import ManagedProcess, _die_with_parent, free_port
from tests.support.kubelet import wait_for

START_TIMEOUT = 30.0


def http_get(port: int, path: str) -> tuple[int, str] | None:
    """(status, body) from the operator's endpoint; None while it does not answer."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read().decode(errors="replace")
    except OSError:
        return None
    finally:
        conn.close()


class OperatorProcess:
    """Start with `start()`; `kill()` then `start()` again to restart."""

    def __init__(
        self,
        kubeconfig: Path,
        namespace: str,
        workdir: Path,
        env: Mapping[str, str] | None = None,
        peering: int | None = None,  # None: --standalone; else join the peering at that priority
    ) -> None:
        self.kubeconfig, self.namespace, self.workdir = kubeconfig, namespace, workdir
        self.peering = peering
        self.extra_env = dict(env or {})
        self.port = free_port()
        self.process: ManagedProcess | None = None
        self.starts = 0

    @property
    def log(self) -> Path:
        return self.workdir / f"operator-{self.starts}.log"

    def environment(self) -> dict[str, str]:
        env = dict(os.environ)
        env.pop("EM_OPERATOR_NAMESPACES", None)
        env.update(KUBECONFIG=str(self.kubeconfig), PYTHONUNBUFFERED="1", **self.extra_env)
        return env

    def start(self) -> OperatorProcess:
        self.starts += 1
        argv = [sys.executable, "-m", "em_cli.main", "operator",
                "--namespace", self.namespace, "--port", str(self.port)]  # fmt: skip
        if self.peering is None:
            argv.append("--standalone")
        else:
            argv += ["--priority", str(self.peering)]
        self.workdir.mkdir(parents=True, exist_ok=True)
        with self.log.open("wb") as out:
            popen = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=self.environment(),
                cwd=self.workdir,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )
        self.process = ManagedProcess("em-operator", popen, self.log)
        wait_for("the operator's /healthz", self._healthy, START_TIMEOUT)
        return self

    def _healthy(self) -> bool:
        assert self.process is not None
        if not self.process.alive():
            raise AssertionError(f"em operator exited early:\n{self.process.log_tail(60)}")
        answer = http_get(self.port, "/healthz")
        return answer is not None and answer[0] == 200

    def kill(self) -> None:
        """SIGKILL: no cleanup, no goodbye, as when a node dies."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.popen.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.alive():
            self.process.terminate()

    def records(self) -> list[dict[str, object]]:
        """Every JSON log record of every start so far."""
        found: list[dict[str, object]] = []
        for index in range(1, self.starts + 1):
            path = self.workdir / f"operator-{index}.log"
            for line in path.read_text(errors="replace").splitlines() if path.exists() else []:
                try:
                    found.append(json.loads(line))
                except ValueError:
                    found.append({"msg": line})
        return found

    def log_tail(self, lines: int = 80) -> str:
        return "" if self.process is None else self.process.log_tail(lines)

    def __enter__(self) -> OperatorProcess:
        return self.start()

    def __exit__(
        self, exc: type[BaseException] | None, val: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


OperatorFactory = Callable[..., OperatorProcess]  # (kubeconfig=None, peering=None) -> started
