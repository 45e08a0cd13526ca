"""The orderbook service: matching engine, gRPC server, journal and publisher."""
