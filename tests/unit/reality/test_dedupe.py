from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from em_reality import articles, ids
from em_reality.constants import DEFAULT_CONSTANTS
from em_reality.dedupe import clustering, index, texts, vectors

T0 = datetime(2024, 10, 1, 6, 0, tzinfo=UTC)
TITLE = "Voltra Motors recalls 120,000 vehicles over faulty seat-belt warning"
BODY = (
    "Voltra Motors is recalling about 120,000 electric vehicles in the United States because "
    "the seat-belt reminder chime may fail to sound when the car is started, the National "
    "Highway Traffic Safety Administration said on Tuesday.\n\n"
    "The recall covers Voltra Aero sedans built between March 2022 and June 2024. The carmaker "
    "said it would fix the problem with an over-the-air software update and that it was not "
    "aware of any crashes or injuries linked to the issue."
)
REWRITE_TITLE = "Voltra to fix seat-belt chime on 120,000 EVs with software update"
REWRITE_BODY = (
    "Electric carmaker Voltra Motors will update software on roughly 120,000 vehicles after "
    "safety regulators found the seat-belt reminder chime could fail to sound, according "
    "to a recall notice published on Tuesday.\n\n"
    "The affected Voltra Aero sedans were made from March 2022 to June 2024. Voltra told "
    "the safety agency it knew of no crashes or injuries caused by the seat-belt warning "
    "problem."
)
OTHER_TITLE = "Voltra picks Monterrey for $5 billion battery and assembly plant"
OTHER_BODY = (
    "Voltra Motors will build a $5 billion battery and vehicle assembly plant near Monterrey, "
    "Mexico, chief executive Dana Whitfield said on Thursday, in the company's largest "
    "investment outside the United States."
)


def article(url: str, title: str, body: str, minutes: float = 0) -> articles.Article:
    return articles.Article(url, title, body, T0 + timedelta(minutes=minutes))


def syndicated(minutes: float, domain: str) -> articles.Article:
    body = f"NEW YORK (Wire) - {BODY.replace('about', 'around')}\n\n(Reporting by Ana Lima)"
    return article(f"https://{domain}/r/{minutes}", f"UPDATE 1-{TITLE}", body, minutes)


def fresh() -> clustering.Deduplicator[dict[str, float]]:
    return clustering.lexical_deduplicator(DEFAULT_CONSTANTS)


def test_syndicated_copies_collapse_into_one_story_with_more_documents() -> None:
    dedupe = fresh()
    first = dedupe.observe(article("https://autowire.test/a?utm_source=rss", TITLE, BODY))
    copy1 = dedupe.observe(syndicated(20, "portal.example.org"))
    copy2 = dedupe.observe(syndicated(40, "feeds.example.net"))
    assert first.decision is clustering.Decision.NEW
    assert copy1.decision is copy2.decision is clustering.Decision.DUPLICATE
    assert first.cluster_id == copy1.cluster_id == copy2.cluster_id
    assert first.cluster_id == ids.cluster_id("https://autowire.test/a")
    assert copy1.similarity is not None
    assert copy1.similarity >= 0.88
    assert (copy2.documents, copy2.related_docs, copy2.independent_sources) == (3, 2, 1)
    assert len(dedupe) == 1


def test_same_story_from_two_domains_is_grouped_with_two_independent_sources() -> None:
    dedupe = fresh()
    first = dedupe.observe(article("https://autowire.test/a", TITLE, BODY))
    second = dedupe.observe(
        article("https://carsandcourts.test/b", REWRITE_TITLE, REWRITE_BODY, 45)
    )
    assert second.decision is clustering.Decision.GROUPED
    assert second.cluster_id == first.cluster_id
    assert second.similarity is not None
    assert 0.78 <= second.similarity < 0.88
    assert (second.documents, second.independent_sources, second.related_docs) == (2, 2, 1)
    story = dedupe.story(first.cluster_id)
    assert story is not None
    assert story.domains == ["autowire.test", "carsandcourts.test"]


def test_same_story_from_the_same_outlet_is_not_an_independent_source() -> None:
    dedupe = fresh()
    dedupe.observe(article("https://autowire.test/a", TITLE, BODY))
    second = dedupe.observe(article("https://www.autowire.test/b", REWRITE_TITLE, REWRITE_BODY, 45))
    assert second.decision is clustering.Decision.GROUPED
    assert second.independent_sources == 1


def test_unrelated_stories_stay_separate() -> None:
    dedupe = fresh()
    first = dedupe.observe(article("https://autowire.test/a", TITLE, BODY))
    other = dedupe.observe(article("https://ledger.example.com/p", OTHER_TITLE, OTHER_BODY, 5))
    assert other.decision is clustering.Decision.NEW
    assert other.cluster_id != first.cluster_id
    assert len(dedupe) == 2


