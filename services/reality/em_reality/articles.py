"""Articles and symbols as the pure core sees them, plus URL canonicalisation.

Canonical URLs matter twice: a story's cluster id is derived from its first article's canonical
URL (so tracking parameters must not change it), and independent sources are counted by
outlet domain (so ``www.`` and ``uk.`` sub-domains of one outlet count once).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from em_reality import errors

_TRACKING_PARAMS = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "msclkid",
        "mc_cid",
        "mc_eid",
        "ref",
        "ref_src",
        "cmpid",
        "ito",
        "ocid",
        "taid",
        "guccounter",
        "smid",
        "src",
        "feature",
        "rss",
        "cid",
    }
)
_TWO_LEVEL_SUFFIXES = frozenset(
    {
        "co.uk",
        "org.uk",
        "ac.uk",
        "gov.uk",
        "com.au",
        "net.au",
        "co.jp",
        "co.nz",
        "co.in",
        "com.br",
        "com.cn",
        "com.hk",
        "com.sg",
        "co.za",
        "com.mx",
        "co.kr",
    }
)
_PARAGRAPH_SPLIT = re.compile(r"\n\s*\n|\r\n\s*\r\n")


@dataclass(frozen=True, slots=True)
class SymbolDescriptor:
    """What the matcher needs to know of a listed stock or index."""

    symbol: str
    name: str
    aliases: tuple[str, ...] = ()
    kind: str = "stock"


@dataclass(frozen=True, slots=True)
class Article:
    url: str
    title: str
    body: str
    published_at: datetime
    source: str = ""
    lead: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if not self.url.strip():
            raise errors.InvalidArticleError("article has no url")
        if self.published_at.tzinfo is None:
            raise errors.InvalidArticleError(f"published_at of {self.url} is naive; need UTC")
        if not self.lead:
            object.__setattr__(self, "lead", lead_paragraph(self.body))

    @property
    def timestamp(self) -> float:
        return self.published_at.timestamp()

    @property
    def canonical_url(self) -> str:
        return canonical_url(self.url)

    @property
    def domain(self) -> str:
        return outlet_domain(self.url)


def lead_paragraph(body: str) -> str:
    """The first non-empty paragraph; feeds keep their lead first, so it carries the event."""
    for part in _PARAGRAPH_SPLIT.split(body):
        stripped = part.strip()
        if stripped:
            return stripped
    return ""


def canonical_url(url: str) -> str:
    """Lower-case scheme/host, no ``www.``, no fragment, no tracking parameters, sorted query."""
    parts = urlsplit(url.strip())
    scheme = (parts.scheme or "https").lower()
    if scheme == "http":
        scheme = "https"
    host = (parts.hostname or "").lower()
    if host.startswith("www."):
        host = host[4:]
    if parts.port and parts.port not in (80, 443):
        host = f"{host}:{parts.port}"
    path = re.sub(r"/{2,}", "/", parts.path or "/")
    if len(path) > 1:
        path = path.rstrip("/")
    query = sorted(
        (key, value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
        if not key.lower().startswith("utm_") and key.lower() not in _TRACKING_PARAMS
    )
    return urlunsplit((scheme, host, path, urlencode(query), ""))


def outlet_domain(url: str) -> str:
    """The registrable domain (``uk.reuters.com`` → ``reuters.com``) used to count outlets."""
    host = (urlsplit(url.strip()).hostname or "").lower().rstrip(".")
    labels = [label for label in host.split(".") if label]
    if len(labels) <= 2:
        return ".".join(labels)
    if ".".join(labels[-2:]) in _TWO_LEVEL_SUFFIXES:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])
