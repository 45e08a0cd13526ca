"""The Reality Engine: turns news articles into signed, scored reality events.

Sub-packages ``dedupe`` and ``scoring`` and the modules ``matching``, ``articles``, ``ids``
and ``assessing`` are pure (no I/O); fetching, the LLM runner and publishing live beside them.
"""

from __future__ import annotations
