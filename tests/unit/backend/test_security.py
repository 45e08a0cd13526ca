"""Passwords and access tokens."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
import pytest

from em_backend import security

SECRET = "unit-test-secret-0123456789abcdef0123456789abcdef"


def test_password_round_trip_and_unknown_user() -> None:
    hashed = security.hash_password("s3cret pass")
    assert hashed.startswith("$argon2id$")
    assert security.verify_password(hashed, "s3cret pass")
    assert not security.verify_password(hashed, "wrong")
    assert not security.verify_password(None, "s3cret pass")
    assert not security.verify_password("not-a-hash", "s3cret pass")


def test_token_round_trip() -> None:
    now = datetime.now(UTC)
    token, claims = security.issue(
        SECRET, user_id=7, username="alice", account_id=9, ttl=timedelta(minutes=5), now=now
    )
    decoded = security.decode(SECRET, token)
    assert (decoded.user_id, decoded.username, decoded.account_id) == (7, "alice", 9)
    assert decoded.expires_at == claims.expires_at.replace(microsecond=0)


@pytest.mark.parametrize(
    "token",
    [
        jwt.encode({"sub": "1", "acct": 1, "iat": 0, "exp": 1, "typ": "access"}, SECRET),
        jwt.encode({"sub": "1", "acct": 1, "iat": 0, "exp": 2**40, "typ": "refresh"}, SECRET),
        jwt.encode({"sub": "1", "acct": 1, "exp": 2**40, "typ": "access"}, SECRET),
        jwt.encode(
            {"sub": "1", "acct": 1, "iat": 0, "exp": 2**40, "typ": "access"},
            "another-secret-0123456789abcdef0123456789abcdef",
        ),
        "garbage",
    ],
)
def test_bad_tokens_are_refused(token: str) -> None:
    with pytest.raises(security.InvalidToken):
        security.decode(SECRET, token)
