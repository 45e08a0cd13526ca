from __future__ import annotations

import pytest

from em_reality import articles, errors, matching

SYMBOLS = [
    articles.SymbolDescriptor("ELON", "Elon Musk", ("Musk", "Voltra Motors"), "stock"),
    articles.SymbolDescriptor("AAPL", "Apple", ("Apple Inc",), "stock"),
    articles.SymbolDescriptor("AI", "Artificial Intelligence", ("AI labs",), "index"),
    articles.SymbolDescriptor("TECH", "Big Tech", ("tech giants",), "index"),
    articles.SymbolDescriptor("BANK", "Banking", ("bank",), "index"),
    articles.SymbolDescriptor("BLB", "Brightline Bank", (), "stock"),
]


MATCHER = matching.SymbolMatcher(SYMBOLS)


def relevance_of(found: list[matching.SymbolMatch], symbol: str) -> float:
    return next(match.relevance for match in found if match.symbol == symbol)


def test_title_mention_outweighs_lead_which_outweighs_body() -> None:
    title_only = MATCHER.match("Musk unveils plan", "Nothing here.\n\nStill nothing.")
    lead_only = MATCHER.match("A plan", "Musk unveiled a plan.\n\nNothing else.")
    body_once = MATCHER.match("A plan", "A plan was unveiled.\n\nMusk spoke later.")
    assert relevance_of(title_only, "ELON") == 0.5
    assert relevance_of(lead_only, "ELON") == 0.3
    assert relevance_of(body_once, "ELON") == pytest.approx(0.0667)


def test_relevance_adds_up_and_saturates_at_one() -> None:
    found = MATCHER.match(
        "Musk speaks", "Elon Musk spoke.\n\nMusk said. Musk added. Musk ended. Musk again."
    )
    match = next(m for m in found if m.symbol == "ELON")
    assert match.relevance == 1.0
    assert (match.title_mentions, match.lead_mentions, match.body_mentions) == (1, 1, 4)
    assert match.terms == ("Elon Musk", "Musk")
    two_body = MATCHER.match("x", "lead\n\nMusk one. Musk two.")
    assert relevance_of(two_body, "ELON") == pytest.approx(0.1333)


def test_names_and_aliases_are_case_insensitive_and_span_whitespace() -> None:
    found = MATCHER.match("ELON  MUSK and voltra\nmotors", "")
    match = next(m for m in found if m.symbol == "ELON")
    assert match.title_mentions == 2
    assert match.terms == ("ELON MUSK", "voltra motors")


def test_tickers_match_exactly() -> None:
    assert [m.symbol for m in MATCHER.match("$TECH rallies as TECH index climbs", "")] == ["TECH"]
    assert MATCHER.match("a tech rally; Tech stocks", "") == []


def test_no_match_inside_other_words() -> None:
    text = "Pineapple and applesauce prices; MAIN street; said; TECHNICAL; Muskrat; embankment"
    assert MATCHER.match(text, text) == []


def test_possessive_and_punctuation_boundaries() -> None:
    found = MATCHER.match("Apple's profit (AI) rises; Musk-led firm", "")
    assert sorted(m.symbol for m in found) == ["AAPL", "AI", "ELON"]


def test_longest_term_wins_at_the_same_position() -> None:
    found = MATCHER.match("Brightline Bank raises fees", "")
    assert [m.symbol for m in found] == ["BLB"]
    assert {m.symbol for m in MATCHER.match("Brightline Bank and another bank", "")} == {
        "BLB",
        "BANK",
    }


def test_results_are_sorted_by_relevance_then_symbol() -> None:
    found = MATCHER.match("Apple and Musk", "Musk spoke first.\n\nApple later.")
    assert [m.symbol for m in found] == ["ELON", "AAPL"]


def test_match_article_uses_its_lead() -> None:
    from datetime import UTC, datetime

    article = articles.Article(
        url="https://news.example.com/a",
        title="Quiet day",
        body="Apple shares were flat.\n\nNothing else happened.",
        published_at=datetime(2024, 1, 1, tzinfo=UTC),
    )
    assert [(m.symbol, m.relevance) for m in MATCHER.match_article(article)] == [("AAPL", 0.3)]


def test_invalid_descriptors_are_refused() -> None:
    with pytest.raises(errors.InvalidSymbolError):
        matching.SymbolMatcher([articles.SymbolDescriptor(" ", "Name")])
    with pytest.raises(errors.InvalidSymbolError):
        matching.SymbolMatcher([articles.SymbolDescriptor("X", "Name", ("ok", "  "))])


def test_empty_symbol_list_matches_nothing() -> None:
    assert matching.SymbolMatcher([]).match("Apple", "Musk") == []


def test_terms_starting_with_digits_punctuation_or_lowercase() -> None:
    matcher = matching.SymbolMatcher(
        [
            articles.SymbolDescriptor("MMM", "3M", ()),
            articles.SymbolDescriptor("T", "AT&T", ()),
            articles.SymbolDescriptor("eBAY", "Online Auctions", ()),
        ]
    )
    found = matcher.match("3M and AT&T's deal; eBAY rises", "")
    assert sorted(m.symbol for m in found) == ["MMM", "T", "eBAY"]
    assert matcher.match("13M users at&tx; EBAY; Ebay", "") == []
