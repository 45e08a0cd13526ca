"""Feeds to entries, pages to article text, and the prefilter that drops what is not news.

Feeds go through feedparser (RSS and Atom alike); pages through trafilatura, which strips
navigation and boilerplate. The prefilter keeps articles in the configured languages and
long enough to say something; the language comes from the page's or feed's own declaration
when it has one, else from a stop-word count (enough to tell English from the rest without
a model download).
"""

from __future__ import annotations

import calendar
import html
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import feedparser
import trafilatura

logger = logging.getLogger(__name__)

Via = Literal["feed", "html", "js"]

_TAG = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"[ \t\r\f\v]+")
_HTML_LANG = re.compile(r"<html[^>]*\blang\s*=\s*[\"']?([A-Za-z]{2})", re.IGNORECASE)
_WORD = re.compile(r"[a-zà-ÿ']+")
_STOPWORDS: dict[str, frozenset[str]] = {
    language: frozenset(words.split())
    for language, words in {
        "en": "the of and to in a is that for on with as was by it at from are be this has "
        "have said will its an which not but or were their they he she his after more than",
        "de": "der die und in den von zu das mit sich des auf für ist im dem nicht ein",
        "fr": "le la les de des et est un une du dans en que qui pour pas sur au",
        "es": "el la de que y en los se del las un por con una para es al lo",
    }.items()
}


@dataclass(frozen=True, slots=True)
class FeedEntry:
    url: str
    title: str
    text: str
    published_at: datetime | None
    language: str | None = None


@dataclass(frozen=True, slots=True)
class ExtractedArticle:
    """An article as the I/O side hands it to the pipeline; `key` names it in the seen-set."""

    key: str
    url: str
    title: str
    body: str
    published_at: datetime
    source_id: str
    source_trust: float
    language: str
    via: Via


@dataclass(frozen=True, slots=True)
class PageText:
    title: str
    body: str
    published_at: datetime | None
    language: str | None


def html_to_text(fragment: str) -> str:
    """Plain text of a small HTML fragment (feed summaries), paragraphs kept apart."""
    spaced = re.sub(r"(?i)</p\s*>|<br\s*/?>|</div\s*>|</li\s*>", "\n\n", fragment)
    text = html.unescape(_TAG.sub(" ", spaced))
    return _paragraphs(text)


def _paragraphs(text: str) -> str:
    lines = [_SPACE.sub(" ", line).strip() for line in text.splitlines()]
    return "\n\n".join(line for line in lines if line)


def _struct_to_datetime(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(value), UTC)
    except (TypeError, ValueError, OverflowError):
        return None


def parse_feed(body: bytes, base_url: str) -> list[FeedEntry]:
    """Entries of an RSS/Atom document, newest first when the feed dates them."""
    parsed = feedparser.parse(body, response_headers={"content-location": base_url})
    feed_language = _two_letters(parsed.feed.get("language"))
    entries: list[FeedEntry] = []
    for raw in parsed.entries:
        link = raw.get("link")
        if not link:
            continue
        content_parts = [part.get("value", "") for part in raw.get("content", []) or []]
        text = html_to_text(max([*content_parts, raw.get("summary", "")], key=len))
        published = _struct_to_datetime(raw.get("published_parsed") or raw.get("updated_parsed"))
        entries.append(
            FeedEntry(
                url=str(link).strip(),
                title=html_to_text(str(raw.get("title", ""))).replace("\n\n", " "),
                text=text,
                published_at=published,
                language=feed_language,
            )
        )
    if parsed.get("bozo") and not entries:
        problem = str(parsed.get("bozo_exception"))
        logger.warning("feed unreadable", extra={"url": base_url, "error": problem})
    entries.sort(key=lambda e: e.published_at or datetime.min.replace(tzinfo=UTC), reverse=True)
    return entries


def _two_letters(value: object) -> str | None:
    if not isinstance(value, str) or len(value) < 2 or not value[:2].isalpha():
        return None
    return value[:2].lower()


def _parse_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def extract_page(page_html: str, url: str) -> PageText | None:
    """The article in a page, without navigation and boilerplate; None when there is none."""
    document = trafilatura.bare_extraction(
        page_html, url=url, with_metadata=True, include_comments=False, include_tables=False
    )
    if document is None:
        return None
    data = document.as_dict() if hasattr(document, "as_dict") else dict(document)
    title = str(data.get("title") or "").strip()
    body = _paragraphs(str(data.get("text") or ""))
    first, _, rest = body.partition("\n\n")
    if title and first.strip() == title:
        body = rest
    if not body.strip():
        return None
    match = _HTML_LANG.search(page_html[:4096])
    return PageText(
        title=title,
        body=body,
        published_at=_parse_date(data.get("date")),
        language=match.group(1).lower() if match else None,
    )


def guess_language(text: str, candidates: Iterable[str] = _STOPWORDS) -> str | None:
    """The language whose stop words cover most of the text's words (None if too few)."""
    words = _WORD.findall(text[:5000].lower())
    if len(words) < 20:
        return None
    best, best_share = None, 0.0
    for language in candidates:
        stop = _STOPWORDS.get(language)
        if not stop:
            continue
        share = sum(1 for word in words if word in stop) / len(words)
        if share > best_share:
            best, best_share = language, share
    return best if best_share >= 0.08 else None


def rejection(
    title: str, body: str, language: str | None, *, languages: Sequence[str], min_chars: int
) -> str | None:
    """Why an article is dropped before scoring (`too_short`, `language`), or None."""
    if len(body.strip()) < min_chars:
        return "too_short"
    detected = guess_language(f"{title}\n{body}") or language
    if languages and detected is not None and detected not in languages:
        return "language"
    return None
