"""The seed's scoring arithmetic, in ``Decimal`` so every platform gets the same cents.

- quick_score = 0.4·sentiment + 0.3·keywords + 0.3·relevance·direction, rounded to 4 places.
  ``direction`` = (0.4·sentiment + 0.3·keywords) / 0.7 ∈ [-1, 1]: entity relevance says how
  much the text is *about* the symbol, not which way it moves it, so it scales the text's own
  polarity (a neutral article scores 0 whatever its relevance). Added literally, relevance
  would push every mention upward by up to 0.3, i.e. a steady upward drift on every symbol.
- event_weight = source_trust x (1 + ln(1 + related_docs)) x exp(-age_seconds / TAU_SECONDS).
- impact_points = clamp(event_weight x quick_score x 100, ±DELTA_CAP), rounded to 2 places
  with ROUND_HALF_EVEN (banker's rounding: no upward bias when many events are summed).
  ``ln`` and ``exp`` are Decimal's correctly rounded ones at 28 digits, so the result does not
  depend on the platform's libm.
- LLM gate: |quick_score| ≥ LLM_QUICK_THRESHOLD or independent_sources ≥ MIN_INDEP_SOURCES,
  and (when the caller passes the count) fewer than LLM_CALLS_PER_HOUR calls in the last hour.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Context, Decimal

from em_reality import errors
from em_reality.constants import RealityConstants

SENTIMENT_WEIGHT = Decimal("0.4")
KEYWORD_WEIGHT = Decimal("0.3")
RELEVANCE_WEIGHT = Decimal("0.3")
SCORE_PLACES = Decimal("0.0001")
POINT_PLACES = Decimal("0.01")
_CONTEXT = Context(prec=28, rounding=ROUND_HALF_EVEN)
_ONE = Decimal(1)

Number = Decimal | float | int


def as_decimal(value: Number) -> Decimal:
    """Floats go through ``str`` (shortest repr): 0.1 becomes 0.1, not 0.1000000000000000055."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(value)


def _clamp(value: Decimal, bound: Decimal) -> Decimal:
    return max(-bound, min(bound, value))


@dataclass(frozen=True, slots=True)
class QuickScore:
    sentiment: Decimal
    keywords: Decimal
    relevance: Decimal
    sentiment_part: Decimal
    keyword_part: Decimal
    relevance_part: Decimal
    value: Decimal


def quick_score(sentiment: Number, keywords: Number, relevance: Number) -> QuickScore:
    s = _clamp(as_decimal(sentiment), _ONE)
    k = _clamp(as_decimal(keywords), _ONE)
    r = max(Decimal(0), min(_ONE, as_decimal(relevance)))
    s_part = _CONTEXT.multiply(SENTIMENT_WEIGHT, s)
    k_part = _CONTEXT.multiply(KEYWORD_WEIGHT, k)
    polarity = _CONTEXT.add(s_part, k_part)
    direction = _CONTEXT.divide(polarity, SENTIMENT_WEIGHT + KEYWORD_WEIGHT)
    r_part = _CONTEXT.multiply(_CONTEXT.multiply(RELEVANCE_WEIGHT, r), direction)
    total = _clamp(_CONTEXT.add(polarity, r_part), _ONE)
    return QuickScore(
        sentiment=s,
        keywords=k,
        relevance=r,
        sentiment_part=s_part,
        keyword_part=k_part,
        relevance_part=r_part.quantize(SCORE_PLACES, context=_CONTEXT),
        value=total.quantize(SCORE_PLACES, context=_CONTEXT),
    )


@dataclass(frozen=True, slots=True)
class EventWeight:
    source_trust: Decimal
    related_docs: int
    age_seconds: Decimal
    corroboration: Decimal
    decay: Decimal
    value: Decimal


def event_weight(
    source_trust: Number, related_docs: int, age_seconds: Number, constants: RealityConstants
) -> EventWeight:
    trust = as_decimal(source_trust)
    if not Decimal(0) <= trust <= _ONE:
        raise errors.InvalidScoreInputError(f"source_trust must be within [0, 1], got {trust}")
    if related_docs < 0:
        raise errors.InvalidScoreInputError(f"related_docs must be >= 0, got {related_docs}")
    age = max(Decimal(0), as_decimal(age_seconds))
    corroboration = _CONTEXT.add(_ONE, _CONTEXT.ln(Decimal(1 + related_docs)))
    decay = _CONTEXT.exp(_CONTEXT.divide(-age, Decimal(constants.tau_seconds)))
    value = _CONTEXT.multiply(_CONTEXT.multiply(trust, corroboration), decay)
    return EventWeight(trust, related_docs, age, corroboration, decay, value)


@dataclass(frozen=True, slots=True)
class Impact:
    raw: Decimal
    capped: bool
    points: Decimal

    @property
    def cents(self) -> int:
        """Impact in hundredths of a point, the unit the backend stores."""
        return int(self.points * 100)


def impact_points(weight: Number, score: Number, constants: RealityConstants) -> Impact:
    raw = _CONTEXT.multiply(_CONTEXT.multiply(as_decimal(weight), as_decimal(score)), Decimal(100))
    cap = as_decimal(constants.delta_cap)
    bounded = _clamp(raw, cap)
    points = bounded.quantize(POINT_PLACES, context=_CONTEXT)
    return Impact(raw=raw, capped=bounded != raw, points=points + 0)


class GateReason(enum.StrEnum):
    QUICK_SCORE = "quick_score"
    INDEPENDENT_SOURCES = "independent_sources"
    BELOW_THRESHOLDS = "below_thresholds"
    BUDGET_EXHAUSTED = "budget_exhausted"


@dataclass(frozen=True, slots=True)
class LlmGate:
    call: bool
    reason: GateReason


def llm_gate(
    score: Number,
    independent_sources: int,
    constants: RealityConstants,
    calls_last_hour: int | None = None,
) -> LlmGate:
    if abs(as_decimal(score)) >= as_decimal(constants.llm_quick_threshold):
        reason = GateReason.QUICK_SCORE
    elif independent_sources >= constants.min_indep_sources:
        reason = GateReason.INDEPENDENT_SOURCES
    else:
        return LlmGate(call=False, reason=GateReason.BELOW_THRESHOLDS)
    if calls_last_hour is not None and calls_last_hour >= constants.llm_calls_per_hour:
        return LlmGate(call=False, reason=GateReason.BUDGET_EXHAUSTED)
    return LlmGate(call=True, reason=reason)
