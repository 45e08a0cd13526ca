"""Trader credentials: argon2id password hashes and short-lived JWT access tokens (HS256).

Hashing is slow on purpose (tens of milliseconds of CPU), so the routes run it in a worker
thread. A login for an unknown username still verifies against a dummy hash, so response
time does not tell which usernames exist. Tokens carry the account id, so authenticating a
request needs no database round trip.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

logger = logging.getLogger(__name__)

ALGORITHM = "HS256"
TOKEN_TYPE = "access"
_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("not-a-password")


class InvalidToken(Exception):
    """The token is missing a claim, expired, or not signed with our secret."""


@dataclass(frozen=True)
class Claims:
    user_id: int
    username: str
    account_id: int
    expires_at: datetime


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Constant-effort check; `None` (unknown user) burns the same time and fails."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def issue(
    secret: str, *, user_id: int, username: str, account_id: int, ttl: timedelta, now: datetime
) -> tuple[str, Claims]:
    expires = now + ttl
    payload = {
        "sub": str(user_id),
        "name": username,
        "acct": account_id,
        "typ": TOKEN_TYPE,
        "iat": int(now.timestamp()),
        "exp": int(expires.timestamp()),
    }
    token = jwt.encode(payload, secret, algorithm=ALGORITHM)
    return token, Claims(user_id, username, account_id, expires)


def decode(secret: str, token: str) -> Claims:
    try:
        payload = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            options={"require": ["sub", "exp", "iat"]},
        )
        if payload.get("typ") != TOKEN_TYPE:
            raise InvalidToken("not an access token")
        return Claims(
            user_id=int(payload["sub"]),
            username=str(payload["name"]),
            account_id=int(payload["acct"]),
            expires_at=datetime.fromtimestamp(int(payload["exp"]), UTC),
        )
    except jwt.ExpiredSignatureError as exc:
        raise InvalidToken("token expired") from exc
    except (jwt.InvalidTokenError, KeyError, TypeError, ValueError) as exc:
        raise InvalidToken("invalid token") from exc
