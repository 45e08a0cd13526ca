"""Spec parsing: defaults, and errors that name the offending field."""

from __future__ import annotations

from typing import Any

import pytest

from em_operator import errors
from em_operator.runbook import specs


def spec(**extra: Any) -> dict[str, Any]:
    return {"version": "1.0.0", "database": {"secretRef": {"name": "db"}}, **extra}


def test_minimal_spec_gets_every_default() -> None:
    parsed = specs.parse(spec())
    assert parsed.image_for("1.0.0") == "ghcr.io/everything-market/em:1.0.0"
    assert parsed.database == specs.SecretKeyRef("db", "DATABASE_URL")
    assert (parsed.backend.replicas, parsed.orderbook.replicas) == (2, 1)
    assert parsed.reality.component.replicas == 1
    assert parsed.backend.resources.requests == {"cpu": "100m", "memory": "256Mi"}
    assert parsed.rollback == specs.RollbackPolicy()
    assert parsed.nats_url == "nats://nats:4222"


def test_requests_given_keep_the_missing_ones_defaulted() -> None:
    parsed = specs.parse(
        spec(backend={"resources": {"requests": {"cpu": "1"}, "limits": {"memory": "1Gi"}}})
    )
    assert parsed.backend.resources.requests == {"cpu": "1", "memory": "256Mi"}
    assert parsed.backend.resources.limits == {"memory": "1Gi"}


@pytest.mark.parametrize(
    ("text", "seconds"), [("90s", 90), ("5m", 300), ("1h30m", 5400), ("2h", 7200)]
)
def test_durations(text: str, seconds: int) -> None:
    assert specs.parse_duration(text, "x") == seconds


@pytest.mark.parametrize("text", ["", "5", "0s", "5 m", "1d"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(errors.InvalidSpec):
        specs.parse_duration(text, "spec.reality.pollInterval")


@pytest.mark.parametrize(
    ("raw", "field", "reason"),
    [
        ({"version": "1.0.0"}, "spec.database.secretRef", "DatabaseSecretMissing"),
        (spec(version="bad tag"), "spec.version", "InvalidSpec"),
        (spec(backend={"replicas": -1}), "spec.backend.replicas", "InvalidSpec"),
        (spec(reality={"replicas": 2}), "spec.reality.replicas", "InvalidSpec"),
        (spec(orderbook={"shards": 0}), "spec.orderbook.shards", "InvalidSpec"),
        (spec(ingress={"enabled": True}), "spec.ingress.host", "InvalidSpec"),
        (spec(rollback={"toRevision": 0}), "spec.rollback.toRevision", "InvalidSpec"),
        (spec(image={"pullPolicy": "Sometimes"}), "spec.image.pullPolicy", "InvalidSpec"),
        (spec(backend={"extraEnv": [{"value": "x"}]}), "spec.backend.extraEnv[0]", "InvalidSpec"),
        (spec(rollback={"automatic": "yes"}), "spec.rollback.automatic", "InvalidSpec"),
    ],
)
def test_invalid_specs_name_the_field(raw: dict[str, Any], field: str, reason: str) -> None:
    with pytest.raises(errors.InvalidSpec) as caught:
        specs.parse(raw)
    assert caught.value.field == field and caught.value.reason == reason


def test_orderbook_replicas_are_the_shard_count() -> None:
    assert specs.parse(spec(orderbook={"shards": 4})).orderbook.replicas == 4
