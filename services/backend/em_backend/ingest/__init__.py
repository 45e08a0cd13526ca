"""Reality ingest: one code path for the JetStream consumer and the HTTP endpoint."""
