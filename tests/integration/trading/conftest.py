"""Fixtures of the trading tests (the whole backend over real servers)."""

from __future__ import annotations

from tests.support.trading_stack import stack

__all__ = ["stack"]
