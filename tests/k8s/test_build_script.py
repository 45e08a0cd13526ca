"""tools/cluster/build.sh: Go checks and per-binary stamps, with a stand-in `go` command
(the real builds take minutes; the stand-in records what it was asked to build)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

pytestmark = [pytest.mark.k8s]

SCRIPT = Path(__file__).resolve().parents[2] / "tools" / "cluster" / "build.sh"
BINARIES = ["etcd", "kube-apiserver", "kube-controller-manager", "helm"]

FAKE_GO = """#!/usr/bin/env bash
# stand-in for go: `env GOVERSION`, `list -m`, `build -o OUT PKG`
case "$1" in
  env) echo "${FAKE_GOVERSION:-go1.26.0}" ;;
  list) echo v9.9.9 ;;
  build)
    while [ $# -gt 0 ]; do [ "$1" = "-o" ] && out="$2"; shift; done
    echo "built $out" >> "$FAKE_GO_LOG"; printf '#!/bin/sh\\n' > "$out"; chmod +x "$out" ;;
  *) exit 3 ;;
esac
"""


def _run(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    fake = tmp_path / "go"
    if not fake.exists():
        fake.write_text(FAKE_GO)
        fake.chmod(0o755)
    full_env = {
        **os.environ,
        "GO": str(fake),
        "FAKE_GO_LOG": str(tmp_path / "go.log"),
        "CLUSTER_BIN_DIR": str(tmp_path / "bin"),
        **env,
    }
    return subprocess.run(
        ["bash", str(SCRIPT), *args], env=full_env, capture_output=True, text=True, check=False
    )


def _built(tmp_path: Path) -> list[str]:
    log = tmp_path / "go.log"
    lines = log.read_text().splitlines() if log.exists() else []
    log.unlink(missing_ok=True)
    return [Path(line.split()[1]).name.removesuffix(".tmp") for line in lines]


def test_missing_go_fails_with_a_clear_message(tmp_path: Path) -> None:
    res = _run(tmp_path, GO=str(tmp_path / "no-such-go"))
    assert res.returncode == 1
    assert "Go is not installed" in res.stderr and "Go >= 1.26" in res.stderr


def test_old_go_is_refused(tmp_path: Path) -> None:
    res = _run(tmp_path, FAKE_GOVERSION="go1.25.4")
    assert res.returncode == 1 and "go1.25.4 is too old" in res.stderr
    assert _built(tmp_path) == []


def test_stamps_skip_what_is_built_and_rebuild_on_change(tmp_path: Path) -> None:
    first = _run(tmp_path)
    assert first.returncode == 0, first.stderr
    assert _built(tmp_path) == BINARIES
    assert "done, 4 built" in first.stdout

    again = _run(tmp_path)
    assert again.returncode == 0 and _built(tmp_path) == []
    assert again.stdout.count("is up to date") == 4

    (tmp_path / "bin" / "helm").unlink()
    assert _run(tmp_path).returncode == 0 and _built(tmp_path) == ["helm"]

    newer_go = _run(tmp_path, "etcd", FAKE_GOVERSION="go1.26.9")
    assert newer_go.returncode == 0 and _built(tmp_path) == ["etcd"]  # stamp names the Go

    assert _run(tmp_path, "--force", "helm").returncode == 0 and _built(tmp_path) == ["helm"]
    assert _run(tmp_path, "kubelet").returncode == 2
