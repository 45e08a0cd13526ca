"""Errors the engine raises.

Bad orders are not exceptions: `place` and `cancel` answer with a report carrying a reason, so
the gRPC edge can translate them. Exceptions are kept for misuse that is a programming or data
error, such as restoring from a malformed snapshot.
"""

from __future__ import annotations


class EngineError(Exception):
    """Base of every error the matching engine raises."""


class SnapshotError(EngineError):
    """A snapshot cannot be restored: wrong format version or inconsistent content."""


class UnknownSymbolError(EngineError, KeyError):
    """A read (top of book, depth) names a symbol the engine does not trade."""
