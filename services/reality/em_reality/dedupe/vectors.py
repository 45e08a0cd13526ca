"""Text → vector, behind a small protocol so an embedding model can replace the lexical one.

The default ``LexicalEmbedder`` needs no model and no numpy: sparse, L2-normalised vectors of
sub-linear term frequencies over content words (stop words and news boilerplate removed,
light suffix stripping so "recalls"/"recalled"/"recall" meet, numbers kept because they pin an
event down) plus adjacent content-word pairs, which keep syndicated copies near 1.0 while
independent rewrites of one event land lower.

A lexical cosine lives on a different scale from a sentence-embedding cosine: on the labelled
pairs, independent write-ups of one event score 0.40-0.75 here (MiniLM gives them ~0.8),
syndicated copies 0.83-1.0 and different events 0-0.32. ``Calibration`` maps the raw cosine
monotonically onto the scale the seed's thresholds (SIMILARITY_DUPLICATE=0.88,
SIMILARITY_GROUP=0.78) were set on, so the constants keep their meaning whichever backend
runs. Its knots (raw 0.36 -> 0.78, raw 0.79 -> 0.88) sit in the gaps measured on
``tests/fixtures/reality/dedupe_pairs.jsonl``.
"""

from __future__ import annotations

import functools
import itertools
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol, TypeVar

from em_reality.dedupe import stopwords

VectorT = TypeVar("VectorT")
SparseVector = Mapping[str, float]

_TOKEN = re.compile(r"[0-9]+(?:[.,][0-9]+)*|[^\W\d_]+")
_SUFFIXES = ("ings", "ing", "ied", "ies", "ed", "es", "s")


class Embedder(Protocol[VectorT]):
    """What the deduplicator needs from a text representation."""

    def vectorize(self, text: str) -> VectorT: ...

    def similarity(self, first: VectorT, second: VectorT) -> float:
        """Calibrated similarity in [0, 1] on the scale the thresholds assume."""
        ...


@dataclass(frozen=True, slots=True)
class Calibration:
    """A monotone piecewise-linear map from a raw cosine to the calibrated scale."""

    knots: tuple[tuple[float, float], ...] = ((0.0, 0.0), (0.36, 0.78), (0.79, 0.88), (1.0, 1.0))

    def __call__(self, raw: float) -> float:
        raw = min(1.0, max(0.0, raw))
        knots = self.knots
        for (x0, y0), (x1, y1) in itertools.pairwise(knots):
            if raw <= x1:
                return y0 + (y1 - y0) * (raw - x0) / (x1 - x0) if x1 > x0 else y1
        return knots[-1][1]

    def inverse(self, calibrated: float) -> float:
        """The raw cosine that maps to ``calibrated`` (used to prune index queries)."""
        calibrated = min(1.0, max(0.0, calibrated))
        knots = self.knots
        for (x0, y0), (x1, y1) in itertools.pairwise(knots):
            if calibrated <= y1:
                return x0 + (x1 - x0) * (calibrated - y0) / (y1 - y0) if y1 > y0 else x0
        return knots[-1][0]


@functools.lru_cache(maxsize=1 << 16)
def stem(token: str) -> str:
    """Crude suffix stripping; enough to let inflections of one word meet."""
    for suffix in _SUFFIXES:
        if token.endswith(suffix) and len(token) - len(suffix) >= 3 and not token.endswith("ss"):
            token = token[: -len(suffix)]
            break
    return token[:-1] if len(token) > 3 and token.endswith("e") else token


def content_tokens(text: str) -> list[str]:
    tokens: list[str] = []
    for raw in _TOKEN.findall(text.casefold()):
        if raw[0].isdigit():
            tokens.append(raw.replace(",", ""))
        elif len(raw) > 1 and raw not in stopwords.STOPWORDS:
            tokens.append(stem(raw))
    return tokens


def cosine(first: SparseVector, second: SparseVector) -> float:
    """Dot product of two L2-normalised sparse vectors (iterate the shorter one)."""
    if len(first) > len(second):
        first, second = second, first
    return sum(weight * second.get(feature, 0.0) for feature, weight in first.items())


@dataclass(frozen=True, slots=True)
class LexicalEmbedder:
    """Sparse term vectors; deterministic, stateless, fast on one CPU core."""

    calibration: Calibration = Calibration()
    bigram_weight: float = 1.0
    number_weight: float = 1.5
    max_chars: int = 2000

    def vectorize(self, text: str) -> dict[str, float]:
        tokens = content_tokens(text[: self.max_chars])
        counts: dict[str, float] = {}
        for token in tokens:
            counts[token] = counts.get(token, 0.0) + 1.0
        for left, right in itertools.pairwise(tokens):
            key = f"{left} {right}"
            counts[key] = counts.get(key, 0.0) + 1.0
        vector: dict[str, float] = {}
        for feature, count in counts.items():
            weight = 1.0 + math.log(count)
            if " " in feature:
                weight *= self.bigram_weight
            elif feature[0].isdigit():
                weight *= self.number_weight
            vector[feature] = weight
        norm = math.sqrt(sum(weight * weight for weight in vector.values()))
        if norm == 0.0:
            return {}
        return {feature: weight / norm for feature, weight in vector.items()}

    def raw_similarity(self, first: SparseVector, second: SparseVector) -> float:
        return cosine(first, second)

    def similarity(self, first: SparseVector, second: SparseVector) -> float:
        return self.calibration(cosine(first, second))
