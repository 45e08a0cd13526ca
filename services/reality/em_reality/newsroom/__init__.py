"""A demo newsroom: a small local news site that publishes a fictional article every few seconds.

DEMO CONTENT ONLY. The corpus (`corpus.json`) is fiction written for the Everything Market
demo, about the demo symbols (ELON, the AI_INDEX components, TECH); every page says so. It
lets `make up` show reality moving with no network: an RSS feed with article pages for the
`html` path, and one page rendered by JavaScript for the Chromium path.
"""

from __future__ import annotations
