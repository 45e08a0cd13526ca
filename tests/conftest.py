"""Fixture plugins for the whole suite: real PostgreSQL, NATS, Kubernetes control plane."""

pytest_plugins = [
    "tests.support.nats_fixtures",
]
