"""What a fetch returns, and the counters the metrics endpoint reports."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields


@dataclass(frozen=True, slots=True)
class Response:
    """A completed fetch. `not_modified` means a 304: the body is empty, nothing changed."""

    url: str
    status: int
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";", 1)[0].strip().lower()

    def text(self) -> str:
        charset = "utf-8"
        for part in self.headers.get("content-type", "").split(";")[1:]:
            key, _, value = part.strip().partition("=")
            if key.lower() == "charset" and value:
                charset = value.strip("\"'")
        try:
            return self.body.decode(charset, errors="replace")
        except LookupError:
            return self.body.decode("utf-8", errors="replace")


@dataclass(slots=True)
class Counters:
    """Monotonic totals since start; the metrics module exports them."""

    requests: int = 0
    ok: int = 0
    not_modified: int = 0
    status_403: int = 0
    status_429: int = 0
    status_5xx: int = 0
    other_4xx: int = 0
    errors: int = 0
    retries: int = 0
    robots_blocked: int = 0
    robots_fetched: int = 0

    def count_status(self, status: int) -> None:
        if status == 304:
            self.not_modified += 1
        elif 200 <= status < 300:
            self.ok += 1
        elif status == 403:
            self.status_403 += 1
        elif status == 429:
            self.status_429 += 1
        elif status >= 500:
            self.status_5xx += 1
        elif status >= 400:
            self.other_4xx += 1

    def as_dict(self) -> dict[str, int]:
        return {f.name: int(getattr(self, f.name)) for f in fields(self)}
