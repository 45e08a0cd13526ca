"""The Reality Engine's own tables (the outbox and the seen-set)."""
