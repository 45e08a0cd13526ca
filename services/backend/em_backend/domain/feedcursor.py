"""The public reality feed's keyset cursor: where the last page stopped.

Events are listed by (decided_at, id) descending. Events of one ingest batch share their
`decided_at`, so a timestamp alone would skip or repeat events at a page boundary; the row
id breaks the tie and makes the order total. The cursor text is `<epoch µs>-<id>`: opaque
to clients, exact (no float, no time-zone rendering), and bounded by `PATTERN` so that every
string the pattern admits decodes to a valid datetime and a bigint.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

# ≤ 16 digits of microseconds stays below year 2287; ≤ 18 digits of id stays below 2**63.
PATTERN = r"^[0-9]{1,16}-[0-9]{1,18}$"
_COMPILED = re.compile(PATTERN)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


@dataclass(frozen=True)
class Cursor:
    at: datetime
    row_id: int


def encode(at: datetime, row_id: int) -> str:
    micros = (at.astimezone(UTC) - _EPOCH) // _MICROSECOND
    return f"{micros}-{row_id}"


def decode(text: str) -> Cursor:
    """The position a cursor names; ValueError when `text` is not one of ours."""
    if not _COMPILED.fullmatch(text):
        raise ValueError("not a feed cursor")
    micros, row_id = text.split("-")
    return Cursor(_EPOCH + int(micros) * _MICROSECOND, int(row_id))
