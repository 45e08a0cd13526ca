"""The default `Pipeline`: the pure core (`assessing.Assessor`) adapted to the engine's seam.

The assessor sees one article at a time; a cycle needs one draft per story and symbol. So
articles are fed in publication order (then URL, as the assessor asks, so a re-run builds
the same stories), every article of a story this cycle, syndicated copies included, becomes
one of the event's sources, and a story's later write-ups update its draft (more sources,
more weight) rather than adding events. `apply_llm` puts the LLM's impact suggestion into
the same impact formula in place of the quick score.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from em_common import constants as domain_constants
from em_common import contracts
from em_reality import articles, assessing, extracting, llm, pipeline
from em_reality.constants import RealityConstants
from em_reality.dedupe import clustering
from em_reality.scoring import explaining, formulas, sentiment


def constants_from(domain: domain_constants.DomainConstants, llm_per_hour: int) -> RealityConstants:
    """The core's constants from the env-overridable domain constants (ARCHITECTURE §6)."""
    return RealityConstants(
        similarity_duplicate=domain.similarity_duplicate,
        similarity_group=domain.similarity_group,
        llm_quick_threshold=domain.llm_quick_threshold,
        llm_calls_per_hour=llm_per_hour,
        min_indep_sources=domain.min_indep_sources,
        vector_window_seconds=domain.vector_window_seconds,
        tau_seconds=domain.tau_seconds,
        delta_cap=Decimal(str(domain.delta_cap)),
        suspicious_delta=Decimal(str(domain.suspicious_delta)),
        max_single_source_influence_24h=domain.max_single_source_influence_24h,
    )


def _summary(title: str, lead: str) -> str:
    """Without an LLM, the summary is the headline and the lead paragraph."""
    return (f"{title} — {lead}" if lead and lead != title else title)[:2000]


class CorePipeline:
    def __init__(
        self,
        constants: RealityConstants,
        analyzer: sentiment.SentimentAnalyzer | None = None,
    ) -> None:
        self._constants = constants
        self._analyzer = analyzer or sentiment.VaderSentiment()
        self._assessor: assessing.Assessor | None = None
        self._explained: dict[str, explaining.Explanation] = {}

    def set_symbols(self, symbols: Sequence[pipeline.SymbolInfo]) -> None:
        descriptors = [
            articles.SymbolDescriptor(s.symbol, s.name, tuple(s.aliases), s.kind) for s in symbols
        ]
        if self._assessor is None:
            self._assessor = assessing.Assessor(descriptors, self._constants, self._analyzer)
        else:
            self._assessor.update_symbols(descriptors)

    def assess(
        self, new_articles: Sequence[extracting.ExtractedArticle], now: datetime
    ) -> pipeline.Assessed:
        if self._assessor is None:
            self.set_symbols([])
        assert self._assessor is not None
        ordered = sorted(
            new_articles, key=lambda a: (a.published_at, articles.canonical_url(a.url))
        )
        story_sources: dict[str, dict[str, contracts.SourceRef]] = {}
        latest: dict[str, tuple[explaining.Explanation, articles.Article]] = {}
        duplicates = grouped = unmatched = 0
        self._explained = {}
        for item in ordered:
            article = articles.Article(
                url=item.url, title=item.title, body=item.body,
                published_at=item.published_at, source=item.source_id,
            )  # fmt: skip
            result = self._assessor.assess(article, item.source_trust, now)
            if result.outcome is None:
                unmatched += 1
                continue
            decision = result.outcome.decision
            duplicates += decision == clustering.Decision.DUPLICATE
            grouped += decision == clustering.Decision.GROUPED
            refs = story_sources.setdefault(result.outcome.cluster_id, {})
            ref = contracts.SourceRef(id=item.source_id, url=item.url, trust=item.source_trust)
            refs.setdefault(item.url, ref)
            for explanation in result.explanations:
                first = (
                    latest[explanation.event_id][1] if explanation.event_id in latest else article
                )
                latest[explanation.event_id] = (explanation, first)
        drafts = [
            self._draft(explanation, first, list(story_sources[explanation.cluster_id].values()))
            for explanation, first in latest.values()
        ]
        return pipeline.Assessed(
            drafts, duplicates=duplicates, grouped=grouped, unmatched=unmatched
        )

    def _draft(
        self,
        explanation: explaining.Explanation,
        article: articles.Article,
        refs: list[contracts.SourceRef],
    ) -> pipeline.Draft:
        self._explained[explanation.event_id] = explanation
        return pipeline.Draft(
            event_id=explanation.event_id,
            stocks=(explanation.symbol,),
            timestamp=article.published_at,
            quick_score=float(explanation.quick.value),
            impact_points=explanation.impact.points,
            summary=_summary(article.title, article.lead),
            sources=tuple(refs[:100]),
            num_independent_sources=max(1, explanation.independent_sources),
            llm_wanted=explanation.llm.call,
            title=article.title,
            text=article.body,
            explanation={**explanation.as_dict(), "lines": explanation.lines()},
        )

    def apply_llm(self, draft: pipeline.Draft, assessment: llm.Assessment) -> pipeline.Draft:
        explanation = self._explained.get(draft.event_id)
        if explanation is None:
            return draft
        impact = formulas.impact_points(
            explanation.weight.value, assessment.impact_suggestion, self._constants
        )
        notes = {
            "impact_suggestion": assessment.impact_suggestion,
            "confidence": assessment.confidence,
            "rationale": assessment.rationale,
            "impact_points": str(impact.points),
        }
        return dataclasses.replace(
            draft,
            impact_points=impact.points,
            summary=assessment.summary or draft.summary,
            explanation={**draft.explanation, "llm_answer": notes},
        )
