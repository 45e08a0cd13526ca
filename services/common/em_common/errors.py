"""Errors shared by the helpers in em_common; services translate them at their edges."""

from __future__ import annotations


class EmError(Exception):
    """Base of every error raised by em_common."""


class ConfigError(EmError):
    """A setting is missing, malformed or a placeholder where a real value is required."""


class SignatureError(EmError):
    """A payload's HMAC signature is missing or does not match any accepted secret."""
