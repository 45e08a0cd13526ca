"""Deterministic scoring of an article for one symbol (pure; no I/O, no clock).

``formulas`` holds the seed's arithmetic (quick score, event weight, impact points, LLM gate),
``keywords`` and ``lexicon`` the weighted market-moving words, ``sentiment`` the VADER
adapter, ``explaining`` the structure that shows how a number came about.
"""

from __future__ import annotations
