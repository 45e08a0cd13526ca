"""The operator SIGKILLed in the middle of a rollback: the restarted one finishes it, once."""

from __future__ import annotations

import pytest

from tests.support.markets import JobResult, Market, PlayedKubelet, install, wait_for
from tests.support.operator_process import OperatorProcess

pytestmark = [pytest.mark.k8s, pytest.mark.slow]


def test_rollback_interrupted_twice_completes_once(
    operator: OperatorProcess, played: PlayedKubelet, db_secret: str, market: Market
) -> None:
    install(market)
    market.patch({"version": "2.0.0"})
    market.wait_status(
        "2.0.0 Ready", lambda s: s.get("currentVersion") == "2.0.0" and s["phase"] == "Ready"
    )
    market.patch({"rollback": {"toRevision": 1}})

    # Killed while the downgrade Job runs; the Job finishes while no operator is there.
    downgrade = market.wait_job("downgrade", revision=3, timeout=10)
    market.wait_status("step Downgrading recorded",
                       lambda s: (s.get("rollout") or {}).get("step") == "Downgrading")  # fmt: skip
    operator.kill()
    played.unready.add("1.0.0")  # and the old version's pods will take their time
    played.finish_job(downgrade["metadata"]["name"], JobResult(True))
    wait_for(
        "the downgrade Job complete",
        lambda: any(
            c["type"] == "Complete" and c["status"] == "True"
            for j in market.jobs("downgrade")
            for c in j.get("status", {}).get("conditions", [])
        ),
    )
    operator.start()

    # Killed again while rolling the workloads back.
    market.wait_status(
        "step RollingBack", lambda s: (s.get("rollout") or {}).get("step") == "RollingBack"
    )
    operator.kill()
    played.unready.clear()
    operator.start()

    status = market.wait_status(
        "revision 3 Ready", lambda s: s.get("currentRevision") == 3 and s["phase"] == "Ready"
    )
    assert status["currentVersion"] == "1.0.0"
    assert len(market.jobs("downgrade")) == 1  # found again, never recreated
    assert len(market.jobs("smoke")) == 3  # revisions 1, 2 and 3: one each
    assert [h["revision"] for h in status["history"]] == [1, 2, 3]
    succeeded = market.wait_event("RollbackSucceeded")
    assert sum(int(e.get("count") or 1) for e in succeeded) == 1
    assert operator.starts == 3
