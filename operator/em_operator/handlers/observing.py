"""What the cluster looks like to the planner: reads, reduced to `runbook.observed`.

The readers call the API; the converters below them are pure functions of the
API's JSON, so they are unit-tested without a cluster. Only key names of the
referenced Secrets are read, except the market's own app Secret, whose values
the planner keeps when it fills in missing keys.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Mapping
from typing import Any

from kubernetes.client.exceptions import ApiException

from em_operator.handlers import clients as clients_
from em_operator.handlers import migrations
from em_operator.runbook import conditions, naming, observed, prerequisites, specs

logger = logging.getLogger(__name__)


def workload_state(obj: Mapping[str, Any] | None, stateful: bool = False) -> observed.WorkloadState:
    if not obj:
        return observed.WorkloadState()
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    containers = (((spec.get("template") or {}).get("spec") or {}).get("containers")) or [{}]
    generation = (obj.get("metadata") or {}).get("generation") or 0
    current = (status.get("observedGeneration") or 0) >= generation
    if stateful:
        current = current and status.get("currentRevision") == status.get("updateRevision")
    stuck_since = None
    for cond in status.get("conditions") or []:
        if (
            current  # else the verdict is about the template this one replaced
            and cond.get("type") == "Progressing"
            and cond.get("status") == "False"
            and cond.get("reason") == "ProgressDeadlineExceeded"
        ):
            stamp = cond.get("lastUpdateTime") or cond.get("lastTransitionTime")
            stuck_since = conditions.parse_time(str(stamp)) if stamp else None
    return observed.WorkloadState(
        image=containers[0].get("image"),
        replicas=int(spec.get("replicas", 1)),
        updated=int(status.get("updatedReplicas") or 0),
        ready=int(status.get("readyReplicas") or 0),
        available=int(status.get("availableReplicas") or 0),
        current=current,
        stuck_since=stuck_since,
    )


def decode(data: Mapping[str, str] | None) -> dict[str, str]:
    return {k: base64.b64decode(v).decode() for k, v in (data or {}).items()}


def _read(call: Any, *args: Any) -> Any:
    try:
        return call(*args)
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise


def observe(
    api: clients_.Clients, market: naming.MarketRef, spec: specs.MarketSpec | None
) -> observed.Observed:
    """All reads at once (a pass's latency is the slowest read, not their sum)."""
    ns, pool = market.namespace, clients_.pool()
    secret_names = prerequisites.referenced_secrets(spec) if spec is not None else []
    map_names = prerequisites.referenced_config_maps(spec) if spec is not None else []
    secrets = {n: pool.submit(_read, api.core.read_namespaced_secret, n, ns) for n in secret_names}
    maps = {n: pool.submit(_read, api.core.read_namespaced_config_map, n, ns) for n in map_names}
    app = pool.submit(_read, api.core.read_namespaced_secret, naming.app_secret(market), ns)
    reads = {
        "backend": (api.apps.read_namespaced_deployment, False),
        "reality": (api.apps.read_namespaced_deployment, False),
        "orderbook": (api.apps.read_namespaced_stateful_set, True),
    }
    workloads = {
        name: pool.submit(_read, call, naming.component(market, name), ns)
        for name, (call, _) in reads.items()
    }
    jobs = pool.submit(migrations.read_jobs, api, market)
    app_secret = app.result()
    return observed.Observed(
        secrets={n: _keys(f.result()) for n, f in secrets.items() if f.result() is not None},
        config_maps={n: _keys(f.result()) for n, f in maps.items() if f.result() is not None},
        app_secret=None if app_secret is None else decode(app_secret.data),
        workloads={
            name: workload_state(
                None if future.result() is None else api.plain(future.result()), reads[name][1]
            )
            for name, future in workloads.items()
        },
        jobs=jobs.result(),
    )


def _keys(found: Any) -> frozenset[str]:
    return frozenset((found.data or {}).keys())
