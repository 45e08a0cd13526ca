"""Duplicate, same story or new story: one decision per incoming article.

- similarity >= SIMILARITY_DUPLICATE: a syndicated copy. It is not indexed or scored again,
  but it counts as one more document of the story (``related_docs`` grows).
- similarity >= SIMILARITY_GROUP: the same event from another write-up. It joins the story
  and is indexed; when its outlet domain is new to the story, ``independent_sources`` grows.
- otherwise: a new story, whose id derives from this first article's canonical URL.

Syndicated copies never raise ``independent_sources``: a wire story republished by ten
portals is still one source of evidence. Only entries younger than VECTOR_WINDOW_SECONDS are
compared; older ones are evicted, and a story is forgotten once all its members are.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from em_reality import articles, ids
from em_reality.constants import RealityConstants
from em_reality.dedupe import index, texts, vectors

VectorT = TypeVar("VectorT")


class Decision(enum.StrEnum):
    NEW = "new"
    GROUPED = "grouped"
    DUPLICATE = "duplicate"
    SEEN = "seen"


@dataclass(slots=True)
class Story:
    """A cluster of articles about one event (mutable; owned by the ``Deduplicator``)."""

    cluster_id: str
    root_url: str
    first_seen: float
    members: list[str] = field(default_factory=list)
    domains: list[str] = field(default_factory=list)
    documents: int = 0
    duplicates: int = 0

    @property
    def independent_sources(self) -> int:
        return len(self.domains)

    @property
    def related_docs(self) -> int:
        return self.documents - 1


@dataclass(frozen=True, slots=True)
class Outcome:
    decision: Decision
    cluster_id: str
    similarity: float | None
    matched_url: str | None
    documents: int
    independent_sources: int
    related_docs: int


class Deduplicator(Generic[VectorT]):
    """Holds the window's stories; feed it articles in arrival order."""

    def __init__(
        self,
        embedder: vectors.Embedder[VectorT],
        vector_index: index.VectorIndex[VectorT],
        constants: RealityConstants,
    ) -> None:
        self._embedder = embedder
        self._index = vector_index
        self._constants = constants
        self._stories: dict[str, Story] = {}
        self._story_of: dict[str, str] = {}

    def __len__(self) -> int:
        return len(self._stories)

    def story(self, cluster_id: str) -> Story | None:
        return self._stories.get(cluster_id)

    def observe(self, article: articles.Article, now: float | None = None) -> Outcome:
        """Classify ``article`` against the window ending at ``now`` (default: its time)."""
        timestamp = article.timestamp if now is None else min(article.timestamp, now)
        self.evict(article.timestamp if now is None else now)
        url = article.canonical_url
        known = self._story_of.get(url)
        if known is not None:
            return self._outcome(Decision.SEEN, self._stories[known], 1.0, url)
        vector = self._embedder.vectorize(texts.dedupe_text(article.title, article.body))
        hits = self._index.query(vector, self._constants.similarity_group, limit=1)
        if hits:
            best = hits[0]
            story = self._stories[self._story_of[best.key]]
            story.documents += 1
            if best.similarity >= self._constants.similarity_duplicate:
                story.duplicates += 1
                return self._outcome(Decision.DUPLICATE, story, best.similarity, best.key)
            self._join(story, url, article.domain, vector, timestamp)
            return self._outcome(Decision.GROUPED, story, best.similarity, best.key)
        story = Story(cluster_id=ids.cluster_id(url), root_url=url, first_seen=timestamp)
        self._stories[story.cluster_id] = story
        story.documents = 1
        self._join(story, url, article.domain, vector, timestamp)
        return self._outcome(Decision.NEW, story, None, None)

    def evict(self, now: float) -> int:
        """Forget members older than the window; return how many stories closed."""
        closed = 0
        for key in self._index.evict_before(now - self._constants.vector_window_seconds):
            cluster = self._story_of.pop(key, None)
            story = self._stories.get(cluster) if cluster is not None else None
            if story is None:
                continue
            story.members.remove(key)
            if not story.members:
                del self._stories[story.cluster_id]
                closed += 1
        return closed

    def _join(self, story: Story, url: str, domain: str, vector: VectorT, timestamp: float) -> None:
        story.members.append(url)
        if domain not in story.domains:
            story.domains.append(domain)
        self._story_of[url] = story.cluster_id
        self._index.add(url, vector, timestamp)

    @staticmethod
    def _outcome(
        decision: Decision, story: Story, similarity: float | None, matched: str | None
    ) -> Outcome:
        return Outcome(
            decision=decision,
            cluster_id=story.cluster_id,
            similarity=None if similarity is None else round(similarity, 4),
            matched_url=matched,
            documents=story.documents,
            independent_sources=story.independent_sources,
            related_docs=story.related_docs,
        )


def lexical_deduplicator(constants: RealityConstants) -> Deduplicator[dict[str, float]]:
    """The default wiring: lexical vectors with the inverted index."""
    embedder = vectors.LexicalEmbedder()
    sparse: index.VectorIndex[dict[str, float]] = index.SparseIndex(embedder.calibration)
    return Deduplicator(embedder, sparse, constants)
