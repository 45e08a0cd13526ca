"""Checks that must pass before the operator touches anything.

A missing Secret is the runbook's "Backend won't start: verify DATABASE_URL is
set"; here it becomes a condition reason naming the Secret and key, before any
pod crash-loops on it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from em_operator.runbook import observed, specs

DATABASE_SECRET_MISSING = "DatabaseSecretMissing"
DATABASE_SECRET_KEY_MISSING = "DatabaseSecretKeyMissing"
LLM_SECRET_MISSING = "LLMSecretMissing"
SOURCES_CONFIG_MAP_MISSING = "SourcesConfigMapMissing"


@dataclass(frozen=True)
class Problem:
    reason: str
    message: str


def referenced_secrets(spec: specs.MarketSpec) -> list[str]:
    """The Secrets the handlers must look up (names only; values stay unread)."""
    names = [spec.database.name]
    if spec.reality.llm.api_key is not None:
        names.append(spec.reality.llm.api_key.name)
    return sorted(set(names))


def referenced_config_maps(spec: specs.MarketSpec) -> list[str]:
    source = spec.reality.sources_config_map
    return [] if source is None else [source.name]


def _missing(found: Mapping[str, frozenset[str]], ref: specs.SecretKeyRef) -> str | None:
    keys = found.get(ref.name)
    if keys is None:
        return "absent"
    return None if ref.key in keys else "key"


def check(spec: specs.MarketSpec, world: observed.Observed, namespace: str) -> Problem | None:
    secrets = world.secrets
    database = spec.database
    missing = _missing(secrets, database)
    if missing == "absent":
        return Problem(
            DATABASE_SECRET_MISSING,
            f"Secret {namespace}/{database.name} (spec.database.secretRef) does not "
            "exist; create it with the database URL under key "
            f"{database.key}",
        )
    if missing == "key":
        return Problem(
            DATABASE_SECRET_KEY_MISSING,
            f"Secret {namespace}/{database.name} has no key {database.key} "
            "(spec.database.secretRef.key)",
        )
    api_key = spec.reality.llm.api_key
    if api_key is not None and _missing(secrets, api_key) is not None:
        return Problem(
            LLM_SECRET_MISSING,
            f"Secret {namespace}/{api_key.name} with key {api_key.key} "
            "(spec.reality.llm.apiKeySecretRef) is missing",
        )
    source = spec.reality.sources_config_map
    if source is not None and _missing(world.config_maps, source) is not None:
        return Problem(
            SOURCES_CONFIG_MAP_MISSING,
            f"ConfigMap {namespace}/{source.name} with key {source.key} "
            "(spec.reality.sourcesConfigMap) is missing",
        )
    return None
