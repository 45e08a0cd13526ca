"""Deterministic identifiers: the same story and symbol always give the same event id.

The event id is the JetStream ``Nats-Msg-Id`` and the backend's unique ``events.event_id``, so
re-processing a feed after a restart must reproduce it exactly; hence no clocks or randomness.
"""

from __future__ import annotations

import hashlib
import uuid

from em_reality import articles

EVENT_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_OID, "everything-market.reality.event")


def cluster_id(first_article_url: str) -> str:
    """A story's id: the sha256 prefix of its first article's canonical URL."""
    canonical = articles.canonical_url(first_article_url)
    return hashlib.sha256(f"story:{canonical}".encode()).hexdigest()[:32]


def event_id(story_cluster_id: str, symbol: str) -> str:
    """The reality event id for one story and one symbol (a UUIDv5 string)."""
    return str(uuid.uuid5(EVENT_NAMESPACE, f"{story_cluster_id}:{symbol.strip().upper()}"))
