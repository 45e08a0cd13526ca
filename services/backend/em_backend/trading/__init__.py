"""Traders' money: reservations, orders over gRPC, settlement, the live order feed."""
