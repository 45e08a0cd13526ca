"""Importing this module registers every kopf handler of the operator."""

from __future__ import annotations

from em_operator.handlers import rollback, watching, worker

__all__ = ["rollback", "watching", "worker"]
