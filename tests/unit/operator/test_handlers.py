"""The kopf edge, as far as it goes without a cluster: converters and registration."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import kopf
from aiohttp.test_utils import make_mocked_request

from em_operator import metrics, serving
from em_operator.handlers import migrations, observing, registry, rollback
from em_operator.runbook import naming, observed


def deployment(**status: object) -> dict[str, object]:
    return {
        "metadata": {"generation": 3},
        "spec": {"replicas": 2, "template": {"spec": {"containers": [{"image": "em:1"}]}}},
        "status": {"observedGeneration": 3, **status},
    }


def test_deployment_state() -> None:
    state = observing.workload_state(
        deployment(updatedReplicas=2, readyReplicas=2, availableReplicas=2)
    )
    assert state.rolled_out("em:1", 2) and state.serving()
    stale = observing.workload_state({**deployment(), "metadata": {"generation": 4}})
    assert not stale.current
    verdict = {"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded",
               "lastUpdateTime": "2025-01-01T00:00:10Z"}  # fmt: skip
    stuck = observing.workload_state(deployment(conditions=[verdict]))
    assert stuck.stuck_since == datetime(2025, 1, 1, 0, 0, 10, tzinfo=UTC)
    replaced = observing.workload_state(
        {**deployment(conditions=[verdict]), "metadata": {"generation": 4}}
    )
    assert replaced.stuck_since is None  # that verdict was about the previous template
    assert observing.workload_state(None) == observed.WorkloadState()


def test_statefulset_is_current_only_when_every_pod_is_on_the_update_revision() -> None:
    rolling = deployment(currentRevision="ob-1", updateRevision="ob-2")
    assert not observing.workload_state(rolling, stateful=True).current
    done = deployment(currentRevision="ob-2", updateRevision="ob-2")
    assert observing.workload_state(done, stateful=True).current


def pod(message: str, finished: str) -> dict[str, object]:
    return {
        "status": {
            "containerStatuses": [
                {"state": {"terminated": {"message": message, "finishedAt": finished}}}
            ]
        }
    }


def test_job_states_and_the_newest_termination_message() -> None:
    pods = [pod("old", "2025-01-01T00:00:00Z"), pod('{"head": "b1"}', "2025-01-01T00:01:00Z")]
    done = migrations.job_state({"status": {"succeeded": 1}}, pods)
    assert done == observed.JobState(observed.JobPhase.SUCCEEDED, '{"head": "b1"}')
    failed = migrations.job_state(
        {
            "status": {
                "failed": 1,
                "conditions": [
                    {"type": "Failed", "status": "True", "message": "BackoffLimitExceeded"}
                ],
            }
        },
        [],
    )
    assert failed == observed.JobState(observed.JobPhase.FAILED, "BackoffLimitExceeded")
    assert migrations.job_state({"status": {"active": 1}}, []).phase == observed.JobPhase.ACTIVE


def test_decode_app_secret() -> None:
    data = {"JWT_SECRET": base64.b64encode(b"s3cret").decode()}
    assert observing.decode(data) == {"JWT_SECRET": "s3cret"}


def test_handlers_are_registered_for_the_market_and_what_it_owns() -> None:
    assert registry.worker.run_market and registry.rollback.on_rollback_requested
    default = kopf.get_default_registry()
    daemons = {str(h.id) for h in default._spawning.get_all_handlers()}
    assert any("run_market" in i for i in daemons)
    changing = {str(h.id) for h in default._changing.get_all_handlers()}
    assert any("on_rollback_requested" in i for i in changing)
    watched = {h.selector.any_name for h in default._watching.get_all_handlers() if h.selector}
    assert {"deployments", "statefulsets", "jobs", "secrets", naming.PLURAL} <= watched


async def test_metrics_endpoint_reports_the_phase_per_market() -> None:
    metrics.set_phase("shop", "market", "Ready")
    response = await serving.metrics(make_mocked_request("GET", "/metrics"))
    text = response.body.decode() if isinstance(response.body, bytes) else ""
    assert 'em_operator_market_phase{market="market",namespace="shop",phase="Ready"} 1.0' in text
    assert (await serving.healthz(make_mocked_request("GET", "/healthz"))).status == 200
    metrics.forget("shop", "market")


def test_the_image_catalog_knows_the_repository_migrations() -> None:
    catalog = rollback.image_catalog()
    heads = [r for r in catalog.parents if not any(r in p for p in catalog.parents.values())]
    assert len(heads) == 1
    roots = [r for r, parents in catalog.parents.items() if not parents]
    assert catalog.undone(heads[0], roots[0]) is not None or heads == roots
