"""Fixture plugins for the whole suite: real PostgreSQL, NATS, Kubernetes control plane."""

pytest_plugins = [
    "tests.support.pg_fixtures",
    "tests.support.nats_fixtures",
    "tests.support.kube_fixtures",
]
