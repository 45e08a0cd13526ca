"""Nearest recent vectors: add, query above a similarity, evict by time.

``SparseIndex`` is an inverted index over the lexical vectors: a query only touches the
postings of its own features, so its cost grows with the overlap between texts instead of with
the window size. ``BruteForceIndex`` compares against every live vector with any embedder; it
is what a dense embedding model would use at this scale (a few thousand vectors per six hours)
and it doubles as the naive baseline in ``bench/reality.py``.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from em_reality.dedupe import vectors

VectorT = TypeVar("VectorT")
VectorT_contra = TypeVar("VectorT_contra", contravariant=True)
_RAW_SLACK = 1e-9


@dataclass(frozen=True, slots=True)
class Hit:
    key: str
    similarity: float
    timestamp: float


class VectorIndex(Protocol[VectorT_contra]):
    def add(self, key: str, vector: VectorT_contra, timestamp: float) -> None: ...

    def query(self, vector: VectorT_contra, min_similarity: float, limit: int = 5) -> list[Hit]:
        """Hits at or above ``min_similarity``, best first (ties: earliest added first)."""
        ...

    def evict_before(self, timestamp: float) -> list[str]:
        """Drop entries older than ``timestamp``; return their keys."""
        ...

    def __len__(self) -> int: ...


class _Clock:
    """Insertion order and a min-heap of timestamps, shared by both index kinds."""

    def __init__(self) -> None:
        self._counter = itertools.count()
        self._heap: list[tuple[float, int, str]] = []
        self.seq: dict[str, int] = {}
        self.time: dict[str, float] = {}

    def stamp(self, key: str, timestamp: float) -> None:
        number = next(self._counter)
        self.seq[key] = number
        self.time[key] = timestamp
        heapq.heappush(self._heap, (timestamp, number, key))

    def expired(self, timestamp: float) -> list[str]:
        gone: list[str] = []
        while self._heap and self._heap[0][0] < timestamp:
            _, number, key = heapq.heappop(self._heap)
            if self.seq.get(key) == number:
                del self.seq[key]
                del self.time[key]
                gone.append(key)
        return gone


class SparseIndex:
    """Inverted index over L2-normalised sparse vectors with calibrated scores."""

    def __init__(self, calibration: vectors.Calibration | None = None) -> None:
        self._calibration = calibration or vectors.Calibration()
        self._postings: dict[str, dict[str, float]] = {}
        self._vectors: dict[str, Mapping[str, float]] = {}
        self._clock = _Clock()

    def __len__(self) -> int:
        return len(self._vectors)

    def add(self, key: str, vector: Mapping[str, float], timestamp: float) -> None:
        if key in self._vectors:
            self._remove(key)
        self._vectors[key] = vector
        for feature, weight in vector.items():
            self._postings.setdefault(feature, {})[key] = weight
        self._clock.stamp(key, timestamp)

    def query(
        self, vector: Mapping[str, float], min_similarity: float, limit: int = 5
    ) -> list[Hit]:
        scores: dict[str, float] = {}
        get = scores.get
        postings = self._postings
        for feature, weight in vector.items():
            posting = postings.get(feature)
            if posting is None:
                continue
            for key, other in posting.items():
                scores[key] = get(key, 0.0) + weight * other
        floor = self._calibration.inverse(min_similarity) - _RAW_SLACK
        seq = self._clock.seq
        ranked = sorted(
            ((raw, key) for key, raw in scores.items() if raw >= floor),
            key=lambda item: (-item[0], seq[item[1]]),
        )
        return [
            Hit(key, similarity, self._clock.time[key])
            for raw, key in ranked[:limit]
            if (similarity := self._calibration(raw)) >= min_similarity
        ]

    def evict_before(self, timestamp: float) -> list[str]:
        gone = self._clock.expired(timestamp)
        for key in gone:
            self._remove(key)
        return gone

    def _remove(self, key: str) -> None:
        vector = self._vectors.pop(key)
        for feature in vector:
            posting = self._postings.get(feature)
            if posting is not None:
                posting.pop(key, None)
                if not posting:
                    del self._postings[feature]


class BruteForceIndex(Generic[VectorT]):
    """Compares a query with every live vector; works with any ``Embedder``."""

    def __init__(self, embedder: vectors.Embedder[VectorT]) -> None:
        self._embedder = embedder
        self._vectors: dict[str, VectorT] = {}
        self._clock = _Clock()

    def __len__(self) -> int:
        return len(self._vectors)

    def add(self, key: str, vector: VectorT, timestamp: float) -> None:
        self._vectors[key] = vector
        self._clock.stamp(key, timestamp)

    def query(self, vector: VectorT, min_similarity: float, limit: int = 5) -> list[Hit]:
        seq = self._clock.seq
        scored = [
            (similarity, key)
            for key, other in self._vectors.items()
            if (similarity := self._embedder.similarity(vector, other)) >= min_similarity
        ]
        scored.sort(key=lambda item: (-item[0], seq[item[1]]))
        return [Hit(key, similarity, self._clock.time[key]) for similarity, key in scored[:limit]]

    def evict_before(self, timestamp: float) -> list[str]:
        gone = self._clock.expired(timestamp)
        for key in gone:
            del self._vectors[key]
        return gone
