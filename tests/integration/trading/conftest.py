"""Fixtures of the trading tests (the whole backend over real servers)."""

from __future__ import annotations

from tests.support.trading_stack import real_stack, stack

__all__ = ["real_stack", "stack"]
