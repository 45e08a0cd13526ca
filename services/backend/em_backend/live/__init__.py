"""Live updates: the per-replica WebSocket hub and the NATS fan-out between replicas."""
