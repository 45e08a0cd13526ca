from __future__ import annotations

from datetime import datetime

import pytest

from em_reality import articles, errors, ids


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        (
            "HTTP://WWW.Example.com/News/Story/?utm_source=rss&b=2&a=1#frag",
            "https://example.com/News/Story?a=1&b=2",
        ),
        ("https://example.com//a//b/", "https://example.com/a/b"),
        ("https://example.com", "https://example.com/"),
        ("https://example.com:8443/x?fbclid=1", "https://example.com:8443/x"),
    ],
)
def test_canonical_url(url: str, canonical: str) -> None:
    assert articles.canonical_url(url) == canonical


@pytest.mark.parametrize(
    ("url", "domain"),
    [
        ("https://uk.wire.example.com/x", "example.com"),
        ("https://www.bbc.co.uk/news", "bbc.co.uk"),
        ("https://localhost:8000/a", "localhost"),
    ],
)
def test_outlet_domain(url: str, domain: str) -> None:
    assert articles.outlet_domain(url) == domain


def test_lead_paragraph_and_article_checks() -> None:
    assert articles.lead_paragraph("\n\n  First para.\nstill first\n\nSecond.") == (
        "First para.\nstill first"
    )
    with pytest.raises(errors.InvalidArticleError):
        articles.Article("https://x.example/a", "t", "b", datetime(2024, 1, 1))
    with pytest.raises(errors.InvalidArticleError):
        articles.Article(" ", "t", "b", datetime.fromisoformat("2024-01-01T00:00:00+00:00"))


def test_ids_are_deterministic_and_pinned() -> None:
    story = ids.cluster_id("https://www.example.com/a?utm_medium=x")
    assert story == ids.cluster_id("https://example.com/a")
    assert len(story) == 32
    event = ids.event_id(story, "elon")
    assert event == ids.event_id(story, " ELON ")
    assert event != ids.event_id(story, "TECH")
    assert ids.event_id("0" * 32, "ELON") == "116a0e78-374b-5a65-9c4e-cc2e70c01097"
