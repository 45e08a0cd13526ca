from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from em_reality import errors, sources
from em_reality.newsroom import server

REPO = Path(__file__).resolve().parents[3]


def _entry(**fields: Any) -> dict[str, Any]:
    base = {"id": "wire", "name": "Wire", "feed_url": "https://example.org/rss", "trust": 0.5}
    return {**base, **fields}


def test_shipped_source_files_are_valid() -> None:
    default = sources.load(REPO / "sources.yaml")
    assert default and sources.enabled(default) == []  # real feeds ship disabled
    demo_file = REPO / "services/reality/demo_sources.yaml"
    demo = sources.load(demo_file, variables={"NEWSROOM_URL": "http://127.0.0.1:8003"})
    assert {s.kind for s in sources.enabled(demo)} == {"html", "js"}
    assert all(s.entry_url.startswith("http://127.0.0.1:8003/") for s in demo)
    with pytest.raises(errors.SourcesError, match=r"line \d+: unknown variable \$\{NEWSROOM_URL\}"):
        sources.load(demo_file)


def test_defaults() -> None:
    (source,) = sources.parse({"sources": [_entry()]})
    assert (source.kind, source.crawl_delay, source.enabled) == ("rss", 5.0, True)
    assert source.entry_url == "https://example.org/rss"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"trust": 1.5}, "trust: "),
        ({"feed_url": None}, "needs feed_url or page_url"),
        ({"feed_url": None, "page_url": "https://x.org/a", "kind": "rss"}, "rss needs a feed_url"),
        ({"feed_url": "ftp://x.org/rss"}, "http"),
        ({"kind": "pdf"}, "kind: "),
        ({"crawl_delay": -1}, "crawl_delay"),
        ({"id": "Has Spaces"}, "id: String should match"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_errors_name_the_entry_and_field(fields: dict[str, Any], message: str) -> None:
    document = {"sources": [_entry(id="ok"), _entry(**{"id": "bad", **fields})]}
    with pytest.raises(errors.SourcesError, match="entry 2") as caught:
        sources.parse(document)
    assert message in str(caught.value)


def test_duplicate_ids_are_refused() -> None:
    with pytest.raises(errors.SourcesError, match="duplicate id"):
        sources.parse({"sources": [_entry(), _entry()]})


def test_demo_corpus_is_marked_and_usable() -> None:
    corpus = server.load_corpus()
    assert len({story.slug for story in corpus}) == len(corpus) >= 20
    assert any(story.live for story in corpus)
    assert all(len(" ".join(story.paragraphs)) >= 300 for story in corpus)
    assert "DEMO" in server.BANNER
