"""Importing this module registers every kopf handler of the operator."""

from __future__ import annotations

from em_operator.handlers import reconcile, rollback

__all__ = ["reconcile", "rollback"]
