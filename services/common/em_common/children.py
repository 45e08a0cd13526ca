"""Child processes a Python parent supervises (the orderbook's outputs follower, the
backend's workers) never outlive it, even when it dies by SIGKILL.

The parent passes its pid in an environment variable; the child, once started, asks the
kernel for SIGTERM on the parent's death (PR_SET_PDEATHSIG) and exits at once if the parent
is already gone. Done in the child rather than in a pre-exec hook, which is unsafe in a
parent running gRPC or other threads.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys

_PR_SET_PDEATHSIG = 1


def die_with_parent(parent_env: str) -> bool:
    """SIGTERM when the parent named by `parent_env` dies; exit now if it already has.
    False when this process was not started with that variable (nothing to do)."""
    parent = os.environ.get(parent_env)
    if not parent:
        return False
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != int(parent):
        sys.exit(0)
    return True
