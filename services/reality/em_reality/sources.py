"""The Reality Engine's news sources, read from `sources.yaml` and validated at start.

A bad entry stops the engine with one line naming the file, the entry's position and id, and
the field, so an operator can fix the file without reading a traceback. The format is
documented in services/reality/README.md.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated, Literal, Self
from urllib.parse import urlsplit

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from em_reality import errors

logger = logging.getLogger(__name__)

Kind = Literal["rss", "html", "js"]
SourceId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")]


def _http_url(value: str | None) -> str | None:
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an absolute http(s) URL")
    return value


class Source(BaseModel):
    """One outlet: a feed to poll and/or a page to read, with how much we trust it.

    With a `feed_url`, every feed entry is an article and `kind` says how its page is read
    (`rss`: the feed's own text when long enough, else the page; `html`: the page through
    trafilatura; `js`: the page rendered in Chromium). With only a `page_url`, that page is
    itself the article, read again whenever it changes.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: SourceId
    name: str = Field(min_length=1, max_length=200)
    feed_url: str | None = None
    page_url: str | None = None
    kind: Kind = "rss"
    trust: float = Field(ge=0, le=1)
    crawl_delay: float = Field(default=5.0, ge=0, le=3600)
    enabled: bool = True
    language: str = Field(default="en", pattern=r"^[a-z]{2}$")
    max_items: int = Field(default=20, ge=1, le=200)

    _check_feed = field_validator("feed_url")(_http_url)
    _check_page = field_validator("page_url")(_http_url)

    @model_validator(mode="after")
    def _has_a_url(self) -> Self:
        if self.feed_url is None and self.page_url is None:
            raise ValueError("needs feed_url or page_url")
        if self.kind == "rss" and self.feed_url is None:
            raise ValueError("kind rss needs a feed_url")
        return self

    @property
    def entry_url(self) -> str:
        """The URL polled each cycle."""
        url = self.feed_url or self.page_url
        assert url is not None
        return url


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sources: list[dict[str, object]] = Field(default_factory=list)


def _describe(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors(include_input=False, include_url=False):
        where = ".".join(str(p) for p in err["loc"])
        message = str(err["msg"]).removeprefix("Value error, ")
        parts.append(f"{where}: {message}" if where else message)
    return "; ".join(parts)


def parse(document: object, origin: str = "sources.yaml") -> list[Source]:
    """Validate a parsed YAML document; every problem names the entry it is in."""
    try:
        top = _File.model_validate(document if document is not None else {})
    except ValidationError as exc:
        raise errors.SourcesError(f"{origin}: {_describe(exc)}") from None
    result: list[Source] = []
    seen: set[str] = set()
    for position, raw in enumerate(top.sources, start=1):
        label = f"entry {position}" + (f" (id {raw['id']!r})" if "id" in raw else "")
        try:
            source = Source.model_validate(raw)
        except ValidationError as exc:
            raise errors.SourcesError(f"{origin}: {label}: {_describe(exc)}") from None
        if source.id in seen:
            raise errors.SourcesError(f"{origin}: {label}: duplicate id")
        seen.add(source.id)
        result.append(source)
    return result


_VARIABLE = re.compile(r"\$\{([A-Z][A-Z0-9_]*)\}")


def substitute(text: str, variables: Mapping[str, str], origin: str) -> str:
    """Replace `${NAME}` with the value the caller supplies; an unknown name is an error."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in variables:
            line = text.count("\n", 0, match.start()) + 1
            raise errors.SourcesError(f"{origin}: line {line}: unknown variable ${{{name}}}")
        return variables[name]

    return _VARIABLE.sub(value, text)


def load(path: Path | str, variables: Mapping[str, str] | None = None) -> list[Source]:
    """Read and validate a sources file (all entries, enabled or not).

    `variables` fill `${NAME}` placeholders (the demo file uses `${NEWSROOM_URL}`).
    """
    file = Path(path)
    try:
        text = substitute(file.read_text(encoding="utf-8"), variables or {}, str(file))
    except OSError as exc:
        raise errors.SourcesError(f"{file}: cannot read: {exc.strerror or exc}") from exc
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise errors.SourcesError(f"{file}: not valid YAML: {exc}") from exc
    loaded = parse(document, origin=str(file))
    logger.info(
        "sources loaded",
        extra={"file": str(file), "total": len(loaded), "enabled": len(enabled(loaded))},
    )
    return loaded


def enabled(all_sources: Sequence[Source]) -> list[Source]:
    return [source for source in all_sources if source.enabled]
