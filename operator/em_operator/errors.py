"""Errors of the operator.

The planners raise these; only the kopf edge translates them (an `InvalidSpec`
becomes a condition and a Warning event, never a crash loop).
"""

from __future__ import annotations


class OperatorError(Exception):
    """Base of every error the operator raises on purpose."""


class InvalidSpec(OperatorError):
    """The custom resource asks for something the operator cannot do.

    `reason` is the machine-readable condition reason (CamelCase); `field` is the
    JSON path of the offending field, so the message can name it.
    """

    def __init__(self, field: str, message: str, reason: str = "InvalidSpec") -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
        self.reason = reason


class InvalidReport(OperatorError):
    """A Job's termination message could not be understood."""


class ApplyError(OperatorError):
    """The Kubernetes API refused an object the planner produced."""