def test_window_eviction_forgets_old_stories() -> None:
    window_minutes = DEFAULT_CONSTANTS.vector_window_seconds / 60
    inside = fresh()
    inside.observe(article("https://autowire.test/a", TITLE, BODY))
    late = syndicated(window_minutes - 1, "portal.example.org")
    assert inside.observe(late).decision is clustering.Decision.DUPLICATE

    outside = fresh()
    first = outside.observe(article("https://autowire.test/a", TITLE, BODY))
    too_late = outside.observe(syndicated(window_minutes + 1, "portal.example.org"))
    assert too_late.decision is clustering.Decision.NEW
    assert too_late.cluster_id != first.cluster_id
    assert outside.story(first.cluster_id) is None
    assert len(outside) == 1


def test_evict_reports_closed_stories() -> None:
    dedupe = fresh()
    dedupe.observe(article("https://autowire.test/a", TITLE, BODY))
    dedupe.observe(article("https://ledger.example.com/p", OTHER_TITLE, OTHER_BODY, 60))
    horizon = DEFAULT_CONSTANTS.vector_window_seconds
    assert dedupe.evict((T0 + timedelta(minutes=30)).timestamp() + horizon) == 1
    assert len(dedupe) == 1


def test_a_repolled_url_is_seen_not_counted_again() -> None:
    dedupe = fresh()
    dedupe.observe(article("https://autowire.test/a?utm_source=rss", TITLE, BODY))
    again = dedupe.observe(article("https://www.autowire.test/a/#top", TITLE, BODY, 10))
    assert again.decision is clustering.Decision.SEEN
    assert again.documents == 1


def test_cluster_ids_are_deterministic_across_instances() -> None:
    sequence = [
        article("https://autowire.test/a", TITLE, BODY),
        syndicated(20, "portal.example.org"),
        article("https://carsandcourts.test/b", REWRITE_TITLE, REWRITE_BODY, 45),
        article("https://ledger.example.com/p", OTHER_TITLE, OTHER_BODY, 50),
    ]
    first_run, second_run = fresh(), fresh()
    outcomes = [first_run.observe(a) for a in sequence]
    assert outcomes == [second_run.observe(a) for a in sequence]
    assert [o.decision for o in outcomes] == ["new", "duplicate", "grouped", "new"]


def test_brute_force_and_inverted_index_agree() -> None:
    embedder = vectors.LexicalEmbedder()
    sparse = index.SparseIndex(embedder.calibration)
    brute: index.BruteForceIndex[dict[str, float]] = index.BruteForceIndex(embedder)
    docs = [(TITLE, BODY), (REWRITE_TITLE, REWRITE_BODY), (OTHER_TITLE, OTHER_BODY)]
    for number, (title, body) in enumerate(docs):
        vector = embedder.vectorize(texts.dedupe_text(title, body))
        sparse.add(f"k{number}", vector, float(number))
        brute.add(f"k{number}", vector, float(number))
    probe = embedder.vectorize(texts.dedupe_text(REWRITE_TITLE, BODY))
    left = sparse.query(probe, 0.0, limit=3)
    right = brute.query(probe, 0.0, limit=3)
    assert [h.key for h in left] == [h.key for h in right]
    assert [h.similarity for h in left] == pytest.approx([h.similarity for h in right])
    assert sparse.evict_before(1.5) == ["k0", "k1"] == brute.evict_before(1.5)
    assert len(sparse) == len(brute) == 1


def test_index_query_respects_the_floor_and_limit() -> None:
    embedder = vectors.LexicalEmbedder()
    sparse = index.SparseIndex(embedder.calibration)
    vector = embedder.vectorize(texts.dedupe_text(TITLE, BODY))
    sparse.add("a", vector, 0.0)
    sparse.add("b", vector, 1.0)
    hits = sparse.query(vector, 0.99, limit=1)
    assert [(h.key, round(h.similarity, 6)) for h in hits] == [("a", 1.0)]
    other = embedder.vectorize(texts.dedupe_text(OTHER_TITLE, OTHER_BODY))
    assert sparse.query(other, 0.78) == []


def test_calibration_is_monotone_and_invertible() -> None:
    calibration = vectors.Calibration()
    grid = [step / 100 for step in range(101)]
    mapped = [calibration(x) for x in grid]
    assert mapped == sorted(mapped)
    assert calibration(0.36) == pytest.approx(0.78)
    assert calibration(0.79) == pytest.approx(0.88)
    for x in grid:
        assert calibration.inverse(calibration(x)) == pytest.approx(x)


def test_boilerplate_is_stripped_before_comparison() -> None:
    text = texts.dedupe_text(
        "UPDATE 2-Voltra recalls cars - source",
        "LONDON, Oct 3 (Wire) - Voltra recalls cars.\n\nMore.\n\n"
        "(Reporting by Ana Lima; Editing by Mark Potter)\n\n"
        "Copyright 2024 Wire. All rights reserved.",
    )
    assert text == "Voltra recalls cars\n\nVoltra recalls cars.\n\nMore."


def test_tokens_drop_stopwords_and_meet_inflections() -> None:
    assert vectors.content_tokens("The recalls were recalled; 120,000 cars") == [
        "recall",
        "recall",
        "120000",
        "car",
    ]
