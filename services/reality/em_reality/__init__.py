"""Reality Engine: sources, fetch, extract, match, dedupe, score, LLM, signed events."""
