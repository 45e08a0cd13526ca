"""Sentiment behind a protocol; VADER (``vaderSentiment``) is the default.

VADER is a rule-based lexicon model: deterministic, CPU-cheap (~0.1 ms per headline) and
already rounds its compound score to 4 decimals, which keeps the quick score exact.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Protocol

from vaderSentiment.vaderSentiment import (
    SentimentIntensityAnalyzer,
)


class SentimentAnalyzer(Protocol):
    def compound(self, text: str) -> Decimal:
        """Polarity in [-1, 1]."""
        ...


class VaderSentiment:
    """Loads VADER's packaged lexicon once; build one per process and share it."""

    def __init__(self) -> None:
        self._analyzer = SentimentIntensityAnalyzer()

    def compound(self, text: str) -> Decimal:
        value = float(self._analyzer.polarity_scores(text)["compound"])
        return Decimal(str(round(value, 4)))
