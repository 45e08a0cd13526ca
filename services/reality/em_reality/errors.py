"""Errors raised by the Reality Engine's domain code; the edges translate them."""

from __future__ import annotations


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
