"""`python -m tests.support.kube_cli` (`make cluster`): the test control plane, by hand.

Starts the same control plane the tests use, prints how to reach it and keeps it up
until Ctrl-C / SIGTERM, then tears it down (and checks no process is left). Handy to
poke at what a test sees with kubectl, helm or the operator running from a shell.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from tests.support.kube import BinariesMissingError, ClusterBinaries, ControlPlane


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workdir", type=Path, help="keep state and logs here (default: temp)")
    parser.add_argument("--bin-dir", type=Path, help="binaries (default: .cache/cluster/bin)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        binaries = ClusterBinaries.locate(args.bin_dir)
    except BinariesMissingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if args.workdir is not None:
        args.workdir.mkdir(parents=True, exist_ok=True)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    with ControlPlane(binaries, workdir=args.workdir) as plane:
        print(f"control plane up in {plane.startup_seconds:.1f}s at {plane.server}")
        print(f"  export KUBECONFIG={plane.kubeconfig}")
        print(f"  logs: {plane.workdir}/*.log   helm: {binaries.helm}")
        print("  no kubelet: pods stay Pending unless marked with tests/support/kubelet.py")
        print("Ctrl-C stops it.", flush=True)
        stop.wait()
    print("stopped; no process left")
    return 0


if __name__ == "__main__":
    sys.exit(main())
