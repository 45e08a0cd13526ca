"""`em secrets generate`: fresh random values for the application secrets."""

from __future__ import annotations

import argparse
import secrets

SECRET_NAMES = ("REALITY_API_SECRET", "ADMIN_API_KEY", "JWT_SECRET")


def generate() -> dict[str, str]:
    return {name: secrets.token_urlsafe(32) for name in SECRET_NAMES}


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="em secrets")
    parser.add_argument("action", choices=["generate"])
    parser.parse_args(argv)
    for name, value in generate().items():
        print(f"{name}={value}")
    return 0
