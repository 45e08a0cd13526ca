"""Why an article moved a symbol by what it did: every input and intermediate, kept together.

``em reality once --dry-run`` prints ``Explanation.lines()``; the event builder can store
``Explanation.as_dict()`` (JSON-ready: Decimals as strings) beside the event for review.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from em_reality.scoring import formulas, keywords


@dataclass(frozen=True, slots=True)
class Explanation:
    symbol: str
    event_id: str
    cluster_id: str
    url: str
    relevance_terms: tuple[str, ...]
    keyword_hits: tuple[keywords.KeywordHit, ...]
    quick: formulas.QuickScore
    independent_sources: int
    weight: formulas.EventWeight
    impact: formulas.Impact
    llm: formulas.LlmGate

    def as_dict(self) -> dict[str, Any]:
        quick, weight = self.quick, self.weight
        return {
            "symbol": self.symbol,
            "event_id": self.event_id,
            "cluster_id": self.cluster_id,
            "url": self.url,
            "quick_score": str(quick.value),
            "components": {
                "sentiment": {"value": str(quick.sentiment), "weighted": str(quick.sentiment_part)},
                "keywords": {
                    "value": str(quick.keywords),
                    "weighted": str(quick.keyword_part),
                    "hits": [
                        {"entry": hit.entry, "weight": str(hit.weight), "count": hit.count}
                        for hit in self.keyword_hits
                    ],
                },
                "relevance": {
                    "value": str(quick.relevance),
                    "weighted": str(quick.relevance_part),
                    "terms": list(self.relevance_terms),
                },
            },
            "event_weight": {
                "value": _short(weight.value),
                "source_trust": str(weight.source_trust),
                "related_docs": weight.related_docs,
                "corroboration": _short(weight.corroboration),
                "age_seconds": str(weight.age_seconds),
                "decay": _short(weight.decay),
            },
            "independent_sources": self.independent_sources,
            "impact": {
                "raw": _short(self.impact.raw),
                "capped": self.impact.capped,
                "points": str(self.impact.points),
            },
            "llm": {"call": self.llm.call, "reason": str(self.llm.reason)},
        }

    def lines(self) -> list[str]:
        quick, weight = self.quick, self.weight
        hits = ", ".join(f"{hit.entry}({hit.weight:+})" for hit in self.keyword_hits) or "none"
        terms = ", ".join(self.relevance_terms) or "none"
        return [
            f"{self.symbol}  event {self.event_id}  story {self.cluster_id}",
            f"  quick_score {quick.value:+} = sentiment 0.4*{quick.sentiment:+} "
            f"+ keywords 0.3*{quick.keywords:+} + relevance 0.3*{quick.relevance}*direction "
            f"({quick.relevance_part:+})",
            f"  keywords: {hits}",
            f"  mentions: {terms}",
            f"  event_weight {_short(weight.value)} = trust {weight.source_trust} "
            f"* (1 + ln(1 + {weight.related_docs})) * exp(-{weight.age_seconds}s / tau) "
            f"[decay {_short(weight.decay)}]",
            f"  impact {self.impact.points:+} points (raw {_short(self.impact.raw)}"
            f"{', capped' if self.impact.capped else ''}); "
            f"independent sources {self.independent_sources}; "
            f"LLM {'yes' if self.llm.call else 'no'} ({self.llm.reason})",
        ]


def _short(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.000001")))
