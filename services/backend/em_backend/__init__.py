"""Backend: market API, reality ingest, blending, review, accounts, settlement, live updates."""
