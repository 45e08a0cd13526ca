"""The committed protobuf code must be exactly what `make protos` generates today."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "services" / "common"


def test_generated_code_is_fresh(tmp_path: Path) -> None:
    env_python = str(Path(sys.executable))
    subprocess.run(
        ["bash", str(ROOT / "scripts" / "protos.sh"), str(tmp_path)],
        check=True,
        env={"PYTHON": env_python, "PATH": "/usr/bin:/bin"},
        capture_output=True,
    )
    fresh = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*_pb2*"))
    committed = sorted(p.relative_to(COMMITTED) for p in COMMITTED.rglob("*_pb2*"))
    assert fresh == committed, "generated files differ: run `make protos`"
    for rel in fresh:
        assert (tmp_path / rel).read_bytes() == (COMMITTED / rel).read_bytes(), (
            f"{rel} is stale: run `make protos` and commit the result"
        )
