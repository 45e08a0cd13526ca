"""The one-off Jobs of a rollout: migrate, downgrade and smoke test.

A Job's name is `<market>-<action>-r<revision>-<hash>`, where the hash covers
the image, the target and the generation that asked for it. A restarted
operator recomputes the same name from `status.rollout` and finds the Job it
already created (running, succeeded or failed) instead of starting a second one.

The downgrade Job runs the *newer* image: only it knows the migrations being
undone (the old image has never heard of them; helm/helm#5825 is this bug).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from em_operator.runbook import naming, pods, specs

Manifest = dict[str, Any]

TERMINATION_LOG = "/dev/termination-log"
TTL_SECONDS = 86_400

MIGRATE = "migrate"
DOWNGRADE = "downgrade"
SMOKE = "smoke"


@dataclass(frozen=True)
class JobRequest:
    """What a Job must do; its name and manifest follow from it deterministically."""

    action: str
    revision: int
    version: str
    generation: int
    target: str = ""  # migration head for a downgrade; purpose ("upgrade"/"rollback") for smoke
    allow_data_loss: bool = False


def name(market: naming.MarketRef, request: JobRequest) -> str:
    return naming.job(
        market,
        request.action,
        request.revision,
        request.version,
        request.target,
        request.generation,
        request.allow_data_loss,
    )


def _args(market: naming.MarketRef, spec: specs.MarketSpec, request: JobRequest) -> list[str]:
    """`em migrate` writes the resulting head to the termination log by itself."""
    if request.action == MIGRATE:
        return ["migrate", "upgrade", "head"]
    if request.action == DOWNGRADE:
        # Without --allow-data-loss `em migrate downgrade` refuses to undo a revision
        # marked (or not marked) data_loss_on_downgrade: the newer image knows them all.
        args = ["migrate", "downgrade", request.target]
        return [*args, "--allow-data-loss"] if request.allow_data_loss else args
    if request.action == SMOKE:
        ns = market.namespace
        shard = f"{naming.component(market, 'orderbook')}-0.{naming.component(market, 'orderbook')}"
        return [
            "smoke",
            "--backend",
            f"http://{naming.component(market, 'backend')}.{ns}.svc:{naming.BACKEND_PORT}",
            "--orderbook-http",
            f"http://{shard}.{ns}.svc:{naming.ORDERBOOK_HTTP_PORT}",
            "--orderbook-grpc",
            naming.orderbook_addresses(market, spec.orderbook.replicas)[0],
        ]
    raise ValueError(f"unknown job action {request.action!r}")


def build(market: naming.MarketRef, spec: specs.MarketSpec, request: JobRequest) -> Manifest:
    # The smoke test only talks HTTP and gRPC to the market: it gets no secrets.
    env = [] if request.action == SMOKE else [pods.database_env(spec)]
    main = pods.container(
        request.action,
        spec,
        request.version,
        _args(market, spec, request),
        env,
        spec.backend.resources,
    )
    main["terminationMessagePath"] = TERMINATION_LOG
    pod = pods.pod_spec(market, spec, [main], restart_policy="Never")
    labels = naming.labels(market, request.action, request.version)
    labels[naming.LABEL_REVISION] = str(request.revision)
    meta = naming.metadata(market, name(market, request), request.action, request.version)
    meta["labels"] = labels
    body = {
        # A failed migration is not retried blindly: the rollout decides what follows.
        "backoffLimit": 0,
        "activeDeadlineSeconds": spec.rollback.progress_deadline_seconds,
        "ttlSecondsAfterFinished": TTL_SECONDS,
        "template": {"metadata": {"labels": labels}, "spec": pod},
    }
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": meta, "spec": body}
