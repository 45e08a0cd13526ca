"""Precision and recall of the similarity backend on labelled article pairs.

At the duplicate threshold a pair is positive when labelled ``duplicate``; at the group
threshold when labelled ``duplicate`` or ``same_story`` (anything grouped or dropped as a copy
counts as "same event"). Precision is 1.0 when nothing is predicted positive, recall is 1.0
when nothing is labelled positive, so an empty class never divides by zero.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from em_reality.constants import RealityConstants
from em_reality.dedupe import texts, vectors

VectorT = TypeVar("VectorT")


class Label(enum.StrEnum):
    DUPLICATE = "duplicate"
    SAME_STORY = "same_story"
    UNRELATED = "unrelated"


@dataclass(frozen=True, slots=True)
class LabelledPair:
    pair_id: str
    label: Label
    first: str
    second: str


@dataclass(frozen=True, slots=True)
class ThresholdMetrics:
    threshold: float
    true_positives: int
    false_positives: int
    false_negatives: int

    @property
    def precision(self) -> float:
        predicted = self.true_positives + self.false_positives
        return 1.0 if predicted == 0 else self.true_positives / predicted

    @property
    def recall(self) -> float:
        actual = self.true_positives + self.false_negatives
        return 1.0 if actual == 0 else self.true_positives / actual


@dataclass(frozen=True, slots=True)
class PairMetrics:
    pairs: int
    duplicate: ThresholdMetrics
    group: ThresholdMetrics
    errors: tuple[tuple[str, str, float], ...]

    def as_dict(self) -> dict[str, float | int]:
        return {
            "pairs": self.pairs,
            "duplicate_precision": round(self.duplicate.precision, 4),
            "duplicate_recall": round(self.duplicate.recall, 4),
            "group_precision": round(self.group.precision, 4),
            "group_recall": round(self.group.recall, 4),
        }


def pair_from_record(record: Mapping[str, Any]) -> LabelledPair:
    """A ``dedupe_pairs.jsonl`` record → pair; the texts are what the deduplicator compares."""
    first, second = record["a"], record["b"]
    return LabelledPair(
        pair_id=str(record["id"]),
        label=Label(record["label"]),
        first=texts.dedupe_text(first["title"], first["body"]),
        second=texts.dedupe_text(second["title"], second["body"]),
    )


def evaluate_pairs(
    pairs: Iterable[LabelledPair],
    embedder: vectors.Embedder[VectorT],
    constants: RealityConstants,
) -> PairMetrics:
    counts = {"dup": [0, 0, 0], "group": [0, 0, 0]}
    errors: list[tuple[str, str, float]] = []
    total = 0
    for pair in pairs:
        total += 1
        similarity = embedder.similarity(
            embedder.vectorize(pair.first), embedder.vectorize(pair.second)
        )
        checks = (
            ("dup", constants.similarity_duplicate, pair.label is Label.DUPLICATE),
            ("group", constants.similarity_group, pair.label is not Label.UNRELATED),
        )
        for name, threshold, actual in checks:
            predicted = similarity >= threshold
            tally = counts[name]
            if predicted and actual:
                tally[0] += 1
            elif predicted:
                tally[1] += 1
                errors.append((pair.pair_id, f"false positive at {name}", round(similarity, 4)))
            elif actual:
                tally[2] += 1
                errors.append((pair.pair_id, f"false negative at {name}", round(similarity, 4)))
    return PairMetrics(
        pairs=total,
        duplicate=ThresholdMetrics(constants.similarity_duplicate, *counts["dup"]),
        group=ThresholdMetrics(constants.similarity_group, *counts["group"]),
        errors=tuple(errors),
    )
