from __future__ import annotations

import math
from decimal import Decimal

import pytest

from em_reality import errors
from em_reality.constants import DEFAULT_CONSTANTS, RealityConstants
from em_reality.scoring import formulas

C = DEFAULT_CONSTANTS


@pytest.mark.parametrize(
    ("sentiment", "keywords", "relevance", "expected"),
    [
        (0.5, 0.5, 1.0, "0.5000"),  # 0.2 + 0.15 + 0.3*1*(0.35/0.7)
        (-0.5, 0.2, 0.5, "-0.1700"),  # -0.2 + 0.06 + 0.3*0.5*(-0.14/0.7)
        (0.7, 0, 0, "0.2800"),
        (1, 1, 1, "1.0000"),
        (-1, -1, 1, "-1.0000"),
        (0, 0, 1, "0.0000"),  # relevance alone never moves a symbol
        (0.3182, 1, 0.8, "0.5738"),  # 0.12728 + 0.3 + 0.24*(0.42728/0.7) = 0.57377...
    ],
)
def test_quick_score_hand_computed(
    sentiment: float, keywords: float, relevance: float, expected: str
) -> None:
    assert formulas.quick_score(sentiment, keywords, relevance).value == Decimal(expected)


def test_quick_score_components_and_clamping() -> None:
    quick = formulas.quick_score(2.0, -3, 1.5)
    assert (quick.sentiment, quick.keywords, quick.relevance) == (
        Decimal(1),
        Decimal(-1),
        Decimal(1),
    )
    assert quick.sentiment_part == Decimal("0.4")
    assert quick.keyword_part == Decimal("-0.3")
    assert quick.relevance_part == Decimal("0.0429")  # 0.3 * 1 * 0.1/0.7
    assert quick.value == Decimal("0.1429")


def test_event_weight_identity_and_pinned_values() -> None:
    assert formulas.event_weight(1, 0, 0, C).value == 1
    one_related = formulas.event_weight(1, 1, 0, C)
    assert one_related.value == Decimal(
        "1.693147180559945309417232122"
    )  # 1 + (ln 2 at 28 digits), half-even
    decayed = formulas.event_weight(0.5, 0, C.tau_seconds, C)
    assert decayed.decay == Decimal("0.3678794411714423215955237702")  # e^-1
    assert decayed.value == Decimal("0.1839397205857211607977618851")


def test_event_weight_matches_the_float_formula() -> None:
    weight = formulas.event_weight(0.8, 3, 86400, C)
    expected = 0.8 * (1 + math.log(1 + 3)) * math.exp(-86400 / 172800)
    assert float(weight.value) == pytest.approx(expected, rel=1e-14)
    assert float(weight.corroboration) == pytest.approx(1 + math.log(4), rel=1e-14)


def test_event_weight_future_articles_do_not_grow_and_inputs_are_checked() -> None:
    assert formulas.event_weight(0.9, 0, -500, C).value == Decimal("0.9")
    with pytest.raises(errors.InvalidScoreInputError):
        formulas.event_weight(1.2, 0, 0, C)
    with pytest.raises(errors.InvalidScoreInputError):
        formulas.event_weight(0.5, -1, 0, C)


def test_custom_tau_is_honoured() -> None:
    fast = RealityConstants(tau_seconds=3600)
    assert (
        formulas.event_weight(1, 0, 3600, fast).decay
        == formulas.event_weight(1, 0, 172800, C).decay
    )


@pytest.mark.parametrize(
    ("weight", "score", "points", "capped"),
    [
        (1, "0.5", "20.00", True),
        (1, "-0.5", "-20.00", True),
        (1, "0.2", "20.00", False),  # exactly at the cap is not capped
        ("0.5", "0.0025", "0.12", False),  # 0.125 → half-even → 0.12
        ("0.5", "0.0075", "0.38", False),  # 0.375 → half-even → 0.38
        ("0.5", "-0.0025", "-0.12", False),
        ("0.1", "0.1234", "1.23", False),
        ("0.1839397205857211607977618851", "0.3", "5.52", False),  # 5.5181916...
        (1, "0", "0.00", False),
        ("0.5", "-0.00001", "0.00", False),  # no negative zero
    ],
)
def test_impact_points_cap_and_rounding(
    weight: str | int, score: str, points: str, capped: bool
) -> None:
    impact = formulas.impact_points(Decimal(weight), Decimal(score), C)
    assert str(impact.points) == points
    assert impact.capped is capped


def test_impact_cents_and_custom_cap() -> None:
    impact = formulas.impact_points(
        Decimal("0.9"), Decimal("0.2"), RealityConstants(delta_cap=Decimal(5))
    )
    assert impact.raw == Decimal("18.00")
    assert impact.points == Decimal("5.00")
    assert impact.cents == 500


def test_floats_are_taken_at_their_shortest_repr() -> None:
    assert formulas.as_decimal(0.1) == Decimal("0.1")
    assert formulas.impact_points(0.5, 0.0025, C).points == Decimal("0.12")


@pytest.mark.parametrize(
    ("score", "sources", "calls", "call", "reason"),
    [
        ("0.45", 1, None, True, formulas.GateReason.QUICK_SCORE),
        ("-0.45", 1, None, True, formulas.GateReason.QUICK_SCORE),
        ("0.4499", 1, None, False, formulas.GateReason.BELOW_THRESHOLDS),
        ("0.1", 2, None, True, formulas.GateReason.INDEPENDENT_SOURCES),
        ("0.9", 3, 10, False, formulas.GateReason.BUDGET_EXHAUSTED),
        ("0.9", 1, 9, True, formulas.GateReason.QUICK_SCORE),
        ("0.1", 1, 10, False, formulas.GateReason.BELOW_THRESHOLDS),
    ],
)
def test_llm_gate(
    score: str, sources: int, calls: int | None, call: bool, reason: formulas.GateReason
) -> None:
    gate = formulas.llm_gate(Decimal(score), sources, C, calls)
    assert (gate.call, gate.reason) == (call, reason)


def test_constants_invariants() -> None:
    with pytest.raises(errors.InvalidConstantsError):
        RealityConstants(similarity_group=0.9, similarity_duplicate=0.88)
    with pytest.raises(errors.InvalidConstantsError):
        RealityConstants(tau_seconds=0)
    assert C.similarity_duplicate == 0.88
    assert C.similarity_group == 0.78
    assert C.vector_window_seconds == 21600
    assert C.delta_cap == 20
