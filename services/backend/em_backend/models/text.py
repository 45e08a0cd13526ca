"""Text PostgreSQL can store: no NUL characters, no lone UTF-16 surrogates.

JSON allows both (`"\\u0000"`, `"\\ud800"`); PostgreSQL refuses them, so they are refused
at the edge with 422 instead of surfacing as a 500 from the database.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator


def storable(value: str) -> str:
    if "\x00" in value:
        raise ValueError("text must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("text must be valid Unicode (no lone surrogates)") from None
    return value


def all_storable(value: Any) -> bool:
    """True when every string inside a JSON-like value is storable."""
    if isinstance(value, str):
        try:
            storable(value)
        except ValueError:
            return False
        return True
    if isinstance(value, dict):
        return all(all_storable(k) and all_storable(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return all(all_storable(v) for v in value)
    return True


Text = Annotated[str, AfterValidator(storable)]
