"""The migrate, downgrade and smoke Jobs."""

from __future__ import annotations

from em_operator.runbook import jobs, naming, specs

MARKET = naming.MarketRef("market", "shop", "uid-1", 4)
SPEC = specs.parse({"version": "2.0.0", "database": {"secretRef": {"name": "db"}}})


def main(request: jobs.JobRequest) -> dict[str, object]:
    job = jobs.build(MARKET, SPEC, request)
    (container,) = job["spec"]["template"]["spec"]["containers"]
    return dict(container)


def test_migrate_job_reports_the_head_through_the_termination_log() -> None:
    request = jobs.JobRequest(jobs.MIGRATE, 3, "2.0.0", 4)
    job = jobs.build(MARKET, SPEC, request)
    container = main(request)
    assert container["image"] == "ghcr.io/everything-market/em:2.0.0"
    assert container["args"] == ["migrate", "upgrade", "head"]
    assert "command" not in container  # the image's ENTRYPOINT is `tini -- em`
    assert container["terminationMessagePath"] == "/dev/termination-log"
    assert container["terminationMessagePolicy"] == "FallbackToLogsOnError"
    assert container["env"] == [
        {"name": "HOME", "value": "/tmp"},
        {
            "name": "DATABASE_URL",
            "valueFrom": {"secretKeyRef": {"name": "db", "key": "DATABASE_URL"}},
        },
    ]
    assert job["spec"]["backoffLimit"] == 0
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"
    assert job["metadata"]["labels"][naming.LABEL_REVISION] == "3"


def test_downgrade_job_targets_a_head_with_the_image_it_is_given() -> None:
    request = jobs.JobRequest(jobs.DOWNGRADE, 5, "2.0.0", 4, "a1b2c3", allow_data_loss=True)
    assert main(request)["args"] == ["migrate", "downgrade", "a1b2c3", "--allow-data-loss"]
    assert main(request)["image"] == "ghcr.io/everything-market/em:2.0.0"


def test_smoke_job_knows_every_endpoint_and_gets_no_secrets() -> None:
    container = main(jobs.JobRequest(jobs.SMOKE, 5, "2.0.0", 4, "upgrade"))
    assert container["args"] == [
        "smoke",
        "--backend",
        "http://market-backend.shop.svc:8000",
        "--orderbook-http",
        "http://market-orderbook-0.market-orderbook.shop.svc:8001",
        "--orderbook-grpc",
        "market-orderbook-0.market-orderbook.shop.svc:50051",
    ]
    assert container["env"] == [{"name": "HOME", "value": "/tmp"}]


def test_names_are_deterministic_and_differ_per_attempt() -> None:
    base = jobs.JobRequest(jobs.MIGRATE, 3, "2.0.0", 4)
    assert jobs.name(MARKET, base) == jobs.name(
        MARKET, jobs.JobRequest(jobs.MIGRATE, 3, "2.0.0", 4)
    )
    others = {
        jobs.name(MARKET, jobs.JobRequest(jobs.MIGRATE, 4, "2.0.0", 4)),
        jobs.name(MARKET, jobs.JobRequest(jobs.MIGRATE, 3, "2.0.1", 4)),
        jobs.name(MARKET, jobs.JobRequest(jobs.MIGRATE, 3, "2.0.0", 5)),
        jobs.name(MARKET, jobs.JobRequest(jobs.SMOKE, 3, "2.0.0", 4, "upgrade")),
        jobs.name(MARKET, jobs.JobRequest(jobs.SMOKE, 3, "2.0.0", 4, "rollback")),
    }
    assert jobs.name(MARKET, base) not in others and len(others) == 5
    assert jobs.name(MARKET, base).startswith("market-migrate-r3-")
