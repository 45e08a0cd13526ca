"""The trader's web UI: static ES modules served by the backend, no build step."""
