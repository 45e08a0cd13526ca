"""A process started without its secrets outside development says which one, in one line,
and exits non-zero; it never prints a value."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

SECRETS = ("DATABASE_URL", "REALITY_API_SECRET", "ADMIN_API_KEY", "JWT_SECRET")


def _run(command: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in SECRETS and k != "EM_ENV"}
    return subprocess.run(
        [sys.executable, "-m", "em_cli.main", command],
        env=base | {"EM_ENV": "production"} | env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("command", "given", "named"),
    [
        ("backend", {}, "DATABASE_URL"),
        (
            "backend",
            {"DATABASE_URL": "postgresql://db/x", "JWT_SECRET": "changethis"},
            "JWT_SECRET",
        ),
        ("orderbook", {}, "DATABASE_URL"),
        ("reality", {"DATABASE_URL": "postgresql://db/x"}, "REALITY_API_SECRET"),
        ("reality", {"REALITY_API_SECRET": "a-real-secret-value"}, "DATABASE_URL"),
        ("migrate", {}, "DATABASE_URL"),
    ],
)
def test_missing_or_placeholder_secret_stops_the_process(
    command: str, given: dict[str, str], named: str
) -> None:
    result = _run(command, given)
    if command == "migrate":
        result = subprocess.run(
            [sys.executable, "-m", "em_cli.main", "migrate", "current"],
            env={k: v for k, v in os.environ.items() if k != "DATABASE_URL"},
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert named in lines[0]
    for value in given.values():
        assert value not in result.stderr + result.stdout
