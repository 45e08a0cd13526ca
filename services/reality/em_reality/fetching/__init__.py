"""Polite HTTP: one queue per domain, robots.txt, crawl delays, conditional GET, retries.

`domains` serialises requests to one origin and spaces them, `robots` reads and caches each
origin's rules, `fetcher` sends a request through both and retries what deserves it.
"""

from __future__ import annotations
