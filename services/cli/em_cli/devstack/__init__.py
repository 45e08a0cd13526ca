"""Local stand-ins for the platform: embedded PostgreSQL, a JetStream NATS server, and a
supervisor for the services. Used by `make up` and by the test fixtures alike, so what the
tests run is what a developer runs."""
