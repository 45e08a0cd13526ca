"""The checks every incoming reality event passes before anything is written.

Signature first (nothing else is looked at for an unsigned body), then the payload, then
replay protection. Each refusal is an IngestRejected whose `reason` is a metrics label;
messages never include the secret or the offered signature.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pydantic

from em_backend import errors
from em_backend.domain import freshness
from em_backend.models import text
from em_common import contracts, signing
from em_common import errors as common_errors

BAD_SIGNATURE = "bad_signature"
INVALID_PAYLOAD = "invalid_payload"
STALE_TIMESTAMP = "stale_timestamp"
UNKNOWN_SYMBOL = "unknown_symbol"
MAX_BODY_BYTES = 256 * 1024


def verify_signature(body: bytes, signature: str | None, secrets: list[str]) -> None:
    """Accept the raw body's signature, or the signature of its canonical JSON form.

    Publishers sign canonical JSON (em_common.signing); an external client whose HTTP
    library re-serialised the body still verifies, as long as the content is identical.
    """
    try:
        signing.verify(body, signature, secrets)
        return
    except common_errors.SignatureError as exc:
        first = exc
    try:
        parsed = json.loads(body)
    except ValueError:
        raise errors.IngestRejected(BAD_SIGNATURE, str(first)) from None
    canonical = signing.canonical_json(parsed) if isinstance(parsed, dict) else body
    if canonical == body:
        raise errors.IngestRejected(BAD_SIGNATURE, str(first)) from None
    try:
        signing.verify(canonical, signature, secrets)
    except common_errors.SignatureError as exc:
        raise errors.IngestRejected(BAD_SIGNATURE, str(exc)) from None


def parse(body: bytes) -> contracts.RealityEvent:
    if len(body) > MAX_BODY_BYTES:
        raise errors.IngestRejected(INVALID_PAYLOAD, "event body is too large")
    try:
        event = contracts.RealityEvent.model_validate_json(body)
    except pydantic.ValidationError as exc:
        fields = sorted({".".join(str(p) for p in e["loc"]) or "body" for e in exc.errors()})
        raise errors.IngestRejected(
            INVALID_PAYLOAD, f"invalid event: {', '.join(fields)}"
        ) from None
    if not text.all_storable(event.model_dump(mode="json")):
        raise errors.IngestRejected(INVALID_PAYLOAD, "invalid event: NUL or lone surrogate")
    return event


def check_fresh(event: contracts.RealityEvent, received_at: datetime, max_skew: timedelta) -> None:
    if not freshness.within_skew(event.timestamp, received_at, max_skew):
        raise errors.IngestRejected(
            STALE_TIMESTAMP,
            f"timestamp {event.timestamp.isoformat()} is more than "
            f"{int(max_skew.total_seconds())} s from {received_at.isoformat()}",
        )


def verified_event(
    body: bytes,
    signature: str | None,
    secrets: list[str],
    received_at: datetime,
    max_skew: timedelta,
) -> contracts.RealityEvent:
    """Signature, payload and freshness in that order; the validated event."""
    verify_signature(body, signature, secrets)
    event = parse(body)
    check_fresh(event, received_at, max_skew)
    return event
