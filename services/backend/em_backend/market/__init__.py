"""Market-side inputs of the Final Price: the orderbook client and the in-memory quotes."""
