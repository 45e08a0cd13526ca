"""Errors raised by the Reality Engine; the edges (CLI, HTTP) translate them.

The first group is raised by the pure core (bad inputs), the second by the I/O side.
"""

from __future__ import annotations

from typing import Literal


class RealityError(Exception):
    """Base of every Reality Engine error."""


class InvalidConstantsError(RealityError, ValueError):
    """A ``RealityConstants`` value breaks an invariant (e.g. group above duplicate)."""


class InvalidSymbolError(RealityError, ValueError):
    """A symbol descriptor cannot be matched (empty symbol, empty alias)."""


class InvalidArticleError(RealityError, ValueError):
    """An article lacks what the pipeline needs (no URL, naive timestamp)."""


class InvalidLexiconError(RealityError, ValueError):
    """A keyword lexicon entry is empty or its weight lies outside [-1, 1]."""


class InvalidScoreInputError(RealityError, ValueError):
    """A scoring input is out of range (trust outside [0, 1], negative related_docs)."""


class SourcesError(RealityError, ValueError):
    """`sources.yaml` is missing, malformed, or one entry is invalid (the message names it)."""


class FetchError(RealityError):
    """A URL could not be fetched within the retry budget (network error, 4xx, 5xx, 429)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class RobotsDisallowed(FetchError):
    """robots.txt forbids our user agent from fetching this URL."""


class ExtractionError(RealityError):
    """A page or feed yielded no usable text."""


class RenderError(ExtractionError):
    """Chromium could not render a page (not installed, crashed, timed out)."""


class LlmError(RealityError):
    """The LLM call failed; `outcome` says how (``invalid_json``, ``timeout``, ``error``)."""

    def __init__(self, message: str, outcome: Literal["invalid_json", "timeout", "error"]) -> None:
        super().__init__(message)
        self.outcome = outcome


class PublishError(RealityError):
    """JetStream did not acknowledge an event (NATS down or slow); the outbox keeps it."""


class SymbolsUnavailable(RealityError):
    """The backend's symbol list could not be read and no earlier list is known."""
