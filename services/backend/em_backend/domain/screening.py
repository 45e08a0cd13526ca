"""Anti-manipulation: which reality impacts are held for an admin instead of applied.

Two rules from the seed (ARCHITECTURE §6): a single move larger than SUSPICIOUS_DELTA, and
one source accounting for more than MAX_SINGLE_SOURCE_INFLUENCE_24H of a symbol's absolute
impact over the last 24 h. The share rule only bites once the symbol has moved more than
`share_floor` points in the window: otherwise the very first event on a quiet symbol would
be "100 % one source" and every fresh listing would need an admin.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

DELTA_REASON = "delta_exceeds_threshold"
SHARE_REASON = "single_source_share"


@dataclass(frozen=True)
class Verdict:
    suspicious: bool
    reason: str | None = None
    detail: str = ""


@dataclass(frozen=True)
class Rules:
    suspicious_delta: Decimal
    max_source_share: Decimal
    share_floor: Decimal


def screen(
    delta: Decimal,
    source: str,
    window_impact_by_source: Mapping[str, Decimal],
    rules: Rules,
) -> Verdict:
    """Decide for one symbol; `window_impact_by_source` holds absolute impacts in 24 h."""
    if abs(delta) > rules.suspicious_delta:
        return Verdict(
            True,
            DELTA_REASON,
            f"|delta| {abs(delta)} exceeds {rules.suspicious_delta}",
        )
    total = sum((abs(v) for v in window_impact_by_source.values()), Decimal(0)) + abs(delta)
    if total <= rules.share_floor:
        return Verdict(False)
    mine = abs(window_impact_by_source.get(source, Decimal(0))) + abs(delta)
    share = mine / total
    if share > rules.max_source_share:
        return Verdict(
            True,
            SHARE_REASON,
            f"source {source} would hold {share:.0%} of {total} points in 24 h",
        )
    return Verdict(False)
