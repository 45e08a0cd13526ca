"""One article through the pure core: match → dedupe → score, with an explanation per symbol.

This is what the service loop calls for each fetched article (sorted by publication time, then
canonical URL, so a re-run sees the same order and yields the same story and event ids). It
holds the dedupe window, so one ``Assessor`` lives as long as the process; rebuild it (or call
``update_symbols``) when admins change the symbol list.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from em_reality import articles, ids, matching
from em_reality.constants import RealityConstants
from em_reality.dedupe import clustering
from em_reality.scoring import explaining, formulas, keywords, sentiment


@dataclass(frozen=True, slots=True)
class Assessment:
    url: str
    matches: tuple[matching.SymbolMatch, ...]
    outcome: clustering.Outcome | None
    explanations: tuple[explaining.Explanation, ...]

    @property
    def scored(self) -> bool:
        return bool(self.explanations)


class Assessor:
    def __init__(
        self,
        symbols: Iterable[articles.SymbolDescriptor],
        constants: RealityConstants,
        analyzer: sentiment.SentimentAnalyzer,
        keyword_scorer: keywords.KeywordScorer | None = None,
        deduplicator: clustering.Deduplicator[Any] | None = None,
        min_relevance: float = 0.3,
        matcher: matching.Matcher | None = None,
    ) -> None:
        self._constants = constants
        self._min_relevance = min_relevance
        self._matcher: matching.Matcher = matcher or matching.SymbolMatcher(symbols)
        self._analyzer = analyzer
        self._keywords = keyword_scorer or keywords.KeywordScorer()
        self._dedupe = deduplicator or clustering.lexical_deduplicator(constants)

    def update_symbols(self, symbols: Iterable[articles.SymbolDescriptor]) -> None:
        self._matcher = matching.SymbolMatcher(symbols)

    def assess(
        self,
        article: articles.Article,
        source_trust: formulas.Number,
        now: datetime,
        llm_calls_last_hour: int | None = None,
    ) -> Assessment:
        """Articles naming no symbol are not deduplicated; copies and re-polls are not scored.

        Only symbols named in the title or lead (relevance >= ``min_relevance``, default 0.3)
        are scored: a passing mention deep in the body says little about the symbol, yet the
        text's polarity would move it as much as the article's real subject.
        """
        matches = tuple(self._matcher.match_article(article))
        if not matches:
            return Assessment(article.url, matches, None, ())
        outcome = self._dedupe.observe(article, now.timestamp())
        if outcome.decision in (clustering.Decision.DUPLICATE, clustering.Decision.SEEN):
            return Assessment(article.url, matches, outcome, ())
        headline = f"{article.title}\n{article.lead}"
        polarity = self._analyzer.compound(headline)
        keyword_result = self._keywords.score(headline)
        age = max(0.0, now.timestamp() - article.timestamp)
        weight = formulas.event_weight(source_trust, outcome.related_docs, age, self._constants)
        explanations = []
        for match in matches:
            if match.relevance < self._min_relevance:
                continue
            quick = formulas.quick_score(polarity, keyword_result.score, match.relevance)
            explanations.append(
                explaining.Explanation(
                    symbol=match.symbol,
                    event_id=ids.event_id(outcome.cluster_id, match.symbol),
                    cluster_id=outcome.cluster_id,
                    url=article.url,
                    relevance_terms=match.terms,
                    keyword_hits=keyword_result.hits,
                    quick=quick,
                    independent_sources=outcome.independent_sources,
                    weight=weight,
                    impact=formulas.impact_points(weight.value, quick.value, self._constants),
                    llm=formulas.llm_gate(
                        quick.value,
                        outcome.independent_sources,
                        self._constants,
                        llm_calls_last_hour,
                    ),
                )
            )
        return Assessment(article.url, matches, outcome, tuple(explanations))
