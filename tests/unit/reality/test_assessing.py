from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from em_reality import articles, assessing, ids
from em_reality.constants import DEFAULT_CONSTANTS
from em_reality.dedupe import clustering
from em_reality.scoring import sentiment

NOW = datetime(2024, 10, 1, 12, 0, tzinfo=UTC)
SYMBOLS = [
    articles.SymbolDescriptor("VLT", "Voltra Motors", ("Voltra",)),
    articles.SymbolDescriptor("ORCH", "Orchard Computing", ("Orchard",)),
]
ANALYZER = sentiment.VaderSentiment()


class FixedSentiment:
    def __init__(self, value: str) -> None:
        self.value = Decimal(value)

    def compound(self, text: str) -> Decimal:
        return self.value


def make(url: str, title: str, body: str, hours_ago: float = 0) -> articles.Article:
    return articles.Article(url, title, body, NOW - timedelta(hours=hours_ago))


def test_assessment_scores_each_central_symbol_with_an_explanation() -> None:
    assessor = assessing.Assessor(SYMBOLS, DEFAULT_CONSTANTS, FixedSentiment("0.5"))
    result = assessor.assess(
        make(
            "https://a.example.com/x",
            "Voltra recalls 120,000 cars",
            "Voltra said the recall is voluntary.\n\nOrchard was not involved.",
        ),
        source_trust=0.5,
        now=NOW,
    )
    assert result.outcome is not None
    assert result.outcome.decision is clustering.Decision.NEW
    assert [m.symbol for m in result.matches] == ["VLT", "ORCH"]
    (explanation,) = result.explanations  # ORCH is only a passing mention
    assert explanation.symbol == "VLT"
    assert explanation.event_id == ids.event_id(result.outcome.cluster_id, "VLT")
    # sentiment 0.5, keywords "recall" -0.5, relevance 0.8:
    # polarity 0.2 - 0.15 = 0.05; + 0.3*0.8*(0.05/0.7) = 0.017142... → 0.0671
    assert explanation.quick.value == Decimal("0.0671")
    assert explanation.impact.points == Decimal("3.36")  # 0.5 * 0.0671 * 100 = 3.355 → even
    assert not explanation.llm.call
    payload = json.loads(json.dumps(explanation.as_dict()))
    assert payload["components"]["keywords"]["hits"][0]["entry"] == "recall"
    assert payload["impact"] == {"raw": "3.355000", "capped": False, "points": "3.36"}
    assert any("impact +3.36 points" in line for line in explanation.lines())


def test_duplicates_and_symbol_free_articles_are_not_scored() -> None:
    assessor = assessing.Assessor(SYMBOLS, DEFAULT_CONSTANTS, ANALYZER)
    body = "Voltra Motors beat estimates with record deliveries.\n\nDemand was strong."
    first = assessor.assess(make("https://a.example.com/1", "Voltra beats", body, 1), 0.9, NOW)
    copy = assessor.assess(
        make("https://b.example.org/1", "UPDATE 1-Voltra beats", f"(Wire) - {body}", 0.5), 0.9, NOW
    )
    nothing = assessor.assess(make("https://c.example.com/2", "Weather", "Sunny.", 0), 0.9, NOW)
    assert first.scored
    assert first.explanations[0].impact.points > 0
    assert copy.outcome is not None
    assert copy.outcome.decision is clustering.Decision.DUPLICATE
    assert not copy.scored
    assert copy.outcome.related_docs == 1
    assert nothing.outcome is None
    assert not nothing.scored


def test_grouped_article_keeps_the_story_event_id_and_counts_sources() -> None:
    assessor = assessing.Assessor(SYMBOLS, DEFAULT_CONSTANTS, ANALYZER)
    first = assessor.assess(
        make(
            "https://a.example.com/1",
            "Orchard fined 1.1 billion euros by EU over music apps",
            "EU regulators fined Orchard Computing 1.1 billion euros on Friday for blocking "
            "music streaming rivals from telling users about cheaper offers.",
            2,
        ),
        0.8,
        NOW,
    )
    second = assessor.assess(
        make(
            "https://b.example.net/2",
            "Orchard hit with 1.1 billion euro EU fine over music",
            "The European Commission fined Orchard Computing 1.1 billion euros on Friday, "
            "saying it stopped music streaming apps from telling users about cheaper offers.",
            1,
        ),
        0.8,
        NOW,
        llm_calls_last_hour=0,
    )
    assert second.outcome is not None
    assert second.outcome.decision is clustering.Decision.GROUPED
    assert second.explanations[0].event_id == first.explanations[0].event_id
    assert second.explanations[0].independent_sources == 2
    assert second.explanations[0].llm.call
