"""HMAC-SHA256 signing of event payloads over canonical JSON bytes.

Canonical bytes (sorted keys, no whitespace, UTF-8) make the signature independent of how a
publisher happened to serialise the object. Verification accepts the current secret and,
during a rotation's grace period, the previous ones; comparison is constant-time.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from typing import Any

from em_common import errors


def canonical_json(payload: Mapping[str, Any]) -> bytes:
    """The one byte form of a JSON object that is signed and published."""
    return json.dumps(
        payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    ).encode("utf-8")


def sign(body: bytes, secret: str) -> str:
    """Hex HMAC-SHA256 of `body` under `secret`."""
    if not secret:
        raise errors.ConfigError("signing secret is empty")
    return hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def verify(body: bytes, signature: str | None, secrets: Iterable[str]) -> None:
    """Raise SignatureError unless `signature` matches `body` under one of `secrets`.

    Every listed secret is tried, so the time taken does not reveal which one matched.
    """
    if not signature:
        raise errors.SignatureError("signature header is missing")
    candidate = signature.strip().lower().encode("ascii", "replace")
    matched = False
    tried = 0
    for secret in secrets:
        if not secret:
            continue
        tried += 1
        expected = sign(body, secret).encode("ascii")
        matched |= hmac.compare_digest(expected, candidate)
    if tried == 0:
        raise errors.ConfigError("no signing secret is configured")
    if not matched:
        raise errors.SignatureError("signature does not match")


def fingerprint(secret: str) -> str:
    """A short, non-reversible name for a secret (for status and logs, never the value)."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()[:12]
