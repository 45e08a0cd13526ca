"""Prices on the 0-100 scale: moving a Reality Score and blending the Final Price.

Everything is Decimal rounded half-up to the cent, so a price computed on two replicas or
recomputed after a restart is the same number, never a float that drifted.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
PRICE_MIN = Decimal("0")
PRICE_MAX = Decimal("100")


def to_cents(value: Decimal) -> Decimal:
    """Round to two decimals, half-up (the seed's rounding)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def clamp(value: Decimal, low: Decimal = PRICE_MIN, high: Decimal = PRICE_MAX) -> Decimal:
    return max(low, min(high, value))


def cents_to_points(cents: int) -> Decimal:
    """Orderbook integer cents (1..9999) to points with two decimals."""
    return (Decimal(cents) / 100).quantize(CENT)


def move_reality(current: Decimal, delta: Decimal) -> Decimal:
    """The Reality Score after an impact: clamped to 0-100, to the cent."""
    return to_cents(clamp(current + delta))


def final_price(
    reality: Decimal,
    market: Decimal | None,
    market_weight: Decimal,
    reality_weight: Decimal,
) -> Decimal:
    """`w_m·Market + w_r·Reality`, clamped and rounded; Reality alone without a market price."""
    if market is None:
        return to_cents(clamp(reality))
    total = market_weight + reality_weight
    if total <= 0:
        return to_cents(clamp(reality))
    blended = (market_weight * market + reality_weight * reality) / total
    return to_cents(clamp(blended))


def confidence(trades_in_window: int, *, stale: bool) -> Decimal:
    """How much the market side of the Final Price can be trusted, 0-1 (4 decimals).

    Grows with recent trading (half at 5 trades) and halves while the market price is a
    stale last-known value because the orderbook did not answer.
    """
    if trades_in_window <= 0:
        value = Decimal(0)
    else:
        value = Decimal(trades_in_window) / Decimal(trades_in_window + 5)
    if stale:
        value /= 2
    return value.quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)
