"""Precision/recall of the default similarity backend on the committed labelled pairs."""

from __future__ import annotations

import json
from pathlib import Path

from em_reality.constants import DEFAULT_CONSTANTS
from em_reality.dedupe import evaluation, vectors

PAIRS_FILE = Path(__file__).resolve().parents[2] / "fixtures" / "reality" / "dedupe_pairs.jsonl"


def load() -> list[evaluation.LabelledPair]:
    lines = PAIRS_FILE.read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines if line.strip()]
    assert all(record["synthetic"] is True for record in records)
    return [evaluation.pair_from_record(record) for record in records]


def test_fixture_set_is_large_and_covers_every_label() -> None:
    pairs = load()
    assert len(pairs) >= 150
    counts = {label: sum(p.label is label for p in pairs) for label in evaluation.Label}
    assert min(counts.values()) >= 40
    assert len({p.pair_id for p in pairs}) == len(pairs)


def test_precision_and_recall_floors() -> None:
    metrics = evaluation.evaluate_pairs(load(), vectors.LexicalEmbedder(), DEFAULT_CONSTANTS)
    assert metrics.duplicate.precision >= 0.95, metrics.errors
    assert metrics.duplicate.recall >= 0.90, metrics.errors
    assert metrics.group.precision >= 0.95, metrics.errors
    assert metrics.group.recall >= 0.90, metrics.errors


def test_metrics_arithmetic() -> None:
    metrics = evaluation.ThresholdMetrics(
        0.88, true_positives=8, false_positives=2, false_negatives=4
    )
    assert metrics.precision == 0.8
    assert metrics.recall == 8 / 12
    empty = evaluation.ThresholdMetrics(0.88, 0, 0, 0)
    assert (empty.precision, empty.recall) == (1.0, 1.0)


def test_evaluation_counts_errors_at_each_threshold() -> None:
    same = "Voltra recalls 120,000 cars over seat belts"
    pairs = [
        evaluation.LabelledPair("p1", evaluation.Label.UNRELATED, same, same),
        evaluation.LabelledPair("p2", evaluation.Label.DUPLICATE, same, "Bitcoin tops $100,000"),
    ]
    metrics = evaluation.evaluate_pairs(pairs, vectors.LexicalEmbedder(), DEFAULT_CONSTANTS)
    assert (
        metrics.duplicate.true_positives,
        metrics.duplicate.false_positives,
        metrics.duplicate.false_negatives,
    ) == (0, 1, 1)
    assert (metrics.group.false_positives, metrics.group.false_negatives) == (1, 1)
    assert {error[0] for error in metrics.errors} == {"p1", "p2"}
