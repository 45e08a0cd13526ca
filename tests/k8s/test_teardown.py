"""Teardown leaves nothing running, even when the test runner itself is killed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.kube import ControlPlane
from tests.support.kube_fixtures import locate_binaries_or_skip
from tests.support.kube_process import leftover_processes
from tests.support.kubelet import wait_for

pytestmark = [pytest.mark.k8s, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]


def _exists(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_stop_leaves_no_process_and_no_files() -> None:
    plane = ControlPlane(locate_binaries_or_skip()).start()
    pids, workdir = plane.pids, plane.workdir
    assert len(pids) == 3 and all(_exists(p) for p in pids)
    plane.stop()
    assert not [p for p in pids if _exists(p)]
    assert leftover_processes(pids, workdir) == []
    assert not workdir.exists()


def test_killed_parent_takes_its_servers_along(tmp_path: Path) -> None:
    """PR_SET_PDEATHSIG: a SIGKILLed runner cannot run teardown, the kernel does it."""
    code = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from tests.support.kube_process import ManagedProcess\n"
        "p = ManagedProcess.spawn('sleeper', ['sleep', '300'], Path(sys.argv[1]))\n"
        "print(p.pid, flush=True)\n"
        "time.sleep(300)\n"
    )
    parent = subprocess.Popen(
        [sys.executable, "-c", code, str(tmp_path / "sleeper.log")],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    assert _exists(child)
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait()
    parent.stdout.close()
    wait_for("orphaned sleeper to die", lambda: not _exists(child), timeout=10)
