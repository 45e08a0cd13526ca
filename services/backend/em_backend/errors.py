"""The backend's typed errors; translated to HTTP statuses only in api/errors handling."""

from __future__ import annotations


class BackendError(Exception):
    """Base of every error the backend raises on purpose."""

    status_code = 500


class NotFound(BackendError):
    status_code = 404


class Conflict(BackendError):
    """The request contradicts the current state (duplicate symbol, second decision)."""

    status_code = 409


class Invalid(BackendError):
    """The request is well-formed JSON but breaks a domain rule."""

    status_code = 422


class Unauthorized(BackendError):
    status_code = 401


class Forbidden(BackendError):
    status_code = 403


class Unavailable(BackendError):
    """A dependency (database, orderbook, NATS) cannot serve the request right now."""

    status_code = 503


class IngestRejected(BackendError):
    """A reality event refused before anything was written; `reason` is a metrics label."""

    status_code = 400

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


class OrderbookUnavailable(Unavailable):
    """The orderbook did not answer in time or the circuit breaker is open."""
