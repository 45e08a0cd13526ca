"""Orderbook: a deterministic, durable matching engine behind gRPC."""
