"""Index symbols: components with weights summing to 1, scores as weighted averages."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from em_backend.domain import blending

WEIGHT_TOLERANCE = Decimal("0.0001")


@dataclass(frozen=True)
class Component:
    symbol: str
    weight: Decimal


def validate(index_symbol: str, components: Sequence[Component]) -> None:
    """Raise ValueError unless the components form a valid index definition."""
    if not components:
        raise ValueError("an index needs at least one component")
    seen: set[str] = set()
    for component in components:
        if component.symbol == index_symbol:
            raise ValueError("an index cannot contain itself")
        if component.symbol in seen:
            raise ValueError(f"component {component.symbol} is listed twice")
        if component.weight <= 0 or component.weight > 1:
            raise ValueError(f"component {component.symbol} weight must be in (0, 1]")
        seen.add(component.symbol)
    total = sum((c.weight for c in components), Decimal(0))
    if abs(total - 1) > WEIGHT_TOLERANCE:
        raise ValueError(f"component weights sum to {total}, not 1")


def weighted_average(components: Iterable[Component], values: Mapping[str, Decimal]) -> Decimal:
    """The index value from its components' values (every component must have one)."""
    total = Decimal(0)
    weights = Decimal(0)
    for component in components:
        total += component.weight * values[component.symbol]
        weights += component.weight
    if weights <= 0:
        raise ValueError("no weight to average over")
    return blending.to_cents(blending.clamp(total / weights))


def parse(raw: Iterable[Mapping[str, object]]) -> list[Component]:
    """Components as stored in `stocks.components` (JSON objects with symbol and weight)."""
    return [
        Component(symbol=str(item["symbol"]), weight=Decimal(str(item["weight"]))) for item in raw
    ]


def dump(components: Iterable[Component]) -> list[dict[str, str]]:
    return [{"symbol": c.symbol, "weight": str(c.weight)} for c in components]


def containing(symbol: str, indexes: Mapping[str, Sequence[Component]]) -> list[str]:
    """Index symbols that list `symbol` among their components, sorted for stable order."""
    return sorted(name for name, comps in indexes.items() if any(c.symbol == symbol for c in comps))
