"""A pretend cluster for driving the pure rollout planner through whole runbooks.

It plays the API server and the controllers just enough: applied workloads
take the planned image and start unready, created Jobs start active, status
patches are merged (RFC 7386) and checked against the CRD's status schema.
The test decides when Jobs finish and pods become ready, and moves the clock.
"""

from __future__ import annotations

import base64
import copy
import itertools
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from em_operator.runbook import migrations, naming, observed, plans, rollout
from tests.support import openapi

T0 = datetime(2025, 11, 22, 12, 0, tzinfo=UTC)
DATABASE_SECRET = {"market-db": frozenset({"DATABASE_URL"})}
WORKLOAD_KINDS = ("Deployment", "StatefulSet")


def merge_patch(target: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def base_spec(version: str = "1.0.0", **extra: Any) -> dict[str, Any]:
    return {"version": version, "database": {"secretRef": {"name": "market-db"}}, **extra}


class MarketWorld:
    def __init__(self, spec: dict[str, Any] | None = None, namespace: str = "shop") -> None:
        self.market = naming.MarketRef("market", namespace, "uid-0001", 1)
        self.spec: dict[str, Any] = spec or base_spec()
        self.status: dict[str, Any] = {}
        self.now = T0
        self.secrets: dict[str, frozenset[str]] = dict(DATABASE_SECRET)
        self.config_maps: dict[str, frozenset[str]] = {}
        self.app_secret: dict[str, str] | None = None
        self.jobs: dict[str, observed.JobState] = {}
        self.job_manifests: dict[str, dict[str, Any]] = {}
        self.created_jobs: list[str] = []
        self.workloads: dict[str, observed.WorkloadState] = {}
        self.events: list[plans.Event] = []
        self.catalog = migrations.MigrationCatalog()
        self.last_plan = plans.Plan()
        self._tokens = itertools.count(1)
        schema = openapi.root_schema(openapi.load_crd("everythingmarkets"))
        self.status_schema = schema["properties"]["status"]

    # -- the operator's view ----------------------------------------------------------------

    def observed(self) -> observed.Observed:
        return observed.Observed(
            secrets=dict(self.secrets),
            config_maps=dict(self.config_maps),
            app_secret=None if self.app_secret is None else dict(self.app_secret),
            workloads=dict(self.workloads),
            jobs=dict(self.jobs),
        )

    def inputs(self) -> rollout.Inputs:
        return rollout.Inputs(
            market=self.market,
            spec=copy.deepcopy(self.spec),
            status=copy.deepcopy(self.status),
            observed=self.observed(),
            now=self.now,
            token=lambda: f"token-{next(self._tokens)}",
            catalog=self.catalog,
        )

    def reconcile(self) -> plans.Plan:
        plan = rollout.plan(self.inputs())
        for manifest in plan.apply:
            self._apply(manifest)
        self.status = merge_patch(self.status, plan.status)
        problems = openapi.validate(self.status_schema, self.status, ".status")
        assert not problems, problems
        self.events.extend(plan.events)
        self.last_plan = plan
        return plan

    def _apply(self, manifest: dict[str, Any]) -> None:
        kind, name = manifest["kind"], manifest["metadata"]["name"]
        if kind == "Job":
            assert name not in self.jobs, f"Job {name} created twice"
            self.jobs[name] = observed.JobState(observed.JobPhase.ACTIVE)
            self.job_manifests[name] = manifest
            self.created_jobs.append(name)
        elif kind == "Secret":
            self.app_secret = {k: base64.b64decode(v).decode() for k, v in manifest["data"].items()}
        elif kind in WORKLOAD_KINDS:
            component = manifest["metadata"]["labels"][naming.LABEL_COMPONENT]
            image = manifest["spec"]["template"]["spec"]["containers"][0]["image"]
            replicas = manifest["spec"]["replicas"]
            state = self.workloads.get(component)
            if state is None or state.image != image or state.replicas != replicas:
                keep = 0 if state is None or state.image != image else state.available
                self.workloads[component] = observed.WorkloadState(
                    image=image, replicas=replicas, updated=0, ready=keep, available=keep
                )

    # -- playing the kubelet and the clock ----------------------------------------------------

    def active_job(self, action: str) -> str:
        names = [
            n
            for n in self.created_jobs
            if self.jobs[n].phase == observed.JobPhase.ACTIVE
            and self.job_manifests[n]["metadata"]["labels"][naming.LABEL_COMPONENT] == action
        ]
        assert len(names) == 1, f"expected one active {action} Job, found {names}"
        return names[0]

    def finish_job(self, action: str, ok: bool = True, message: str = "") -> str:
        name = self.active_job(action)
        phase = observed.JobPhase.SUCCEEDED if ok else observed.JobPhase.FAILED
        self.jobs[name] = observed.JobState(phase, message)
        return name

    def pods_ready(self, *components: str) -> None:
        for component in components or tuple(self.workloads):
            state = self.workloads[component]
            self.workloads[component] = replace(
                state, updated=state.replicas, ready=state.replicas, available=state.replicas
            )

    def tick(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)

    def edit_spec(self, **changes: Any) -> None:
        self.spec = merge_patch(self.spec, changes)
        self.market = replace(self.market, generation=self.market.generation + 1)

    # -- whole procedures ---------------------------------------------------------------------

    def install(self, version: str = "1.0.0", head: str = "a1") -> None:
        """Drive a fresh market to Ready on `version` with database head `head`."""
        self.edit_spec(version=version) if self.spec["version"] != version else None
        self.reconcile()
        self.finish_job("migrate", message=head)
        self.reconcile()
        self.pods_ready()
        self.reconcile()
        self.finish_job("smoke")
        self.reconcile()
        assert self.status["phase"] == "Ready", self.status

    def reasons(self) -> list[str]:
        return [event.reason for event in self.events]

    def condition(self, type_: str) -> dict[str, Any]:
        for item in self.status.get("conditions", []):
            if item["type"] == type_:
                return dict(item)
        raise KeyError(type_)
