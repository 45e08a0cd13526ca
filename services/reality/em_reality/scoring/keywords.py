"""Weighted keyword score of a text: clamp(Σ weights of distinct matched entries, -1, 1).

One compiled alternation over the whole lexicon (longest entries first, so "cut its profit
forecast" wins over "cut its forecast" and "profit warning" over "warning"); each lexicon
entry counts once however often it appears, so a long article cannot saturate on repetition.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from em_reality import errors
from em_reality.scoring import lexicon


@dataclass(frozen=True, slots=True)
class KeywordHit:
    entry: str
    weight: Decimal
    count: int


@dataclass(frozen=True, slots=True)
class KeywordResult:
    score: Decimal
    hits: tuple[KeywordHit, ...]


def _inflected(word: str) -> str:
    escaped = re.escape(word)
    if not word[-1:].isalpha():
        return escaped
    if word.endswith("y") and len(word) > 3:
        return re.escape(word[:-1]) + "(?:y|ies|ied|ying)"
    if word.endswith("e"):
        return re.escape(word[:-1]) + "(?:e|es|ed|ing)"
    return escaped + "(?:s|es|ed|ing)?"


def _pattern(entry: str) -> str:
    return r"\s+".join(_inflected(word) for word in entry.split())


class KeywordScorer:
    def __init__(self, weights: Mapping[str, float] = lexicon.KEYWORDS) -> None:
        self._weights: dict[str, Decimal] = {}
        patterns: list[tuple[str, str]] = []
        for entry, weight in weights.items():
            normalised = " ".join(entry.casefold().split())
            value = Decimal(str(weight))
            if not normalised or not Decimal(-1) <= value <= Decimal(1):
                raise errors.InvalidLexiconError(f"bad lexicon entry {entry!r}: {weight}")
            self._weights[normalised] = value
            patterns.append((normalised, _pattern(normalised)))
        # Longest first within each first-letter branch; the branches let the engine reject
        # most positions after one character instead of trying every entry (~4x faster).
        patterns.sort(key=lambda item: (item[0][0], -len(item[0]), item[0]))
        self._groups = [entry for entry, _ in patterns]
        branches: dict[str, list[str]] = {}
        for entry, pattern in patterns:
            first = re.escape(entry[0])
            branches.setdefault(first, []).append(f"({pattern[len(first) :]})")
        alternation = (
            "|".join(f"{first}(?:{'|'.join(rests)})" for first, rests in branches.items())
            or r"(?!x)x"
        )
        self._regex = re.compile(rf"(?<!\w)(?:{alternation})(?!\w)", re.IGNORECASE)

    def score(self, text: str) -> KeywordResult:
        counts: dict[str, int] = {}
        for hit in self._regex.finditer(text):
            entry = self._groups[(hit.lastindex or 1) - 1]
            counts[entry] = counts.get(entry, 0) + 1
        hits = tuple(
            KeywordHit(entry, self._weights[entry], count)
            for entry, count in sorted(counts.items())
        )
        total = sum((hit.weight for hit in hits), Decimal(0))
        return KeywordResult(score=max(Decimal(-1), min(Decimal(1), total)), hits=hits)
