"""The full set of objects a market should own at one moment.

`version` is the version that should be serving now (see `rollout.serving_version`);
None means nothing has been migrated yet, so only the objects that cannot run
code are produced: the workloads wait for the first migration.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from em_operator.runbook import naming, objects, specs, workloads

Manifest = dict[str, Any]


def build(
    market: naming.MarketRef,
    spec: specs.MarketSpec,
    version: str | None,
    app_secret: Mapping[str, str] | None,
    token: Callable[[], str],
    maintenance: Mapping[str, Any],
) -> list[Manifest]:
    """Objects in apply order: identities and config first, workloads, then the edge."""
    result: list[Manifest] = [objects.service_account(market)]
    if app_secret is None or any(not app_secret.get(k) for k in objects.APP_SECRET_KEYS):
        # Only written when something is missing: rotation (part of the secrets
        # runbook) is the one place that replaces existing values.
        result.append(objects.app_secret(market, app_secret, token))
    result.append(objects.config_map(market, spec))
    result.append(objects.control_map(market, maintenance))
    result.extend(objects.services(market))
    if version is not None:
        result.append(workloads.orderbook(market, spec, version))
        result.append(workloads.backend(market, spec, version))
        result.append(workloads.reality(market, spec, version))
        result.extend(objects.pod_disruption_budgets(market, spec))
    ingress = objects.ingress(market, spec)
    if ingress is not None:
        result.append(ingress)
    return result


def replicas(spec: specs.MarketSpec) -> dict[str, int]:
    return {
        "backend": spec.backend.replicas,
        "orderbook": spec.orderbook.replicas,
        "reality": spec.reality.component.replicas,
    }
