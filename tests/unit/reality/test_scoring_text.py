from __future__ import annotations

from decimal import Decimal

import pytest

from em_reality import errors
from em_reality.scoring import keywords, lexicon, sentiment

SCORER = keywords.KeywordScorer()


def test_lexicon_weights_are_in_range_and_signed_by_list() -> None:
    assert all(0 < w <= 1 for w in lexicon.POSITIVE.values())
    assert all(-1 <= w < 0 for w in lexicon.NEGATIVE.values())
    assert not set(lexicon.POSITIVE) & set(lexicon.NEGATIVE)


def test_keyword_score_sums_distinct_entries_once() -> None:
    result = SCORER.score("Recall after recall: Voltra recalls cars; lawsuit filed")
    assert [(h.entry, h.weight, h.count) for h in result.hits] == [
        ("lawsuit", Decimal("-0.5"), 1),
        ("recall", Decimal("-0.5"), 3),
    ]
    assert result.score == Decimal("-1.0")


def test_keyword_inflections_and_longest_entry() -> None:
    result = SCORER.score("Shares surged and rallied after it cut its profit forecast")
    assert {h.entry for h in result.hits} == {"surge", "rally", "cut its profit forecast"}
    assert result.score == Decimal("0.10")  # 0.35 + 0.3 - 0.55


def test_keyword_score_is_clamped_and_word_bounded() -> None:
    assert SCORER.score("bankruptcy fraud default scandal").score == Decimal(-1)
    assert SCORER.score("the hackathon at Dropbox; unbanned").hits == ()


def test_custom_lexicon_is_validated() -> None:
    assert keywords.KeywordScorer({"moon": 0.5}).score("to the MOON").score == Decimal("0.5")
    with pytest.raises(errors.InvalidLexiconError):
        keywords.KeywordScorer({"moon": 1.5})
    with pytest.raises(errors.InvalidLexiconError):
        keywords.KeywordScorer({"  ": 0.1})


def test_vader_sentiment_is_signed_and_exact() -> None:
    analyzer = sentiment.VaderSentiment()
    good = analyzer.compound("Great news: profits are excellent and investors are happy")
    bad = analyzer.compound("Terrible losses, a disaster for the company, investors furious")
    assert good > Decimal("0.5")
    assert bad < Decimal("-0.5")
    assert analyzer.compound("The meeting is on Tuesday.") == 0
    assert good == good.quantize(Decimal("0.0001"))
