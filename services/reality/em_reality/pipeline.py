"""The seam between the I/O side and the pure core (matching, dedupe, scoring).

The engine hands the pipeline the cycle's new articles and gets back `Draft`s: one would-be
event per story and symbol, already scored deterministically, saying whether the §6 LLM
condition holds. The engine then asks the LLM (budget permitting), lets the pipeline fold a
valid answer in, and turns each draft into the wire event. Anything that implements
`Pipeline` plugs in; `em_reality.wiring` builds the default one from the pure modules.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from em_common import contracts
from em_reality import extracting, llm


@dataclass(frozen=True, slots=True)
class SymbolInfo:
    """A listed stock or index, as the backend's public API describes it."""

    symbol: str
    name: str
    aliases: tuple[str, ...] = ()
    kind: str = "stock"


@dataclass(frozen=True, slots=True)
class Draft:
    event_id: str
    stocks: tuple[str, ...]
    timestamp: datetime
    quick_score: float
    impact_points: Decimal
    summary: str
    sources: tuple[contracts.SourceRef, ...]
    num_independent_sources: int
    llm_wanted: bool
    title: str
    text: str
    # Why the numbers are what they are (printed by `em reality once --dry-run`).
    explanation: Mapping[str, object] = field(default_factory=dict)

    def to_event(
        self, mode: llm.Mode, calls: Sequence[contracts.LlmCall] = ()
    ) -> contracts.RealityEvent:
        return contracts.RealityEvent(
            event_id=self.event_id,
            timestamp=self.timestamp,
            stocks=list(self.stocks),
            quick_score=self.quick_score,
            impact_points=self.impact_points,
            summary=self.summary[:2000],
            sources=list(self.sources),
            num_independent_sources=self.num_independent_sources,
            llm_mode=mode,
            llm_calls=list(calls),
        )


@dataclass(frozen=True, slots=True)
class Assessed:
    drafts: list[Draft]
    duplicates: int = 0
    grouped: int = 0
    unmatched: int = 0


class Pipeline(Protocol):
    def set_symbols(self, symbols: Sequence[SymbolInfo]) -> None:
        """Use this symbol list from now on (called every cycle)."""

    def assess(self, articles: Sequence[extracting.ExtractedArticle], now: datetime) -> Assessed:
        """Match, dedupe and score the cycle's new articles (in arrival order)."""

    def apply_llm(self, draft: Draft, assessment: llm.Assessment) -> Draft:
        """The draft with a valid LLM answer folded in (its score, summary)."""
